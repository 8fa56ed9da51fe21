//! `/api/v1/clients/{id}/invoices` (read, edit a draft's lines, finalize,
//! credit) and `/api/v1/invoice-runs` (start one, follow it).

use super::ops::{self, CreditInput, Invoice, InvoiceRun, LineEdit, NewRun, Reason};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/clients/{id}/invoices", tag = "billing", params(("id" = i64, Path)),
    responses((status = 200, description = "newest first", body = Vec<Invoice>), (status = 404, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<Invoice>>> {
    let client = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    crate::tenancy::store::get_client(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(ops::of_client(&mut db, client).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/invoices/{invoice_id}", tag = "billing", params(("id" = i64, Path), ("invoice_id" = i64, Path)),
    responses((status = 200, body = Invoice), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, invoice_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Invoice>> {
    let mut db = app.store.snapshot().await?;
    Ok(Json(ops::load(&mut db, p.client(id)?, invoice_id).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/invoices/{invoice_id}/lines", tag = "billing", params(("id" = i64, Path), ("invoice_id" = i64, Path)),
    request_body = LineEdit,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 201, description = "the draft with its new line", body = Invoice), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn add_line(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id)): ApiPath<(i64, i64)>,
    ApiJson(e): ApiJson<LineEdit>,
) -> ApiResult<(StatusCode, Json<Invoice>)> {
    Ok((StatusCode::CREATED, Json(ops::add_line(&app, &p, id, invoice_id, e).await?)))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/invoices/{invoice_id}/lines/{line_id}", tag = "billing",
    params(("id" = i64, Path), ("invoice_id" = i64, Path), ("line_id" = i64, Path)), request_body = LineEdit,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, body = Invoice), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn change_line(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id, line_id)): ApiPath<(i64, i64, i64)>,
    ApiJson(e): ApiJson<LineEdit>,
) -> ApiResult<Json<Invoice>> {
    Ok(Json(ops::change_line(&app, &p, id, invoice_id, line_id, e).await?))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/invoices/{invoice_id}/lines/{line_id}", tag = "billing",
    params(("id" = i64, Path), ("invoice_id" = i64, Path), ("line_id" = i64, Path), Reason),
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, description = "the draft without the line; its time entries are unbilled again", body = Invoice), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn remove_line(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id, line_id)): ApiPath<(i64, i64, i64)>,
    ApiQuery(r): ApiQuery<Reason>,
) -> ApiResult<Json<Invoice>> {
    Ok(Json(ops::remove_line(&app, &p, id, invoice_id, line_id, &r.reason).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/invoices/{invoice_id}/finalize", tag = "billing", params(("id" = i64, Path), ("invoice_id" = i64, Path)),
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, description = "numbered and final", body = Invoice), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn finalize(State(app): State<App>, p: Principal, ApiPath((id, invoice_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Invoice>> {
    Ok(Json(ops::finalize(&app, &p, id, invoice_id).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/invoices/{invoice_id}/credit", tag = "billing", params(("id" = i64, Path), ("invoice_id" = i64, Path)),
    request_body = CreditInput,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 201, description = "the credit note, numbered", body = Invoice), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn credit(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<CreditInput>,
) -> ApiResult<(StatusCode, Json<Invoice>)> {
    Ok((StatusCode::CREATED, Json(ops::credit(&app, &p, id, invoice_id, input).await?)))
}

#[utoipa::path(post, path = "/api/v1/invoice-runs", tag = "billing", request_body = NewRun,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 202, description = "started; follow it with its GET", body = InvoiceRun), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn start_run(State(app): State<App>, p: Principal, ApiJson(input): ApiJson<NewRun>) -> ApiResult<(StatusCode, Json<InvoiceRun>)> {
    Ok((StatusCode::ACCEPTED, Json(ops::start_run(&app, &p, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/invoice-runs/{id}", tag = "billing", params(("id" = i64, Path)),
    responses((status = 200, body = InvoiceRun), (status = 404, body = ErrorEnvelope)))]
pub async fn get_run(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<InvoiceRun>> {
    let mut db = app.store.snapshot().await?;
    Ok(Json(ops::run_of(&mut db, &p, id).await?.ok_or(ApiError::NotFound)?))
}
