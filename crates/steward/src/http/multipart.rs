//! Reading a `multipart/form-data` body: its text fields (small, kept in
//! memory) and its files, each streamed into the file store as it arrives
//! (a 25 MiB upload is never held in memory) and refused as soon as it
//! passes the limit, keeping nothing of it. Names are sanitized and types
//! narrowed to the safe list here, before anything names them.

use crate::error::ApiError;
use crate::files::model::{sanitize_file_name, served_type};
use crate::files::store::{Blobs, Stored};
use axum::body::Body;
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;

/// Files one request may carry.
pub const MAX_FILES: usize = 10;
/// The longest text field, in bytes.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// A file received and stored.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Sanitized.
    pub file_name: String,
    /// One of the safe types, or `application/octet-stream`.
    pub content_type: &'static str,
    pub stored: Stored,
}

/// A form read.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn broken(e: multer::Error) -> ApiError {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => ApiError::TooLarge,
        e => ApiError::BadRequest(format!("malformed multipart body: {e}")),
    }
}

/// Reads the form, storing each file part (`max_file` bytes at most each)
/// in `blobs`. A file input left empty sends a part without a name or
/// bytes: it is skipped.
pub async fn read(headers: &HeaderMap, body: Body, blobs: &Blobs, max_file: u64) -> Result<Form, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary = multer::parse_boundary(ct).map_err(|_| ApiError::UnsupportedMediaType("expected a multipart/form-data body".into()))?;
    let mut parts = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut form = Form::default();
    while let Some(mut part) = parts.next_field().await.map_err(broken)? {
        let name = part.name().unwrap_or("").to_string();
        match part.file_name().map(str::to_string) {
            Some(raw_name) => {
                if form.files.len() == MAX_FILES {
                    return Err(ApiError::invalid(&name, format!("at most {MAX_FILES} files at once")));
                }
                let declared = part.content_type().map(|m| m.to_string()).unwrap_or_default();
                let stored = blobs.put(&mut part, max_file).await?;
                if raw_name.is_empty() && stored.size == 0 {
                    continue;
                }
                form.files.push(Upload { file_name: sanitize_file_name(&raw_name), content_type: served_type(&declared), stored });
            }
            None => {
                let mut text = Vec::new();
                while let Some(chunk) = part.next().await {
                    text.extend_from_slice(&chunk.map_err(broken)?);
                    if text.len() > MAX_FIELD_BYTES {
                        return Err(ApiError::invalid(&name, format!("at most {MAX_FIELD_BYTES} bytes")));
                    }
                }
                let text = String::from_utf8(text).map_err(|_| ApiError::invalid(&name, "is not UTF-8"))?;
                form.fields.push((name, text));
            }
        }
    }
    Ok(form)
}
