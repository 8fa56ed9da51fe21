//! `GET /api/v1/search`: the search box as an API, every source the
//! caller may see, ranked within each kind, with snippets for tickets.

use super::params::{run, SearchParams};
use crate::app::search::SearchHit;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::ApiQuery;
use axum::extract::State;
use axum::Json;
use serde::Serialize;

/// The hits of one search, and how current the index is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub q: String,
    /// Best first within each kind; kinds in the order of the search page.
    pub hits: Vec<SearchHit>,
    /// False while this node's index is being built: ticket hits may be missing.
    pub index_ready: bool,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn search(State(app): State<App>, p: Principal, ApiQuery(sp): ApiQuery<SearchParams>) -> ApiResult<Json<SearchResults>> {
    let ask = sp.ask(&p)?;
    let hits = run(&app, &p, &ask).await?;
    Ok(Json(SearchResults { q: ask.text, hits, index_ready: app.search.cursor().is_some() }))
}
