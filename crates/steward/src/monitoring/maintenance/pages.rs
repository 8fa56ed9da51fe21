//! Maintenance windows on a client's page: the list (open ones marked)
//! with a form to add one for the whole client or a site, and removal.

use super::ops::{self, MaintenanceWindow, NewMaintenanceWindow};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::web::error::{see_other, PageResult, WebForm};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "maintenance_panel.html")]
struct MaintenancePanel {
    client_id: i64,
    csrf: String,
    can_write: bool,
    windows: Vec<MaintenanceWindow>,
    sites: Vec<(i64, String)>,
}

impl MaintenancePanel {
    fn scope(&self, w: &MaintenanceWindow) -> String {
        match (w.site_id, w.device_id) {
            (_, Some(d)) => format!("device #{d}"),
            (Some(s), None) => {
                self.sites.iter().find(|(id, _)| *id == s).map_or_else(|| format!("site #{s}"), |(_, n)| format!("site {n}"))
            }
            (None, None) => "every device".into(),
        }
    }
}

pub const CLIENT_PANEL: Panel = Panel { slot: Slot::Client, order: 15, render: client_panel };

fn client_panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(client_id) = ctx.client else { return Ok(None) };
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let windows = ops::list(app, p, client_id).await?;
        let sites = crate::tenancy::store::list_sites(&mut app.store.clone(), p.client(client_id)?, false)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let panel = MaintenancePanel { client_id, csrf: p.csrf().to_string(), can_write: p.can(Permission::ClientsWrite), windows, sites };
        Fragment::render(&panel).map(Some)
    })
}

/// The panel's form.
#[derive(Deserialize)]
pub struct WindowForm {
    #[serde(default)]
    name: String,
    /// `datetime-local`.
    #[serde(default)]
    start_local: String,
    #[serde(default)]
    duration_minutes: String,
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    timezone: String,
    /// Empty (the whole client) or a site id.
    #[serde(default)]
    site_id: String,
}

pub async fn create(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<WindowForm>) -> PageResult {
    let number = |field: &str, v: &str| v.trim().parse::<i64>().map_err(|_| ApiError::invalid(field, "a whole number"));
    let r = NewMaintenanceWindow {
        name: f.name,
        start_local: f.start_local,
        timezone: Some(f.timezone),
        duration_minutes: number("duration_minutes", &f.duration_minutes)?,
        repeat: Some(f.repeat),
        until: Some(f.until),
        site_id: if f.site_id.trim().is_empty() { None } else { Some(number("site_id", &f.site_id)?) },
        device_id: None,
    };
    ops::create(&app, &p, id, r).await?;
    Ok(see_other(&format!("/clients/{id}#maintenance")))
}

pub async fn delete(State(app): State<App>, p: Principal, ApiPath((id, window_id)): ApiPath<(i64, i64)>) -> PageResult {
    ops::delete(&app, &p, id, window_id).await?;
    Ok(see_other(&format!("/clients/{id}#maintenance")))
}
