//! The alert list page (unresolved first by default) with acknowledge and
//! resolve on each row, and the steps back to it.

use super::ops::{self, Action, AlertInfo, AlertQuery};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
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
}

pub async fn ack(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<StepForm>,
) -> PageResult {
    ops::act(&app, &p, id, alert_id, Action::Acknowledge, &f.note).await?;
    Ok(see_other("/alerts"))
}

pub async fn resolve(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<StepForm>,
) -> PageResult {
    ops::act(&app, &p, id, alert_id, Action::Resolve, &f.note).await?;
    Ok(see_other("/alerts"))
}
