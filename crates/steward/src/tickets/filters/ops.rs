//! A user's saved queue filters: the query string is checked as the queue
//! reads it (`tickets::queue::QueueParams`, every value resolved as it
//! would be) and stored normalized: known parameters only, in one order,
//! no empty ones, no `offset` (a saved filter opens at its first page).
//! Applying one is loading `/tickets?{query}`: the queue scopes it to the
//! caller's clients then, so a filter never shows more than its user sees.

use super::store::{self, FilterRow, NewFilter};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;
use crate::tickets::queue::QueueParams;
use crate::time::{now_us, Timestamp};
use crate::validate::Name;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The most filters one user keeps.
pub const MAX_PER_USER: usize = 50;

/// The queue's parameters, in the order a normalized query lists them.
const KNOWN: [&str; 12] =
    ["client_id", "status", "priority", "assignee", "board_id", "device_id", "tag", "sla_state", "q", "sort", "limit", "offset"];

/// `raw` as a stored query, or why not (422 naming `query`).
pub async fn normalize(db: &mut impl Db, p: &Principal, raw: &str) -> Result<String, ApiError> {
    let refused = |m: String| ApiError::refused("query", m);
    let raw = raw.trim().trim_start_matches('?');
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| refused(format!("not a query string: {e}")))?;
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<(String, String)> = vec![];
    for (k, v) in pairs {
        if !KNOWN.contains(&k.as_str()) {
            return Err(refused(format!("{k:?} is not a queue parameter ({})", KNOWN[..11].join(", "))));
        }
        if !seen.insert(k.clone()) {
            return Err(refused(format!("{k:?} is given twice")));
        }
        if k != "offset" && !v.trim().is_empty() {
            kept.push((k, v.trim().to_string()));
        }
    }
    kept.sort_by_key(|(k, _)| KNOWN.iter().position(|n| n == k));
    let query = serde_urlencoded::to_string(&kept).map_err(ApiError::internal)?;
    // Read as the queue reads it, so what is stored is what works.
    let params: QueueParams = serde_urlencoded::from_str(&query).map_err(|e| refused(format!("{e}")))?;
    params.queue(db, p).await.map_err(|e| {
        let b = e.body().error;
        refused(match b.field {
            Some(f) => format!("{f}: {}", b.message),
            None => b.message,
        })
    })?;
    Ok(query)
}

/// A new saved filter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSavedFilter {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// The queue's query string, as `GET /api/v1/tickets` or `/tickets`
    /// take it, e.g. `status=open,waiting&assignee=me&sort=due`.
    pub query: String,
    /// Where it sits among the user's filters (default: last).
    #[schema(minimum = 0, maximum = 10000)]
    pub position: Option<i64>,
}

/// Changes to a saved filter; absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedFilterPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub query: Option<String>,
    #[schema(minimum = 0, maximum = 10000)]
    pub position: Option<i64>,
}

/// A saved filter as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedFilter {
    pub id: i64,
    pub name: String,
    /// Normalized: known parameters in a fixed order, no empty ones.
    pub query: String,
    pub position: i64,
    /// The queue page it opens.
    pub href: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<FilterRow> for SavedFilter {
    fn from(r: FilterRow) -> Self {
        let href = if r.query.is_empty() { "/tickets".into() } else { format!("/tickets?{}", r.query) };
        SavedFilter {
            id: r.id,
            name: r.name,
            query: r.query,
            position: r.position,
            href,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

fn name(v: &str) -> Result<String, ApiError> {
    Name::parse(v).map(Name::into_string).map_err(|m| ApiError::invalid("name", m))
}

fn position(v: i64) -> Result<i64, ApiError> {
    if (0..=10_000).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::invalid("position", "0–10000"))
    }
}

fn taken(list: &[FilterRow], name: &str, except: Option<i64>) -> Result<(), ApiError> {
    if list.iter().any(|f| f.name.eq_ignore_ascii_case(name) && Some(f.id) != except) {
        return Err(ApiError::Conflict(format!("you already have a filter called {name:?}")));
    }
    Ok(())
}

pub async fn list(app: &App, p: &Principal) -> Result<Vec<SavedFilter>, ApiError> {
    p.require(Permission::TicketsRead)?;
    Ok(store::of_user(&mut app.store.clone(), p.user.id).await?.into_iter().map(SavedFilter::from).collect())
}

pub async fn create(app: &App, p: &Principal, input: NewSavedFilter) -> Result<SavedFilter, ApiError> {
    p.require(Permission::TicketsRead)?;
    let name = name(&input.name)?;
    let pos = input.position.map(position).transpose()?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let query = normalize(db, p, &input.query).await?;
    let mine = store::of_user(db, p.user.id).await?;
    taken(&mine, &name, None)?;
    if mine.len() >= MAX_PER_USER {
        return Err(ApiError::Conflict(format!("you have {MAX_PER_USER} saved filters: remove one first")));
    }
    let position = pos.unwrap_or_else(|| mine.iter().map(|f| f.position + 1).max().unwrap_or(0));
    let id = store::insert(db, NewFilter { user_id: p.user.id, name: &name, query: &query, position, now }).await?;
    let f: SavedFilter = store::get(db, p.user.id, id).await?.ok_or(ApiError::NotFound)?.into();
    tx.commit(&p.actor(), Event::new("saved_filter.create", "saved_filter", id).details(json!({"after": f}))).await?;
    Ok(f)
}

pub async fn update(app: &App, p: &Principal, id: i64, patch: SavedFilterPatch) -> Result<SavedFilter, ApiError> {
    p.require(Permission::TicketsRead)?;
    let new_name = patch.name.as_deref().map(name).transpose()?;
    let pos = patch.position.map(position).transpose()?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let row = store::get(db, p.user.id, id).await?.ok_or(ApiError::NotFound)?;
    let query = match &patch.query {
        Some(q) => normalize(db, p, q).await?,
        None => row.query.clone(),
    };
    let name = new_name.unwrap_or(row.name.clone());
    taken(&store::of_user(db, p.user.id).await?, &name, Some(id))?;
    store::update(db, id, &name, &query, pos.unwrap_or(row.position), now_us()).await?;
    let before: SavedFilter = row.into();
    let after: SavedFilter = store::get(db, p.user.id, id).await?.ok_or(ApiError::NotFound)?.into();
    tx.commit_change(&p.actor(), Event::new("saved_filter.update", "saved_filter", id), &before, &after).await?;
    Ok(after)
}

pub async fn remove(app: &App, p: &Principal, id: i64) -> Result<(), ApiError> {
    p.require(Permission::TicketsRead)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let before: SavedFilter = store::get(db, p.user.id, id).await?.ok_or(ApiError::NotFound)?.into();
    store::delete(db, id).await?;
    tx.commit(&p.actor(), Event::new("saved_filter.delete", "saved_filter", id).details(json!({"before": before}))).await?;
    Ok(())
}
