//! `GET /api/v1/reports/sla` (the report as JSON) and
//! `GET /api/v1/reports/sla.csv` (the same as a spreadsheet download),
//! for anyone who sees tickets, within their clients.

use super::params::SlaReportParams;
use super::{build, csv_name, csv_rows, SlaReport, CSV_HEADER};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::ApiQuery;
use crate::time::now_us;
use axum::extract::State;
use axum::response::Response;
use axum::Json;

/// The report `q` asks for, read in one snapshot.
pub async fn report(app: &App, p: &Principal, q: &SlaReportParams) -> Result<(super::params::Ask, SlaReport), ApiError> {
    let ask = q.ask(p, &jiff::Zoned::now())?;
    let report = build(&mut app.store.snapshot().await?, &ask, now_us()).await?;
    Ok((ask, report))
}

#[utoipa::path(get, path = "/api/v1/reports/sla", tag = "reports", params(SlaReportParams),
    responses((status = 200, body = SlaReport), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn sla(State(app): State<App>, p: Principal, ApiQuery(q): ApiQuery<SlaReportParams>) -> ApiResult<Json<SlaReport>> {
    Ok(Json(report(&app, &p, &q).await?.1))
}

#[utoipa::path(get, path = "/api/v1/reports/sla.csv", tag = "reports", params(SlaReportParams),
    responses((status = 200, description = "The report as CSV (UTF-8 with a byte order mark; text cells quoted, would-be formulas prefixed with `'`)", content_type = "text/csv", body = String),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn sla_csv(State(app): State<App>, p: Principal, ApiQuery(q): ApiQuery<SlaReportParams>) -> Result<Response, ApiError> {
    let (ask, r) = report(&app, &p, &q).await?;
    crate::reports::csv::download(&csv_name(&ask), crate::reports::csv::document(&CSV_HEADER, csv_rows(&r))?)
}
