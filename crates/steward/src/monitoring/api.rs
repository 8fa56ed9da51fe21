//! `GET /api/v1/clients/{id}/devices/{device_id}/metrics`: a device's
//! series over a time range, at the resolution that range reads (raw
//! samples for up to a day, 5-minute rollups up to a week, hourly beyond),
//! in the column layout uPlot draws directly.

use super::model::resolution_for;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::time::Timestamp;
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// Which range to read.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// `1h`, `6h`, `24h` (default), `7d`, `30d`, `90d` or `365d`, ending now.
    pub range: Option<String>,
    /// Start, RFC 3339 (with `to`, instead of `range`).
    pub from: Option<Timestamp>,
    /// End, RFC 3339.
    pub to: Option<Timestamp>,
}

/// One series: parallel columns, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Series {
    /// `cpu`, `mem` (% used), `disk:<mount>` (% used), `net_rx`, `net_tx` (bytes/s).
    pub name: String,
    /// Sample times, or bucket starts, as Unix seconds: the column layout
    /// uPlot draws directly (times elsewhere in the API are RFC 3339).
    pub t: Vec<i64>,
    pub min: Vec<f64>,
    pub avg: Vec<f64>,
    pub max: Vec<f64>,
}

/// A device's metrics over a range.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Metrics {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Seconds per point: 0 for raw samples, 300 or 3600 for rollups.
    pub resolution_secs: i64,
    pub series: Vec<Series>,
}

fn span(range: &str) -> Option<i64> {
    Some(match range {
        "1h" => 3_600,
        "6h" => 6 * 3_600,
        "24h" => 86_400,
        "7d" => 7 * 86_400,
        "30d" => 30 * 86_400,
        "90d" => 90 * 86_400,
        "365d" => 365 * 86_400,
        _ => return None,
    })
}

/// Reads a device's metrics (shared with the device page).
pub async fn read_for(app: &App, p: &Principal, id: i64, device_id: i64, q: &RangeParams) -> Result<Metrics, ApiError> {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    crate::devices::store::by_id(&mut db, device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    let now = chrono::Utc::now().timestamp();
    let (from, to) = match (q.from, q.to, q.range.as_deref()) {
        (Some(f), Some(t), None) => (f.micros().div_euclid(1_000_000), t.micros().div_euclid(1_000_000)),
        (None, None, r) => {
            let s = span(r.unwrap_or("24h")).ok_or_else(|| ApiError::invalid("range", "use 1h, 6h, 24h, 7d, 30d, 90d or 365d"))?;
            (now - s, now)
        }
        _ => return Err(ApiError::invalid("range", "give either range, or both from and to")),
    };
    if !(0..=now + 86_400).contains(&from) || to <= from || to - from > 400 * 86_400 {
        return Err(ApiError::invalid("from", "from must come before to, within 400 days"));
    }
    let c = &app.cfg;
    let res = resolution_for(from, to, now, c.metrics_raw_days, c.metrics_5m_days);
    let rows = super::store::read(&mut db, device_id, res, from * 1_000_000, to * 1_000_000).await?;
    let mut series: Vec<Series> = vec![];
    for r in rows {
        if series.last().is_none_or(|s| s.name != r.series) {
            series.push(Series { name: r.series.clone(), t: vec![], min: vec![], avg: vec![], max: vec![] });
        }
        let s = series.last_mut().expect("just pushed");
        s.t.push(r.at.div_euclid(1_000_000));
        s.min.push(r.vmin);
        s.avg.push(r.vavg);
        s.max.push(r.vmax);
    }
    let t = |s: i64| Timestamp(s * 1_000_000);
    Ok(Metrics { from: t(from), to: t(to), resolution_secs: res, series })
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}/metrics", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path), RangeParams),
    responses((status = 200, body = Metrics), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn metrics(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> ApiResult {
    Ok(json(read_for(&app, &p, id, device_id, &q).await?))
}
