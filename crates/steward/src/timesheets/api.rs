//! Time under a ticket (`/api/v1/clients/{id}/tickets/{ticket_id}/time-entries`
//! and its timer), the cross-ticket list `/api/v1/time-entries` (scoped to
//! the caller's clients), week approval and the work types.

use super::ops::{self, Approval, Approved, NewTime, NewWorkType, StartTimer, TimePatch, WorkTypeInput};
use super::store::{TimeEntry, WorkType};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::Paged;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/clients/{id}/tickets/{ticket_id}/time-entries", tag = "time", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    responses((status = 200, body = Vec<TimeEntry>), (status = 404, body = ErrorEnvelope)))]
pub async fn of_ticket(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Vec<TimeEntry>>> {
    let mut db = app.store.snapshot().await?;
    crate::tickets::store::get(&mut db, p.client(id)?, ticket_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(super::store::of_ticket(&mut db, ticket_id).await?.into_iter().map(TimeEntry::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/time-entries", tag = "time", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    request_body = NewTime, responses((status = 201, body = TimeEntry), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<NewTime>,
) -> ApiResult<(StatusCode, Json<TimeEntry>)> {
    Ok((StatusCode::CREATED, Json(ops::add(&app, &p, id, ticket_id, input).await?)))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/tickets/{ticket_id}/time-entries/{entry_id}", tag = "time",
    params(("id" = i64, Path), ("ticket_id" = i64, Path), ("entry_id" = i64, Path)), request_body = TimePatch,
    responses((status = 200, body = TimeEntry), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn change(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id, entry_id)): ApiPath<(i64, i64, i64)>,
    ApiJson(patch): ApiJson<TimePatch>,
) -> ApiResult<Json<TimeEntry>> {
    Ok(Json(ops::change(&app, &p, id, ticket_id, entry_id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/tickets/{ticket_id}/time-entries/{entry_id}", tag = "time",
    params(("id" = i64, Path), ("ticket_id" = i64, Path), ("entry_id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn remove(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id, entry_id)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<StatusCode> {
    ops::remove(&app, &p, id, ticket_id, entry_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/timer", tag = "time", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    request_body = StartTimer, responses((status = 201, description = "the running entry", body = TimeEntry), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn start(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<StartTimer>,
) -> ApiResult<(StatusCode, Json<TimeEntry>)> {
    Ok((StatusCode::CREATED, Json(ops::start_timer(&app, &p, id, ticket_id, input).await?)))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/timer/stop", tag = "time", params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    responses((status = 200, description = "the entry, with its minutes", body = TimeEntry), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn stop(State(app): State<App>, p: Principal, ApiPath((id, ticket_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<TimeEntry>> {
    Ok(Json(ops::stop_timer(&app, &p, id, ticket_id).await?))
}

/// Which time entries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeFilter {
    /// `me` or a user id.
    #[param(pattern = r"^ *(me|[0-9]{1,18})? *$")]
    pub user: Option<String>,
    pub client_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// Started at or after (RFC 3339).
    pub from: Option<crate::time::Timestamp>,
    /// Started before (RFC 3339).
    pub to: Option<crate::time::Timestamp>,
    /// An ISO week instead of `from`/`to`, e.g. `2026-W49`.
    #[param(pattern = r"^[0-9]{4}-?[Ww][0-9]{1,2}$")]
    pub week: Option<String>,
    pub billable: Option<bool>,
    pub approved: Option<bool>,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

impl TimeFilter {
    pub fn filter(&self, p: &Principal) -> Result<super::store::Filter, ApiError> {
        let user_id = match self.user.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("me") => Some(p.user.id),
            Some(u) => Some(u.parse().map_err(|_| ApiError::invalid("user", "me or a user id"))?),
        };
        let (mut from, mut to) = (self.from.map(|t| t.micros()), self.to.map(|t| t.micros()));
        if let Some(w) = &self.week {
            let (a, b) = ops::week(w)?.range();
            (from, to) = (Some(a), Some(b));
        }
        Ok(super::store::Filter {
            scope: p.clients.clone(),
            user_id,
            client_id: self.client_id,
            ticket_id: self.ticket_id,
            from,
            to,
            billable: self.billable,
            approved: self.approved,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/time-entries", tag = "time", params(TimeFilter),
    responses((status = 200, body = Paged<TimeEntry>), (status = 400, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<TimeFilter>) -> ApiResult<Json<Paged<TimeEntry>>> {
    let page = crate::http::list::PageParams { limit: f.limit, offset: f.offset };
    let (rows, total) = super::store::list(&mut app.store.snapshot().await?, &f.filter(&p)?, page.limit(), page.offset()).await?;
    Ok(Json(Paged::new(rows.into_iter().map(TimeEntry::from).collect(), total, &page)))
}

#[utoipa::path(post, path = "/api/v1/timesheets/approve", tag = "time", request_body = Approval,
    responses((status = 200, body = Approved), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn approve(State(app): State<App>, p: Principal, ApiJson(a): ApiJson<Approval>) -> ApiResult<Json<Approved>> {
    Ok(Json(ops::approve(&app, &p, a).await?))
}

#[utoipa::path(get, path = "/api/v1/work-types", tag = "time", responses((status = 200, body = Vec<WorkType>)))]
pub async fn work_types(State(app): State<App>) -> ApiResult<Json<Vec<WorkType>>> {
    Ok(Json(super::store::work_types(&mut app.store.clone()).await?))
}

#[utoipa::path(post, path = "/api/v1/work-types", tag = "time", request_body = NewWorkType,
    responses((status = 201, body = WorkType), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_work_type(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewWorkType>,
) -> ApiResult<(StatusCode, Json<WorkType>)> {
    Ok((StatusCode::CREATED, Json(ops::create_work_type(&app, &p, input).await?)))
}

#[utoipa::path(patch, path = "/api/v1/work-types/{id}", tag = "time", params(("id" = i64, Path)), request_body = WorkTypeInput,
    responses((status = 200, body = WorkType), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update_work_type(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<WorkTypeInput>,
) -> ApiResult<Json<WorkType>> {
    Ok(Json(ops::update_work_type(&app, &p, id, input).await?))
}
