//! `/api/v1/clients/{id}/sites/{site_id}/enrollment-tokens[/{token_id}]`:
//! create (shown once, with the install commands), list, revoke. Scoped to
//! the client by the guard like every `/clients/{id}` route. The audited
//! operations are shared with the site page's panel.

use super::runtime;
use super::store::{self as enrollment, EnrollmentToken, NewToken};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use crate::time::{now_us, rfc3339};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A token to create.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrollmentToken {
    /// What it is for, e.g. "office rollout".
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub name: String,
    /// Lifetime in hours (1–720, default 24).
    #[schema(minimum = 1, maximum = 720)]
    pub expires_in_hours: Option<u32>,
    /// How many devices may enrol with it (absent: unlimited until expiry).
    #[schema(minimum = 1, maximum = 1000000)]
    pub max_uses: Option<u32>,
}

/// An enrollment token as listed (never the secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrollmentTokenInfo {
    pub id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub name: String,
    pub prefix: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub max_uses: Option<i64>,
    pub uses: i64,
    /// `active`, `revoked`, `expired` or `used up`.
    pub state: String,
}

impl From<EnrollmentToken> for EnrollmentTokenInfo {
    fn from(t: EnrollmentToken) -> Self {
        EnrollmentTokenInfo {
            state: t.state(now_us()).to_string(),
            id: t.id,
            client_id: t.client_id,
            site_id: t.site_id,
            name: t.name,
            prefix: t.prefix,
            created_at: rfc3339(t.created_at),
            expires_at: rfc3339(t.expires_at),
            max_uses: t.max_uses,
            uses: t.uses,
        }
    }
}

/// A created token: the secret and the install commands, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedEnrollmentToken {
    pub token: String,
    /// The server's SPKI SHA-256 that agents pin (`null` when unknown: set `--agent-pin`).
    pub pin: Option<String>,
    pub server_url: String,
    pub install_linux: String,
    pub install_windows: String,
    /// The agent binaries this server hands out (empty: none were found
    /// beside it or in `--agent-dir`; install the agent another way).
    pub downloads: Vec<AgentDownload>,
    #[serde(flatten)]
    pub info: EnrollmentTokenInfo,
}

/// An agent binary to download.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentDownload {
    /// `linux-x86_64`, `linux-aarch64` or `windows-x86_64`.
    pub platform: String,
    pub url: String,
    /// Hex.
    pub sha256: String,
    pub size: u64,
}

