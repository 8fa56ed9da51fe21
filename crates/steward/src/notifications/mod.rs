//! A user's notifications (`GET /api/v1/notifications`, mark read). Other
//! domains write them (the SLA job: warnings and breaches to a ticket's
//! assignee); each user reads only their own.

pub mod store;

use crate::app::domain::{Domain, Need};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::time::now_us;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use store::Notification;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    Domain::new("notifications")
        .api(Need::SignedIn, routes!(list))
        .api(Need::SignedIn, routes!(read))
        .api(Need::SignedIn, routes!(read_all))
}

/// Which notifications.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Only the unread ones.
    #[serde(default)]
    pub unread: bool,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(Filter),
    responses((status = 200, description = "the newest 100, newest first", body = Vec<Notification>), (status = 401, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<Filter>) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(store::list(&mut app.store.clone(), p.user.id, p.clients.as_deref(), f.unread, 100).await?))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = i64, Path)),
    responses((status = 204, description = "marked read"), (status = 404, body = ErrorEnvelope)))]
pub async fn read(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<axum::http::StatusCode> {
    match store::mark_read(&mut app.store.clone(), p.user.id, Some(id), now_us()).await? {
        0 => Err(ApiError::NotFound),
        _ => Ok(axum::http::StatusCode::NO_CONTENT),
    }
}

#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    responses((status = 204, description = "all marked read")))]
pub async fn read_all(State(app): State<App>, p: Principal) -> ApiResult<axum::http::StatusCode> {
    store::mark_read(&mut app.store.clone(), p.user.id, None, now_us()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
