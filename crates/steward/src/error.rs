//! The one mapping from failures to HTTP responses.
//!
//! API errors are always `{"error":{"code":"…","message":"…"}}` (plus
//! `field` for validation errors) with the matching status. An internal
//! error keeps its whole cause chain for the log and tells the client only
//! "internal error". The extractors that turn malformed input into this
//! shape are in `http::extract`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The error body's inner object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// The request field a validation error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `{"error": {...}}`
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request does not match its schema (400).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The request matches its schema but is refused for what it means: it
    /// names a record that is not there or not this client's, or breaks a
    /// rule (422).
    #[error("{message}")]
    Refused { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("{1}")]
    AuthFailed(&'static str, String),
    #[error("{0}")]
    Forbidden(String),
    /// Allowed, but only after a fresh second factor (403 `mfa_required`).
    #[error("{0}")]
    MfaRequired(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    TooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(u64),
    #[error("too many requests; try again in {0} seconds")]
    RateLimited(u64),
    #[error("no administrator exists yet: run `steward admin create --email you@example.com --password-stdin` on the server host")]
    SetupRequired,
    /// What went wrong stays in the log (with its causes); the client
    /// is told only that something did.
    #[error("internal error")]
    Internal(anyhow::Error),
}

impl ApiError {
    /// A validation error naming the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: field.into(), message: format!("{field}: {}", message.into()) }
    }

    /// A well-formed request refused for what it means, naming the field.
    pub fn refused(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Refused { field: field.into(), message: format!("{field}: {}", message.into()) }
    }

    /// An internal error with a description for the log.
    pub fn internal(what: impl std::fmt::Display + std::fmt::Debug + Send + Sync + 'static) -> ApiError {
        ApiError::Internal(anyhow::Error::msg(what))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } | ApiError::BadRequest(_) | ApiError::InvalidJson(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::AuthFailed(..) => StatusCode::UNAUTHORIZED,
            ApiError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Forbidden(_) | ApiError::MfaRequired(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Throttled(_) | ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::SetupRequired => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::Invalid { .. } => "invalid_field",
            ApiError::Refused { .. } => "refused",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::AuthFailed(code, _) => code,
            ApiError::Forbidden(_) => "forbidden",
            ApiError::MfaRequired(_) => "mfa_required",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Throttled(_) => "too_many_attempts",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::SetupRequired => "setup_required",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_string(),
                message: self.to_string(),
                field: match self {
                    ApiError::Invalid { field, .. } | ApiError::Refused { field, .. } => Some(field.clone()),
                    _ => None,
                },
            },
        }
    }

    /// Logs an internal error with its cause chain (once, where it is
    /// turned into a response).
    pub fn log(&self) {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
    }

    /// Seconds to tell the client to wait, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Throttled(s) | ApiError::RateLimited(s) => Some(*s),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut resp = (self.status(), axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after() {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Conflict => ApiError::Conflict("a record with that name already exists".into()),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(anyhow::Error::new(e))
    }
}

/// Builds an error response with an arbitrary status (for fallbacks).
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorEnvelope { error: ErrorBody { code: code.into(), message: message.into(), field: None } };
    (status, axum::Json(body)).into_response()
}

/// JSON response helper.
pub fn json<T: Serialize>(v: T) -> Response {
    axum::Json(v).into_response()
}

pub type ApiResult<T = Response> = Result<T, ApiError>;
