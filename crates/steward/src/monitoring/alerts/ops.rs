//! Alerts as technicians work them: listed within the caller's clients,
//! one with its history, and acknowledged (with a note), snoozed until a
//! time, or resolved by hand; each step in the alert's history and the
//! audit log. Shared by the API and the pages.

use super::store::{self as alerts, AlertRow, Filter};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::list::{PageParams, Paged};
use crate::time::{now_us, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An alert as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertInfo {
    pub id: i64,
    pub client_id: i64,
    pub device_id: i64,
    /// The check that raised it, e.g. `offline`.
    pub check: String,
    pub check_type: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// `open`, `acknowledged`, `snoozed`, `suppressed` (opened during a
    /// maintenance window: no ticket, no notification until it ends) or
    /// `resolved`.
    pub state: String,
    pub title: String,
    /// What the check said last.
    pub output: String,
    #[schema(format = DateTime)]
    pub opened_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub resolved_at: Option<String>,
    #[schema(format = DateTime)]
    pub snoozed_until: Option<String>,
    pub ticket_id: Option<i64>,
    /// The monitoring policy its check came from.
    pub policy_id: Option<i64>,
}

impl From<AlertRow> for AlertInfo {
    fn from(r: AlertRow) -> Self {
        AlertInfo {
            id: r.id,
            client_id: r.client_id,
            device_id: r.device_id,
            check: r.check_key,
            check_type: r.check_type,
            severity: r.severity,
            state: r.state,
            title: r.title,
            output: r.output,
            opened_at: rfc3339(r.opened_at),
            updated_at: rfc3339(r.updated_at),
            resolved_at: r.resolved_at.map(rfc3339),
            snoozed_until: r.snoozed_until.map(rfc3339),
            ticket_id: r.ticket_id,
            policy_id: r.policy_id,
        }
    }
}

/// A step in an alert's history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertStep {
    #[schema(format = DateTime)]
    pub at: String,
    /// `opened`, `severity`, `acknowledged`, `snoozed`, `unsnoozed`, `resolved` or `recovered`.
    pub kind: String,
    /// Who, when a person did it.
    pub user_id: Option<i64>,
    pub note: String,
}

/// An alert with its history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: AlertInfo,
    pub history: Vec<AlertStep>,
}

/// The alert list's filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    pub client_id: Option<i64>,
    /// Only this site's devices' alerts.
    pub site_id: Option<i64>,
    pub device_id: Option<i64>,
    /// `warning` or `critical`.
    #[param(inline, value_type = Option<SeverityParam>)]
    pub severity: Option<String>,
    /// `open`, `acknowledged`, `snoozed`, `suppressed`, `resolved`, or
    /// `unresolved` (all but `resolved`).
    #[param(inline, value_type = Option<AlertStateParam>)]
    pub state: Option<String>,
    /// e.g. `offline`.
    pub check_type: Option<String>,
}

crate::choice!(
    /// An alert's severity, as a filter.
    SeverityParam: "", "warning", "critical"
);
crate::choice!(
    /// An alert's state, as a filter.
    AlertStateParam: "", "open", "acknowledged", "snoozed", "suppressed", "resolved", "unresolved"
);

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

pub async fn list(app: &App, p: &Principal, q: &AlertQuery, page: &PageParams) -> Result<Paged<AlertInfo>, ApiError> {
    p.require(Permission::ClientsRead)?;
    let severity = blank(&q.severity);
    if severity.as_deref().is_some_and(|s| !matches!(s, "warning" | "critical")) {
        return Err(ApiError::invalid("severity", "use warning or critical"));
    }
    let state = blank(&q.state);
    if state.as_deref().is_some_and(|s| !matches!(s, "open" | "acknowledged" | "snoozed" | "suppressed" | "resolved" | "unresolved")) {
        return Err(ApiError::invalid("state", "use open, acknowledged, snoozed, suppressed, resolved or unresolved"));
    }
    if let Some(c) = q.client_id {
        p.client(c)?;
    }
    let f =
        Filter { client_id: q.client_id, site_id: q.site_id, device_id: q.device_id, severity, state, check_type: blank(&q.check_type) };
    let (rows, total) = alerts::list(&mut app.store.snapshot().await?, p.clients.as_deref(), &f, page.limit(), page.offset()).await?;
    Ok(Paged::counted(rows.into_iter().map(AlertInfo::from).collect(), total, page))
}

