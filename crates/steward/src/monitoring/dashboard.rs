//! The morning dashboard's monitoring part, on the home page: devices
//! offline, unresolved alerts by severity, posture problems and pending
//! restarts, each per client, and the alerts failing longest. Every figure
//! links to the list it counts. Alert figures come from the counts the
//! alert store keeps in each change's transaction (`alert_counts`), the
//! offline figure from a partial index: a load reads a few hundred rows
//! whatever the size of the fleet (`benches/dashboard.rs`). The section
//! refreshes itself when an alert changes (`/alerts/events`).

use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::monitoring::alerts::ops::AlertInfo;
use crate::monitoring::alerts::store as alerts;
use askama::Template;
use serde::Serialize;
use std::collections::BTreeMap;

/// Check types that are security posture.
const POSTURE: [&str; 3] = ["antivirus", "firewall", "disk_encryption"];

/// One client's figures.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientFigures {
    pub client_id: i64,
    pub client: String,
    pub offline: i64,
    pub critical: i64,
    pub warning: i64,
    pub posture: i64,
    pub pending_reboot: i64,
}

/// The dashboard's figures, over the user's clients.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// Totals over every client.
    pub total: ClientFigures,
    /// Clients with anything to show, most critical first.
    pub clients: Vec<ClientFigures>,
    /// Unresolved alerts open longest.
    pub failing_longest: Vec<AlertInfo>,
}

pub async fn figures(app: &App, p: &Principal) -> Result<Dashboard, ApiError> {
    p.require(Permission::ClientsRead)?;
    let scope = p.clients.as_deref();
    let mut db = app.store.snapshot().await?;
    let mut by: BTreeMap<i64, ClientFigures> = BTreeMap::new();
    for c in crate::devices::store::offline_by_client(&mut db, scope).await? {
        by.entry(c.client_id).or_default().offline += c.n;
    }
    for c in alerts::counts(&mut db, scope).await? {
        let f = by.entry(c.client_id).or_default();
        match c.severity.as_str() {
            "critical" => f.critical += c.n,
            _ => f.warning += c.n,
        }
        if POSTURE.contains(&c.check_type.as_str()) {
            f.posture += c.n;
        }
        if c.check_type == "pending_reboot" {
            f.pending_reboot += c.n;
        }
    }
    let ids: Vec<i64> = by.keys().copied().collect();
    for c in crate::tenancy::store::client_names(&mut db, &ids).await? {
        if let Some(f) = by.get_mut(&c.id) {
            f.client = c.name;
        }
    }
    let mut total = ClientFigures { client: "All clients".into(), ..Default::default() };
    let mut clients: Vec<ClientFigures> = by
        .into_iter()
        .map(|(id, mut f)| {
            f.client_id = id;
            total.offline += f.offline;
            total.critical += f.critical;
            total.warning += f.warning;
            total.posture += f.posture;
            total.pending_reboot += f.pending_reboot;
            f
        })
        .collect();
    clients.sort_by(|a, b| (b.critical, b.offline, b.warning).cmp(&(a.critical, a.offline, a.warning)).then(a.client.cmp(&b.client)));
    let failing_longest = alerts::oldest(&mut db, scope, 10).await?.into_iter().map(AlertInfo::from).collect();
    Ok(Dashboard { total, clients, failing_longest })
}

/// Clients the page lists (the most critical first; the API has them all).
const PAGE_CLIENTS: usize = 25;

#[derive(Template)]
#[template(path = "dashboard_monitoring.html")]
struct Section {
    d: Dashboard,
    /// Clients with something to show beyond those listed.
    more: usize,
}

/// On the home page, first.
pub const HOME_PANEL: Panel = Panel { slot: Slot::Home, order: 1, render: home };

fn home<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let mut d = figures(app, p).await?;
        let more = d.clients.len().saturating_sub(PAGE_CLIENTS);
        d.clients.truncate(PAGE_CLIENTS);
        Fragment::render(&Section { d, more }).map(Some)
    })
}

#[utoipa::path(get, path = "/api/v1/dashboard", tag = "monitoring",
    responses((status = 200, body = Dashboard), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api(axum::extract::State(app): axum::extract::State<App>, p: Principal) -> crate::error::ApiResult<axum::Json<Dashboard>> {
    Ok(axum::Json(figures(&app, &p).await?))
}
