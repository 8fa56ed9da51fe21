//! Batched presence ingest: heartbeats from every connection go into one
//! queue, and a single task writes them as one `UPDATE … WHERE id IN (…)`
//! per batch (at most every [`FLUSH_EVERY`] or [`MAX_BATCH`] devices),
//! instead of a transaction per message.

use crate::devices::store::Devices;
use crate::store::batch::{Batching, Queue};
use crate::store::Store;
use crate::time::now_us;
use sea_query::{Expr, Query};
use std::collections::HashSet;
use std::time::Duration;

pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
pub const MAX_BATCH: usize = 5000;

/// The sending side, held by the gateway.
#[derive(Clone)]
pub struct Heartbeats(Queue<i64>);

impl Heartbeats {
    /// Starts the writer task.
    pub fn start(store: Store) -> Heartbeats {
        let b = Batching { capacity: 65_536, every: FLUSH_EVERY, max: MAX_BATCH };
        Heartbeats(Queue::spawn(
            b,
            |_| 1,
            move |seen| {
                let store = store.clone();
                async move { flush(&store, seen.into_iter().collect()).await }
            },
        ))
    }

    /// Queues one heartbeat; never blocks the connection (a full queue drops
    /// it, and the next heartbeat carries the same news).
    pub fn seen(&self, device: i64) {
        self.0.try_send(device);
    }

    /// Returns once every heartbeat queued before it is written.
    pub async fn flush(&self) {
        self.0.flush().await
    }
}

async fn flush(store: &Store, batch: HashSet<i64>) {
    let ids: Vec<i64> = batch.into_iter().collect();
    // Only the time: whether a device is online is the gateway's to say (on
    // connect and on close). A batch that also set `online` could land after
    // a connection closed and mark a gone device online again.
    let q = Query::update()
        .table(Devices::Table)
        .value(Devices::LastSeenAt, now_us())
        .and_where(Expr::col(Devices::Id).is_in(ids.clone()))
        .and_where(Expr::col(Devices::RevokedAt).is_null())
        .to_owned();
    let _turn = store.ingest_turn().await;
    if let Err(e) = store.execute(&q).await {
        tracing::warn!(error = %e, devices = ids.len(), "heartbeat batch not written");
    }
}
