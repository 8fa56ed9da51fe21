//! Failures of callers nobody has authenticated (wrong passwords, throttled
//! sign-ins, refused enrolments), counted and summarised, so that a stranger
//! cannot flood the audit chain: the first failure of a kind from a source in
//! a window is written at once (a single failed sign-in shows up with its
//! details), the rest of that window become one summary entry when it ends
//! (how many, which targets, first and last time). At most
//! [`SOURCES_PER_WINDOW`] sources a window get their own entries; beyond
//! that, sources are counted together. So the chain grows by a bounded
//! number of rows per window, whatever arrives.
//!
//! The counts live in this process; a clean stop writes what is pending, a
//! crash loses the summary of the current window (its first entries are
//! already written).

use super::store::{Actor, Event};
use crate::store::Store;
use crate::time::now_us;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a window lasts.
pub const WINDOW_US: i64 = 5 * 60 * 1_000_000;
/// Sources with their own entries per window; the rest are counted as one.
pub const SOURCES_PER_WINDOW: usize = 100;
/// Targets (emails, token prefixes) a summary names at most.
const TARGETS_KEPT: usize = 20;
/// The source that stands for every source past the per-window share.
const OTHER_SOURCES: &str = "(other sources)";

/// What happened the first time, and what has happened since.
struct Bucket {
    first_at: i64,
    last_at: i64,
    /// Failures after the first (the first was written on its own).
    more: u64,
    targets: BTreeSet<String>,
    targets_dropped: u64,
}

/// What to do with a failure just noted.
#[derive(Debug, PartialEq, Eq)]
pub enum Noted {
    /// The first of its kind from this source in the window: write it now.
    WriteNow,
    /// Counted into the window's summary.
    Counted,
}

/// The pure counting, separate from the writing.
#[derive(Default)]
pub struct Counts {
    windows: HashMap<(&'static str, String), Bucket>,
    sources_this_window: usize,
    window_start: i64,
}

impl Counts {
    /// Notes a failure of `action` from `source` about `target` at `now`.
    pub fn note(&mut self, action: &'static str, source: &str, target: &str, now: i64) -> Noted {
        if now - self.window_start >= WINDOW_US {
            self.window_start = now;
            self.sources_this_window = 0;
        }
        let mut key = (action, source.to_string());
        if !self.windows.contains_key(&key) {
            if self.sources_this_window >= SOURCES_PER_WINDOW {
                key.1 = OTHER_SOURCES.to_string();
            } else {
                self.sources_this_window += 1;
            }
        }
        match self.windows.get_mut(&key) {
            Some(b) => {
                b.more += 1;
                b.last_at = now;
                if b.targets.len() < TARGETS_KEPT {
                    b.targets.insert(target.chars().take(200).collect());
                } else if !b.targets.contains(target) {
                    b.targets_dropped += 1;
                }
                Noted::Counted
            }
            None => {
                let mut targets = BTreeSet::new();
                targets.insert(target.chars().take(200).collect());
                self.windows.insert(key, Bucket { first_at: now, last_at: now, more: 0, targets, targets_dropped: 0 });
                Noted::WriteNow
            }
        }
    }

