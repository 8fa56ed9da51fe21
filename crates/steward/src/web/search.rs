//! The global search page: asks every source the domains registered, each
//! scoped to what the caller may see, and lists the hits by kind.

use crate::app::search::SearchHit;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::http::extract::ApiQuery;
use crate::http::page::html;
use crate::web::error::PageResult;
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    q: String,
    hits: Vec<SearchHit>,
}

/// Hits per source at most.
const PER_SOURCE: u64 = 20;

pub async fn search(State(app): State<App>, p: Principal, ApiQuery(sq): ApiQuery<SearchQuery>) -> PageResult {
    let q: String = sq.q.trim().chars().take(200).collect();
    let mut hits = vec![];
    if !q.is_empty() {
        for source in &app.registered().search {
            hits.extend((source.search)(&app, &p, &q, PER_SOURCE).await?);
        }
    }
    Ok(html(&SearchPage { l: Layout::new(&app, &p, "Search", "search"), q, hits }))
}
