//! `/api/v1/users[/{id}[/reset-mfa]]`: administrators manage accounts.

use super::ops::{self, NewUserRequest, UserInfo, UserPatch};
use crate::app::App;
use crate::auth::roles::Permission;
use crate::auth::{mfa, principal::Principal};
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams),
    responses((status = 200, body = Paged<UserInfo>), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiQuery(page): ApiQuery<PageParams>) -> ApiResult {
    p.require(Permission::UsersRead)?;
    let mut db = app.store.snapshot().await?;
    let (rows, total) = super::store::list(&mut db, page.limit(), page.offset()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for u in &rows {
        items.push(ops::info(&mut db, u).await?);
    }
    Ok(json(Paged::new(items, total, &page)))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = UserInfo), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create(State(app): State<App>, p: Principal, ApiJson(req): ApiJson<NewUserRequest>) -> ApiResult {
    p.require(Permission::UsersWrite)?;
    let u = ops::create(&app.store, &p.actor(), req).await?;
    Ok((StatusCode::CREATED, axum::Json(ops::info(&mut app.store.clone(), &u).await?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserInfo), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    p.require(Permission::UsersRead)?;
    let mut db = app.store.clone();
    let u = super::store::by_id(&mut db, id).await?.ok_or(ApiError::NotFound)?;
    Ok(json(ops::info(&mut db, &u).await?))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = UserInfo), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, ApiJson(patch): ApiJson<UserPatch>) -> ApiResult {
    p.require(Permission::UsersWrite)?;
    let u = ops::update(&app.store, &p.actor(), Some(p.user.id), id, patch).await?;
    Ok(json(ops::info(&mut app.store.clone(), &u).await?))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reset-mfa", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn reset_mfa(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    p.require(Permission::UsersWrite)?;
    super::store::by_id(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?;
    mfa::reset(&app.store, &p.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// How many of a user's tokens were revoked.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TokensRevoked {
    pub revoked: u64,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/revoke-tokens", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = TokensRevoked), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_tokens(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    Ok(json(TokensRevoked { revoked: super::ops::revoke_tokens(&app.store, &p, id).await? }))
}
