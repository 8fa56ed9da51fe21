//! The global search: one box over every domain's sources, ranked, scoped
//! to the caller's clients. Tickets (and later articles and assets) are
//! in an embedded full-text index, one per node (`runtime`), fed from an
//! outbox the domains write in their own transactions (`store`, `indexer`),
//! rebuildable from the database (`steward search reindex`). Small lists
//! (clients, contacts, devices) are searched in SQL by their domains.
//!
//! **Phrases**: a second field keeps each pair of adjacent *common* words
//! as one term ("common grams"), so a phrase of common words is a term
//! lookup, not a read of positions in most of the index; one with a rarer
//! word is cheap by positions anyway. The common words are chosen from a
//! rebuild's first documents and kept in the commit payload, so every
//! document is paired by the same set; a tokenizer (`PairTokenizer`) makes
//! the pairs on tantivy's indexing threads (measurements and what was
//! tried: bench/RESULTS.md).
//!
//! **The outbox**: every change to a ticket (its row, its thread, its tags)
//! writes a `search_outbox` row in the same transaction. The indexer (a
//! listener on every node: woken by this node's events, and once a second
//! for other nodes' writes) reads the rows after its cursor, loads the
//! records' documents through their domain's `Indexer`, replaces them and
//! commits; **the cursor is the commit's payload**, so the index and its
//! cursor cannot disagree after a crash. On PostgreSQL ids can become
//! visible out of order; the cursor remembers the ids it has not seen
//! below the highest it read and reads those again until they appear or a
//! minute has gone by (`search::model::cursor`, property-tested), so a pass reads
//! only what is new (re-applying is harmless anyway: a document is
//! replaced by key). Under a burst, passes are at least a quarter second
//! apart, so one tantivy commit covers many changes.
//!
//! **Several nodes**: each keeps its own index current from the same
//! outbox, independently; nothing is sent between nodes. Rows are pruned
//! after a day (`search.prune`, leased); a node whose cursor is older than
//! `search_state.pruned_through`, or whose index is missing or of another
//! version, rebuilds from the database by itself (`steward search reindex`
//! does it by hand, server stopped).

pub mod api;
pub mod indexer;
pub mod model;
pub mod pages;
pub mod params;
pub mod runtime;
pub mod store;

use crate::app::domain::{get, BoxFut, Domain, Job, Listener, Need};
use crate::app::App;
use std::time::Duration;
use utoipa_axum::routes;

/// How long outbox rows are kept: a node that was away longer rebuilds.
const KEEP_OUTBOX: Duration = Duration::from_secs(24 * 3600);

pub fn domain() -> Domain {
    Domain::new("search")
        .api(Need::SignedIn, routes!(api::search))
        .pages([get("/search", Need::SignedIn, pages::search)])
        .listener(Listener { name: "search.indexer", run: indexer::run })
        .job(Job { name: "search.prune", every: |_| Some(Duration::from_secs(3600)), run: prune })
}

fn prune(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let mut tx = app.store.begin().await?;
        let n = store::prune(&mut tx, crate::time::now_us() - KEEP_OUTBOX.as_micros() as i64).await?;
        tx.commit().await?;
        tracing::debug!(rows = n, "search outbox pruned");
        Ok(())
    })
}
