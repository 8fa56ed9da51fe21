//! Mailboxes, for administrators: `/api/v1/mailboxes` (list, create),
//! `/api/v1/mailboxes/{id}` (show, delete), `…/test` (connect, log in and
//! open the folder now, saying exactly which step failed) and `…/poll`
//! (read it at the next tick). The password is sealed with the master key
//! (its context names the mailbox) and never shown again.

use super::account::{account, password_context};
use super::imap::{self, Security};
use super::store::{self, MailboxRow, NewMailbox as NewRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use crate::time::{now_us, rfc3339};
use crate::validate::Name;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A mailbox to read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMailbox {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    #[schema(example = "imap.example.com")]
    pub host: String,
    #[schema(minimum = 1, maximum = 65535, example = 993)]
    pub port: i64,
    pub security: Security,
    pub username: String,
    /// Sealed at rest; never returned.
    pub password: String,
    /// Default `INBOX`.
    pub folder: Option<String>,
    /// An extra CA certificate (PEM) for a mail server with its own CA.
    pub ca_pem: Option<String>,
    /// The client that mail from unknown senders is filed under.
    pub default_client_id: i64,
    /// The board new tickets go to (default: the first).
    pub board_id: Option<i64>,
    /// Seconds between reads (at least 5; default 60).
    pub poll_secs: Option<i64>,
    /// A folder read messages are moved to (default: none, they stay,
    /// flagged as seen). Messages are never deleted.
    pub move_to: Option<String>,
    /// Messages from one sender an hour that make tickets before the rest
    /// are folded into one (default 20).
    pub flood_per_hour: Option<i64>,
}

/// Changes to a mailbox: what is left out stays.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailboxPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub host: Option<String>,
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<i64>,
    pub security: Option<Security>,
    pub username: Option<String>,
    /// A new password (sealed; never returned).
    pub password: Option<String>,
    pub folder: Option<String>,
    /// `null` removes it.
    #[serde(default, with = "crate::validate::double_option")]
    pub ca_pem: Option<Option<String>>,
    pub default_client_id: Option<i64>,
    pub board_id: Option<i64>,
    pub poll_secs: Option<i64>,
    /// `false` stops reading it (what was read stays).
    pub enabled: Option<bool>,
    /// `null`: messages stay in the folder.
    #[serde(default, with = "crate::validate::double_option")]
    pub move_to: Option<Option<String>>,
    pub flood_per_hour: Option<i64>,
}

/// A mailbox as shown (never its password).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Mailbox {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub port: i64,
    pub security: String,
    pub username: String,
    pub folder: String,
    pub ca_pem: Option<String>,
    pub default_client_id: i64,
    pub board_id: Option<i64>,
    pub poll_secs: i64,
    pub enabled: bool,
    pub move_to: Option<String>,
    pub flood_per_hour: i64,
    /// The UID of the last message handled.
    pub last_uid: i64,
    #[schema(format = DateTime)]
    pub last_polled_at: Option<String>,
    /// What went wrong at the last read (empty when it went well).
    pub last_error: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<MailboxRow> for Mailbox {
    fn from(r: MailboxRow) -> Self {
        Mailbox {
            id: r.id,
            name: r.name,
            host: r.host,
            port: r.port,
            security: r.security,
            username: r.username,
            folder: r.folder,
            ca_pem: r.ca_pem,
            default_client_id: r.default_client_id,
            board_id: r.board_id,
            poll_secs: r.poll_secs,
            enabled: r.enabled,
            move_to: r.move_to,
            flood_per_hour: r.flood_per_hour,
            last_uid: r.last_uid,
            last_polled_at: r.last_polled_at.map(rfc3339),
            last_error: r.last_error,
            created_at: rfc3339(r.created_at),
        }
    }
}

/// The outcome of a connection test.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestResult {
    pub ok: bool,
    /// The step that failed: `dns`, `tcp`, `tls`, `login`, `folder` or `imap`.
    pub step: Option<String>,
    pub error: Option<String>,
}

fn text(field: &str, s: &str, max: usize) -> Result<String, ApiError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, format!("1 to {max} characters, no control characters")));
    }
    Ok(t.to_string())
}

/// An extra CA certificate for a mail server (IMAP or SMTP): PEM, at most
/// 64 KiB; blank is none.
pub(crate) fn ca_pem(pem: Option<String>) -> Result<Option<String>, ApiError> {
    match pem.filter(|c| !c.trim().is_empty()) {
        Some(pem) if pem.len() > 64 * 1024 || !pem.contains("-----BEGIN CERTIFICATE-----") => {
            Err(ApiError::refused("ca_pem", "a PEM certificate (-----BEGIN CERTIFICATE-----), at most 64 KiB"))
        }
        other => Ok(other),
    }
}

