//! `/api/v1/business-calendars` and `/api/v1/sla-policies`: read by anyone
//! who sees tickets, changed by service-desk administrators.

use super::ops::{self, CalendarPatch, NewCalendar, NewPolicy, PolicyPatch};
use super::store::{BusinessCalendar, SlaPolicy};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/business-calendars", tag = "sla",
    responses((status = 200, body = Vec<BusinessCalendar>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_calendars(State(app): State<App>) -> ApiResult<Json<Vec<BusinessCalendar>>> {
    Ok(Json(super::store::calendars(&mut app.store.clone()).await?))
}

#[utoipa::path(post, path = "/api/v1/business-calendars", tag = "sla", request_body = NewCalendar,
    responses((status = 201, body = BusinessCalendar), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_calendar(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewCalendar>,
) -> ApiResult<(StatusCode, Json<BusinessCalendar>)> {
    Ok((StatusCode::CREATED, Json(ops::create_calendar(&app, &p, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/business-calendars/{id}", tag = "sla", params(("id" = i64, Path)),
    responses((status = 200, body = BusinessCalendar), (status = 404, body = ErrorEnvelope)))]
pub async fn get_calendar(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<BusinessCalendar>> {
    Ok(Json(super::store::calendar(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/business-calendars/{id}", tag = "sla", params(("id" = i64, Path)), request_body = CalendarPatch,
    responses((status = 200, body = BusinessCalendar), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_calendar(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<CalendarPatch>,
) -> ApiResult<Json<BusinessCalendar>> {
    Ok(Json(ops::update_calendar(&app, &p, id, patch).await?))
}

#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "sla",
    responses((status = 200, body = Vec<SlaPolicy>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_policies(State(app): State<App>) -> ApiResult<Json<Vec<SlaPolicy>>> {
    Ok(Json(super::store::policies(&mut app.store.clone()).await?))
}

#[utoipa::path(post, path = "/api/v1/sla-policies", tag = "sla", request_body = NewPolicy,
    responses((status = 201, body = SlaPolicy), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_policy(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewPolicy>,
) -> ApiResult<(StatusCode, Json<SlaPolicy>)> {
    Ok((StatusCode::CREATED, Json(ops::create_policy(&app, &p, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = i64, Path)),
    responses((status = 200, body = SlaPolicy), (status = 404, body = ErrorEnvelope)))]
pub async fn get_policy(State(app): State<App>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<SlaPolicy>> {
    Ok(Json(super::store::policy(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = i64, Path)), request_body = PolicyPatch,
    responses((status = 200, body = SlaPolicy), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_policy(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<PolicyPatch>,
) -> ApiResult<Json<SlaPolicy>> {
    Ok(Json(ops::update_policy(&app, &p, id, patch).await?))
}
