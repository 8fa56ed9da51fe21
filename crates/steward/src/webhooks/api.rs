//! `/api/v1/webhooks[/{id}[/deliveries]]` (administrators).

use super::ops::{self, Delivery, NewWebhook, Webhook};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses((status = 200, body = Vec<Webhook>), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(ops::list(&app, &p).await?))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = Webhook), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(State(app): State<App>, p: Principal, ApiJson(r): ApiJson<NewWebhook>) -> ApiResult<(StatusCode, Json<Webhook>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, r).await?)))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204, description = "deleted; pending deliveries are given up"), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    ops::delete(&app, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Delivery>, description = "newest first, at most 200"), (status = 404, body = ErrorEnvelope)))]
pub async fn deliveries(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<Delivery>>> {
    Ok(Json(ops::deliveries(&app, &p, id).await?))
}
