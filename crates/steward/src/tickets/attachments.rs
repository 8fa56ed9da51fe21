//! `/api/v1/clients/{id}/tickets/{ticket_id}/attachments[/{attachment_id}]`:
//! upload (multipart, streamed into the file store), list, download, and
//! the page route that downloads for a signed-in browser. Every path is
//! under `/clients/{id}`, so the guard answers 404 for a client outside
//! the caller's set before any byte is read; the ticket and attachment
//! are then looked up within that client.

use super::ops::attachments::{attach, may_attach};
use super::store::attachments::{get as get_attachment, of_ticket};
use super::view::Attachment;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::files::store::Blobs;
use crate::http::download::{serve, Download};
use crate::http::extract::ApiPath;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;

/// The upload form.
#[allow(dead_code)]
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadForm {
    /// One or more files (each at most `attachment_max_bytes`, 25 MiB by
    /// default; up to ten per request).
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1, max_items = 10)]
    file: Vec<Vec<u8>>,
    /// Ties the files to this entry of the ticket's thread.
    #[schema(nullable = false)]
    entry_id: Option<i64>,
}

/// The file store of this server's data directory.
pub fn blobs(app: &App) -> Blobs {
    Blobs::new(&app.cfg.data_dir)
}

/// Reads an upload and writes its rows: what both the API and the pages do.
pub async fn receive(
    app: &App,
    p: &Principal,
    client_id: i64,
    ticket_id: i64,
    headers: &HeaderMap,
    body: Body,
) -> Result<(crate::http::multipart::Form, Vec<Attachment>), ApiError> {
    may_attach(app, p, client_id, ticket_id).await?;
    let form = crate::http::multipart::read(headers, body, &blobs(app), app.cfg.attachment_max_bytes).await?;
    if let Some((k, _)) = form.fields.iter().find(|(k, _)| k != "entry_id") {
        return Err(ApiError::invalid(k, "is not a field of this form (file, entry_id)"));
    }
    let entry_id = match form.field("entry_id").map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => Some(v.parse::<i64>().map_err(|_| ApiError::invalid("entry_id", "is not a valid id"))?),
        None => None,
    };
    let done = attach(app, p, client_id, ticket_id, entry_id, &form.files).await?;
    Ok((form, done))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/tickets/{ticket_id}/attachments", tag = "tickets",
    params(("id" = i64, Path), ("ticket_id" = i64, Path)), request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "the files attached", body = Vec<Attachment>), (status = 400, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 413, description = "a file is larger than the limit; nothing was stored", body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn upload(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id)): ApiPath<(i64, i64)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Vec<Attachment>>)> {
    let (_, done) = receive(&app, &p, id, ticket_id, &headers, body).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/tickets/{ticket_id}/attachments", tag = "tickets",
    params(("id" = i64, Path), ("ticket_id" = i64, Path)),
    responses((status = 200, description = "the ticket's files, oldest first", body = Vec<Attachment>), (status = 404, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiPath((id, ticket_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Vec<Attachment>>> {
    let mut db = app.store.snapshot().await?;
    super::store::get(&mut db, p.client(id)?, ticket_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(of_ticket(&mut db, ticket_id).await?.into_iter().map(Attachment::from).collect()))
}

/// The file, as a download (see `http::download`).
pub async fn download_file(app: &App, p: &Principal, id: i64, ticket_id: i64, attachment_id: i64) -> Result<Response, ApiError> {
    let a = get_attachment(&mut app.store.clone(), p.client(id)?, ticket_id, attachment_id).await?.ok_or(ApiError::NotFound)?;
    let size = u64::try_from(a.size).map_err(ApiError::internal)?;
    serve(&blobs(app), Download { sha256: &a.sha256, file_name: &a.file_name, content_type: &a.content_type, size }).await
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/tickets/{ticket_id}/attachments/{attachment_id}", tag = "tickets",
    params(("id" = i64, Path), ("ticket_id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, description = "the file's bytes, always as an attachment (`Content-Disposition: attachment`, `nosniff`)",
        content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorEnvelope)))]
pub async fn download(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id, attachment_id)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Response> {
    download_file(&app, &p, id, ticket_id, attachment_id).await
}

/// The same download for the pages' links.
pub async fn page_download(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, ticket_id, attachment_id)): ApiPath<(i64, i64, i64)>,
) -> crate::web::error::PageResult {
    Ok(download_file(&app, &p, id, ticket_id, attachment_id).await?)
}
