//! Feeds this node's index from the outbox. Every node runs it (each has
//! its own index): woken by this node's events, and once a second for what
//! other nodes wrote. It rebuilds the index from the database when the
//! index was never built, is of another version, or slept through outbox
//! rows that have since been pruned.

use super::model::cursor::{advance, GAPS_PER_QUERY, SETTLE_US};
use super::runtime::Index;
use super::store;
use crate::app::search::Indexer;
use crate::app::App;
use crate::events::Event;
use crate::store::Store;
use crate::time::now_us;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Outbox rows read per query.
const PAGE: u64 = 2_000;

/// Records per page of a rebuild, and documents between its checkpoints.
const REBUILD_PAGE: u64 = 2_000;
const CHECKPOINT_DOCS: usize = 200_000;

/// How often a node looks for other nodes' changes.
const POLL: Duration = Duration::from_secs(1);

/// The least time between the starts of two passes that changed
/// something: under a burst (a mailbox of new mail, an import) changes
/// gather into one commit instead of a tantivy segment each, while a
/// change after a quiet spell is still searchable at once.
const BUSY_PASS: Duration = Duration::from_millis(250);

/// The listener: catch up now, then on every event and every second.
pub fn run(app: App, mut rx: tokio::sync::mpsc::Receiver<Event>) -> crate::app::future::BoxFut<'static, ()> {
    Box::pin(async move {
        loop {
            let started = tokio::time::Instant::now();
            match catch_up(&app.store, &app.search, &app.registered().indexers).await {
                Ok(0) => {}
                Ok(_) => tokio::time::sleep_until(started + BUSY_PASS).await,
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "search index not brought up to date"),
            }
            tokio::select! {
                got = rx.recv() => if got.is_none() { return },
                _ = tokio::time::sleep(POLL) => {}
            }
            // Several events in a burst: one pass for all of them.
            while rx.try_recv().is_ok() {}
        }
    })
}

/// Applies every outbox row the index's cursor wants: the ones inside its
/// gaps and the new ones (rebuilding first if the index needs it).
/// Returns how many records were (re)indexed.
pub async fn catch_up(db: &Store, index: &Arc<Index>, indexers: &[Indexer]) -> anyhow::Result<usize> {
    let pruned = store::pruned_through(&mut db.clone()).await?;
    let mut cursor = match index.cursor() {
        Some(c) if c.through >= pruned => c,
        _ => {
            rebuild(db, index, indexers).await?;
            index.cursor().unwrap_or_default()
        }
    };
    let mut done = 0;
    let mut rows = vec![];
    for ranges in cursor.gap_ranges().chunks(GAPS_PER_QUERY) {
        rows.extend(store::within(&mut db.clone(), ranges).await?);
    }
    loop {
        let newer = store::after(&mut db.clone(), cursor.high, PAGE).await?;
        let more = newer.len() as u64 == PAGE;
        rows.extend(newer);
        let mut wanted: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
        for r in &rows {
            wanted.entry(r.kind.as_str()).or_default().insert(r.target_id);
        }
        let mut changes = vec![];
        for (kind, ids) in wanted {
            let Some(ix) = indexers.iter().find(|i| i.kind == kind) else {
                tracing::warn!(kind, "outbox rows of a kind no domain indexes");
                continue;
            };
            let ids: Vec<i64> = ids.into_iter().collect();
            let mut docs = (ix.load)(db, &ids).await?;
            for id in ids {
                let doc = docs.iter().position(|d| d.id == id).map(|at| docs.swap_remove(at));
                changes.push((ix.kind, id, doc));
            }
        }
        let read: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let next = advance(&cursor, &read, now_us());
        done += changes.len();
        if !changes.is_empty() || next.through != cursor.through {
            let (index, next) = (index.clone(), next.clone());
            tokio::task::spawn_blocking(move || index.apply(&changes, next)).await??;
        } else if next != cursor {
            index.remember(next.clone());
        }
        cursor = next;
        rows.clear();
        if !more {
            break;
        }
    }
    Ok(done)
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy)]
pub struct Rebuilt {
    pub documents: u64,
    pub took: Duration,
}

/// Rebuilds the index from the database: every indexed record, a page at
/// a time. Changes made while it runs are in the outbox after the cursor
/// it ends with, and are applied by the next [`catch_up`].
pub async fn rebuild(db: &Store, index: &Arc<Index>, indexers: &[Indexer]) -> anyhow::Result<Rebuilt> {
    let started = Instant::now();
    tracing::info!("search index: rebuilding from the database");
    // Rows older than the settle time are surely visible to the scan
    // below; anything newer is applied again afterwards (harmless).
    let through = store::settled_before(&mut db.clone(), now_us() - SETTLE_US).await?;
    blocking(index, |i| i.start_rebuild()).await?;
    let (mut documents, mut since_checkpoint) = (0u64, 0usize);
    for ix in indexers {
        let mut after = 0;
        loop {
            let (docs, last) = (ix.page)(db, after, REBUILD_PAGE).await?;
            let Some(last) = last else { break };
            after = last;
            documents += docs.len() as u64;
            since_checkpoint += docs.len();
            let idx = index.clone();
            tokio::task::spawn_blocking(move || idx.add(&docs)).await??;
            if since_checkpoint >= CHECKPOINT_DOCS {
                blocking(index, |i| i.rebuild_checkpoint()).await?;
                since_checkpoint = 0;
            }
        }
    }
    blocking(index, move |i| i.finish_rebuild(through)).await?;
    let took = started.elapsed();
    tracing::info!(documents, took_ms = took.as_millis() as u64, "search index: rebuilt");
    Ok(Rebuilt { documents, took })
}

async fn blocking(index: &Arc<Index>, f: impl FnOnce(&Index) -> anyhow::Result<()> + Send + 'static) -> anyhow::Result<()> {
    let i = index.clone();
    tokio::task::spawn_blocking(move || f(&i)).await?
}