pub async fn detail(app: &App, p: &Principal, client_id: i64, id: i64) -> Result<AlertDetail, ApiError> {
    p.require(Permission::ClientsRead)?;
    p.client(client_id)?;
    let mut db = app.store.snapshot().await?;
    let a = alerts::get(&mut db, client_id, id).await?.ok_or(ApiError::NotFound)?;
    let history = alerts::events(&mut db, id)
        .await?
        .into_iter()
        .map(|e| AlertStep { at: rfc3339(e.at), kind: e.kind, user_id: e.actor_user_id, note: e.note })
        .collect();
    Ok(AlertDetail { alert: a.into(), history })
}

/// A note with a step.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

/// Until when to snooze.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeRequest {
    /// RFC 3339, in the future, at most 30 days ahead.
    #[schema(format = DateTime)]
    pub until: String,
    #[serde(default)]
    pub note: String,
}

/// What a technician does to an alert.
pub enum Action {
    Acknowledge,
    Snooze(i64),
    Resolve,
}

/// Parses a snooze's end: in the future, at most 30 days ahead.
pub fn snooze_until(until: &str) -> Result<i64, ApiError> {
    let t: jiff::Timestamp = until.trim().parse().map_err(|_| ApiError::invalid("until", "an RFC 3339 time, e.g. 2026-12-08T09:00:00Z"))?;
    let us = t.as_microsecond();
    let now = now_us();
    if us <= now || us > now + 30 * 86_400 * 1_000_000 {
        return Err(ApiError::refused("until", "between now and 30 days ahead"));
    }
    Ok(us)
}

pub async fn act(app: &App, p: &Principal, client_id: i64, id: i64, action: Action, note: &str) -> Result<AlertDetail, ApiError> {
    p.require(Permission::ClientsWrite)?;
    p.client(client_id)?;
    let note: String = note.trim().chars().filter(|c| !c.is_control() || *c == '\n').take(2000).collect();
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let a = alerts::get(tx.tx(), client_id, id).await?.ok_or(ApiError::NotFound)?;
    if a.resolved_at.is_some() {
        return Err(ApiError::Conflict("the alert is resolved".into()));
    }
    let (state, until, kind, action_name) = match &action {
        Action::Acknowledge if a.state == "acknowledged" => return Err(ApiError::Conflict("the alert is already acknowledged".into())),
        Action::Acknowledge => ("acknowledged", None, "acknowledged", "alert.acknowledge"),
        Action::Snooze(u) => ("snoozed", Some(*u), "snoozed", "alert.snooze"),
        Action::Resolve => ("resolved", None, "resolved", "alert.resolve"),
    };
    if !alerts::transition(tx.tx(), id, state, until, now).await? {
        return Err(ApiError::Conflict("the alert was resolved meanwhile".into()));
    }
    alerts::add_event(tx.tx(), id, kind, Some(p.user.id), &note, now).await?;
    if matches!(action, Action::Resolve) {
        let how = format!("by {}{}", p.user.name, if note.is_empty() { String::new() } else { format!(": {note}") });
        super::tickets::on_resolved(tx.tx(), &a, &how, now).await.map_err(ApiError::internal)?;
    }
    tell_webhooks(tx.tx(), action_name, client_id, id, app.cfg.webhook_storm_limit).await?;
    let details = json!({"device_id": a.device_id, "check": a.check_key, "note": note, "snoozed_until": until.map(rfc3339), "by": "user"});
    tx.commit(&p.actor(), Event::new(action_name, "alert", id).client(client_id).details(details)).await?;
    app.bus.publish(crate::events::Event::AlertChanged { alert: id, client: client_id }).await;
    detail(app, p, client_id, id).await
}

/// Queues the alert's change for the webhooks that take it, inside the
/// change's transaction: the alert as it now is.
/// Past `storm_limit` events a webhook had in 5 minutes, they wait for a
/// digest (`webhooks::ops::enqueue`).
pub async fn tell_webhooks(
    db: &mut impl crate::store::Db,
    action: &str,
    client_id: i64,
    id: i64,
    storm_limit: u64,
) -> crate::store::Result<()> {
    if let Some(a) = alerts::get(db, client_id, id).await? {
        let alert = serde_json::to_value(AlertInfo::from(a)).unwrap_or_default();
        crate::webhooks::ops::enqueue(db, action, &json!({ "alert": alert }), storm_limit).await?;
    }
    Ok(())
}
