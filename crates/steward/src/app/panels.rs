//! Panels: what a domain adds to another domain's page without either
//! importing the other's pages (the client page shows the client's devices,
//! a site's page its enrollment tokens). The host page asks for the panels
//! of its slot; each is an askama template rendered by its own domain, so
//! everything in it is escaped as on any page.

use super::future::BoxFut;
use super::App;
use crate::auth::principal::Principal;
use crate::error::ApiError;

/// Where on which page a panel goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A tile in the home page's row of figures.
    HomeStat,
    /// A section of the home page.
    Home,
    /// The client page, below its sites and contacts.
    Client,
    /// A site's page.
    Site,
    /// A device's page, below its metrics.
    Device,
    /// A ticket's page, below its thread.
    Ticket,
}

/// What the host page is showing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PanelCtx {
    pub client: Option<i64>,
    pub site: Option<i64>,
    pub device: Option<i64>,
    pub ticket: Option<i64>,
}

/// HTML rendered by an askama template (so escaped inside): the only kind of
/// HTML a page embeds unescaped.
pub struct Fragment(String);

impl Fragment {
    pub fn render<T: askama::Template>(t: &T) -> Result<Fragment, ApiError> {
        t.render().map(Fragment).map_err(ApiError::internal)
    }
}

impl std::fmt::Display for Fragment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Fragment {}

/// A figure tile for the home page's row ([`Slot::HomeStat`]).
#[derive(askama::Template)]
#[template(path = "stat.html")]
pub struct Stat {
    pub label: &'static str,
    /// The figure as shown ("10000+" for a capped count).
    pub value: String,
    pub href: &'static str,
}

pub type RenderFn = for<'a> fn(&'a App, &'a Principal, PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>>;

/// A panel a domain offers for a slot; `None` from `render` shows nothing.
#[derive(Clone, Copy)]
pub struct Panel {
    pub slot: Slot,
    pub order: u16,
    pub render: RenderFn,
}

/// Renders every panel of `slot`, in order.
pub async fn render(app: &App, p: &Principal, slot: Slot, ctx: PanelCtx) -> Result<Vec<Fragment>, ApiError> {
    let mut panels: Vec<Panel> = app.registered().panels.iter().filter(|x| x.slot == slot).copied().collect();
    panels.sort_by_key(|x| x.order);
    let mut out = vec![];
    for panel in panels {
        if let Some(f) = (panel.render)(app, p, ctx).await? {
            out.push(f);
        }
    }
    Ok(out)
}
