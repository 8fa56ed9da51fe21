//! `/api/v1/settings/smtp` (administrators): the SMTP server Steward
//! sends through (`PUT` with an optional `password`: absent keeps the
//! stored one; never returned), `…/test` sending a test mail now and
//! saying what the server answered; and a ticket's outgoing mail with its
//! state (`/api/v1/clients/{id}/tickets/{ticket_id}/mail`).

use super::imap::{self, Security};
use super::smtp::{self, SmtpSettings};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The SMTP settings to store.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpInput {
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(default)]
    pub username: String,
    /// Sealed at rest; absent keeps the stored one.
    pub password: Option<String>,
    pub from_address: String,
    #[serde(default)]
    pub from_name: String,
    pub ca_pem: Option<String>,
}

/// A test mail's outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SmtpTestResult {
    pub ok: bool,
    pub error: Option<String>,
}

/// Where to send a test mail.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpTest {
    pub to: String,
}

/// One outgoing mail of a ticket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutgoingMail {
    pub id: i64,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub message_id: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
}

fn valid_address(field: &str, a: &str) -> Result<String, ApiError> {
    crate::validate::Email::parse(a).map(|e| e.into_string()).map_err(|m| ApiError::refused(field, m))
}

#[utoipa::path(get, path = "/api/v1/settings/smtp", tag = "mail",
    responses((status = 200, body = SmtpSettings), (status = 404, body = ErrorEnvelope, description = "no SMTP server configured")))]
pub async fn show(State(app): State<App>, p: Principal) -> ApiResult<Json<SmtpSettings>> {
    p.require(Permission::SettingsWrite)?;
    let raw = crate::settings::store::read(&mut app.store.clone(), smtp::SETTINGS_KEY).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(serde_json::from_str(&raw).map_err(ApiError::internal)?))
}

#[utoipa::path(put, path = "/api/v1/settings/smtp", tag = "mail", request_body = SmtpInput,
    responses((status = 200, body = SmtpSettings), (status = 400, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(State(app): State<App>, p: Principal, ApiJson(r): ApiJson<SmtpInput>) -> ApiResult<Json<SmtpSettings>> {
    Ok(Json(save(&app, &p, r).await?))
}

/// Stores the SMTP settings (the password sealed), audited.
pub async fn save(app: &App, p: &Principal, r: SmtpInput) -> Result<SmtpSettings, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let host = r.host.trim().to_string();
    if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid("host", "a host name or address"));
    }
    if r.port == 0 {
        return Err(ApiError::invalid("port", "1 to 65535"));
    }
    if r.security == Security::Plain && !imap::is_loopback(&host) {
        return Err(ApiError::refused("security", "plain (unencrypted) SMTP is allowed to a loopback address only; use tls or starttls"));
    }
    let from_address = valid_address("from_address", &r.from_address)?;
    if r.from_name.chars().count() > 200 || r.from_name.chars().any(char::is_control) {
        return Err(ApiError::invalid("from_name", "at most 200 characters, no control characters"));
    }
    if r.username.chars().count() > 320 || r.password.as_ref().is_some_and(|p| p.chars().count() > 1000) {
        return Err(ApiError::invalid("username", "at most 320 characters (and a password of at most 1000)"));
    }
    let ca_pem = super::mailboxes::ca_pem(r.ca_pem)?;
    let s = SmtpSettings {
        host,
        port: r.port,
        security: r.security,
        username: r.username.trim().to_string(),
        from_address,
        from_name: r.from_name.trim().to_string(),
        ca_pem,
    };
    let mut tx = app.store.begin_audited().await?;
    let before = crate::settings::store::read(tx.tx(), smtp::SETTINGS_KEY).await?;
    crate::settings::store::put(tx.tx(), smtp::SETTINGS_KEY, &serde_json::to_string(&s).map_err(ApiError::internal)?).await?;
    if let Some(pw) = &r.password {
        crate::settings::store::put(tx.tx(), smtp::PASSWORD_KEY, &smtp::seal_password(app, pw)).await?;
    }
    let details = json!({"before": before.and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok()), "after": s, "password_changed": r.password.is_some()});
    tx.commit(&p.actor(), Event::new("settings.smtp", "setting", "smtp").details(details)).await?;
    Ok(s)
}

#[utoipa::path(post, path = "/api/v1/settings/smtp/test", tag = "mail", request_body = SmtpTest,
    responses((status = 200, body = SmtpTestResult, description = "sent, or what the server or the connection said"), (status = 404, body = ErrorEnvelope, description = "no SMTP server configured"), (status = 422, body = ErrorEnvelope)))]
pub async fn test(State(app): State<App>, p: Principal, ApiJson(r): ApiJson<SmtpTest>) -> ApiResult<Json<SmtpTestResult>> {
    Ok(Json(send_test(&app, &p, &r.to).await?))
}

/// Sends a test mail to `to` now; what the server said.
pub async fn send_test(app: &App, p: &Principal, to: &str) -> Result<SmtpTestResult, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let to = valid_address("to", to)?;
    let (s, password) = smtp::load(app, &mut app.store.clone()).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    let domain = s.from_address.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
    let id = format!("steward.test.{}@{domain}", hex::encode(rand::random::<[u8; 6]>()));
    let text = "This is a test mail from Steward: the SMTP settings work.";
    let m = smtp::Outgoing {
        to: &[to],
        cc: &[],
        subject: "Steward test mail",
        message_id: &id,
        in_reply_to: "",
        references: &[],
        text,
        html: &format!("<p>{text}</p>"),
        from: None,
        automatic: true,
    };
    let sent = match smtp::Sender::new(s.clone(), &password) {
        Ok(sender) => sender.send(&m).await,
        Err(e) => Err(e),
    };
    Ok(match sent {
        Ok(()) => SmtpTestResult { ok: true, error: None },
        Err(e) => SmtpTestResult { ok: false, error: Some(e.to_string()) },
    })
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/tickets/{ticket_id}/mail", tag = "mail", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    responses((status = 200, body = Vec<OutgoingMail>, description = "newest first"), (status = 404, body = ErrorEnvelope)))]
pub async fn of_ticket(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Vec<OutgoingMail>>> {
    p.require(Permission::TicketsRead)?;
    let client = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    crate::tickets::store::get(&mut db, client, ticket_id).await?.ok_or(ApiError::NotFound)?;
    let rows = super::outbox::of_ticket(&mut db, ticket_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| OutgoingMail {
                id: r.id,
                to: serde_json::from_str(&r.to_addresses).unwrap_or_default(),
                cc: serde_json::from_str(&r.cc_addresses).unwrap_or_default(),
                subject: r.subject,
                message_id: r.message_id,
                state: r.state,
                attempts: r.attempts,
                last_error: r.last_error,
            })
            .collect(),
    ))
}