    /// Takes the windows that ended by `now` (all, when `all`), as summaries
    /// of what came after their first entry.
    pub fn take_ended(&mut self, now: i64, all: bool) -> Vec<Summary> {
        let ended: Vec<(&'static str, String)> =
            self.windows.iter().filter(|(_, b)| all || now - b.first_at >= WINDOW_US).map(|(k, _)| k.clone()).collect();
        let mut out = vec![];
        for k in ended {
            let b = self.windows.remove(&k).expect("listed");
            if b.more > 0 {
                out.push(Summary {
                    action: k.0,
                    source: k.1,
                    count: b.more,
                    first_at: b.first_at,
                    last_at: b.last_at,
                    targets: b.targets.into_iter().collect(),
                    targets_dropped: b.targets_dropped,
                });
            }
        }
        out
    }
}

/// One window's failures of one kind from one source, after the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub action: &'static str,
    pub source: String,
    pub count: u64,
    pub first_at: i64,
    pub last_at: i64,
    pub targets: Vec<String>,
    pub targets_dropped: u64,
}

/// The failures of this process, and the task that writes their summaries.
#[derive(Clone)]
pub struct Failures {
    counts: Arc<Mutex<Counts>>,
    store: Store,
}

impl Failures {
    /// Starts the task that writes each window's summaries as it ends.
    pub fn start(store: Store) -> Failures {
        let f = Failures { counts: Default::default(), store };
        let writer = f.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(15));
            loop {
                tick.tick().await;
                writer.write_ended(false).await;
            }
        });
        f
    }

    /// Records a failure: at once if it is the first of its kind from this
    /// source in the window, else in the window's summary.
    pub async fn fail(&self, actor: &Actor, event: Event) {
        let action: &'static str = match event.action.as_str() {
            "auth.login_failed" => "auth.login_failed",
            "auth.throttled" => "auth.throttled",
            "device.enroll_refused" => "device.enroll_refused",
            _ => "auth.failure",
        };
        let noted = self.counts.lock().expect("failures lock").note(action, &actor.ip, &event.target_id, now_us());
        if noted == Noted::WriteNow {
            if let Err(e) = super::store::record(&self.store, actor, event).await {
                tracing::warn!(error = %e, "a failure was not audited");
            }
        }
    }

    /// Writes the summaries of the windows that ended (all, at a clean stop).
    pub async fn write_ended(&self, all: bool) {
        let ended = self.counts.lock().expect("failures lock").take_ended(now_us(), all);
        for s in ended {
            let actor = Actor { user_id: None, label: "(unauthenticated)".into(), ip: s.source.chars().take(64).collect() };
            let event = Event::new(&format!("{}.summary", s.action), "source", &s.source).details(serde_json::json!({
                "count": s.count,
                "first_at": crate::time::rfc3339(s.first_at),
                "last_at": crate::time::rfc3339(s.last_at),
                "targets": s.targets,
                "targets_not_listed": s.targets_dropped,
            }));
            if let Err(e) = super::store::record(&self.store, &actor, event).await {
                tracing::warn!(error = %e, "a failure summary was not audited");
            }
        }
    }

    /// Writes everything pending (a clean stop).
    pub async fn flush(&self) {
        self.write_ended(true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_first_failure_is_written_and_the_rest_summarised() {
        let mut c = Counts::default();
        assert_eq!(c.note("auth.login_failed", "10.0.0.1", "a@x", 0), Noted::WriteNow);
        for i in 1..300 {
            assert_eq!(c.note("auth.login_failed", "10.0.0.1", &format!("u{}@x", i % 30), i), Noted::Counted);
        }
        assert!(c.take_ended(WINDOW_US - 1, false).is_empty(), "not before the window ends");
        let s = c.take_ended(WINDOW_US, false);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].count, s[0].targets.len(), s[0].first_at, s[0].last_at), (299, TARGETS_KEPT, 0, 299));
        assert_eq!(c.note("auth.login_failed", "10.0.0.1", "a@x", WINDOW_US + 1), Noted::WriteNow, "a new window");
    }

    proptest! {
        /// However many failures from however many sources, a window writes
        /// at most (sources per window + 1) first entries per kind, and
        /// every failure is counted once: in a first entry or a summary.
        #[test]
        fn the_rows_written_are_bounded_and_nothing_is_lost(events in prop::collection::vec((0u32..500, 0usize..3), 1..2000)) {
            let kinds = ["auth.login_failed", "auth.throttled", "device.enroll_refused"];
            let mut c = Counts::default();
            let mut first = 0u64;
            for (i, (src, kind)) in events.iter().enumerate() {
                if c.note(kinds[*kind], &format!("10.0.{}.{}", src / 256, src % 256), "t", i as i64) == Noted::WriteNow {
                    first += 1;
                }
            }
            prop_assert!(first as usize <= (SOURCES_PER_WINDOW + 1) * kinds.len());
            let summarised: u64 = c.take_ended(0, true).iter().map(|s| s.count).sum();
            prop_assert_eq!(first + summarised, events.len() as u64);
        }
    }
}
