//! Extractors that turn any malformed request value into the API's error
//! shape (`{"error":{"code","message","field"}}`, or an HTML error page on
//! a page's path), naming the field it is in. No rejection of axum's own
//! reaches a client: a wrong-typed query parameter, a path id that is not a
//! number, a JSON body that does not parse or has an unknown field, or one
//! that is too large, each get a clear status and message.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The response for a failed extraction: JSON on the API, HTML on pages.
pub struct Rejection {
    err: ApiError,
    api: bool,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        if self.api {
            self.err.into_response()
        } else {
            crate::web::error::error_page(self.err)
        }
    }
}

fn rejection(path: &str, err: ApiError) -> Rejection {
    Rejection { err, api: super::is_api(path) }
}

/// Says what serde's message for a bad value means, in words a user reads.
fn plain(message: &str) -> String {
    let m = message.split(" at line ").next().unwrap_or(message);
    if m.contains("invalid digit") || m.contains("invalid type") && m.contains("integer") {
        "must be a whole number".into()
    } else if m.contains("too large") || m.contains("too small") || m.contains("out of range") {
        "is out of range".into()
    } else if m.contains("`true` or `false`") || m.contains("invalid type") && m.contains("boolean") {
        "must be true or false".into()
    } else if let Some(f) = m.strip_prefix("duplicate field ") {
        format!("{f} is given more than once")
    } else {
        m.to_string()
    }
}

/// A serde error at a path: the field it names, and a message.
fn at_field<E: std::fmt::Display>(e: serde_path_to_error::Error<E>, what: &str) -> ApiError {
    let field = e.path().to_string();
    let message = plain(&e.inner().to_string());
    if field.is_empty() || field == "." {
        // Serde names the field inside its message for missing or unknown ones.
        let m = e.inner().to_string();
        let named = m.split('`').nth(1).map(str::to_string);
        return match named {
            Some(f) if m.starts_with("missing field") => ApiError::invalid(&f, "is required"),
            Some(f) if m.starts_with("unknown field") => ApiError::invalid(&f, "is not a field of this request"),
            Some(f) if m.starts_with("duplicate field") => ApiError::invalid(&f, "is given more than once"),
            _ => ApiError::BadRequest(format!("{what}: {message}")),
        };
    }
    ApiError::invalid(&field, message)
}

/// JSON body extractor with our error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path = req.uri().path().to_string();
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(rejection(&path, ApiError::UnsupportedMediaType("send the body as JSON (Content-Type: application/json)".into())));
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(rejection(&path, ApiError::TooLarge)),
            Err(e) => return Err(rejection(&path, ApiError::BadRequest(e.body_text()))),
        };
        // Every request body is an object: serde would also take an array
        // of the fields in order, which nobody means to send.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
            return Err(rejection(&path, ApiError::InvalidJson("the body must be a JSON object".into())));
        }
        let mut value: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return Err(rejection(&path, ApiError::InvalidJson(e.to_string()))),
        };
        integral_numbers(&mut value);
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Ok(ApiJson(v)),
            Err(e) => Err(rejection(&path, at_field(e, "body"))),
        }
    }
}

/// `1.0` is the number 1 in JSON (and to JSON Schema): integral numbers
/// written with a fraction become integers, so an `i64` field takes them.
fn integral_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15) {
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(o) => o.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// Query string extractor with our error shape: a wrong-typed or repeated
/// parameter is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de).map(ApiQuery).map_err(|e| rejection(parts.uri.path(), at_field(e, "query string")))
    }
}

/// A page's query string, as its GET form sends it: a field left blank
/// (`client_id=` for "All clients", an empty date) is as if left out.
/// Otherwise as [`ApiQuery`].
pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let given: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form_urlencoded::parse(query.as_bytes()).filter(|(_, v)| !v.trim().is_empty()))
            .finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(given.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de).map(PageQuery).map_err(|e| rejection(parts.uri.path(), at_field(e, "query string")))
    }
}

/// Path parameters with our error shape: `/scripts/abc` is a 400 naming
/// the parameter (`/clients/abc` is a 404 from the guard: no such client).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        // The route's parameter names, in order, to name the bad one.
        let names: Vec<String> = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str().split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}').map(str::to_string)).collect())
            .unwrap_or_default();
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let err = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, value, .. } => ApiError::invalid(key, format!("{value:?} is not a valid id")),
                    ErrorKind::ParseErrorAtIndex { index, value, .. } => {
                        let name = names.get(*index).cloned().unwrap_or_else(|| format!("path parameter {}", index + 1));
                        ApiError::invalid(&name, format!("{value:?} is not a valid id"))
                    }
                    ErrorKind::ParseError { value, .. } => match names.as_slice() {
                        [one] => ApiError::invalid(one, format!("{value:?} is not a valid id")),
                        _ => ApiError::BadRequest(format!("{value:?} is not a valid id")),
                    },
                    _ => ApiError::BadRequest(e.body_text()),
                };
                Err(rejection(parts.uri.path(), err))
            }
            Err(e) => Err(rejection(parts.uri.path(), ApiError::internal(e.body_text()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{integral_numbers, plain};

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let mut v = serde_json::json!({"a": 5.0, "b": [1.5, -3.0], "c": "7.0"});
        integral_numbers(&mut v);
        assert_eq!(v, serde_json::json!({"a": 5, "b": [1.5, -3], "c": "7.0"}));
    }

    #[test]
    fn serde_messages_become_plain_words() {
        assert_eq!(plain("invalid digit found in string"), "must be a whole number");
        assert_eq!(plain("number too large to fit in target type"), "is out of range");
        assert_eq!(plain("provided string was not `true` or `false`"), "must be true or false");
    }
}
