//! Batched presence: every connect and disconnect goes into one queue, and
//! a single task writes what arrived in the last [`FLUSH_EVERY`] (or
//! [`MAX_BATCH`] changes) as one transaction — the history entries, then
//! each device's flag — and only then tells open pages.
//!
//! A reconnecting fleet brings thousands of these a second; one
//! transaction each queued them behind each other and behind enrolments,
//! and their waiting tasks were most of the server's memory at its peak
//! (bench/RESULTS.md). How a batch settles is [`settle`], pure and
//! property-tested.

use super::store as devices;
use crate::http::AppState;
use crate::store::batch::{Batching, Queue};
use crate::store::{now_us, Store};
use std::collections::{BTreeMap, HashMap};
use std::sync::Weak;
use std::time::Duration;

pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
pub const MAX_BATCH: usize = 1000;

/// A connection opened (`online`) or ended, as the gateway saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub device: i64,
    pub client: i64,
    pub online: bool,
    /// The agent version it reported, on connect.
    pub version: Option<String>,
    /// For the history: "connected from …", "silent", "revoked", ….
    pub reason: String,
    /// When it happened (µs), not when it was written.
    pub at: i64,
}

impl Change {
    pub fn online(device: i64, client: i64, version: Option<String>, reason: String) -> Change {
        Change { device, client, online: true, version, reason, at: now_us() }
    }

    pub fn offline(device: i64, client: i64, why: &str) -> Change {
        Change { device, client, online: false, version: None, reason: why.to_string(), at: now_us() }
    }

    fn revoked(&self) -> bool {
        !self.online && self.reason == REVOKED
    }
}

/// The reason a revocation closes a connection with.
pub const REVOKED: &str = "revoked";

/// Where one device stands after a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub device: i64,
    pub client: i64,
    pub online: bool,
    /// The newest version reported in the batch, if any.
    pub version: Option<String>,
    /// What open pages are told: `online`, `offline` or `removed`.
    pub event: &'static str,
}

/// How a batch settles: every change goes into the history in order; each
/// device's flag is its last change — unless it is connected right now,
/// which wins (a replacing connection registers before its old one has
/// finished closing, so an "offline" can be queued after the newer
/// "online"; a connection that registers after this check queues its own
/// change for the next batch).
pub fn settle(changes: &[Change], connected: impl Fn(i64) -> bool) -> Vec<Standing> {
    let mut last: BTreeMap<i64, (&Change, Option<&String>)> = BTreeMap::new();
    for c in changes {
        let version = c.version.as_ref().or_else(|| last.get(&c.device).and_then(|(_, v)| *v));
        last.insert(c.device, (c, version));
    }
    last.into_iter()
        .map(|(device, (c, version))| {
            let online = c.online || connected(device);
            let event = match (online, c.revoked()) {
                (true, _) => "online",
                (false, true) => "removed",
                (false, false) => "offline",
            };
            Standing { device, client: c.client, online, version: version.cloned(), event }
        })
        .collect()
}

/// The sending side, in the application state.
pub struct Presence(Queue<Change>);

impl Presence {
    /// Starts the writer. It asks `app` (weakly: the state owns this) who
    /// is connected, and publishes to its open pages.
    pub fn start(store: Store, app: Weak<AppState>) -> Presence {
        let b = Batching { capacity: 65_536, every: FLUSH_EVERY, max: MAX_BATCH };
        Presence(Queue::spawn(
            b,
            |_| 1,
            move |changes| {
                let (store, app) = (store.clone(), app.clone());
                async move { write(&store, &app, changes).await }
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

async fn write(store: &Store, app: &Weak<AppState>, changes: Vec<Change>) {
    let _turn = store.ingest_turn().await;
    // Asked inside the turn, right before writing: see `settle`.
    let app = app.upgrade();
    let standings = settle(&changes, |d| app.as_ref().is_some_and(|a| a.agents.is_online(d)));
    if let Err(e) = devices::apply_presence(store, &changes, &standings).await {
        // One bad row (a device gone meanwhile) must not cost the others
        // their history: write them one by one.
        tracing::warn!(error = %e, changes = changes.len(), "presence batch not written; writing one by one");
        let mut by_device: HashMap<i64, Vec<Change>> = HashMap::new();
        for c in &changes {
            by_device.entry(c.device).or_default().push(c.clone());
        }
        for s in &standings {
            let mine = &by_device[&s.device];
            if let Err(e) = devices::apply_presence(store, mine, std::slice::from_ref(s)).await {
                tracing::warn!(device = s.device, error = %e, "presence not recorded");
            }
        }
    }
    if let Some(app) = app {
        for s in &standings {
            app.live.publish(s.device, s.client, s.event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn change(device: i64, online: bool, reason: &str, version: Option<&str>) -> Change {
        Change { device, client: device * 10, online, version: version.map(String::from), reason: reason.into(), at: 0 }
    }

    #[test]
    fn the_last_change_of_each_device_wins() {
        let s = settle(
            &[change(1, true, "connected", Some("1.0")), change(2, true, "connected", None), change(1, false, "silent", None)],
            |_| false,
        );
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].device, s[0].online, s[0].event, s[0].version.as_deref()), (1, false, "offline", Some("1.0")));
        assert_eq!((s[1].device, s[1].online, s[1].event, s[1].client), (2, true, "online", 20));
    }

    #[test]
    fn a_connection_registered_now_beats_a_late_offline() {
        let s = settle(&[change(7, true, "connected", Some("2.0")), change(7, false, "replaced", None)], |d| d == 7);
        assert_eq!((s[0].online, s[0].event), (true, "online"));
    }

    #[test]
    fn a_revoked_device_is_removed_from_pages() {
        let s = settle(&[change(3, false, REVOKED, None)], |_| false);
        assert_eq!((s[0].online, s[0].event), (false, "removed"));
    }

    fn changes() -> impl Strategy<Value = Vec<Change>> {
        prop::collection::vec(
            (0i64..6, any::<bool>(), prop::sample::select(vec!["connected", "silent", REVOKED]), prop::option::of("[0-9]\\.[0-9]")),
            0..40,
        )
        .prop_map(|v| v.into_iter().map(|(d, on, r, ver)| change(d, on, r, ver.as_deref())).collect())
    }

    proptest! {
        /// One standing per device that changed; its flag is its last
        /// change or-ed with being connected; its version the newest
        /// reported; the event agrees with the flag.
        #[test]
        fn standings_follow_the_last_change(cs in changes(), connected in prop::collection::hash_set(0i64..6, 0..6)) {
            let s = settle(&cs, |d| connected.contains(&d));
            let devices: std::collections::BTreeSet<i64> = cs.iter().map(|c| c.device).collect();
            prop_assert_eq!(s.iter().map(|s| s.device).collect::<Vec<_>>(), devices.into_iter().collect::<Vec<_>>());
            for st in &s {
                let mine: Vec<&Change> = cs.iter().filter(|c| c.device == st.device).collect();
                let last = mine.last().unwrap();
                prop_assert_eq!(st.online, last.online || connected.contains(&st.device));
                prop_assert_eq!(st.version.as_deref(), mine.iter().rev().find_map(|c| c.version.as_deref()));
                prop_assert_eq!(st.event == "online", st.online);
                prop_assert_eq!(st.event == "removed", !st.online && last.reason == REVOKED);
            }
        }
    }
}
