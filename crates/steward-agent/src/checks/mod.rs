//! The checks this agent runs for its monitoring policy: the set the
//! server last sent (in a signed command, kept on disk so it runs while the
//! server is unreachable and after a restart), each check on its own
//! interval, and the results waiting to be sent.
//!
//! Each check runs in its own task, never two runs of one check at once, so
//! a slow HTTP check does not hold up a disk check. Results wait in a
//! bounded buffer (the oldest go first when it is full) and the connection
//! sends them in batches.

mod http;
mod probe;
pub mod simulated;
mod system;

use crate::report::Machine;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use steward_protocol::checks::{CheckResult, CheckSet, CheckSpec, MAX_RESULTS};
use tokio::sync::{watch, Notify};

/// Where the accepted set is kept, beside the configuration.
pub const FILE: &str = "checks.json";
/// Results kept while the server is unreachable.
const BUFFER: usize = 5_000;
/// The shortest interval the agent runs a check at, whatever it is sent.
pub const MIN_INTERVAL_SECS: u32 = 10;
/// Output kept per result.
pub const MAX_OUTPUT: usize = 4_096;

/// The running set and the results not yet sent.
pub struct Checks {
    set: watch::Sender<CheckSet>,
    pending: Mutex<VecDeque<CheckResult>>,
    /// Woken when a result is ready.
    pub fresh: Notify,
    file: Option<PathBuf>,
}

impl Checks {
    /// The set kept in `dir` (none yet: an empty one).
    pub fn load(dir: Option<&std::path::Path>) -> Arc<Checks> {
        let file = dir.map(|d| d.join(FILE));
        let set =
            file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        Arc::new(Checks { set: watch::Sender::new(set), pending: Mutex::new(VecDeque::new()), fresh: Notify::new(), file })
    }

    /// The version of the running set (`""`: none), for `Hello`.
    pub fn version(&self) -> String {
        self.set.borrow().version.clone()
    }

    /// Runs `set` from now on and keeps it; returns what to tell the server.
    pub fn replace(&self, set: CheckSet) -> (bool, String) {
        let n = set.checks.len();
        if let Some(f) = &self.file {
            let tmp = f.with_extension("tmp");
            let saved = std::fs::write(&tmp, serde_json::to_vec(&set).expect("serialises")).and_then(|_| std::fs::rename(&tmp, f));
            if let Err(e) = saved {
                // Still run it: it is only lost at a restart.
                eprintln!("steward-agent: the check set is not kept on disk: {e}");
            }
        }
        self.set.send_replace(set);
        (true, format!("running {n} checks"))
    }

    fn push(&self, r: CheckResult) {
        let mut q = self.pending.lock().expect("checks lock");
        if q.len() >= BUFFER {
            q.pop_front();
        }
        q.push_back(r);
        drop(q);
        self.fresh.notify_one();
    }

    /// Up to one message's worth of waiting results, oldest first.
    pub fn take(&self) -> Vec<CheckResult> {
        let mut q = self.pending.lock().expect("checks lock");
        let n = q.len().min(MAX_RESULTS);
        q.drain(..n).collect()
    }

    /// Puts results that could not be sent back in front.
    pub fn put_back(&self, results: Vec<CheckResult>) {
        let mut q = self.pending.lock().expect("checks lock");
        for r in results.into_iter().rev() {
            if q.len() >= BUFFER {
                break;
            }
            q.push_front(r);
        }
    }
}

/// Runs the current set forever, starting over whenever it changes.
pub async fn run_forever(machine: Machine, checks: Arc<Checks>) {
    let mut set_rx = checks.set.subscribe();
    let ctx = Arc::new(probe::Context::new(&machine));
    loop {
        let set = set_rx.borrow_and_update().clone();
        let runners: Vec<_> =
            set.checks.into_iter().enumerate().map(|(i, spec)| tokio::spawn(run_one(spec, i, ctx.clone(), checks.clone()))).collect();
        let _ = set_rx.changed().await;
        for r in runners {
            r.abort();
        }
    }
}

/// Runs one check on its interval; the first run comes soon after the set
/// arrives (spread over a few seconds, so twenty checks do not start at once).
async fn run_one(spec: CheckSpec, index: usize, ctx: Arc<probe::Context>, checks: Arc<Checks>) {
    let every = Duration::from_secs(spec.interval_secs.max(MIN_INTERVAL_SECS).into());
    tokio::time::sleep(Duration::from_millis(100 * (index as u64 % 30))).await;
    let mut memory = probe::Memory::default();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (verdict, mut output, value) = probe::run(&spec, &ctx, &mut memory).await;
        if output.len() > MAX_OUTPUT {
            let mut cut = MAX_OUTPUT;
            while !output.is_char_boundary(cut) {
                cut -= 1;
            }
            output.truncate(cut);
        }
        checks.push(CheckResult { key: spec.key.clone(), at: crate::link::now(), verdict, output, value });
    }
}
