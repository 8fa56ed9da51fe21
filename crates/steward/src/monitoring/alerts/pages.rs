//! The alert list page (unresolved first by default) with acknowledge and
//! resolve on each row, and the steps back to it.

use super::ops::{self, Action, AlertInfo, AlertQuery};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot, Stat};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::{ApiPath, PageQuery};
use crate::http::list::PageParams;
use crate::http::page::html;
use crate::web::error::{see_other, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    l: Layout,
    alerts: Vec<AlertInfo>,
    total: i64,
    state: String,
    severity: String,
    check_type: String,
    client_id: Option<i64>,
    /// `(id, name)` of the user's clients, for the filter.
    clients: Vec<(i64, String)>,
    /// Links keep the other filters: `&severity=…&client_id=…`.
    keep: String,
    can_write: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    client_id: Option<i64>,
    /// A check type, or `posture` (antivirus, firewall, disk encryption).
    #[serde(default)]
    check_type: Option<String>,
}

pub async fn list(State(app): State<App>, p: Principal, PageQuery(q): PageQuery<ListQuery>) -> PageResult {
    let state = q.state.unwrap_or_else(|| "unresolved".into());
    let severity = q.severity.unwrap_or_default();
    let check_type = q.check_type.unwrap_or_default();
    let query = AlertQuery {
        state: Some(state.clone()),
        severity: Some(severity.clone()),
        client_id: q.client_id,
        check_type: Some(check_type.clone()),
        ..Default::default()
    };
    let check_type = check_type_param(&check_type);
    let found = ops::list(&app, &p, &query, &PageParams::new(100, 0)).await?;
    let cq = crate::tenancy::store::ClientQuery { scope: p.clients.clone(), ..Default::default() };
    let (clients, _) = crate::tenancy::store::list_clients(&mut app.store.clone(), &cq, 500, 0).await?;
    let mut keep = String::new();
    if !severity.is_empty() {
        keep.push_str(&format!("&severity={severity}"));
    }
    if let Some(c) = q.client_id {
        keep.push_str(&format!("&client_id={c}"));
    }
    if !check_type.is_empty() {
        keep.push_str(&format!("&check_type={check_type}"));
    }
    Ok(html(&AlertsPage {
        l: Layout::new(&app, &p, "Alerts", "alerts"),
        alerts: found.items,
        total: found.total,
        state,
        severity,
        check_type,
        client_id: q.client_id,
        clients: clients.into_iter().map(|c| (c.id, c.name)).collect(),
        keep,
        can_write: p.can(Permission::ClientsWrite),
    }))
}

/// A check type as a URL query value (letters, digits and `_` pass; the
/// rest is dropped: no check type has anything else).
fn check_type_param(v: &str) -> String {
    v.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    note: String,
    /// `device`: back to the alert's device page (else the alert list).
    #[serde(default)]
    back: String,
}

/// Where a step from a page returns to.
fn back_to(f: &StepForm, d: &ops::AlertDetail) -> String {
    match f.back.as_str() {
        "device" => format!("/clients/{}/devices/{}#alerts", d.alert.client_id, d.alert.device_id),
        _ => "/alerts".to_string(),
    }
}

pub async fn ack(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<StepForm>,
) -> PageResult {
    let d = ops::act(&app, &p, id, alert_id, Action::Acknowledge, &f.note).await?;
    Ok(see_other(&back_to(&f, &d)))
}

#[derive(Deserialize)]
pub struct SnoozeForm {
    /// Hours from now.
    hours: u32,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

pub async fn snooze(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<SnoozeForm>,
) -> PageResult {
    let until = crate::time::now_us() + i64::from(f.hours.min(24 * 30)) * 3_600_000_000;
    let d = ops::act(&app, &p, id, alert_id, Action::Snooze(until), &f.note).await?;
    Ok(see_other(&back_to(&StepForm { note: String::new(), back: f.back }, &d)))
}

pub async fn resolve(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<StepForm>,
) -> PageResult {
    let d = ops::act(&app, &p, id, alert_id, Action::Resolve, &f.note).await?;
    Ok(see_other(&back_to(&f, &d)))
}

fn pick(e: &crate::events::Event) -> Option<(i64, &'static str, String)> {
    let crate::events::Event::AlertChanged { alert, client } = e else { return None };
    Some((*client, "changed", serde_json::json!({ "alert_id": alert }).to_string()))
}

/// `GET /alerts/events`: `changed` (`{"alert_id":…}`) whenever an alert of
/// the user's clients opens or changes; the alert list refreshes itself.
pub async fn events(State(app): State<App>, p: Principal) -> Result<impl axum::response::IntoResponse, ApiError> {
    p.require(Permission::ClientsRead)?;
    Ok(crate::http::sse::stream(app.bus.watch(), p.clients.clone(), pick))
}

/// The open-alerts figure on the home page.
pub const HOME_STAT: Panel = Panel { slot: Slot::HomeStat, order: 15, render: home_stat };

fn home_stat<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let q = AlertQuery { state: Some("unresolved".into()), ..Default::default() };
        let found = ops::list(app, p, &q, &PageParams::new(1, 0)).await?;
        let value = if found.total_capped { format!("{}+", found.total) } else { found.total.to_string() };
        Fragment::render(&Stat { label: "Open alerts", value, href: "/alerts" }).map(Some)
    })
}

#[derive(Template)]
#[template(path = "device_alerts.html")]
struct DeviceAlerts {
    alerts: Vec<AlertInfo>,
    csrf: String,
    can_write: bool,
}

/// A device's unresolved alerts, on its page.
pub const DEVICE_PANEL: Panel = Panel { slot: Slot::Device, order: 1, render: device_alerts };

fn device_alerts<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client), Some(device)) = (ctx.client, ctx.device) else { return Ok(None) };
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let q = AlertQuery { client_id: Some(client), device_id: Some(device), state: Some("unresolved".into()), ..Default::default() };
        let alerts = ops::list(app, p, &q, &PageParams::new(20, 0)).await?.items;
        if alerts.is_empty() {
            return Ok(None);
        }
        Fragment::render(&DeviceAlerts { alerts, csrf: p.csrf().to_string(), can_write: p.can(Permission::ClientsWrite) }).map(Some)
    })
}
