//! Tickets in the global search: their documents for the full-text index
//! (built in `store::search`), and the search source that asks the index
//! and shows each hit with its client, status and a snippet of the thread.

use super::store::search::{docs, docs_after, KIND};
use super::store::Queue;
use crate::app::domain::BoxFut;
use crate::app::search::{Ask, Indexer, SearchHit, SearchSource, Snippet};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::search::runtime::Request;
use crate::store::Store;
use std::collections::HashMap;

pub const INDEXER: Indexer = Indexer { kind: KIND, load, page };

fn load<'a>(db: &'a Store, ids: &'a [i64]) -> BoxFut<'a, anyhow::Result<Vec<crate::search::model::Doc>>> {
    Box::pin(async move { Ok(docs(&mut db.clone(), ids).await?) })
}

fn page(db: &Store, after: i64, limit: u64) -> BoxFut<'_, anyhow::Result<(Vec<crate::search::model::Doc>, Option<i64>)>> {
    Box::pin(async move { Ok(docs_after(&mut db.clone(), after, limit).await?) })
}

pub const SOURCE: SearchSource = SearchSource { name: "tickets", search };

fn search<'a>(app: &'a App, p: &'a Principal, ask: &'a Ask) -> BoxFut<'a, Result<Vec<SearchHit>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::TicketsRead) {
            return Ok(vec![]);
        }
        let r = Request {
            text: ask.text.clone(),
            scope: ask.scope.clone(),
            statuses: ask.statuses.clone(),
            from: ask.from,
            to: ask.to,
            kinds: vec![KIND],
            limit: ask.limit as usize,
            any_word: false,
        };
        let found = app.search.search_blocking(r).await?;
        if found.is_empty() {
            return Ok(vec![]);
        }
        // Names and statuses as they are now, and only what the caller
        // still sees (the index may lag a change of client by a moment).
        let q =
            Queue { scope: ask.scope.clone(), ids: Some(found.iter().map(|f| f.id).collect()), hide_merged: true, ..Default::default() };
        let (rows, _) = super::store::queue(&mut app.store.snapshot().await?, &q, found.len() as u64, 0).await?;
        let mut rows: HashMap<i64, _> = rows.into_iter().map(|r| (r.id, r)).collect();
        Ok(found
            .into_iter()
            .filter_map(|f| {
                let r = rows.remove(&f.id)?;
                Some(SearchHit {
                    kind: "ticket",
                    label: format!("{} {}", super::model::display_number(r.number), r.subject),
                    detail: format!("{} · {}", r.client_name, r.status_name),
                    url: format!("/clients/{}/tickets/{}", r.client_id, r.id),
                    snippet: Some(Snippet { text: f.fragment, highlights: f.highlights }),
                })
            })
            .collect())
    })
}
