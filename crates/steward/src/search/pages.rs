//! The search page: the search box with the ticket filters, every source's
//! hits grouped by kind, ticket snippets with the matched words marked.
//! A refused query (too long, a bad date) shows its message in the page.

use super::params::{run, SearchParams};
use crate::app::search::SearchHit;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::http::extract::PageQuery;
use crate::http::page::html_status;
use crate::web::error::PageResult;
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;

/// A hit as shown: its snippet cut into plain and marked runs, so the
/// template escapes every piece.
struct Shown {
    hit: SearchHit,
    runs: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    q: String,
    params: SearchParams,
    clients: Vec<(i64, String)>,
    error: Option<String>,
    hits: Vec<Shown>,
    index_ready: bool,
}

impl SearchPage {
    fn status_is(&self, s: &str) -> bool {
        self.params.status.as_deref() == Some(s)
    }

    fn client_is(&self, id: &i64) -> bool {
        self.params.client_id == Some(*id)
    }

    fn from(&self) -> &str {
        self.params.from.as_deref().unwrap_or_default()
    }

    fn to(&self) -> &str {
        self.params.to.as_deref().unwrap_or_default()
    }
}

fn runs(hit: &SearchHit) -> Vec<(String, bool)> {
    let Some(s) = &hit.snippet else { return vec![] };
    let mut out = vec![];
    let mut at = 0;
    for &(start, end) in &s.highlights {
        if start < at || end > s.text.len() || !s.text.is_char_boundary(start) || !s.text.is_char_boundary(end) {
            continue;
        }
        out.push((s.text[at..start].to_string(), false));
        out.push((s.text[start..end].to_string(), true));
        at = end;
    }
    out.push((s.text[at..].to_string(), false));
    out
}

pub async fn search(State(app): State<App>, p: Principal, PageQuery(sp): PageQuery<SearchParams>) -> PageResult {
    let (clients, _) = crate::tenancy::store::list_clients(
        &mut app.store.clone(),
        &crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: false, search: None },
        500,
        0,
    )
    .await?;
    let (mut hits, mut error) = (vec![], None);
    if !sp.is_blank() {
        match sp.ask(&p) {
            Ok(ask) => hits = run(&app, &p, &ask).await?.into_iter().map(|hit| Shown { runs: runs(&hit), hit }).collect(),
            Err(e) => error = Some(crate::web::error::form_error(e)?),
        }
    }
    let status = crate::web::error::status_for(&error);
    let page = SearchPage {
        l: Layout::new(&app, &p, "Search", "search").with_error(error.clone()),
        q: sp.text().chars().take(400).collect(),
        clients: clients.into_iter().map(|c| (c.id, c.name)).collect(),
        params: sp,
        error,
        hits,
        index_ready: app.search.cursor().is_some(),
    };
    Ok(html_status(status, &page))
}
