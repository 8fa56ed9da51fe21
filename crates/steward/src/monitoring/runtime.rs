//! Batched metric ingest: every connection hands its checked points to one
//! writer task, which stores them (and merges them into the rollups) in one
//! transaction per batch, then acknowledges each agent's samples so the
//! agent may drop them from its disk buffer. A sample is acknowledged only
//! after the commit that holds it; a batch that fails is not acknowledged
//! and the agent sends it again (the samples' keys make that harmless).

use super::model::{rollup, Point, FIVE_MINUTES, HOUR};
use crate::store::batch::{Batching, Queue};
use crate::store::Store;
use std::time::Duration;

pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Points per transaction at most.
pub const MAX_BATCH: usize = 20_000;

/// Called with the newest sample time (Unix seconds) once it is stored.
pub type Ack = Box<dyn FnOnce(i64) + Send>;

struct Job {
    points: Vec<Point>,
    upto_s: i64,
    ack: Ack,
}

/// The sending side, held by the gateway.
#[derive(Clone)]
pub struct MetricsIngest(Queue<Job>);

impl MetricsIngest {
    pub fn start(store: Store) -> MetricsIngest {
        let b = Batching { capacity: 16_384, every: FLUSH_EVERY, max: MAX_BATCH };
        MetricsIngest(Queue::spawn(
            b,
            |j| j.points.len(),
            move |jobs| {
                let store = store.clone();
                async move { flush(&store, jobs).await }
            },
        ))
    }

    /// Queues points; never blocks a connection. When the queue is full the
    /// samples are not acknowledged, and the agent keeps them for later.
    pub fn submit(&self, points: Vec<Point>, upto_s: i64, ack: Ack) {
        self.0.try_send(Job { points, upto_s, ack });
    }

    /// Returns once every sample queued before it is written (and acknowledged).
    pub async fn flush(&self) {
        self.0.flush().await
    }
}

async fn flush(store: &Store, jobs: Vec<Job>) {
    let points: Vec<Point> = jobs.iter().flat_map(|j| j.points.iter().cloned()).collect();
    match write(store, &points).await {
        Ok(()) => {
            for j in jobs {
                (j.ack)(j.upto_s);
            }
        }
        Err(e) => tracing::warn!(error = %e, points = points.len(), "metric batch not written; agents will resend"),
    }
}

async fn write(store: &Store, points: &[Point]) -> crate::store::Result<()> {
    let mut tx = store.begin().await?;
    let fresh = super::store::insert(&mut tx, points).await?;
    super::store::set_latest(&mut tx, &super::model::latest(&fresh)).await?;
    for res in [FIVE_MINUTES, HOUR] {
        super::store::merge_rollups(&mut tx, res, &rollup(&fresh, res)).await?;
    }
    tx.commit().await
}
