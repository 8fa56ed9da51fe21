//! `/api/v1/clients/{id}/maintenance-windows[/{window_id}]`: a client's
//! windows (its own, its sites', its devices'), scoped by the client guard.

use super::ops::{self, MaintenanceWindow, NewMaintenanceWindow};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/clients/{id}/maintenance-windows", tag = "monitoring", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<MaintenanceWindow>), (status = 404, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<MaintenanceWindow>>> {
    Ok(Json(ops::list(&app, &p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/maintenance-windows", tag = "monitoring", params(("id" = i64, Path)),
    request_body = NewMaintenanceWindow,
    responses((status = 201, body = MaintenanceWindow), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<NewMaintenanceWindow>,
) -> ApiResult<(StatusCode, Json<MaintenanceWindow>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, id, r).await?)))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/maintenance-windows/{window_id}", tag = "monitoring",
    params(("id" = i64, Path), ("window_id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(State(app): State<App>, p: Principal, ApiPath((id, window_id)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    ops::delete(&app, &p, id, window_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
