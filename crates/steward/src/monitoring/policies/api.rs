//! `/api/v1/monitoring/policies[/{id}]` (read: any technician; write:
//! administrators) and a device's checks,
//! `/api/v1/clients/{id}/devices/{device_id}/checks`.

use super::ops::{self, DeviceCheck, MonitoringPolicy, NewPolicy, PolicyPatch};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/monitoring/policies", tag = "monitoring",
    responses((status = 200, body = Vec<MonitoringPolicy>)))]
pub async fn list(State(app): State<App>, p: Principal) -> ApiResult<Json<Vec<MonitoringPolicy>>> {
    Ok(Json(ops::list(&app, &p).await?))
}

#[utoipa::path(post, path = "/api/v1/monitoring/policies", tag = "monitoring", request_body = NewPolicy,
    responses((status = 201, body = MonitoringPolicy), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "the name is taken"), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiJson(r): ApiJson<NewPolicy>,
) -> ApiResult<(StatusCode, Json<MonitoringPolicy>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, r).await?)))
}

#[utoipa::path(get, path = "/api/v1/monitoring/policies/{id}", tag = "monitoring", params(("id" = i64, Path)),
    responses((status = 200, body = MonitoringPolicy), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<MonitoringPolicy>> {
    Ok(Json(ops::get(&app, &p, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/monitoring/policies/{id}", tag = "monitoring", params(("id" = i64, Path)), request_body = PolicyPatch,
    responses((status = 200, body = MonitoringPolicy), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<PolicyPatch>,
) -> ApiResult<Json<MonitoringPolicy>> {
    Ok(Json(ops::update(&app, &p, id, r).await?))
}

#[utoipa::path(delete, path = "/api/v1/monitoring/policies/{id}", tag = "monitoring", params(("id" = i64, Path)),
    responses((status = 204, description = "removed, with its assignments"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    ops::delete(&app, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}/checks", tag = "monitoring",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 200, body = Vec<DeviceCheck>), (status = 404, body = ErrorEnvelope)))]
pub async fn device_checks(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Vec<DeviceCheck>>> {
    Ok(Json(ops::checks_of_device(&app, &p, id, device_id).await?))
}
