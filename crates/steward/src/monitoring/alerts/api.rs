//! `/api/v1/alerts` (every alert the caller may see, filtered and paged)
//! and `/api/v1/clients/{id}/alerts/{alert_id}[/ack|/snooze|/resolve]`.

use super::ops::{self, Action, AlertDetail, AlertInfo, AlertNote, AlertQuery, SnoozeRequest};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use axum::extract::State;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/alerts", tag = "monitoring", params(AlertQuery, PageParams),
    responses((status = 200, body = Paged<AlertInfo>, description = "newest change first"), (status = 400, body = ErrorEnvelope)))]
pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiQuery(q): ApiQuery<AlertQuery>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Paged<AlertInfo>>> {
    Ok(Json(ops::list(&app, &p, &q, &page).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/alerts/{alert_id}", tag = "monitoring",
    params(("id" = i64, Path), ("alert_id" = i64, Path)),
    responses((status = 200, body = AlertDetail), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, alert_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<AlertDetail>> {
    Ok(Json(ops::detail(&app, &p, id, alert_id).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/alerts/{alert_id}/ack", tag = "monitoring",
    params(("id" = i64, Path), ("alert_id" = i64, Path)), request_body = AlertNote,
    responses((status = 200, body = AlertDetail), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn ack(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    ApiJson(n): ApiJson<AlertNote>,
) -> ApiResult<Json<AlertDetail>> {
    Ok(Json(ops::act(&app, &p, id, alert_id, Action::Acknowledge, &n.note).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/alerts/{alert_id}/snooze", tag = "monitoring",
    params(("id" = i64, Path), ("alert_id" = i64, Path)), request_body = SnoozeRequest,
    responses((status = 200, body = AlertDetail), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn snooze(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    ApiJson(r): ApiJson<SnoozeRequest>,
) -> ApiResult<Json<AlertDetail>> {
    let until = ops::snooze_until(&r.until)?;
    Ok(Json(ops::act(&app, &p, id, alert_id, Action::Snooze(until), &r.note).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/alerts/{alert_id}/resolve", tag = "monitoring",
    params(("id" = i64, Path), ("alert_id" = i64, Path)), request_body = AlertNote,
    responses((status = 200, body = AlertDetail), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn resolve(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, alert_id)): ApiPath<(i64, i64)>,
    ApiJson(n): ApiJson<AlertNote>,
) -> ApiResult<Json<AlertDetail>> {
    Ok(Json(ops::act(&app, &p, id, alert_id, Action::Resolve, &n.note).await?))
}
