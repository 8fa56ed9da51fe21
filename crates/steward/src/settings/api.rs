//! `/api/v1/settings`: installation-wide settings (administrators).

use crate::auth::roles::Permission;
use crate::auth::Principal;
use crate::http::error::{json, ApiJson, ApiResult, ErrorEnvelope};
use crate::http::App;
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// The settings document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsDoc {
    /// Every staff user must enrol TOTP before doing anything else.
    pub require_mfa: bool,
}

/// Changes to settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub require_mfa: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", responses((status = 200, body = SettingsDoc), (status = 403, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal) -> ApiResult {
    p.require(Permission::SettingsWrite)?;
    Ok(json(SettingsDoc { require_mfa: super::require_mfa(&app.store).await? }))
}

#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", request_body = SettingsPatch,
    responses((status = 200, body = SettingsDoc), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn update(State(app): State<App>, p: Principal, ApiJson(patch): ApiJson<SettingsPatch>) -> ApiResult {
    p.require(Permission::SettingsWrite)?;
    if let Some(v) = patch.require_mfa {
        super::set(&app.store, &p.actor(), super::REQUIRE_MFA, if v { "true" } else { "false" }).await?;
    }
    Ok(json(SettingsDoc { require_mfa: super::require_mfa(&app.store).await? }))
}