/// The binaries this server has, at `server_url` (hashing one the first
/// time, off the async workers).
pub async fn agent_downloads(app: &App, server_url: &str) -> Result<Vec<AgentDownload>, ApiError> {
    let app = app.clone();
    let server_url = server_url.to_string();
    tokio::task::spawn_blocking(move || {
        app.agent_binaries
            .all()
            .iter()
            .map(|b| {
                Ok(AgentDownload {
                    platform: b.platform.id.into(),
                    url: format!("{server_url}/agent/download/{}", b.platform.id),
                    sha256: b.sha256()?,
                    size: b.size()?,
                })
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::internal(format!("agent hash task: {e}")))?
}

/// The URL agents reach this server at: `--public-url`, else the address
/// the page was asked on (with the agents' own port where they have one).
pub fn server_url(app: &App, headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    if let Some(u) = &app.cfg.public_url {
        return u.clone();
    }
    // The Host a request names goes into a shell command: anything but a
    // host name or address and a port falls back to the listen address.
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string))
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
        .unwrap_or_else(|| app.cfg.listen.to_string());
    match app.agent_port.get() {
        Some(port) => {
            let name = host.parse::<axum::http::uri::Authority>().map(|a| a.host().to_string()).unwrap_or(host);
            format!("https://{name}:{port}")
        }
        None => format!("https://{host}"),
    }
}

/// Creates a token for a site (shared with the site page).
pub async fn create_for(
    app: &App,
    p: &Principal,
    client_id: i64,
    site_id: i64,
    req: NewEnrollmentToken,
    server_url: String,
) -> Result<CreatedEnrollmentToken, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let name = crate::validate::Short::parse(&req.name).map_err(|m| ApiError::invalid("name", m))?;
    let hours = req.expires_in_hours.unwrap_or(24);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::invalid("expires_in_hours", "must be between 1 and 720"));
    }
    if req.max_uses.is_some_and(|n| !(1..=1_000_000).contains(&n)) {
        return Err(ApiError::invalid("max_uses", "must be between 1 and 1000000 (leave it out for unlimited)"));
    }
    let mut tx = app.store.begin_audited().await?;
    let site = crate::tenancy::store::get_site(tx.tx(), p.client(client_id)?, site_id).await?.ok_or(ApiError::NotFound)?;
    if site.archived {
        return Err(ApiError::refused("site_id", "the site is archived"));
    }
    let expires_at = now_us() + hours as i64 * 3_600_000_000;
    let new = NewToken { client_id, site_id, name: &name, created_by: Some(p.user.id), expires_at, max_uses: req.max_uses.map(i64::from) };
    let (id, secret) = enrollment::create(tx.tx(), new).await?;
    let t = enrollment::get(tx.tx(), client_id, site_id, id).await?.ok_or_else(|| ApiError::internal("token vanished"))?;
    tx.commit(
        &p.actor(),
        Event::new("enrollment_token.create", "enrollment_token", id)
            .client(client_id)
            .details(json!({"site_id": site_id, "name": name, "expires_at": rfc3339(expires_at), "max_uses": req.max_uses})),
    )
    .await?;
    let pin = app.agent_pin.get().cloned();
    let downloads = agent_downloads(app, &server_url).await?;
    let source =
        |platform: &str| downloads.iter().find(|d| d.platform == platform).map(|d| enrollment::Source { url: &d.url, sha256: &d.sha256 });
    let (install_linux, install_windows) = enrollment::install_commands(
        &server_url,
        &secret,
        pin.as_deref().unwrap_or("<set --agent-pin on the server>"),
        enrollment::Linux { x86_64: source(runtime::LINUX_X86_64.id), aarch64: source(runtime::LINUX_AARCH64.id) },
        source(runtime::WINDOWS_X86_64.id),
    );
    Ok(CreatedEnrollmentToken { token: secret, pin, server_url, install_linux, install_windows, downloads, info: t.into() })
}

/// Revokes a site's token (shared with the site page).
pub async fn revoke_for(app: &App, p: &Principal, client_id: i64, site_id: i64, id: i64) -> Result<(), ApiError> {
    p.require(Permission::ClientsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let t = enrollment::get(tx.tx(), client_id, site_id, id).await?.ok_or(ApiError::NotFound)?;
    enrollment::revoke(tx.tx(), id).await?;
    tx.commit(
        &p.actor(),
        Event::new("enrollment_token.revoke", "enrollment_token", id)
            .client(client_id)
            .details(json!({"site_id": site_id, "name": t.name})),
    )
    .await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/sites/{site_id}/enrollment-tokens", tag = "devices",
    params(("id" = i64, Path), ("site_id" = i64, Path)), request_body = NewEnrollmentToken,
    responses((status = 201, body = CreatedEnrollmentToken), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    headers: HeaderMap,
    uri: axum::http::Uri,
    ApiPath((id, site_id)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<NewEnrollmentToken>,
) -> ApiResult {
    let url = server_url(&app, &headers, &uri);
    let t = create_for(&app, &p, id, site_id, req, url).await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/sites/{site_id}/enrollment-tokens", tag = "devices",
    params(("id" = i64, Path), ("site_id" = i64, Path), PageParams),
    responses((status = 200, body = Paged<EnrollmentTokenInfo>), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, site_id)): ApiPath<(i64, i64)>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    crate::tenancy::store::get_site(&mut db, p.client(id)?, site_id).await?.ok_or(ApiError::NotFound)?;
    let rows = enrollment::list(&mut db, id, site_id).await?;
    Ok(json(Paged::from_all(rows.into_iter().map(EnrollmentTokenInfo::from).collect(), &page)))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/sites/{site_id}/enrollment-tokens/{token_id}", tag = "devices",
    params(("id" = i64, Path), ("site_id" = i64, Path), ("token_id" = i64, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke(State(app): State<App>, p: Principal, ApiPath((id, site_id, token_id)): ApiPath<(i64, i64, i64)>) -> ApiResult {
    revoke_for(&app, &p, id, site_id, token_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
