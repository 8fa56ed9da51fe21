//! A device's own agent settings: above its site's and client's (a
//! critical server heartbeating every 10 s in a client on 60 s). The
//! audited change is shared by the API and the device page; a connected
//! agent gets its new settings at once.

use super::model::{Effective, Overrides, HEARTBEAT_SECS, METRICS_SECS};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::billing::contracts::model::DeviceClass;
use crate::devices::store::{self as devices, Devices};
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use crate::monitoring::policies::model::Level;
use crate::monitoring::policies::ops as policies;
use crate::store::Db;
use crate::tenancy::ops::agent_setting;
use axum::extract::State;
use sea_query::{Alias, Expr, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Changes to a device; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    /// Seconds between this device's heartbeats (5–3600); `null` returns
    /// to its site's (else client's, else the server's) setting.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>, minimum = 5, maximum = 3600)]
    pub agent_heartbeat_secs: Option<Option<i64>>,
    /// Seconds between this device's metric samples (10–3600); `null`
    /// returns to its site's (else client's, else the server's) setting.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>, minimum = 10, maximum = 3600)]
    pub agent_metrics_secs: Option<Option<i64>>,
    /// Moves the device to another site of its client (its settings then
    /// inherit from that site).
    #[serde(default)]
    pub site_id: Option<i64>,
    /// Monitoring policies assigned to this device itself, in order (a
    /// later one's check wins over an earlier one's of the same key); `[]`:
    /// none; absent leaves them as they are.
    #[serde(default)]
    pub monitoring_policy_ids: Option<Vec<i64>>,
    /// Keys of inherited checks this device does not run; `[]`: none.
    #[serde(default)]
    pub monitoring_excluded_checks: Option<Vec<String>>,
    /// What per-device contract lines count it as (`workstation`, `server`,
    /// `network`); `null` derives it from its system again.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DeviceClass>)]
    pub device_class: Option<Option<DeviceClass>>,
}

/// The class a device was given by hand (`None`: derived from its system).
async fn class_of(db: &mut impl Db, device: i64) -> Result<Option<String>, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        device_class: Option<String>,
    }
    let r: Option<Row> = db
        .fetch_optional(
            Query::select().column(Alias::new("device_class")).from(Devices::Table).and_where(Expr::col(Devices::Id).eq(device)),
        )
        .await?;
    Ok(r.and_then(|r| r.device_class))
}

/// What a device sets itself and what its agent runs with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceSettings {
    /// The device's own values; `null` inherits.
    pub agent_heartbeat_secs: Option<i64>,
    pub agent_metrics_secs: Option<i64>,
    /// What its agent runs with, and where each value comes from.
    pub agent_settings: Effective,
    /// Whether its agent runs with them now (false: offline; it gets them
    /// when it connects).
    pub applied_now: bool,
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/devices/{device_id}", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)), request_body = DevicePatch,
    responses((status = 200, body = DeviceSettings), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "the device was removed")))]
pub async fn update_device(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<DevicePatch>,
) -> ApiResult {
    Ok(json(update(&app, &p, id, device_id, patch).await?))
}

/// Sets a device's own agent settings, audited with before and after, and
/// hands a connected agent the result.
pub async fn update(app: &App, p: &Principal, client_id: i64, device_id: i64, patch: DevicePatch) -> Result<DeviceSettings, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let mut q = Query::update();
    q.table(Devices::Table).and_where(Expr::col(Devices::Id).eq(device_id));
    let mut changes = false;
    if let Some(h) = patch.agent_heartbeat_secs {
        q.value(Devices::AgentHeartbeatSecs, agent_setting("agent_heartbeat_secs", h, &HEARTBEAT_SECS)?);
        changes = true;
    }
    if let Some(m) = patch.agent_metrics_secs {
        q.value(Devices::AgentMetricsSecs, agent_setting("agent_metrics_secs", m, &METRICS_SECS)?);
        changes = true;
    }
    let mut tx = app.store.begin_audited().await?;
    let before = devices::with_settings(tx.tx(), device_id).await?.filter(|d| d.device.client_id == client_id).ok_or(ApiError::NotFound)?;
    if before.device.revoked_at.is_some() {
        return Err(ApiError::Conflict("this device was removed; its settings no longer apply".into()));
    }
    if let Some(class) = patch.device_class {
        q.value(Alias::new("device_class"), class.map(|c| c.as_str()));
        changes = true;
    }
    let class_was = class_of(tx.tx(), device_id).await?;
    if let Some(site_id) = patch.site_id {
        let site = crate::tenancy::store::get_site(tx.tx(), p.client(client_id)?, site_id).await?;
        match site {
            Some(s) if !s.archived => {
                q.value(Devices::SiteId, site_id);
                changes = true;
            }
            Some(_) => return Err(ApiError::refused("site_id", "that site is archived")),
            None => return Err(ApiError::refused("site_id", "no such site at this device's client")),
        }
    }
    if changes {
        tx.tx().execute(&q).await?;
    }
    let monitoring =
        policies::assign(tx.tx(), Level::Device, device_id, patch.monitoring_policy_ids, patch.monitoring_excluded_checks).await?;
    let after = devices::with_settings(tx.tx(), device_id).await?.ok_or(ApiError::NotFound)?;
    let (was, now) = (before.own(), after.own());
    let (site_was, site_now) = (before.device.site_id, after.device.site_id);
    let class_now = class_of(tx.tx(), device_id).await?;
    if was == now && site_was == site_now && class_was == class_now && monitoring.is_none() {
        // Nothing changed: nothing to audit or send (the transaction is
        // dropped unwritten).
        drop(tx);
        let effective = after.effective(app.cfg.agent_defaults());
        return Ok(settings(now, effective, app.agents.is_online(device_id)));
    }
    let event = Event::new("device.update", "device", device_id).client(client_id).details(json!({"hostname": after.device.hostname}));
    let (mut old, mut new) = (shown(was), shown(now));
    if site_was != site_now {
        old["site_id"] = json!(site_was);
        new["site_id"] = json!(site_now);
    }
    if class_was != class_now {
        old["device_class"] = json!(class_was);
        new["device_class"] = json!(class_now);
    }
    tx.commit_change(&p.actor(), policies::with_assignment(event, &monitoring), &old, &new).await?;
    if monitoring.is_some() || site_was != site_now {
        app.bus.publish(crate::events::Event::MonitoringChanged).await;
    }
    // Read again after the commit: a client or site change that committed
    // meanwhile must not be overtaken by older values sent last.
    let current = devices::with_settings(&mut app.store.clone(), device_id).await?.ok_or(ApiError::NotFound)?;
    let effective = current.effective(app.cfg.agent_defaults());
    Ok(settings(current.own(), effective, app.agents.apply_settings(device_id, effective)))
}

fn settings(own: Overrides, agent_settings: Effective, applied_now: bool) -> DeviceSettings {
    DeviceSettings { agent_heartbeat_secs: own.heartbeat_secs, agent_metrics_secs: own.metrics_secs, agent_settings, applied_now }
}

fn shown(o: Overrides) -> serde_json::Value {
    json!({"agent_heartbeat_secs": o.heartbeat_secs, "agent_metrics_secs": o.metrics_secs})
}
