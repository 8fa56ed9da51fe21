//! `/api/v1/clients/{id}/contracts`: a client's agreements and their lines.

use super::ops::{self, Contract, ContractPatch, NewContract};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/clients/{id}/contracts", tag = "billing", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Contract>), (status = 404, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<Contract>>> {
    let client = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    crate::tenancy::store::get_client(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(ops::of_client(&mut db, client).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/contracts", tag = "billing", params(("id" = i64, Path)), request_body = NewContract,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 201, body = Contract), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewContract>,
) -> ApiResult<(StatusCode, Json<Contract>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, id, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/contracts/{contract_id}", tag = "billing", params(("id" = i64, Path), ("contract_id" = i64, Path)),
    responses((status = 200, body = Contract), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, contract_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Contract>> {
    let mut db = app.store.snapshot().await?;
    Ok(Json(ops::load(&mut db, p.client(id)?, contract_id).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/contracts/{contract_id}", tag = "billing",
    params(("id" = i64, Path), ("contract_id" = i64, Path)), request_body = ContractPatch,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, body = Contract), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, contract_id)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<ContractPatch>,
) -> ApiResult<Json<Contract>> {
    Ok(Json(ops::update(&app, &p, id, contract_id, patch).await?))
}