fn poll_secs(s: i64) -> Result<i64, ApiError> {
    (5..=86_400).contains(&s).then_some(s).ok_or_else(|| ApiError::refused("poll_secs", "5 to 86400 seconds"))
}

fn flood(n: i64) -> Result<i64, ApiError> {
    (1..=10_000).contains(&n).then_some(n).ok_or_else(|| ApiError::refused("flood_per_hour", "1 to 10000 messages"))
}

fn move_to(m: Option<String>, folder: &str) -> Result<Option<String>, ApiError> {
    match m.filter(|m| !m.trim().is_empty()) {
        Some(m) => {
            let m = text("move_to", &m, 200)?;
            if m == folder {
                return Err(ApiError::refused("move_to", "is the folder read; name another"));
            }
            Ok(Some(m))
        }
        None => Ok(None),
    }
}

fn security(s: Security, host: &str) -> Result<(), ApiError> {
    if s == Security::Plain && !imap::is_loopback(host) {
        return Err(ApiError::refused("security", "plain (unencrypted) IMAP is allowed to a loopback address only; use tls or starttls"));
    }
    Ok(())
}

pub async fn patch_mailbox(app: &App, p: &Principal, id: i64, r: MailboxPatch) -> Result<Mailbox, ApiError> {
    use super::store::Mailboxes as M;
    p.require(Permission::SettingsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let row = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let before: Mailbox = row.clone().into();
    let mut sets: Vec<(M, sea_query::SimpleExpr)> = vec![];
    if let Some(n) = &r.name {
        sets.push((M::Name, Name::parse(n).map_err(|m| ApiError::invalid("name", m))?.into_string().into()));
    }
    let host = match &r.host {
        Some(h) => text("host", h, 253)?,
        None => row.host.clone(),
    };
    let sec = r.security.or(Security::parse(&row.security)).unwrap_or(Security::Tls);
    security(sec, &host)?;
    sets.push((M::Host, host.into()));
    sets.push((M::Security, sec.as_str().into()));
    if let Some(port) = r.port {
        if !(1..=65_535).contains(&port) {
            return Err(ApiError::invalid("port", "1 to 65535"));
        }
        sets.push((M::Port, port.into()));
    }
    if let Some(u) = &r.username {
        sets.push((M::Username, text("username", u, 320)?.into()));
    }
    let folder = match &r.folder {
        Some(f) => text("folder", f, 200)?,
        None => row.folder.clone(),
    };
    let moved = match r.move_to {
        Some(m) => move_to(m, &folder)?,
        None => move_to(row.move_to.clone(), &folder)?,
    };
    sets.push((M::Folder, folder.into()));
    sets.push((M::MoveTo, moved.into()));
    if let Some(c) = r.ca_pem {
        sets.push((M::CaPem, ca_pem(c)?.into()));
    }
    if let Some(c) = r.default_client_id {
        if !crate::tenancy::store::client_exists(tx.tx(), c).await? {
            return Err(ApiError::refused("default_client_id", "is not a client"));
        }
        sets.push((M::DefaultClientId, c.into()));
    }
    if let Some(b) = r.board_id {
        crate::tickets::ops::resolve::board(tx.tx(), Some(b)).await.map_err(|_| ApiError::refused("board_id", "is not a board"))?;
        sets.push((M::BoardId, b.into()));
    }
    if let Some(s) = r.poll_secs {
        sets.push((M::PollSecs, poll_secs(s)?.into()));
    }
    if let Some(e) = r.enabled {
        sets.push((M::Enabled, e.into()));
        // Read again at once when turned back on.
        sets.push((M::NextPollAt, 0i64.into()));
    }
    if let Some(n) = r.flood_per_hour {
        sets.push((M::FloodPerHour, flood(n)?.into()));
    }
    if let Some(pw) = &r.password {
        if pw.is_empty() || pw.chars().count() > 1000 {
            return Err(ApiError::invalid("password", "1 to 1000 characters"));
        }
        store::set_password(tx.tx(), id, &app.master.seal(&password_context(id), pw.as_bytes())).await?;
        sets.push((M::LastError, "".into()));
        sets.push((M::NextPollAt, 0i64.into()));
    }
    store::update(tx.tx(), id, sets, now_us()).await?;
    let after: Mailbox = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?.into();
    let details = json!({"before": before, "after": after, "password_changed": r.password.is_some()});
    tx.commit(&p.actor(), Event::new("mailbox.update", "mailbox", id).details(details)).await?;
    Ok(after)
}

pub async fn create_mailbox(app: &App, p: &Principal, r: NewMailbox) -> Result<Mailbox, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let name = Name::parse(&r.name).map_err(|m| ApiError::invalid("name", m))?;
    let host = text("host", &r.host, 253)?;
    if !(1..=65_535).contains(&r.port) {
        return Err(ApiError::invalid("port", "1 to 65535"));
    }
    security(r.security, &host)?;
    let username = text("username", &r.username, 320)?;
    if r.password.is_empty() || r.password.chars().count() > 1000 {
        return Err(ApiError::invalid("password", "1 to 1000 characters"));
    }
    let folder = text("folder", r.folder.as_deref().unwrap_or("INBOX"), 200)?;
    let ca_pem = ca_pem(r.ca_pem)?;
    let poll_secs = poll_secs(r.poll_secs.unwrap_or(60))?;
    let move_to = move_to(r.move_to, &folder)?;
    let flood_per_hour = flood(r.flood_per_hour.unwrap_or(20))?;
    let mut tx = app.store.begin_audited().await?;
    if !crate::tenancy::store::client_exists(tx.tx(), r.default_client_id).await? {
        return Err(ApiError::refused("default_client_id", "is not a client"));
    }
    let board =
        crate::tickets::ops::resolve::board(tx.tx(), r.board_id).await.map_err(|_| ApiError::refused("board_id", "is not a board"))?;
    let row = NewRow {
        name: name.as_str(),
        host: &host,
        port: r.port,
        security: r.security.as_str(),
        username: &username,
        folder: &folder,
        ca_pem: ca_pem.as_deref(),
        default_client_id: r.default_client_id,
        board_id: r.board_id.map(|_| board.id),
        poll_secs,
        move_to: move_to.as_deref(),
        flood_per_hour,
    };
    let id = store::insert(tx.tx(), &row, now_us()).await?;
    store::set_password(tx.tx(), id, &app.master.seal(&password_context(id), r.password.as_bytes())).await?;
    let shown: Mailbox = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?.into();
    tx.commit(&p.actor(), Event::new("mailbox.create", "mailbox", id).details(json!({"after": shown}))).await?;
    Ok(shown)
}

