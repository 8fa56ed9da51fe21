//! The global search box: each domain contributes a source (clients and
//! contacts, devices, later tickets and articles), and the search page asks
//! every one of them, each scoped to what the caller may see.

use super::future::BoxFut;
use super::App;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use serde::Serialize;

/// One hit of the global search box.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// What it is ("client", "device", …).
    pub kind: &'static str,
    pub label: String,
    pub detail: String,
    pub url: String,
}

/// A domain's search: the caller's text (trimmed, at most 200 characters)
/// and how many hits at most; it checks the caller's permission and scope.
pub type SearchFn = for<'a> fn(&'a App, &'a Principal, &'a str, u64) -> BoxFut<'a, Result<Vec<SearchHit>, ApiError>>;

/// A named search source.
#[derive(Clone, Copy)]
pub struct SearchSource {
    pub name: &'static str,
    pub search: SearchFn,
}
