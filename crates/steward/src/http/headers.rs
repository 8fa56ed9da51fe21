//! Strict security headers on every response, and the API's JSON shape for
//! a method the route does not take.

use crate::error::error_response;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// No inline script or style, nothing from elsewhere, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Strict headers on every response, and JSON for API 405s.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    if super::is_api(&path) && resp.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = resp.headers().get(header::ALLOW).cloned();
        resp = error_response(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this resource");
        if let Some(a) = allow {
            resp.headers_mut().insert(header::ALLOW, a);
        }
    }
    // A download keeps its own, stricter policy (`http::download`), and so
    // does a response that sandboxes itself (a mail shown with its images).
    let sandboxed =
        resp.headers().get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).is_some_and(|v| v.ends_with("; sandbox"));
    let csp = if super::download::is_download(&resp) { super::download::DOWNLOAD_CSP } else { CSP };
    let h = resp.headers_mut();
    if !sandboxed {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    if !path.starts_with("/assets/") {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
