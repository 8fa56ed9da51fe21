//! Assets in the global search: their documents (name, type, notes and
//! every value but links: never anything of the vault; an archived asset
//! has none), and the source that shows each hit with its type and client.

use super::model::{values_of, KIND};
use super::store::{self, AssetRow};
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

pub const INDEXER: Indexer = Indexer { kind: KIND, load, page };

/// The documents of these rows (their types read once each).
async fn docs(db: &Store, rows: &[AssetRow]) -> anyhow::Result<Vec<Doc>> {
    let types = store::type_fields(&mut db.clone(), rows.iter().map(|r| r.type_id)).await?;
    let mut out = vec![];
    for r in rows.iter().filter(|r| r.archived_at.is_none()) {
        let values = values_of(&r.fields);
        let mut text = format!("{}\n{}\n", r.name, r.type_name);
        for f in types.get(&r.type_id).into_iter().flatten().filter(|f| !f.kind.is_reference()) {
            if let Some(v) = values.get(&f.key) {
                text.push_str(&format!("{} {}\n", f.label, super::model::shown(v)));
            }
        }
        text.push_str(&r.notes);
        out.push(Doc {
            kind: KIND,
            id: r.id,
            client_id: r.client_id,
            status: String::new(),
            opened_at: r.created_at,
            title: r.name.clone(),
            text: clip(text),
        });
    }
    Ok(out)
}

fn load<'a>(db: &'a Store, ids: &'a [i64]) -> BoxFut<'a, anyhow::Result<Vec<Doc>>> {
    Box::pin(async move { docs(db, &store::by_ids(&mut db.clone(), ids).await?).await })
}

fn page(db: &Store, after: i64, limit: u64) -> BoxFut<'_, anyhow::Result<(Vec<Doc>, Option<i64>)>> {
    Box::pin(async move {
        let rows = store::after(&mut db.clone(), after, limit).await?;
        let last = rows.last().map(|r| r.id);
        Ok((docs(db, &rows).await?, last))
    })
}

pub const SOURCE: SearchSource = SearchSource { name: "assets", search };

fn search<'a>(app: &'a App, p: &'a Principal, ask: &'a Ask) -> BoxFut<'a, Result<Vec<SearchHit>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::DocsRead) || ask.ticket_filters() {
            return Ok(vec![]);
        }
        let r = Request {
            text: ask.text.clone(),
            scope: ask.scope.clone(),
            kinds: vec![KIND],
            limit: ask.limit as usize,
            ..Default::default()
        };
        let found = app.search.search_blocking(r).await?;
        if found.is_empty() {
            return Ok(vec![]);
        }
        // As they are now, and only what the caller still sees.
        let mut db = app.store.snapshot().await?;
        let rows = store::by_ids(&mut db, &found.iter().map(|f| f.id).collect::<Vec<_>>()).await?;
        let mut rows: HashMap<i64, AssetRow> =
            rows.into_iter().filter(|r| r.archived_at.is_none() && p.sees_client(r.client_id)).map(|r| (r.id, r)).collect();
        let ids: Vec<i64> = rows.values().map(|r| r.client_id).collect();
        let names: HashMap<i64, String> =
            crate::tenancy::store::client_names(&mut db, &ids).await?.into_iter().map(|c| (c.id, c.name)).collect();
        Ok(found
            .into_iter()
            .filter_map(|f| {
                let r = rows.remove(&f.id)?;
                Some(SearchHit {
                    kind: "asset",
                    detail: format!("{} · {}", r.type_name, names.get(&r.client_id)?),
                    url: format!("/clients/{}/assets/{}", r.client_id, r.id),
                    label: r.name,
                    snippet: Some(Snippet { text: f.fragment, highlights: f.highlights }),
                })
            })
            .collect())
    })
}
