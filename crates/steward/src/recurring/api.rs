//! Recurring tickets under their client
//! (`/api/v1/clients/{id}/recurring-tickets`) and the list across the
//! caller's clients (`/api/v1/recurring-tickets`).

use super::ops::{self, NewRecurring, Recurring, RecurringPatch};
use super::store::Filter;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// Which recurring tickets.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecurringFilter {
    pub client_id: Option<i64>,
    pub active: Option<bool>,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

async fn page(app: &App, f: Filter, page: PageParams) -> ApiResult<Json<Paged<Recurring>>> {
    let mut db = app.store.snapshot().await?;
    let (rows, total) = super::store::list(&mut db, &f, page.limit(), page.offset()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(ops::view(&mut db, r).await?);
    }
    Ok(Json(Paged::new(items, total, &page)))
}

#[utoipa::path(get, path = "/api/v1/recurring-tickets", tag = "tickets", params(RecurringFilter),
    responses((status = 200, body = Paged<Recurring>), (status = 400, body = ErrorEnvelope)))]
pub async fn list_all(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<RecurringFilter>) -> ApiResult<Json<Paged<Recurring>>> {
    let filter = Filter { scope: p.clients.clone(), client_id: f.client_id, active: f.active };
    page(&app, filter, PageParams { limit: f.limit, offset: f.offset }).await
}

/// The page of a client's list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientRecurringFilter {
    pub active: Option<bool>,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/recurring-tickets", tag = "tickets", params(("id" = i64, Path), ClientRecurringFilter),
    responses((status = 200, body = Paged<Recurring>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<ClientRecurringFilter>,
) -> ApiResult<Json<Paged<Recurring>>> {
    let client = p.client(id)?;
    crate::tenancy::store::get_client(&mut app.store.clone(), client).await?.ok_or(crate::error::ApiError::NotFound)?;
    let filter = Filter { scope: p.clients.clone(), client_id: Some(client.id()), active: f.active };
    page(&app, filter, PageParams { limit: f.limit, offset: f.offset }).await
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/recurring-tickets", tag = "tickets", params(("id" = i64, Path)), request_body = NewRecurring,
    responses((status = 201, body = Recurring), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewRecurring>,
) -> ApiResult<(StatusCode, Json<Recurring>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, id, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/recurring-tickets/{recurring_id}", tag = "tickets",
    params(("id" = i64, Path), ("recurring_id" = i64, Path)), responses((status = 200, body = Recurring), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, rid)): ApiPath<(i64, i64)>) -> ApiResult<Json<Recurring>> {
    let mut db = app.store.snapshot().await?;
    let row = super::store::get(&mut db, p.client(id)?, rid).await?.ok_or(crate::error::ApiError::NotFound)?;
    Ok(Json(ops::view(&mut db, row).await?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/recurring-tickets/{recurring_id}", tag = "tickets",
    params(("id" = i64, Path), ("recurring_id" = i64, Path)), request_body = RecurringPatch,
    responses((status = 200, body = Recurring), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, rid)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<RecurringPatch>,
) -> ApiResult<Json<Recurring>> {
    Ok(Json(ops::update(&app, &p, id, rid, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/recurring-tickets/{recurring_id}", tag = "tickets",
    params(("id" = i64, Path), ("recurring_id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn remove(State(app): State<App>, p: Principal, ApiPath((id, rid)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    ops::remove(&app, &p, id, rid).await?;
    Ok(StatusCode::NO_CONTENT)
}
