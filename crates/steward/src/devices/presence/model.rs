//! How a batch of presence changes settles, as a pure function: every
//! change goes into the history, and each device's flag is its last change
//! unless it is connected right now ([`settle`], property-tested).

use crate::time::now_us;
use std::collections::BTreeMap;

/// A device's connection state, as pages show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Online,
    Offline,
    /// Removed from Steward (revoked).
    Removed,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Offline => "offline",
            Presence::Removed => "removed",
        }
    }
}

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
    /// What the rest of the server is told.
    pub state: Presence,
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
            let state = match (online, c.revoked()) {
                (true, _) => Presence::Online,
                (false, true) => Presence::Removed,
                (false, false) => Presence::Offline,
            };
            Standing { device, client: c.client, online, version: version.cloned(), state }
        })
        .collect()
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
        assert_eq!((s[0].device, s[0].online, s[0].state, s[0].version.as_deref()), (1, false, Presence::Offline, Some("1.0")));
        assert_eq!((s[1].device, s[1].online, s[1].state, s[1].client), (2, true, Presence::Online, 20));
    }

    #[test]
    fn a_connection_registered_now_beats_a_late_offline() {
        let s = settle(&[change(7, true, "connected", Some("2.0")), change(7, false, "replaced", None)], |d| d == 7);
        assert_eq!((s[0].online, s[0].state), (true, Presence::Online));
    }

    #[test]
    fn a_revoked_device_is_removed_from_pages() {
        let s = settle(&[change(3, false, REVOKED, None)], |_| false);
        assert_eq!((s[0].online, s[0].state), (false, Presence::Removed));
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
                prop_assert_eq!(st.state == Presence::Online, st.online);
                prop_assert_eq!(st.state == Presence::Removed, !st.online && last.reason == REVOKED);
            }
        }
    }
}
