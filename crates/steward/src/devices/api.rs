//! Device endpoints: `/api/v1/devices` (every device the caller may see,
//! filtered, sorted, paged), `/api/v1/clients/{id}/devices[/{device_id}]`
//! (one client's; a device; its removal), ping and presence history; the
//! operations behind them are `ops`.
//! Scoped to the client by the guard like every `/clients/{id}` route.

use super::ops::{ping_for, revoke_device_for, search_for, DeviceInfo, DeviceListItem, PingResult};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use crate::time::rfc3339;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;

#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", params(super::store::query::DeviceFilter, PageParams),
    responses((status = 200, body = Paged<DeviceListItem>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_all(
    State(app): State<App>,
    p: Principal,
    ApiQuery(filter): ApiQuery<super::store::query::DeviceFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult {
    Ok(json(search_for(&app, &p, &filter, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices", tag = "devices", params(("id" = i64, Path), super::store::query::DeviceFilter, PageParams),
    responses((status = 200, body = Paged<DeviceListItem>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_for_client(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(mut filter): ApiQuery<super::store::query::DeviceFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    crate::tenancy::store::get_client(&mut app.store.clone(), p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    filter.client_id = Some(id);
    Ok(json(search_for(&app, &p, &filter, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 200, body = DeviceDetail), (status = 404, body = ErrorEnvelope)))]
pub async fn get_device(State(app): State<App>, p: Principal, ApiPath((id, device_id)): ApiPath<(i64, i64)>) -> ApiResult {
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
    pub agent_settings: super::agent_settings::model::Effective,
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/devices/{device_id}", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 204, description = "revoked; its connection is closed at once"), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_device(State(app): State<App>, p: Principal, ApiPath((id, device_id)): ApiPath<(i64, i64)>) -> ApiResult {
    revoke_device_for(&app, &p, id, device_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/devices/{device_id}/ping", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 200, body = PingResult), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "offline or no answer")))]
pub async fn ping(State(app): State<App>, p: Principal, ApiPath((id, device_id)): ApiPath<(i64, i64)>) -> ApiResult {
    Ok(json(ping_for(&app, &p, id, device_id).await?))
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
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.snapshot().await?;
    super::store::by_id(&mut db, device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    let rows = super::presence::store::transitions(&mut db, device_id, page.limit(), page.offset()).await?;
    let total = super::presence::store::count_transitions(&mut db, device_id).await?;
    let items = rows.into_iter().map(|t| PresenceEvent { online: t.online, at: rfc3339(t.at), reason: t.reason }).collect();
    Ok(json(Paged::new(items, total, &page)))
}
