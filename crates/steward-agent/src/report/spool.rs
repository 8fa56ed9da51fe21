//! The metric buffer: samples wait here until the server acknowledges
//! them (`MetricsStored`), so nothing taken while the server is unreachable
//! is lost. Bounded: when full, the oldest tenth is dropped and counted
//! (the count goes to the server with the next batch). Kept on disk as JSON
//! lines beside the configuration, so a restart of the agent loses nothing
//! either; a simulated agent keeps it in memory only.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::PathBuf;
use steward_protocol::report::Sample;

pub const FILE: &str = "metrics.spool";
/// A week of one sample a minute.
pub const DEFAULT_MAX: usize = 7 * 24 * 60;

pub struct Spool {
    items: VecDeque<Sample>,
    path: Option<PathBuf>,
    max: usize,
    dropped: u64,
}

impl Spool {
    /// Opens the buffer, reading what a previous run left (damaged lines skipped).
    pub fn open(path: Option<PathBuf>, max: usize) -> Spool {
        let items: VecDeque<Sample> = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
            .unwrap_or_default();
        let mut s = Spool { items, path, max: max.max(10), dropped: 0 };
        s.trim_to_bound();
        s
    }

    /// Samples waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds a sample (newest last).
    pub fn push(&mut self, s: Sample) {
        let line = serde_json::to_string(&s).expect("samples serialise");
        self.items.push_back(s);
        if self.items.len() > self.max {
            self.trim_to_bound();
        } else if let Some(p) = &self.path {
            let _ = std::fs::OpenOptions::new().create(true).append(true).open(p).and_then(|mut f| writeln!(f, "{line}"));
        }
    }

    fn trim_to_bound(&mut self) {
        if self.items.len() > self.max {
            let drop = self.items.len() - self.max + self.max / 10;
            self.items.drain(..drop);
            self.dropped += drop as u64;
            self.rewrite();
        }
    }

    /// The server stored everything up to `upto`: forget it.
    pub fn ack(&mut self, upto: i64) {
        let before = self.items.len();
        self.items.retain(|s| s.at > upto);
        if self.items.len() != before {
            self.rewrite();
        }
    }

    /// Samples newer than `after`, oldest first, at most `limit`.
    pub fn after(&self, after: i64, limit: usize) -> Vec<Sample> {
        self.items.iter().filter(|s| s.at > after).take(limit).cloned().collect()
    }

    /// Samples dropped since the last call.
    pub fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    fn rewrite(&self) {
        let Some(p) = &self.path else { return };
        let mut text = String::new();
        for s in &self.items {
            text.push_str(&serde_json::to_string(s).expect("samples serialise"));
            text.push('\n');
        }
        let tmp = p.with_extension("tmp");
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(at: i64) -> Sample {
        Sample { at, values: [("cpu".to_string(), 1.0)].into() }
    }

    proptest! {
        #[test]
        fn bounded_keeps_the_newest_and_counts_every_loss(n in 0i64..300, max in 10usize..60, acked in 0i64..300) {
            let mut s = Spool::open(None, max);
            for at in 1..=n {
                s.push(sample(at));
            }
            prop_assert!(s.len() <= max);
            let kept = s.after(0, usize::MAX);
            // The newest are kept, in order, with no gap.
            prop_assert!(kept.windows(2).all(|w| w[1].at == w[0].at + 1));
            prop_assert_eq!(kept.last().map(|x| x.at), (n > 0).then_some(n));
            prop_assert_eq!(s.take_dropped() + s.len() as u64, n as u64);
            s.ack(acked);
            prop_assert!(s.after(0, usize::MAX).iter().all(|x| x.at > acked));
        }
    }

    #[test]
    fn what_was_not_acknowledged_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut s = Spool::open(Some(path.clone()), 100);
        for at in 1..=5 {
            s.push(sample(at));
        }
        s.ack(2);
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{damaged\n").unwrap();
        let again = Spool::open(Some(path), 100);
        assert_eq!(again.after(0, 10).iter().map(|x| x.at).collect::<Vec<_>>(), [3, 4, 5]);
    }
}
