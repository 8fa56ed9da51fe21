//! Billing's installation settings (`/api/v1/billing/settings`): how
//! invoices and credit notes are numbered, the payment terms, and the MSP's
//! name and address printed on every invoice. Administrators change them.

use super::invoices::store::{self, Settings};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::ApiJson;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

/// Changes to the billing settings; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BillingSettingsPatch)]
pub struct SettingsPatch {
    #[schema(example = "INV-{year}-{number:06}")]
    pub invoice_format: Option<String>,
    #[schema(example = "CN-{year}-{number:06}")]
    pub credit_format: Option<String>,
    #[schema(minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i64>,
    #[schema(value_type = Option<crate::validate::Short>)]
    pub company_name: Option<String>,
    #[schema(value_type = Option<crate::validate::Medium>)]
    pub company_address: Option<String>,
}

/// A number format: it must hold `{number}` (else every invoice would
/// get the same number) and make names of letters, digits and `-_/.#`.
fn format(field: &str, f: &str) -> Result<String, ApiError> {
    let f = f.trim();
    if !f.contains("{number") {
        return Err(ApiError::refused(field, "must hold {number} (or {number:06} for zero-padding)"));
    }
    let sample = super::invoices::ops::number(f, 2026, 1);
    if sample.is_empty() || sample.len() > 40 || !sample.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.#".contains(c)) {
        return Err(ApiError::refused(field, "numbers are at most 40 letters, digits and - _ / . #"));
    }
    Ok(f.to_string())
}

#[utoipa::path(get, path = "/api/v1/billing/settings", tag = "billing", responses((status = 200, body = Settings)))]
pub async fn show(State(app): State<App>, _p: Principal) -> ApiResult<Json<Settings>> {
    Ok(Json(store::settings(&mut app.store.snapshot().await?).await?))
}

#[utoipa::path(patch, path = "/api/v1/billing/settings", tag = "billing", request_body = SettingsPatch,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, body = Settings), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn change(State(app): State<App>, p: Principal, ApiJson(patch): ApiJson<SettingsPatch>) -> ApiResult<Json<Settings>> {
    p.require(Permission::SettingsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let before = store::settings(tx.tx()).await?;
    let mut after = before.clone();
    if let Some(f) = &patch.invoice_format {
        after.invoice_format = format("invoice_format", f)?;
    }
    if let Some(f) = &patch.credit_format {
        after.credit_format = format("credit_format", f)?;
    }
    if let Some(d) = patch.payment_terms_days {
        if !(0..=365).contains(&d) {
            return Err(ApiError::invalid("payment_terms_days", "between 0 and 365"));
        }
        after.payment_terms_days = d;
    }
    if let Some(n) = &patch.company_name {
        after.company_name = crate::validate::Short::parse(n).map_err(|m| ApiError::invalid("company_name", m))?.into_string();
    }
    if let Some(a) = &patch.company_address {
        after.company_address = crate::validate::Medium::parse(a).map_err(|m| ApiError::invalid("company_address", m))?.into_string();
    }
    store::set_settings(tx.tx(), &after).await?;
    tx.commit_change(&p.actor(), Event::new("billing.settings", "settings", "billing"), &before, &after).await?;
    Ok(Json(after))
}
