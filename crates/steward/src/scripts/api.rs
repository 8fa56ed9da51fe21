//! `/api/v1/scripts[/{id}[/runs]]`, `/api/v1/script-runs[/{id}[/approve|/reject|/cancel]]`
//! and a device's results under `/api/v1/clients/{id}/devices/{device_id}`:
//! thin handlers over `ops`.

use super::ops::*;
use super::store::{self as runs};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

#[utoipa::path(get, path = "/api/v1/scripts", tag = "scripts", params(PageParams),
    responses((status = 200, body = Paged<ScriptInfo>), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiQuery(page): ApiQuery<PageParams>) -> ApiResult {
    p.require(Permission::ScriptsRun)?;
    let all = runs::list_scripts(&mut app.store.clone(), true).await?;
    Ok(json(Paged::from_all(all.into_iter().map(ScriptInfo::from).collect(), &page)))
}

#[utoipa::path(post, path = "/api/v1/scripts", tag = "scripts", request_body = ScriptRequest,
    responses((status = 201, body = ScriptInfo), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create(State(app): State<App>, p: Principal, ApiJson(r): ApiJson<ScriptRequest>) -> ApiResult {
    Ok((StatusCode::CREATED, axum::Json(create_for(&app, &p, r).await?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/scripts/{id}", tag = "scripts", params(("id" = i64, Path)),
    responses((status = 200, body = ScriptInfo), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    p.require(Permission::ScriptsRun)?;
    Ok(json(ScriptInfo::from(runs::get_script(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?)))
}

#[utoipa::path(put, path = "/api/v1/scripts/{id}", tag = "scripts", params(("id" = i64, Path)), request_body = ScriptRequest,
    responses((status = 200, body = ScriptInfo), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, ApiJson(r): ApiJson<ScriptRequest>) -> ApiResult {
    Ok(json(update_for(&app, &p, id, r).await?))
}

#[utoipa::path(post, path = "/api/v1/scripts/{id}/runs", tag = "scripts", params(("id" = i64, Path)), request_body = RunRequest,
    responses((status = 201, body = RunInfo, description = "running, scheduled, or awaiting a second person's approval"),
        (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn run(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, ApiJson(r): ApiJson<RunRequest>) -> ApiResult {
    Ok((StatusCode::CREATED, axum::Json(run_for(&app, &p, id, r).await?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/script-runs", tag = "scripts", params(PageParams),
    responses((status = 200, body = Paged<RunInfo>, description = "newest first"), (status = 403, body = ErrorEnvelope)))]
pub async fn list_runs(State(app): State<App>, p: Principal, ApiQuery(page): ApiQuery<PageParams>) -> ApiResult {
    p.require(Permission::ScriptsRun)?;
    let mut db = app.store.snapshot().await?;
    let (rows, total) = runs::list_runs(&mut db, p.clients.as_deref(), page.limit(), page.offset()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(RunInfo::seen_by(&mut db, r, &p).await?);
    }
    Ok(json(Paged::new(items, total, &page)))
}

#[utoipa::path(get, path = "/api/v1/script-runs/{id}", tag = "scripts", params(("id" = i64, Path)),
    responses((status = 200, body = RunDetail), (status = 404, body = ErrorEnvelope)))]
pub async fn get_run(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    Ok(json(detail_for(&app, &p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/script-runs/{id}/approve", tag = "scripts", params(("id" = i64, Path)),
    responses((status = 200, body = RunInfo), (status = 403, body = ErrorEnvelope, description = "the requester, or someone not responsible for every client"),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn approve(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    Ok(json(decide_for(&app, &p, id, true).await?))
}

#[utoipa::path(post, path = "/api/v1/script-runs/{id}/reject", tag = "scripts", params(("id" = i64, Path)),
    responses((status = 200, body = RunInfo), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reject(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    Ok(json(decide_for(&app, &p, id, false).await?))
}

#[utoipa::path(post, path = "/api/v1/script-runs/{id}/cancel", tag = "scripts", params(("id" = i64, Path)),
    responses((status = 200, body = RunInfo), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "already started or decided")))]
pub async fn cancel(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    Ok(json(cancel_for(&app, &p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}/script-results", tag = "scripts",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 200, body = Vec<crate::scripts::store::ResultRow>, description = "newest first, at most 50"), (status = 404, body = ErrorEnvelope)))]
pub async fn device_results(State(app): State<App>, p: Principal, ApiPath((id, device_id)): ApiPath<(i64, i64)>) -> ApiResult {
    p.require(Permission::ScriptsRun)?;
    let mut db = app.store.clone();
    crate::devices::store::by_id(&mut db, device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    Ok(json(runs::results_of_device(&mut db, device_id, 50).await?))
}
