//! What assets add to other pages: the client's documentation by type,
//! a managed device's configuration, the documentation related to a
//! ticket, and what expires soon on the home page.

use super::expiry::{self, Expiry, ExpiryFilter};
use super::model::shown;
use super::ops::{self, Asset, ListAsk};
use super::store::{self, Filter};
use super::types::{self, AssetType};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::list::PageParams;
use askama::Template;

#[derive(Template)]
#[template(path = "assets_panel.html")]
struct ClientPanel {
    client_id: i64,
    by_type: Vec<(AssetType, i64)>,
    recent: Vec<Asset>,
    total: String,
}

pub const CLIENT_PANEL: Panel = Panel { slot: Slot::Client, order: 32, render: client_panel };

fn client_panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(client) = ctx.client else { return Ok(None) };
        if !p.can(Permission::DocsRead) {
            return Ok(None);
        }
        let page = PageParams { limit: None, offset: None };
        let listed = ops::list(app, p, client, ListAsk { type_id: None, text: None, include_archived: false, page }).await?;
        let all = types::list(app, p, false).await?;
        let mut db = app.store.snapshot().await?;
        let mut by_type = vec![];
        for t in all {
            let f = Filter { clients: Some(vec![client]), type_id: Some(t.id), text: None, include_archived: false };
            let (_, n) = store::list(&mut db, &f, 0, 0).await?;
            if n.n > 0 || t.configuration {
                by_type.push((t, n.n));
            }
        }
        let recent = listed.items.into_iter().take(10).collect();
        Fragment::render(&ClientPanel { client_id: client, by_type, recent, total: listed.total.to_string() }).map(Some)
    })
}

#[derive(Template)]
#[template(path = "device_docs_panel.html")]
struct DevicePanel {
    client_id: i64,
    device_id: i64,
    asset: Option<Asset>,
    values: Vec<(String, String)>,
    can_write: bool,
    l_csrf: String,
}

pub const DEVICE_PANEL: Panel = Panel { slot: Slot::Device, order: 40, render: device_panel };

/// A managed device's documentation: its configuration's values, or the
/// button that starts documenting it.
fn device_panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client), Some(device)) = (ctx.client, ctx.device) else { return Ok(None) };
        if !p.can(Permission::DocsRead) || !p.sees_client(client) {
            return Ok(None);
        }
        let mut db = app.store.snapshot().await?;
        let asset = match store::of_device(&mut db, device).await?.filter(|a| a.client_id == client && a.archived_at.is_none()) {
            Some(r) => Some(ops::answers(&mut db, &[r]).await?.remove(0)),
            None => None,
        };
        let mut values = vec![];
        if let Some(a) = &asset {
            let t = types::get_plain(app, p, a.type_id).await?;
            for f in &t.fields {
                if let Some(v) = a.fields.get(&f.key) {
                    let text = a.links.iter().find(|l| l.key == f.key).and_then(|l| l.label.clone()).unwrap_or_else(|| shown(v));
                    values.push((f.label.clone(), text));
                }
            }
        }
        let can_write = p.can(Permission::DocsWrite);
        Fragment::render(&DevicePanel { client_id: client, device_id: device, asset, values, can_write, l_csrf: p.csrf().to_string() })
            .map(Some)
    })
}

#[derive(Template)]
#[template(path = "assets_related.html")]
struct TicketPanel {
    client_id: i64,
    lines: Vec<Asset>,
}

pub const TICKET_PANEL: Panel = Panel { slot: Slot::Ticket, order: 22, render: ticket_panel };

/// The ticket device's configuration and the client's assets that share
/// words with the subject.
fn ticket_panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client), Some(ticket)) = (ctx.client, ctx.ticket) else { return Ok(None) };
        if !p.can(Permission::DocsRead) {
            return Ok(None);
        }
        let mut db = app.store.snapshot().await?;
        let Some(t) = crate::tickets::store::get(&mut db, p.client(client)?, ticket).await? else { return Ok(None) };
        let mut rows = vec![];
        for d in crate::tickets::store::thread::devices(&mut db, &[t.id]).await? {
            rows.extend(store::of_device(&mut db, d.device_id).await?);
        }
        let text: String = t.subject.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
        let r = crate::search::runtime::Request {
            text,
            scope: Some(vec![client]),
            kinds: vec![ops::KIND],
            limit: 5,
            any_word: true,
            ..Default::default()
        };
        let found = app.search.search_blocking(r).await?;
        let ids: Vec<i64> = found.iter().map(|f| f.id).collect();
        let mut more = store::by_ids(&mut db, &ids).await?;
        more.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
        rows.extend(more);
        rows.retain(|r| r.archived_at.is_none() && r.client_id == client);
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.id));
        if rows.is_empty() {
            return Ok(None);
        }
        let lines = ops::answers(&mut db, &rows).await?;
        Fragment::render(&TicketPanel { client_id: client, lines }).map(Some)
    })
}

#[derive(Template)]
#[template(path = "expiring_panel.html")]
struct HomePanel {
    items: Vec<Expiry>,
    within: u32,
}

pub const HOME_PANEL: Panel = Panel { slot: Slot::Home, order: 40, render: home_panel };

/// What runs out within the first warning threshold (or is past).
fn home_panel<'a>(app: &'a App, p: &'a Principal, _ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::DocsRead) {
            return Ok(None);
        }
        let within = expiry::thresholds(app).await?.first().copied().unwrap_or(30);
        let mut items = expiry::list(app, p, &ExpiryFilter { within_days: Some(within), client_id: None }).await?;
        if items.is_empty() {
            return Ok(None);
        }
        items.truncate(10);
        Fragment::render(&HomePanel { items, within }).map(Some)
    })
}
