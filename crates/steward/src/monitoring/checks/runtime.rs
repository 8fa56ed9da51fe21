//! The queues between agents' connections and the checks domain: the
//! gateway hands each `CheckResults` message, and each connection of an
//! agent that runs checks, here without waiting, and the domain's worker
//! (`checks::agents`) takes them (results in batches). When the
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
    /// The set version the agent said it runs (older agents do not say).
    pub runs: Option<String>,
}

/// Messages waiting at most.
const QUEUE: usize = 16_384;

/// An agent that runs checks connected, running the set of `version`
/// (`""`: none); it is sent its set when that differs.
#[derive(Debug)]
pub struct Wanted {
    pub device: i64,
    pub version: String,
}

pub struct CheckIngest {
    tx: mpsc::Sender<Reported>,
    rx: Mutex<Option<mpsc::Receiver<Reported>>>,
    /// Not bounded: one small message per connection, and a connection
    /// must never wait for the checks domain.
    wanted_tx: mpsc::UnboundedSender<Wanted>,
    wanted_rx: Mutex<Option<mpsc::UnboundedReceiver<Wanted>>>,
    dropped: AtomicU64,
}

impl Default for CheckIngest {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (wanted_tx, wanted_rx) = mpsc::unbounded_channel();
        CheckIngest { tx, rx: Mutex::new(Some(rx)), wanted_tx, wanted_rx: Mutex::new(Some(wanted_rx)), dropped: AtomicU64::new(0) }
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

    /// Says an agent that runs checks connected; never waits.
    pub fn want(&self, device: i64, version: String) {
        let _ = self.wanted_tx.send(Wanted { device, version });
    }

    /// The receiving ends, once (the checks domain takes them when it starts).
    pub fn take_receivers(&self) -> Option<(mpsc::Receiver<Reported>, mpsc::UnboundedReceiver<Wanted>)> {
        let results = self.rx.lock().expect("ingest lock").take()?;
        let wanted = self.wanted_rx.lock().expect("ingest lock").take()?;
        Some((results, wanted))
    }
}
