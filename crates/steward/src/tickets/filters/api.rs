//! A user's own saved queue filters: `/api/v1/saved-filters` and
//! `/api/v1/saved-filters/{id}` (another user's id is not found).

use super::ops::{self, NewSavedFilter, SavedFilter, SavedFilterPatch};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/saved-filters", tag = "tickets",
    responses((status = 200, description = "the caller's filters, in their order (at most 50)", body = Vec<SavedFilter>)))]
pub async fn list(State(app): State<App>, p: Principal) -> ApiResult<Json<Vec<SavedFilter>>> {
    Ok(Json(ops::list(&app, &p).await?))
}

#[utoipa::path(post, path = "/api/v1/saved-filters", tag = "tickets", request_body = NewSavedFilter,
    responses((status = 201, body = SavedFilter), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewSavedFilter>,
) -> ApiResult<(StatusCode, Json<SavedFilter>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, input).await?)))
}

#[utoipa::path(patch, path = "/api/v1/saved-filters/{id}", tag = "tickets", params(("id" = i64, Path)), request_body = SavedFilterPatch,
    responses((status = 200, body = SavedFilter), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<SavedFilterPatch>,
) -> ApiResult<Json<SavedFilter>> {
    Ok(Json(ops::update(&app, &p, id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/saved-filters/{id}", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = ErrorEnvelope)))]
pub async fn remove(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    ops::remove(&app, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
