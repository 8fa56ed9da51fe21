//! `/api/v1/settings`: installation-wide settings (administrators).

use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::ApiJson;
use crate::monitoring::policies::model::Level;
use crate::monitoring::policies::ops as policies;
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// The settings document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsDoc {
    /// Every staff user must enrol TOTP before doing anything else.
    pub require_mfa: bool,
    /// A script run on more devices than this (or on devices of more than
    /// one client) needs a second person's approval.
    pub script_approval_threshold: u32,
    /// Days a resolved ticket stays resolved before it closes itself (a
    /// reply before then reopens it); 0 never closes.
    pub ticket_autoclose_days: u32,
    /// Alerts of at least this severity open a ticket on the device's
    /// client: `off`, `warning` or `critical`.
    pub alert_tickets: String,
    /// Monitoring policies every device runs (the installation level).
    pub monitoring_policy_ids: Vec<i64>,
    /// Days ahead of a documented expiry date (a domain, a certificate, a
    /// warranty) that everyone who reads the client's documentation is
    /// told, largest first; they are told on the day too.
    pub expiry_warn_days: Vec<u32>,
}

/// Changes to settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub require_mfa: Option<bool>,
    /// 0–100,000.
    #[schema(maximum = 100000)]
    pub script_approval_threshold: Option<u32>,
    /// 0–3650.
    #[schema(maximum = 3650)]
    pub ticket_autoclose_days: Option<u32>,
    /// `off`, `warning` or `critical`.
    #[schema(value_type = Option<AlertTickets>)]
    pub alert_tickets: Option<String>,
    /// Monitoring policies every device runs (the installation level), in
    /// order; clients, sites and devices add to them or exclude their
    /// checks. `[]`: none.
    #[serde(default)]
    pub monitoring_policy_ids: Option<Vec<i64>>,
    /// Up to 5 numbers of days, each 1–365.
    #[schema(max_items = 5)]
    pub expiry_warn_days: Option<Vec<u32>>,
}

crate::choice!(
    /// Which alerts open tickets.
    AlertTickets: "off", "warning", "critical"
);

async fn doc(app: &App) -> Result<SettingsDoc, ApiError> {
    Ok(SettingsDoc {
        require_mfa: super::store::require_mfa(&app.store).await?,
        script_approval_threshold: super::store::script_approval_threshold(&app.store).await?,
        ticket_autoclose_days: super::store::ticket_autoclose_days(&app.store).await?,
        alert_tickets: super::store::alert_tickets(&app.store).await?,
        monitoring_policy_ids: crate::monitoring::policies::store::assigned(&mut app.store.clone(), &[(Level::Installation, 0)])
            .await?
            .into_iter()
            .flat_map(|(_, a)| a.policy_ids)
            .collect(),
        expiry_warn_days: crate::docs::assets::expiry::thresholds(app).await?,
    })
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", responses((status = 200, body = SettingsDoc), (status = 403, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal) -> ApiResult {
    p.require(Permission::SettingsWrite)?;
    Ok(json(doc(&app).await?))
}

#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", request_body = SettingsPatch,
    responses((status = 200, body = SettingsDoc), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn update(State(app): State<App>, p: Principal, ApiJson(patch): ApiJson<SettingsPatch>) -> ApiResult {
    p.require(Permission::SettingsWrite)?;
    // Checked before anything is set, so a bad value changes nothing.
    if patch.alert_tickets.as_deref().is_some_and(|v| !matches!(v, "off" | "warning" | "critical")) {
        return Err(ApiError::invalid("alert_tickets", "use off, warning or critical"));
    }
    let warn_days = match patch.expiry_warn_days {
        Some(days) => Some(crate::docs::assets::expiry::check_thresholds(days).map_err(|m| ApiError::refused("expiry_warn_days", m))?),
        None => None,
    };
    // First: it is the one change that can still be refused.
    if let Some(ids) = patch.monitoring_policy_ids {
        let mut tx = app.store.begin_audited().await?;
        let assigned = policies::assign(tx.tx(), Level::Installation, 0, Some(ids), None).await?;
        let event = Event::new("settings.update", "settings", "monitoring_policy_ids");
        tx.commit(&p.actor(), policies::with_assignment(event, &assigned)).await?;
        app.bus.publish(crate::events::Event::MonitoringChanged).await;
    }
    if let Some(v) = patch.require_mfa {
        super::store::set(&app.store, &p.actor(), super::store::REQUIRE_MFA, if v { "true" } else { "false" }).await?;
    }
    if let Some(n) = patch.script_approval_threshold {
        if n > 100_000 {
            return Err(ApiError::invalid("script_approval_threshold", "between 0 and 100000"));
        }
        super::store::set(&app.store, &p.actor(), super::store::SCRIPT_APPROVAL_THRESHOLD, &n.to_string()).await?;
    }
    if let Some(n) = patch.ticket_autoclose_days {
        if n > 3650 {
            return Err(ApiError::invalid("ticket_autoclose_days", "between 0 and 3650"));
        }
        super::store::set(&app.store, &p.actor(), super::store::TICKET_AUTOCLOSE_DAYS, &n.to_string()).await?;
    }
    if let Some(v) = patch.alert_tickets.as_deref() {
        super::store::set(&app.store, &p.actor(), super::store::ALERT_TICKETS, v).await?;
    }
    if let Some(days) = warn_days {
        let v = days.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        super::store::set(&app.store, &p.actor(), crate::docs::assets::expiry::WARN_DAYS_KEY, &v).await?;
    }
    Ok(json(doc(&app).await?))
}
