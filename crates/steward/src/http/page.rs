//! Rendering askama templates into responses. Templates escape everything by
//! default (`.html` files), which is the web tier's XSS defence; nothing is
//! marked `|safe`.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn html<T: askama::Template>(t: &T) -> Response {
    html_status(StatusCode::OK, t)
}

pub fn html_status<T: askama::Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
