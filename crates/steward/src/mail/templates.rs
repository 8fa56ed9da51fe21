//! `/api/v1/settings/mail-templates` (administrators): the templates mail
//! is made from, each the shipped one until changed (`PUT`), back to the
//! shipped one by `DELETE`, and a preview of any text with sample values
//! before it is saved. Stored in the settings as `mail_template.<kind>`.

use super::model::template::{self, RenderedMail, Template};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use crate::store::Db;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::json;

fn key(kind: &str) -> String {
    format!("mail_template.{kind}")
}

/// The template for `kind` in use: the stored one, else the shipped one.
pub async fn current(db: &mut impl Db, kind: &str) -> crate::store::Result<Template> {
    let stored = crate::settings::store::read(db, &key(kind)).await?.and_then(|raw| serde_json::from_str::<Template>(&raw).ok());
    Ok(stored.or_else(|| template::default_for(kind)).unwrap_or(Template { subject: String::new(), body: "{{message}}".into() }))
}

/// A template as the settings page shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub kind: String,
    /// When it is sent.
    pub description: String,
    /// What `{{…}}` it may use.
    pub placeholders: Vec<String>,
    pub subject: String,
    pub body: String,
    /// Changed from the shipped one.
    pub custom: bool,
}

async fn view(db: &mut impl Db, kind: &str) -> Result<TemplateView, ApiError> {
    let (_, description, placeholders) = template::KINDS.iter().find(|(k, _, _)| *k == kind).ok_or(ApiError::NotFound)?;
    let t = current(db, kind).await?;
    Ok(TemplateView {
        kind: kind.to_string(),
        description: description.to_string(),
        placeholders: placeholders.iter().map(|p| p.to_string()).collect(),
        custom: Some(&t) != template::default_for(kind).as_ref(),
        subject: t.subject,
        body: t.body,
    })
}

#[utoipa::path(get, path = "/api/v1/settings/mail-templates", tag = "mail",
    responses((status = 200, body = Vec<TemplateView>)))]
pub async fn list(State(app): State<App>, p: Principal) -> ApiResult<Json<Vec<TemplateView>>> {
    Ok(Json(all(&app, &p).await?))
}

/// Every template, as in use.
pub async fn all(app: &App, p: &Principal) -> Result<Vec<TemplateView>, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let mut db = app.store.snapshot().await?;
    let mut out = vec![];
    for (kind, _, _) in template::KINDS {
        out.push(view(&mut db, kind).await?);
    }
    Ok(out)
}

fn checked(kind: &str, t: &Template) -> Result<(), ApiError> {
    template::placeholders(kind).ok_or(ApiError::NotFound)?;
    template::check(kind, t).map_err(|m| ApiError::invalid("body", m))
}

#[utoipa::path(put, path = "/api/v1/settings/mail-templates/{kind}", tag = "mail", params(("kind" = String, Path)), request_body = Template,
    responses((status = 200, body = TemplateView), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath(kind): ApiPath<String>,
    ApiJson(t): ApiJson<Template>,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(save(&app, &p, &kind, t).await?))
}

/// Stores a template, audited.
pub async fn save(app: &App, p: &Principal, kind: &str, t: Template) -> Result<TemplateView, ApiError> {
    p.require(Permission::SettingsWrite)?;
    checked(kind, &t)?;
    let mut tx = app.store.begin_audited().await?;
    let before = current(tx.tx(), kind).await?;
    crate::settings::store::put(tx.tx(), &key(kind), &serde_json::to_string(&t).map_err(ApiError::internal)?).await?;
    let out = view(tx.tx(), kind).await?;
    tx.commit(&p.actor(), Event::new("settings.mail_template", "setting", key(kind)).details(json!({"before": before, "after": t})))
        .await?;
    Ok(out)
}

#[utoipa::path(delete, path = "/api/v1/settings/mail-templates/{kind}", tag = "mail", params(("kind" = String, Path)),
    responses((status = 204, description = "the shipped template is used again"), (status = 404, body = ErrorEnvelope)))]
pub async fn reset(State(app): State<App>, p: Principal, ApiPath(kind): ApiPath<String>) -> ApiResult<StatusCode> {
    reset_to_shipped(&app, &p, &kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The shipped template is used again, audited.
pub async fn reset_to_shipped(app: &App, p: &Principal, kind: &str) -> Result<(), ApiError> {
    p.require(Permission::SettingsWrite)?;
    template::placeholders(kind).ok_or(ApiError::NotFound)?;
    let mut tx = app.store.begin_audited().await?;
    let before = current(tx.tx(), kind).await?;
    crate::settings::store::remove(tx.tx(), &key(kind)).await?;
    tx.commit(&p.actor(), Event::new("settings.mail_template_reset", "setting", key(kind)).details(json!({"before": before}))).await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/settings/mail-templates/{kind}/preview", tag = "mail", params(("kind" = String, Path)), request_body = Template,
    responses((status = 200, body = RenderedMail, description = "the mail this text makes, with sample values"), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn preview(p: Principal, ApiPath(kind): ApiPath<String>, ApiJson(t): ApiJson<Template>) -> ApiResult<Json<RenderedMail>> {
    Ok(Json(render_sample(&p, &kind, &t)?))
}

/// `t` rendered with sample values, once checked.
pub fn render_sample(p: &Principal, kind: &str, t: &Template) -> Result<RenderedMail, ApiError> {
    p.require(Permission::SettingsWrite)?;
    checked(kind, t)?;
    Ok(template::render(t, &template::sample()))
}
