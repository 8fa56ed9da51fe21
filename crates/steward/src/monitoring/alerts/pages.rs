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
    can_write: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    severity: Option<String>,
}

pub async fn list(State(app): State<App>, p: Principal, PageQuery(q): PageQuery<ListQuery>) -> PageResult {
    let state = q.state.unwrap_or_else(|| "unresolved".into());
    let query = AlertQuery { state: Some(state.clone()), severity: q.severity, ..Default::default() };
    let found = ops::list(&app, &p, &query, &PageParams::new(100, 0)).await?;
    Ok(html(&AlertsPage {
        l: Layout::new(&app, &p, "Alerts", "alerts"),
        alerts: found.items,
        total: found.total,
        state,
        can_write: p.can(Permission::ClientsWrite),
    }))
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

pub async fn resolve(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<StepForm>,
) -> PageResult {
    let d = ops::act(&app, &p, id, alert_id, Action::Resolve, &f.note).await?;
    Ok(see_other(&back_to(&f, &d)))
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
