//! Restarting a device: a signed `Reboot` command like every other
//! (audited with its reason before it is sent), from the API and from the
//! device page's action bar, where it needs a reason and a confirmation.
//! Inside an open maintenance window it is refused unless forced: the
//! machine is being worked on, and a restart would cut that work short.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use crate::validate::Name;
use crate::web::error::{checkbox, see_other, PageResult, WebForm};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward_protocol::command::{CommandBody, Reboot};

/// The longest warning a restart may give.
pub const MAX_DELAY_SECS: u32 = 3600;

/// A restart to schedule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebootRequest {
    /// Why: shown to signed-in users, kept in the audit log.
    #[schema(value_type = Name)]
    pub reason: String,
    /// Seconds of warning before the restart (0–3600; default 60).
    #[serde(default = "default_delay")]
    #[schema(minimum = 0, maximum = 3600)]
    pub delay_secs: u32,
    /// Restart even inside an open maintenance window (someone, or a
    /// patch run, is working on the machine then).
    #[serde(default)]
    pub force: bool,
}

fn default_delay() -> u32 {
    60
}

/// What the agent said.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RebootResult {
    /// The restart is scheduled.
    pub ok: bool,
    pub output: String,
}

/// Sends the restart and waits for the agent to confirm it is scheduled.
pub async fn reboot_for(app: &App, p: &Principal, client_id: i64, device_id: i64, r: RebootRequest) -> Result<RebootResult, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let reason = Name::parse(&r.reason).map_err(|m| ApiError::refused("reason", m))?;
    if r.delay_secs > MAX_DELAY_SECS {
        return Err(ApiError::refused("delay_secs", format!("at most {MAX_DELAY_SECS} seconds")));
    }
    let d = super::store::by_id(&mut app.store.clone(), device_id)
        .await?
        .filter(|d| d.client_id == client_id && d.revoked_at.is_none())
        .ok_or(ApiError::NotFound)?;
    let window = crate::monitoring::maintenance::ops::open_for_device(&mut app.store.clone(), client_id, d.site_id, d.id).await?;
    if let (Some(w), false) = (&window, r.force) {
        return Err(ApiError::Conflict(format!(
            "the device is in the maintenance window {:?} until {}; restart with force to do it anyway",
            w.name, w.until
        )));
    }
    if let (Some(w), true) = (&window, r.force) {
        let event = crate::audit::store::Event::new("device.reboot_forced", "device", d.id)
            .client(client_id)
            .details(serde_json::json!({"hostname": d.hostname, "maintenance_window": w.name, "until": w.until}));
        crate::audit::store::record(&app.store, &p.actor(), event).await?;
    }
    let body = CommandBody::Reboot(Reboot { reason: reason.to_string(), delay_secs: r.delay_secs });
    let (ok, output, _) = super::commands::run(app, p, client_id, d.id, body, std::time::Duration::from_secs(20)).await?;
    Ok(RebootResult { ok, output })
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/devices/{device_id}/reboot", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)), request_body = RebootRequest,
    responses((status = 200, body = RebootResult), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "offline or no answer"), (status = 422, body = ErrorEnvelope)))]
pub async fn reboot(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    ApiJson(r): ApiJson<RebootRequest>,
) -> ApiResult {
    Ok(json(reboot_for(&app, &p, id, device_id, r).await?))
}

/// The device page's restart form: a reason, the warning, and a ticked
/// confirmation; back to the device page with what happened.
#[derive(Deserialize)]
pub struct RebootForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    delay_secs: String,
    confirm: Option<String>,
    force: Option<String>,
}

pub async fn reboot_page(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<RebootForm>,
) -> PageResult {
    if !checkbox("confirm", f.confirm.as_deref())? {
        return Err(ApiError::refused("confirm", "tick the box to confirm the restart").into());
    }
    let delay_secs = match f.delay_secs.trim() {
        "" => default_delay(),
        s => s.parse().map_err(|_| ApiError::invalid("delay_secs", "a number of seconds"))?,
    };
    let force = checkbox("force", f.force.as_deref())?;
    let outcome = match reboot_for(&app, &p, id, device_id, RebootRequest { reason: f.reason, delay_secs, force }).await {
        Ok(r) if r.ok => format!("reboot=scheduled&in={delay_secs}"),
        Ok(_) => "reboot=failed".to_string(),
        Err(ApiError::Conflict(m)) if m.contains("maintenance window") => return Err(ApiError::Conflict(m).into()),
        // Sent, but no answer: the machine may be restarting already.
        Err(ApiError::Conflict(m)) if m.contains("did not answer") => "reboot=unconfirmed".to_string(),
        Err(ApiError::Conflict(_)) => "reboot=offline".to_string(),
        Err(e) => return Err(e.into()),
    };
    Ok(see_other(&format!("/clients/{id}/devices/{device_id}?{outcome}")))
}
