//! The queue between agents' connections and the checks domain: the
//! gateway hands each `CheckResults` message here without waiting, and the
//! domain's listener (`checks::agents`) takes them in batches. When the
//! queue is full a batch is dropped and counted (agents report again at
//! their next interval; a check's state needs several results to change).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use steward_protocol::checks::CheckResult;
use tokio::sync::mpsc;

/// One agent message's results, checked by the gateway.
#[derive(Debug)]
pub struct Reported {
    pub device: i64,
    pub client: i64,
    /// The agent's clock minus the server's when the message arrived.
    pub drift_secs: i64,
    /// When it arrived (µs).
    pub received_at: i64,
    pub results: Vec<CheckResult>,
}

/// Messages waiting at most.
const QUEUE: usize = 16_384;

pub struct CheckIngest {
    tx: mpsc::Sender<Reported>,
    rx: Mutex<Option<mpsc::Receiver<Reported>>>,
    dropped: AtomicU64,
}

impl Default for CheckIngest {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        CheckIngest { tx, rx: Mutex::new(Some(rx)), dropped: AtomicU64::new(0) }
    }
}

impl CheckIngest {
    /// Queues a message; never waits.
    pub fn submit(&self, r: Reported) {
        if self.tx.try_send(r).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "check results dropped: the checks queue is full");
            }
        }
    }

    /// The receiving end, once (the listener takes it when it starts).
    pub fn take_receiver(&self) -> Option<mpsc::Receiver<Reported>> {
        self.rx.lock().expect("ingest lock").take()
    }

    /// Messages dropped since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
