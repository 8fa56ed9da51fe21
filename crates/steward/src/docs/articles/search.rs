//! Articles in the global search: their documents for the full-text index
//! (title, folder, tags and the words of the text without its markup; an
//! archived article has none), and the source that asks the index and
//! shows each hit with its client (or "Global") and a snippet. A global
//! article is indexed under client 0, which every scope includes.

use super::ops::KIND;
use super::store::{self, ArticleRow};
use crate::app::domain::BoxFut;
use crate::app::search::{Ask, Indexer, SearchHit, SearchSource, Snippet};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::search::model::{clip, Doc};
use crate::search::runtime::Request;
use crate::store::Store;
use std::collections::HashMap;

/// The index's client for global articles (no client has id 0).
const GLOBAL: i64 = 0;

pub const INDEXER: Indexer = Indexer { kind: KIND, load, page };

fn doc(r: &ArticleRow) -> Option<Doc> {
    if r.archived_at.is_some() {
        return None;
    }
    let tags: Vec<String> = serde_json::from_str(&r.tags).unwrap_or_default();
    let text = format!("{}\n{}\n{}\n{}", r.title, r.folder, tags.join(" "), crate::docs::markdown::plain_text(&r.body_markdown));
    Some(Doc {
        kind: KIND,
        id: r.id,
        client_id: r.client_id.unwrap_or(GLOBAL),
        status: String::new(),
        opened_at: r.created_at,
        title: r.title.clone(),
        text: clip(text),
    })
}

fn load<'a>(db: &'a Store, ids: &'a [i64]) -> BoxFut<'a, anyhow::Result<Vec<Doc>>> {
    Box::pin(async move { Ok(store::by_ids(&mut db.clone(), ids).await?.iter().filter_map(doc).collect()) })
}

fn page(db: &Store, after: i64, limit: u64) -> BoxFut<'_, anyhow::Result<(Vec<Doc>, Option<i64>)>> {
    Box::pin(async move {
        let rows = store::after(&mut db.clone(), after, limit).await?;
        let last = rows.last().map(|r| r.id);
        Ok((rows.iter().filter_map(doc).collect(), last))
    })
}

pub const SOURCE: SearchSource = SearchSource { name: "articles", search };

fn search<'a>(app: &'a App, p: &'a Principal, ask: &'a Ask) -> BoxFut<'a, Result<Vec<SearchHit>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::DocsRead) || ask.ticket_filters() {
            return Ok(vec![]);
        }
        let scope = ask.scope.clone().map(|mut s| {
            s.push(GLOBAL);
            s
        });
        let r =
            Request { text: ask.text.clone(), scope: scope.clone(), kinds: vec![KIND], limit: ask.limit as usize, ..Default::default() };
        let found = app.search.search_blocking(r).await?;
        if found.is_empty() {
            return Ok(vec![]);
        }
        // As they are now, and only what the caller still sees.
        let mut db = app.store.snapshot().await?;
        let rows = store::by_ids(&mut db, &found.iter().map(|f| f.id).collect::<Vec<_>>()).await?;
        let mut rows: HashMap<i64, ArticleRow> = rows.into_iter().filter(|r| r.archived_at.is_none()).map(|r| (r.id, r)).collect();
        let wanted: Vec<i64> = rows.values().filter_map(|r| r.client_id).filter(|c| p.sees_client(*c)).collect();
        let names = client_names(app, wanted).await?;
        Ok(found
            .into_iter()
            .filter_map(|f| {
                let r = rows.remove(&f.id)?;
                let (owner, url) = match r.client_id {
                    Some(c) => (names.get(&c)?.clone(), format!("/clients/{c}/articles/{}", r.id)),
                    None => ("Global".to_string(), format!("/articles/{}", r.id)),
                };
                let folder = if r.folder.is_empty() { String::new() } else { format!(" · {}", r.folder) };
                Some(SearchHit {
                    kind: "article",
                    label: r.title,
                    detail: format!("Article · {owner}{folder}"),
                    url,
                    snippet: Some(Snippet { text: f.fragment, highlights: f.highlights }),
                })
            })
            .collect())
    })
}

/// The names of these clients (ones the caller sees).
async fn client_names(app: &App, ids: Vec<i64>) -> Result<HashMap<i64, String>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let n = ids.len() as u64;
    let q = crate::tenancy::store::ClientQuery { scope: Some(ids), include_archived: true, search: None };
    let (clients, _) = crate::tenancy::store::list_clients(&mut app.store.clone(), &q, n, 0).await?;
    Ok(clients.into_iter().map(|c| (c.id, c.name)).collect())
}
