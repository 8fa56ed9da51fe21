//! `/api/v1/clients/{id}/tickets[/{ticket_id}[/entries|/merge|/links]]`,
//! the cross-client queue `/api/v1/tickets`, bulk actions, and the
//! service desk's lists (statuses, priorities, boards). Client scoping is
//! enforced by the guard for every `/clients/{id}/…` path and by the queue
//! query for `/tickets`.

use super::ops::bulk::{BulkInput, BulkResult};
use super::ops::config::{BoardInput, NewBoard, NewPriority, NewStatus, PriorityPatch, StatusPatch};
use super::ops::create::NewTicket;
use super::ops::entries::NewEntryInput;
use super::ops::links::LinkInput;
use super::ops::merge::MergeInput;
use super::ops::update::TicketPatch;
use super::queue::QueueParams;
use super::store::config::{Board, Priority, Status};
use super::view::{Entry, QueueItem, Ticket};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::Paged;
use crate::time::now_us;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

async fn queue_page(app: &App, p: &Principal, mut f: QueueParams, client: Option<i64>) -> ApiResult<Json<Paged<QueueItem>>> {
    if client.is_some() {
        f.client_id = client;
    }
    let mut db = app.store.snapshot().await?;
    let q = f.queue(&mut db, p).await?;
    let page = f.page();
    let (rows, total) = super::store::queue(&mut db, &q, page.limit(), page.offset()).await?;
    Ok(Json(Paged::counted(super::view::queue_items(&mut db, rows).await?, total, &page)))
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(QueueParams),
    responses((status = 200, body = Paged<QueueItem>), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn queue(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<QueueParams>) -> ApiResult<Json<Paged<QueueItem>>> {
    queue_page(&app, &p, f, None).await
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/tickets", tag = "tickets", params(("id" = i64, Path), QueueParams),
    responses((status = 200, body = Paged<QueueItem>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<QueueParams>,
) -> ApiResult<Json<Paged<QueueItem>>> {
    crate::tenancy::store::get_client(&mut app.store.clone(), p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    queue_page(&app, &p, f, Some(id)).await
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets", tag = "tickets", params(("id" = i64, Path)), request_body = NewTicket,
    responses((status = 201, body = Ticket), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewTicket>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    Ok((StatusCode::CREATED, Json(super::ops::create::create(&app, &p, id, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/tickets/{ticket_id}", tag = "tickets", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, ticket_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Ticket>> {
    let mut db = app.store.snapshot().await?;
    let row = super::store::get(&mut db, p.client(id)?, ticket_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(super::view::ticket(&mut db, row, now_us()).await?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/tickets/{ticket_id}", tag = "tickets", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    request_body = TicketPatch,
    responses((status = 200, body = Ticket), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<TicketPatch>,
) -> ApiResult<Json<Ticket>> {
    Ok(Json(super::ops::update::update(&app, &p, id, ticket_id, patch).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/tickets/{ticket_id}/entries", tag = "tickets", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    responses((status = 200, description = "the thread, oldest first", body = Vec<Entry>), (status = 404, body = ErrorEnvelope)))]
pub async fn entries(State(app): State<App>, p: Principal, ApiPath((id, ticket_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Vec<Entry>>> {
    let mut db = app.store.snapshot().await?;
    super::store::get(&mut db, p.client(id)?, ticket_id).await?.ok_or(ApiError::NotFound)?;
    let entries = super::store::thread::entries(&mut db, ticket_id).await?;
    Ok(Json(super::view::thread(entries, super::store::attachments::of_ticket(&mut db, ticket_id).await?)))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/entries", tag = "tickets", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    request_body = NewEntryInput,
    responses((status = 201, body = Entry), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_entry(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<NewEntryInput>,
) -> ApiResult<(StatusCode, Json<Entry>)> {
    Ok((StatusCode::CREATED, Json(super::ops::entries::add(&app, &p, id, ticket_id, input).await?)))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/merge", tag = "tickets", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    request_body = MergeInput,
    responses((status = 200, description = "the ticket merged into", body = Ticket), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn merge(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<MergeInput>,
) -> ApiResult<Json<Ticket>> {
    Ok(Json(super::ops::merge::merge(&app, &p, id, ticket_id, input).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/links", tag = "tickets", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    request_body = LinkInput,
    responses((status = 200, description = "the linked ticket ids", body = Vec<i64>), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn link(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<LinkInput>,
) -> ApiResult<Json<Vec<i64>>> {
    Ok(Json(super::ops::links::set_link(&app, &p, id, ticket_id, input.ticket_id, true).await?))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/tickets/{ticket_id}/links/{other_id}", tag = "tickets",
    params(("id" = i64, Path), ("ticket_id" = i64, Path), ("other_id" = i64, Path)),
    responses((status = 200, description = "the linked ticket ids", body = Vec<i64>), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn unlink(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id, other)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<Vec<i64>>> {
    Ok(Json(super::ops::links::set_link(&app, &p, id, ticket_id, other, false).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/bulk", tag = "tickets", request_body = BulkInput,
    responses((status = 200, body = BulkResult), (status = 400, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn bulk(State(app): State<App>, p: Principal, ApiJson(input): ApiJson<BulkInput>) -> ApiResult<Json<BulkResult>> {
    Ok(Json(super::ops::bulk::bulk(&app, &p, input).await?))
}

#[utoipa::path(get, path = "/api/v1/tickets/by-number/{number}", tag = "tickets", params(("number" = i64, Path)),
    responses((status = 200, description = "the ticket with this number (a merged one names its target in merged_into)", body = Ticket), (status = 404, body = ErrorEnvelope)))]
pub async fn by_number(State(app): State<App>, p: Principal, ApiPath(number): ApiPath<i64>) -> ApiResult<Json<Ticket>> {
    let mut db = app.store.snapshot().await?;
    let row = super::store::by_number(&mut db, number).await?.filter(|t| p.sees_client(t.client_id)).ok_or(ApiError::NotFound)?;
    Ok(Json(super::view::ticket(&mut db, row, now_us()).await?))
}

#[utoipa::path(get, path = "/api/v1/ticket-statuses", tag = "tickets", responses((status = 200, body = Vec<Status>)))]
pub async fn statuses(State(app): State<App>) -> ApiResult<Json<Vec<Status>>> {
    Ok(Json(super::store::config::statuses(&mut app.store.clone()).await?))
}

#[utoipa::path(post, path = "/api/v1/ticket-statuses", tag = "tickets", request_body = NewStatus,
    responses((status = 201, body = Status), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_status(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewStatus>,
) -> ApiResult<(StatusCode, Json<Status>)> {
    Ok((StatusCode::CREATED, Json(super::ops::config::create_status(&app, &p, input).await?)))
}

#[utoipa::path(patch, path = "/api/v1/ticket-statuses/{id}", tag = "tickets", params(("id" = i64, Path)), request_body = StatusPatch,
    responses((status = 200, body = Status), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_status(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<StatusPatch>,
) -> ApiResult<Json<Status>> {
    Ok(Json(super::ops::config::update_status(&app, &p, id, patch).await?))
}

#[utoipa::path(get, path = "/api/v1/ticket-priorities", tag = "tickets", responses((status = 200, body = Vec<Priority>)))]
pub async fn priorities(State(app): State<App>) -> ApiResult<Json<Vec<Priority>>> {
    Ok(Json(super::store::config::priorities(&mut app.store.clone()).await?))
}

#[utoipa::path(post, path = "/api/v1/ticket-priorities", tag = "tickets", request_body = NewPriority,
    responses((status = 201, body = Priority), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_priority(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewPriority>,
) -> ApiResult<(StatusCode, Json<Priority>)> {
    Ok((StatusCode::CREATED, Json(super::ops::config::create_priority(&app, &p, input).await?)))
}

#[utoipa::path(patch, path = "/api/v1/ticket-priorities/{id}", tag = "tickets", params(("id" = i64, Path)), request_body = PriorityPatch,
    responses((status = 200, body = Priority), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_priority(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<PriorityPatch>,
) -> ApiResult<Json<Priority>> {
    Ok(Json(super::ops::config::update_priority(&app, &p, id, patch).await?))
}

#[utoipa::path(get, path = "/api/v1/ticket-boards", tag = "tickets", responses((status = 200, body = Vec<Board>)))]
pub async fn boards(State(app): State<App>) -> ApiResult<Json<Vec<Board>>> {
    Ok(Json(super::store::config::boards(&mut app.store.clone()).await?))
}

#[utoipa::path(post, path = "/api/v1/ticket-boards", tag = "tickets", request_body = NewBoard,
    responses((status = 201, body = Board), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_board(State(app): State<App>, p: Principal, ApiJson(input): ApiJson<NewBoard>) -> ApiResult<(StatusCode, Json<Board>)> {
    Ok((StatusCode::CREATED, Json(super::ops::config::create_board(&app, &p, input).await?)))
}

#[utoipa::path(patch, path = "/api/v1/ticket-boards/{id}", tag = "tickets", params(("id" = i64, Path)), request_body = BoardInput,
    responses((status = 200, body = Board), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_board(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<BoardInput>,
) -> ApiResult<Json<Board>> {
    Ok(Json(super::ops::config::update_board(&app, &p, id, patch).await?))
}
