//! Pages' side of errors and forms: the HTML error page (the counterpart of
//! the JSON error body), the result type page handlers return, the form
//! extractor, and post/redirect/get. Needs nothing from any domain, so the
//! guard and the extractors can answer with it.

use crate::error::ApiError;
use crate::http::page::html_status;
use askama::Template;
use axum::extract::{FromRequest, Request};
use axum::response::Response;
use serde::de::DeserializeOwned;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage;

/// An HTML page for an error.
pub fn error_page(e: ApiError) -> Response {
    if let ApiError::SetupRequired = e {
        return html_status(e.status(), &SetupPage);
    }
    e.log();
    let status = e.status();
    let title = status.canonical_reason().unwrap_or("Error").to_string();
    let message = match &e {
        ApiError::NotFound => "There is nothing here, or you do not have access to it.".to_string(),
        other => other.to_string(),
    };
    let mut resp = html_status(status, &ErrorPage { status: status.as_u16(), title, message });
    if let Some(secs) = e.retry_after() {
        resp.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    resp
}

/// Web handlers return this: an HTML page, or an HTML error page.
pub type PageResult = Result<Response, PageError>;

/// Wraps [`ApiError`] so it renders as HTML.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        PageError(e.into())
    }
}

impl axum::response::IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0)
    }
}

/// Form body extractor for pages: a malformed form is an HTML 400.
pub struct WebForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for WebForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(WebForm(v)),
            Err(e) => Err(error_page(ApiError::BadRequest(e.body_text()))),
        }
    }
}

/// The first value of `key` in a form or query read as pairs (the shape
/// that keeps repeated fields, e.g. ticked boxes), trimmed; `None` when
/// absent or blank.
pub fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// `303 See Other` to `to`: the post/redirect/get step after a form.
pub fn see_other(to: &str) -> Response {
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(to))
}

/// A form's validation error becomes a message on the re-rendered page;
/// anything else is an error page.
pub fn form_error(e: ApiError) -> Result<String, PageError> {
    match e {
        ApiError::Invalid { message, .. } | ApiError::Refused { message, .. } => Ok(message),
        ApiError::Conflict(m) => Ok(m),
        other => Err(PageError(other)),
    }
}

/// The status of a page re-rendered with a form's error (400), or shown
/// plainly (200).
pub fn status_for(error: &Option<String>) -> axum::http::StatusCode {
    if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    }
}

/// A checkbox from a form, read strictly: absent (or empty, `0`, `off`,
/// `false`) is off, `1`, `on` or `true` is on, anything else is an error
/// naming the field (an empty `require_mfa=` once turned MFA on).
pub fn checkbox(field: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(str::trim) {
        None | Some("" | "0" | "off" | "false") => Ok(false),
        Some("1" | "on" | "true") => Ok(true),
        Some(_) => Err(ApiError::invalid(field, "is a checkbox: on (1) or off")),
    }
}

#[cfg(test)]
mod tests {
    use super::checkbox;

    #[test]
    fn checkboxes_are_on_only_when_ticked() {
        for off in [None, Some(""), Some("0"), Some("off"), Some("false")] {
            assert!(!checkbox("x", off).unwrap(), "{off:?}");
        }
        for on in ["1", "on", "true"] {
            assert!(checkbox("x", Some(on)).unwrap());
        }
        assert!(checkbox("x", Some("yes please")).is_err());
    }
}
