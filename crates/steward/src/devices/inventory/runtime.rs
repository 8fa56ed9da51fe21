//! Batched inventory ingest: connections hand their (cleaned) inventory
//! reports to one writer task, which stores up to [`MAX_BATCH`] of them in
//! one transaction.
//!
//! Every enrolling agent reports its whole inventory at once; one
//! transaction (one fsync on SQLite) each made a fleet's enrolment wait in
//! line for the disk, every waiting connection holding its report.
//! Nothing here is acknowledged to the agent: a report lost to a crash is
//! sent again at the next connection, because `Welcome` then carries the
//! hash of the inventory the server really holds.

use super::store as inventory_store;
use crate::events::{Bus, Event};
use crate::store::batch::{Batching, Queue};
use crate::store::Store;
use std::time::Duration;
use steward_protocol::report::Inventory;

pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Reports per transaction at most (each may list thousands of packages).
pub const MAX_BATCH: usize = 100;

/// One device's report, cleaned.
pub struct Report {
    pub device: i64,
    pub client: i64,
    /// When the agent collected it (µs).
    pub collected_at: i64,
    pub inventory: Inventory,
    /// Hash of what the agent sent, given back in `Welcome`.
    pub sent_hash: String,
}

/// The sending side, in the application state.
pub struct Inventories(Queue<Report>);

impl Inventories {
    /// Starts the writer; it tells the `bus` of each inventory that changed.
    pub fn start(store: Store, bus: Bus) -> Inventories {
        // Small: a full queue makes connections wait (reports are big, and
        // dropping one would lose it until the agent's next connection).
        let b = Batching { capacity: MAX_BATCH * 4, every: FLUSH_EVERY, max: MAX_BATCH };
        Inventories(Queue::spawn(
            b,
            |_| 1,
            move |reports| {
                let (store, bus) = (store.clone(), bus.clone());
                async move {
                    for (device, client) in store_batch(&store, &reports).await {
                        bus.publish(Event::InventoryChanged { device, client }).await;
                    }
                }
            },
        ))
    }

    /// Queues a report; waits while the queue is full.
    pub async fn submit(&self, r: Report) {
        if !self.0.send(r).await {
            tracing::warn!("inventory writer gone: report not stored");
        }
    }

    /// Returns once every report queued before it is stored.
    pub async fn flush(&self) {
        self.0.flush().await
    }
}

/// Stores a batch; returns the (device, client) whose inventory changed.
async fn store_batch(store: &Store, reports: &[Report]) -> Vec<(i64, i64)> {
    match write(store, reports).await {
        Ok(changed) => changed,
        Err(e) => {
            // One bad report must not cost the others: store them one by one.
            tracing::warn!(error = %e, reports = reports.len(), "inventory batch not written; writing one by one");
            let mut changed = vec![];
            for r in reports {
                match inventory_store::record(store, r.device, r.collected_at, &r.inventory, &r.sent_hash).await {
                    Ok(n) if n != Some(0) => changed.push((r.device, r.client)),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(device = r.device, error = %e, "inventory not stored"),
                }
            }
            changed
        }
    }
}

async fn write(store: &Store, reports: &[Report]) -> crate::store::Result<Vec<(i64, i64)>> {
    let _turn = store.ingest_turn().await;
    let mut tx = store.begin().await?;
    let mut changed = vec![];
    for r in reports {
        if inventory_store::record_in(&mut tx, r.device, r.collected_at, &r.inventory, &r.sent_hash).await? != Some(0) {
            changed.push((r.device, r.client));
        }
    }
    tx.commit().await?;
    Ok(changed)
}