#[utoipa::path(get, path = "/api/v1/mailboxes", tag = "mail", responses((status = 200, body = Vec<Mailbox>), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal) -> ApiResult<Json<Vec<Mailbox>>> {
    p.require(Permission::SettingsWrite)?;
    Ok(Json(store::list(&mut app.store.clone()).await?.into_iter().map(Mailbox::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/mailboxes", tag = "mail", request_body = NewMailbox,
    responses((status = 201, body = Mailbox), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(State(app): State<App>, p: Principal, ApiJson(r): ApiJson<NewMailbox>) -> ApiResult<(StatusCode, Json<Mailbox>)> {
    Ok((StatusCode::CREATED, Json(create_mailbox(&app, &p, r).await?)))
}

#[utoipa::path(get, path = "/api/v1/mailboxes/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = Mailbox), (status = 404, body = ErrorEnvelope)))]
pub async fn show(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Mailbox>> {
    p.require(Permission::SettingsWrite)?;
    Ok(Json(store::get(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?.into()))
}

#[utoipa::path(patch, path = "/api/v1/mailboxes/{id}", tag = "mail", params(("id" = i64, Path)), request_body = MailboxPatch,
    responses((status = 200, body = Mailbox), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<MailboxPatch>,
) -> ApiResult<Json<Mailbox>> {
    Ok(Json(patch_mailbox(&app, &p, id, r).await?))
}

#[utoipa::path(delete, path = "/api/v1/mailboxes/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 204, description = "deleted; the tickets it made stay"), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    p.require(Permission::SettingsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let before: Mailbox = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?.into();
    store::delete(tx.tx(), id).await?;
    tx.commit(&p.actor(), Event::new("mailbox.delete", "mailbox", id).details(json!({"before": before}))).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/mailboxes/{id}/test", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = TestResult, description = "connected, logged in and opened the folder, or the step that failed"), (status = 404, body = ErrorEnvelope)))]
pub async fn test(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<TestResult>> {
    Ok(Json(test_mailbox(&app, &p, id).await?))
}

/// Connects, logs in and opens the folder now; the step that failed.
pub async fn test_mailbox(app: &App, p: &Principal, id: i64) -> Result<TestResult, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let mb = store::get(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?;
    let outcome = match account(app, &mb) {
        Ok(a) => imap::open(&a).await.map(|(r, _)| r),
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(reader) => {
            reader.logout().await;
            TestResult { ok: true, step: None, error: None }
        }
        Err(e) => TestResult { ok: false, step: Some(e.step().into()), error: Some(e.to_string()) },
    })
}

#[utoipa::path(post, path = "/api/v1/mailboxes/{id}/poll", tag = "mail", params(("id" = i64, Path)),
    responses((status = 202, description = "read at the next tick of the mail job"), (status = 404, body = ErrorEnvelope)))]
pub async fn poll_now(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    p.require(Permission::SettingsWrite)?;
    let mut tx = app.store.begin().await?;
    store::get(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    store::make_due(&mut tx, id).await?;
    crate::store::lease::due_now(&mut tx, super::POLL_JOB).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
