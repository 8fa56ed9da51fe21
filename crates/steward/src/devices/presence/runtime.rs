//! Batched presence: every connect and disconnect goes into one queue, and
//! a single task writes what arrived in the last [`FLUSH_EVERY`] (or
//! [`MAX_BATCH`] changes) as one transaction — the history entries, then
//! each device's flag — and only then tells the rest of the server (open
//! pages, other domains) through the event bus.
//!
//! A reconnecting fleet brings thousands of these a second: one
//! transaction each would queue them behind each other and behind
//! enrolments. How a batch settles is [`settle`], pure and property-tested.

use super::model::{settle, Change};
use super::store as presence;
use crate::devices::runtime::registry::Registry;
use crate::events::{Bus, Event};
use crate::store::batch::{Batching, Queue};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
pub const MAX_BATCH: usize = 1000;

/// The sending side, in the application state.
pub struct Presence(Queue<Change>);

impl Presence {
    /// Starts the writer. It asks `agents` who is connected, and tells
    /// the `bus` what it wrote.
    pub fn start(store: Store, agents: Arc<Registry>, bus: Bus) -> Presence {
        let b = Batching { capacity: 65_536, every: FLUSH_EVERY, max: MAX_BATCH };
        Presence(Queue::spawn(
            b,
            |_| 1,
            move |changes| {
                let (store, agents, bus) = (store.clone(), agents.clone(), bus.clone());
                async move { write(&store, &agents, &bus, changes).await }
            },
        ))
    }

    /// Queues a change. Waits when the queue is full (the connection is
    /// opening or closing anyway): the history must not lose it.
    pub async fn record(&self, c: Change) {
        if !self.0.send(c).await {
            tracing::warn!("presence writer gone: change not recorded");
        }
    }

    /// Returns once everything queued before it is written (at shutdown).
    pub async fn flush(&self) {
        self.0.flush().await
    }
}

async fn write(store: &Store, agents: &Registry, bus: &Bus, changes: Vec<Change>) {
    let turn = store.ingest_turn().await;
    // Asked inside the turn, right before writing: see `settle`.
    let standings = settle(&changes, |d| agents.is_online(d));
    if let Err(e) = presence::apply(store, &changes, &standings).await {
        // One bad row (a device gone meanwhile) must not cost the others
        // their history: write them one by one.
        tracing::warn!(error = %e, changes = changes.len(), "presence batch not written; writing one by one");
        let mut by_device: HashMap<i64, Vec<Change>> = HashMap::new();
        for c in &changes {
            by_device.entry(c.device).or_default().push(c.clone());
        }
        for s in &standings {
            let mine = &by_device[&s.device];
            if let Err(e) = presence::apply(store, mine, std::slice::from_ref(s)).await {
                tracing::warn!(device = s.device, error = %e, "presence not recorded");
            }
        }
    }
    drop(turn);
    for s in &standings {
        bus.publish(Event::DevicePresence { device: s.device, client: s.client, state: s.state }).await;
    }
}
