//! `POST /api/v1/clients/{id}/imports`: a dry run (the default) or a commit.

use super::ops::{self, ImportReport, ImportRequest};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// A 422: the report of a refused commit, or the standard error.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only documents the two shapes a 422 takes.
pub enum ImportRefusal {
    Report(ImportReport),
    Error(ErrorEnvelope),
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/imports", tag = "docs", params(("id" = i64, Path)), request_body = ImportRequest,
    responses((status = 200, description = "the dry run's report, or the commit's", body = ImportReport),
        (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "a commit refused because rows have errors (nothing kept), with the report; or a file or mapping that cannot be read", body = ImportRefusal)))]
pub async fn import(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ImportRequest>,
) -> ApiResult<(StatusCode, Json<ImportReport>)> {
    let commit = req.commit;
    let report = ops::run(&app, &p, id, req).await?;
    let status = if commit && !report.committed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(report)))
}
