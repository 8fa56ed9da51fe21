//! The caller's device list settings: `/api/v1/devices/views` (columns
//! and saved views), `/api/v1/devices/columns`, and one view by name.

use super::ops::{self, ColumnsRequest, DeviceViews, ViewRequest};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/devices/views", tag = "devices",
    responses((status = 200, body = DeviceViews, description = "the caller's columns and saved views")))]
pub async fn get(State(app): State<App>, p: Principal) -> ApiResult<Json<DeviceViews>> {
    Ok(Json(ops::get(&app, &p).await?))
}

#[utoipa::path(put, path = "/api/v1/devices/columns", tag = "devices", request_body = ColumnsRequest,
    responses((status = 200, body = DeviceViews), (status = 400, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn set_columns(State(app): State<App>, p: Principal, ApiJson(r): ApiJson<ColumnsRequest>) -> ApiResult<Json<DeviceViews>> {
    Ok(Json(ops::set_columns(&app, &p, r).await?))
}

#[utoipa::path(post, path = "/api/v1/devices/views", tag = "devices", request_body = ViewRequest,
    responses((status = 200, body = DeviceViews, description = "saved (a view of the same name replaced)"), (status = 400, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "the most views are kept"), (status = 422, body = ErrorEnvelope)))]
pub async fn save_view(State(app): State<App>, p: Principal, ApiJson(r): ApiJson<ViewRequest>) -> ApiResult<Json<DeviceViews>> {
    Ok(Json(ops::save_view(&app, &p, r).await?))
}

#[utoipa::path(delete, path = "/api/v1/devices/views/{name}", tag = "devices", params(("name" = String, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_view(State(app): State<App>, p: Principal, ApiPath(name): ApiPath<String>) -> ApiResult<StatusCode> {
    ops::delete_view(&app, &p, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
