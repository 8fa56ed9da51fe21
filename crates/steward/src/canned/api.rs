//! `/api/v1/canned-responses[/{id}]` (what the caller may see: shared or
//! their own, for every client or one of theirs) and rendering one for a
//! ticket under `/api/v1/clients/{id}/tickets/{ticket_id}/canned/{canned_id}/render`,
//! which the guard scopes like every client path.

use super::ops::{self, Canned, CannedPatch, NewCannedInput, Rendered};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// Which canned responses to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CannedFilter {
    /// Only those usable on this client's tickets (theirs and the ones for every client).
    pub client_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/canned-responses", tag = "tickets", params(CannedFilter),
    responses((status = 200, body = Vec<Canned>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<CannedFilter>) -> ApiResult<Json<Vec<Canned>>> {
    let client = f.client_id.map(|c| p.client(c).map(|s| s.id())).transpose()?;
    let rows = super::store::list(&mut app.store.clone(), &p, client).await?;
    Ok(Json(rows.into_iter().map(Canned::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/canned-responses", tag = "tickets", request_body = NewCannedInput,
    responses((status = 201, body = Canned), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewCannedInput>,
) -> ApiResult<(StatusCode, Json<Canned>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/canned-responses/{id}", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 200, body = Canned), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Canned>> {
    Ok(Json(super::store::get(&mut app.store.clone(), &p, id).await?.ok_or(ApiError::NotFound)?.into()))
}

#[utoipa::path(patch, path = "/api/v1/canned-responses/{id}", tag = "tickets", params(("id" = i64, Path)), request_body = CannedPatch,
    responses((status = 200, body = Canned), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<CannedPatch>,
) -> ApiResult<Json<Canned>> {
    Ok(Json(ops::update(&app, &p, id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/canned-responses/{id}", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    ops::delete(&app, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/canned/{canned_id}/render", tag = "tickets",
    params(("id" = i64, Path), ("ticket_id" = i64, Path), ("canned_id" = i64, Path)),
    responses((status = 200, description = "the text with the ticket's placeholders filled in", body = Rendered), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn render(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id, canned_id)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<Rendered>> {
    Ok(Json(ops::render(&app, &p, id, ticket_id, canned_id).await?))
}
