//! `/api/v1/clients/{id}/sites/{site_id}/enrollment-tokens[/{token_id}]`:
//! create (shown once, with the install commands), list, revoke. Scoped to
//! the client by the guard like every `/clients/{id}` route.

use super::enrollment::{self, EnrollmentToken, NewToken};
use crate::audit::Event;
use crate::auth::roles::Permission;
use crate::auth::Principal;
use crate::http::error::{json, ApiError, ApiJson, ApiResult, ErrorEnvelope};
use crate::http::list::{PageParams, Paged};
use crate::http::App;
use crate::store::{now_us, rfc3339};
use axum::extract::{Path, Query, State};
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
    pub name: String,
    /// Lifetime in hours (1–720, default 24).
    pub expires_in_hours: Option<u32>,
    /// How many devices may enrol with it (absent: unlimited until expiry).
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
    pub created_at: String,
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
    #[serde(flatten)]
    pub info: EnrollmentTokenInfo,
}

/// The URL agents reach this server at.
pub fn server_url(app: &App, headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    if let Some(u) = &app.cfg.public_url {
        return u.clone();
    }
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string))
        .unwrap_or_else(|| app.cfg.listen.to_string());
    format!("https://{host}")
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
    let name = crate::tenancy::validate::text(&req.name, 200).map_err(|m| ApiError::invalid("name", m))?;
    let hours = req.expires_in_hours.unwrap_or(24);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::invalid("expires_in_hours", "must be between 1 and 720"));
    }
    if req.max_uses == Some(0) {
        return Err(ApiError::invalid("max_uses", "must be at least 1 (leave it out for unlimited)"));
    }
    let mut tx = app.store.begin_audited().await?;
    let site = crate::tenancy::get_site(tx.tx(), client_id, site_id).await?.ok_or(ApiError::NotFound)?;
    if site.archived {
        return Err(ApiError::invalid("site_id", "the site is archived"));
    }
    let expires_at = now_us() + hours as i64 * 3_600_000_000;
    let new = NewToken { client_id, site_id, name: &name, created_by: Some(p.user.id), expires_at, max_uses: req.max_uses.map(i64::from) };
    let (id, secret) = enrollment::create(tx.tx(), new).await?;
    let t = enrollment::get(tx.tx(), client_id, site_id, id).await?.ok_or_else(|| ApiError::Internal("token vanished".into()))?;
    tx.commit(
        &p.actor(),
        Event::new("enrollment_token.create", "enrollment_token", id)
            .client(client_id)
            .details(json!({"site_id": site_id, "name": name, "expires_at": rfc3339(expires_at), "max_uses": req.max_uses})),
    )
    .await?;
    let pin = app.agent_pin.get().cloned();
    let (install_linux, install_windows) =
        enrollment::install_commands(&server_url, &secret, pin.as_deref().unwrap_or("<set --agent-pin on the server>"));
    Ok(CreatedEnrollmentToken { token: secret, pin, server_url, install_linux, install_windows, info: t.into() })
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
    Path((id, site_id)): Path<(i64, i64)>,
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
    Path((id, site_id)): Path<(i64, i64)>,
    Query(page): Query<PageParams>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    crate::tenancy::get_site(&mut db, id, site_id).await?.ok_or(ApiError::NotFound)?;
    let rows = enrollment::list(&mut db, id, site_id).await?;
    Ok(json(Paged::from_all(rows.into_iter().map(EnrollmentTokenInfo::from).collect(), &page)))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/sites/{site_id}/enrollment-tokens/{token_id}", tag = "devices",
    params(("id" = i64, Path), ("site_id" = i64, Path), ("token_id" = i64, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke(State(app): State<App>, p: Principal, Path((id, site_id, token_id)): Path<(i64, i64, i64)>) -> ApiResult {
    revoke_for(&app, &p, id, site_id, token_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A device as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceInfo {
    pub id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub hostname: String,
    pub os: String,
    pub agent_version: String,
    pub enrolled_at: String,
    pub last_seen_at: Option<String>,
    /// Connected to this server right now.
    pub online: bool,
    pub revoked: bool,
}

impl DeviceInfo {
    pub fn of(d: super::store::Device, app: &App) -> Self {
        DeviceInfo {
            online: d.revoked_at.is_none() && app.agents.is_online(d.id),
            revoked: d.revoked_at.is_some(),
            id: d.id,
            client_id: d.client_id,
            site_id: d.site_id,
            hostname: d.hostname,
            os: d.os,
            agent_version: d.agent_version,
            enrolled_at: rfc3339(d.enrolled_at),
            last_seen_at: d.last_seen_at.map(rfc3339),
        }
    }
}

/// A device with its client's and site's names, as lists show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceListItem {
    #[serde(flatten)]
    pub device: DeviceInfo,
    pub client_name: String,
    pub site_name: String,
}

/// One page of devices (shared by the API and the pages).
pub async fn search_for(
    app: &App,
    p: &Principal,
    filter: &super::query::DeviceFilter,
    page: &PageParams,
) -> Result<Paged<DeviceListItem>, ApiError> {
    p.require(Permission::ClientsRead)?;
    filter.validate().map_err(|(field, m)| ApiError::invalid(field, m))?;
    let (rows, total) =
        super::query::search(&mut app.store.snapshot().await?, p.clients.as_deref(), filter, page.limit(), page.offset()).await?;
    let items = rows
        .into_iter()
        .map(|r| DeviceListItem { device: DeviceInfo::of(r.device, app), client_name: r.client_name, site_name: r.site_name })
        .collect();
    Ok(Paged::new(items, total, page))
}

#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", params(super::query::DeviceFilter, PageParams),
    responses((status = 200, body = Paged<DeviceListItem>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_all(
    State(app): State<App>,
    p: Principal,
    Query(filter): Query<super::query::DeviceFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult {
    Ok(json(search_for(&app, &p, &filter, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices", tag = "devices", params(("id" = i64, Path), super::query::DeviceFilter, PageParams),
    responses((status = 200, body = Paged<DeviceListItem>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_for_client(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<i64>,
    Query(mut filter): Query<super::query::DeviceFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    crate::tenancy::get_client(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?;
    filter.client_id = Some(id);
    Ok(json(search_for(&app, &p, &filter, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 200, body = DeviceDetail), (status = 404, body = ErrorEnvelope)))]
pub async fn get_device(State(app): State<App>, p: Principal, Path((id, device_id)): Path<(i64, i64)>) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    let d = super::store::with_settings(&mut app.store.clone(), device_id)
        .await?
        .filter(|d| d.device.client_id == id)
        .ok_or(ApiError::NotFound)?;
    let agent_settings = d.effective(app.cfg.agent_defaults());
    Ok(json(DeviceDetail { device: DeviceInfo::of(d.device, &app), agent_settings }))
}

/// One device, with the settings its agent runs with and where each
/// comes from (its site, its client or the server).
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub device: DeviceInfo,
    pub agent_settings: super::agent_settings::Effective,
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/devices/{device_id}", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 204, description = "revoked; its connection is closed at once"), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_device(State(app): State<App>, p: Principal, Path((id, device_id)): Path<(i64, i64)>) -> ApiResult {
    revoke_device_for(&app, &p, id, device_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Revokes a device and closes its connection (shared with the pages).
pub async fn revoke_device_for(app: &App, p: &Principal, id: i64, device_id: i64) -> Result<(), ApiError> {
    p.require(Permission::ClientsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let d = super::store::by_id(tx.tx(), device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    super::store::revoke(tx.tx(), device_id).await?;
    tx.commit(&p.actor(), Event::new("device.revoke", "device", device_id).client(id).details(json!({"hostname": d.hostname}))).await?;
    app.agents.revoke(device_id);
    app.live.publish(device_id, id, "removed");
    Ok(())
}

/// The result of a ping.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PingResult {
    pub ok: bool,
    pub output: String,
    /// Server → agent → server, including signature checks on the agent.
    pub round_trip_ms: f64,
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/devices/{device_id}/ping", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 200, body = PingResult), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "offline or no answer")))]
pub async fn ping(State(app): State<App>, p: Principal, Path((id, device_id)): Path<(i64, i64)>) -> ApiResult {
    Ok(json(ping_for(&app, &p, id, device_id).await?))
}

/// Pings a device through the signed command channel (shared with the pages).
pub async fn ping_for(app: &App, p: &Principal, id: i64, device_id: i64) -> Result<PingResult, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let d = super::store::by_id(&mut app.store.clone(), device_id)
        .await?
        .filter(|d| d.client_id == id && d.revoked_at.is_none())
        .ok_or(ApiError::NotFound)?;
    let (ok, output, rtt) =
        super::commands::run(app, p, id, d.id, steward_protocol::command::CommandBody::Ping, std::time::Duration::from_secs(10)).await?;
    Ok(PingResult { ok, output, round_trip_ms: rtt.as_secs_f64() * 1000.0 })
}

/// An online/offline transition.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PresenceEvent {
    pub online: bool,
    pub at: String,
    /// `connected from ADDRESS`, `disconnected`, `silent`, `revoked`, …
    pub reason: String,
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}/presence", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path), PageParams),
    responses((status = 200, body = Paged<PresenceEvent>, description = "newest first"), (status = 404, body = ErrorEnvelope)))]
pub async fn presence(
    State(app): State<App>,
    p: Principal,
    Path((id, device_id)): Path<(i64, i64)>,
    Query(page): Query<PageParams>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.snapshot().await?;
    super::store::by_id(&mut db, device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    let rows = super::store::transitions(&mut db, device_id, page.limit(), page.offset()).await?;
    let total = super::store::count_transitions(&mut db, device_id).await?;
    let items = rows.into_iter().map(|t| PresenceEvent { online: t.online, at: rfc3339(t.at), reason: t.reason }).collect();
    Ok(json(Paged::new(items, total, &page)))
}
