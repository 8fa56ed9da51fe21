//! The one mapping from failures to HTTP responses.
//!
//! API errors are always `{"error":{"code":"…","message":"…"}}` (plus `field`
//! for validation errors) with the matching status. [`ApiJson`] replaces
//! axum's `Json` extractor so malformed bodies, unknown fields and oversized
//! bodies get the same shape (400/400/413).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The error body's inner object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
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
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("{1}")]
    AuthFailed(&'static str, String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(u64),
    #[error("no administrator exists yet: run `steward admin create --email you@example.com --password-stdin` on the server host")]
    SetupRequired,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: field.into(), message: format!("{field}: {}", message.into()) }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::AuthFailed(..) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::SetupRequired => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::Invalid { .. } => "invalid_field",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::AuthFailed(code, _) => code,
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Throttled(_) => "too_many_attempts",
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
                    ApiError::Invalid { field, .. } => Some(field.clone()),
                    _ => None,
                },
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut resp = (self.status(), axum::Json(self.body())).into_response();
        if let ApiError::Throttled(secs) = self {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Conflict => ApiError::Conflict("a record with that name already exists".into()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(format!("{e:#}"))
    }
}

/// Builds an error response with an arbitrary status (for fallbacks).
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorEnvelope { error: ErrorBody { code: code.into(), message: message.into(), field: None } };
    (status, axum::Json(body)).into_response()
}

/// JSON body extractor with our error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> Response {
    let status = rej.status();
    let (status, code) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (status, "payload_too_large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (status, "unsupported_media_type"),
        _ => (StatusCode::BAD_REQUEST, "invalid_json"),
    };
    error_response(status, code, &rej.body_text())
}

/// JSON response helper.
pub fn json<T: Serialize>(v: T) -> Response {
    axum::Json(v).into_response()
}

pub type ApiResult<T = Response> = Result<T, ApiError>;
