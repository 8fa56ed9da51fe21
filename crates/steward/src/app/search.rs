//! The global search box: each domain contributes a source (clients and
//! contacts, devices, tickets, later articles), and the search asks every
//! one of them, each scoped to what the caller may see. Domains whose
//! records are in the full-text index also contribute an [`Indexer`],
//! which turns records into the index's documents.

use super::future::BoxFut;
use super::App;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::search::model::Doc;
use crate::store::Store;
use serde::Serialize;

/// What one search asks of every source. The caller's scope is already
/// narrowed to the client filter, if one was given, and checked.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    /// Trimmed, at most `search::model::MAX_QUERY_CHARS` characters.
    pub text: String,
    /// The clients to look in (`None`: every client).
    pub scope: Option<Vec<i64>>,
    /// Ticket status kinds (empty: all). Sources without statuses answer
    /// nothing when this or the dates are set.
    pub statuses: Vec<String>,
    /// Opened in `[from, to)` (µs).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Hits per source at most.
    pub limit: u64,
}

impl Ask {
    /// Whether the ask filters on what only tickets have.
    pub fn ticket_filters(&self) -> bool {
        !self.statuses.is_empty() || self.from.is_some() || self.to.is_some()
    }
}

/// A passage of a hit's text, with the byte ranges that matched.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Snippet {
    pub text: String,
    /// `[start, end)` byte offsets into `text`.
    pub highlights: Vec<(usize, usize)>,
}

/// One hit of the global search box.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// What it is ("client", "device", "ticket", …).
    pub kind: &'static str,
    pub label: String,
    pub detail: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Snippet>,
}

/// A domain's search: checks the caller's permission and keeps to `ask.scope`.
pub type SearchFn = for<'a> fn(&'a App, &'a Principal, &'a Ask) -> BoxFut<'a, Result<Vec<SearchHit>, ApiError>>;

/// A named search source.
#[derive(Clone, Copy)]
pub struct SearchSource {
    pub name: &'static str,
    pub search: SearchFn,
}

/// The documents of the records with these ids.
pub type LoadDocs = for<'a> fn(&'a Store, &'a [i64]) -> BoxFut<'a, anyhow::Result<Vec<Doc>>>;

/// A page of documents after an id: the documents and the last id looked at.
pub type PageDocs = for<'a> fn(&'a Store, i64, u64) -> BoxFut<'a, anyhow::Result<(Vec<Doc>, Option<i64>)>>;

/// A domain's records in the full-text index.
#[derive(Clone, Copy)]
pub struct Indexer {
    /// The outbox's `kind` for these records.
    pub kind: &'static str,
    /// The documents of these records (a record that is gone or hidden has none).
    pub load: LoadDocs,
    /// Every record's documents, a page at a time by id: the documents of
    /// up to `limit` records after `after`, and the last id looked at
    /// (`None` when there are no more).
    pub page: PageDocs,
}
