//! Serving a stored file so that no browser treats it as one of our pages:
//! always `Content-Disposition: attachment` with the kept name, the type
//! re-checked against the safe list (so a row from an older rule cannot
//! widen it), `nosniff`, and a policy that allows nothing and sandboxes
//! whatever is opened anyway. The bytes are streamed from the file store.

use crate::error::ApiError;
use crate::files::model::{content_disposition, served_type};
use crate::files::store::Blobs;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;

/// The policy of every download (`security_headers` keeps it).
pub const DOWNLOAD_CSP: &str = "default-src 'none'; sandbox";

/// Whether a response is a download (so its stricter policy stays).
pub fn is_download(resp: &Response) -> bool {
    resp.headers().get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("attachment"))
}

/// What a download names.
pub struct Download<'a> {
    pub sha256: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size: u64,
}

pub async fn serve(blobs: &Blobs, d: Download<'_>) -> Result<Response, ApiError> {
    let file = blobs.open(d.sha256).await?;
    stream(file, d.file_name, d.content_type, d.size)
}

/// Streams an open file as a download named `file_name`.
pub fn stream(file: tokio::fs::File, file_name: &str, content_type: &str, size: u64) -> Result<Response, ApiError> {
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let disposition = HeaderValue::from_str(&content_disposition(file_name)).map_err(ApiError::internal)?;
    let mut resp = Body::from_stream(chunks).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(served_type(content_type)));
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOWNLOAD_CSP));
    Ok(resp)
}
