//! HTTP building blocks every domain uses: extractors that answer in the
//! API's error shape, security headers, pagination, file uploads and
//! downloads, rendering pages, the embedded assets, the OpenAPI document's frame, and the TLS listener
//! (certificates, the lean TLS stream, handshake turns). The router itself
//! is assembled in `routes` from what each domain registers.

pub mod assets;
pub mod body;
pub mod download;
pub mod extract;
pub mod handshake_gate;
pub mod headers;
pub mod lean_tls;
pub mod list;
pub mod multipart;
pub mod openapi;
pub mod page;
pub mod pending;
pub mod sse;
pub mod tls;

/// Whether a path belongs to the JSON API (errors in JSON, not HTML).
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}
