//! The settings an agent runs with, inherited down the tenancy: the
//! device's own value wins, else its site's, else its client's, else the
//! server's configuration. Each setting is inherited on its own, so a
//! client can set the metrics period while one of its sites (or one
//! device) changes only the heartbeat.
//!
//! Pure: the gateway applies the result at each handshake, and
//! `settings_push` when a client, site or device changes.

use crate::config::AgentDefaults as Defaults;
use serde::Serialize;

/// Seconds between an agent's heartbeats: what the server's
/// `agent_heartbeat_secs` allows and agents accept.
pub const HEARTBEAT_SECS: std::ops::RangeInclusive<i64> = crate::config::AGENT_HEARTBEAT_SECS;

/// Seconds between metric samples a client, site or device may set. The
/// server's own `agent_metrics_secs` may go down to 1 s (tests, demos); an
/// override may apply to a whole client's fleet, so it may not go below 10 s.
pub const METRICS_SECS: std::ops::RangeInclusive<i64> = 10..=3600;

/// What one level (a client, a site or a device) sets; `None` inherits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub heartbeat_secs: Option<i64>,
    pub metrics_secs: Option<i64>,
}

/// Where a setting came from, shown on the device page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Server,
    Client,
    Site,
    Device,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Server => "server",
            Source::Client => "client",
            Source::Site => "site",
            Source::Device => "device",
        })
    }
}

/// What a device's agent runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Effective {
    pub heartbeat_secs: u32,
    pub heartbeat_from: Source,
    pub metrics_secs: u32,
    pub metrics_from: Source,
    /// Silence after which the device counts as gone: three heartbeat
    /// periods when a client, site or device sets the period, else the server's
    /// `agent_offline_after_secs` (which its operator chose for the
    /// server's period).
    pub offline_after_secs: u32,
}

/// The levels above the server, nearest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Levels {
    pub device: Overrides,
    pub site: Overrides,
    pub client: Overrides,
}

impl Levels {
    fn nearest_first(&self) -> [(Overrides, Source); 3] {
        [(self.device, Source::Device), (self.site, Source::Site), (self.client, Source::Client)]
    }
}

/// The first value set, nearest level first, kept within `range` (stored
/// values were validated on write; the clamp guards hand-edited rows).
fn pick(levels: &Levels, setting: fn(&Overrides) -> Option<i64>, range: &std::ops::RangeInclusive<i64>) -> Option<(u32, Source)> {
    let (v, from) = levels.nearest_first().into_iter().find_map(|(o, from)| setting(&o).map(|v| (v, from)))?;
    Some((v.clamp(*range.start(), *range.end()) as u32, from))
}

/// Resolves a device's settings from its own, its site's and its client's
/// overrides.
pub fn resolve(server: Defaults, levels: Levels) -> Effective {
    let heartbeat = pick(&levels, |o| o.heartbeat_secs, &HEARTBEAT_SECS);
    let (metrics_secs, metrics_from) = pick(&levels, |o| o.metrics_secs, &METRICS_SECS).unwrap_or((server.metrics_secs, Source::Server));
    let (heartbeat_secs, heartbeat_from, offline_after_secs) = match heartbeat {
        Some((h, from)) => (h, from, 3 * h),
        None => (server.heartbeat_secs, Source::Server, server.offline_after_secs),
    };
    Effective { heartbeat_secs, heartbeat_from, metrics_secs, metrics_from, offline_after_secs }
}

/// A setting's range as a message naming it.
pub fn check(v: i64, range: &std::ops::RangeInclusive<i64>) -> Result<i64, String> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between {} and {} seconds", range.start(), range.end()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SERVER: Defaults = Defaults { heartbeat_secs: 30, metrics_secs: 60, offline_after_secs: 90 };

    fn level() -> impl Strategy<Value = Overrides> {
        (proptest::option::of(-10i64..10_000), proptest::option::of(-10i64..10_000))
            .prop_map(|(heartbeat_secs, metrics_secs)| Overrides { heartbeat_secs, metrics_secs })
    }

    #[test]
    fn nothing_set_follows_the_server() {
        let e = resolve(SERVER, Levels::default());
        assert_eq!(
            e,
            Effective {
                heartbeat_secs: 30,
                heartbeat_from: Source::Server,
                metrics_secs: 60,
                metrics_from: Source::Server,
                offline_after_secs: 90
            }
        );
    }

    #[test]
    fn each_setting_is_inherited_on_its_own() {
        let client = Overrides { heartbeat_secs: Some(60), metrics_secs: Some(300) };
        let site = Overrides { heartbeat_secs: Some(10), metrics_secs: None };
        let e = resolve(SERVER, Levels { client, site, ..Default::default() });
        assert_eq!((e.heartbeat_secs, e.heartbeat_from), (10, Source::Site));
        assert_eq!((e.metrics_secs, e.metrics_from), (300, Source::Client));
        assert_eq!(e.offline_after_secs, 30);
        // One device of that site on its own heartbeat.
        let device = Overrides { heartbeat_secs: Some(5), metrics_secs: None };
        let e = resolve(SERVER, Levels { client, site, device });
        assert_eq!((e.heartbeat_secs, e.heartbeat_from, e.offline_after_secs), (5, Source::Device, 15));
        assert_eq!(e.metrics_from, Source::Client);
    }

    proptest! {
        #[test]
        fn the_nearest_level_wins_and_the_result_is_always_in_range(client in level(), site in level(), device in level()) {
            let e = resolve(SERVER, Levels { device, site, client });
            let from = |d: Option<i64>, s: Option<i64>| if d.is_some() { Source::Device } else if s.is_some() { Source::Site } else { Source::Client };
            match device.heartbeat_secs.or(site.heartbeat_secs).or(client.heartbeat_secs) {
                Some(v) => {
                    prop_assert_eq!(e.heartbeat_secs as i64, v.clamp(5, 3600));
                    prop_assert_eq!(e.heartbeat_from, from(device.heartbeat_secs, site.heartbeat_secs));
                    prop_assert_eq!(e.offline_after_secs, 3 * e.heartbeat_secs);
                }
                None => prop_assert_eq!((e.heartbeat_secs, e.heartbeat_from, e.offline_after_secs), (30, Source::Server, 90)),
            }
            match device.metrics_secs.or(site.metrics_secs).or(client.metrics_secs) {
                Some(v) => {
                    prop_assert_eq!(e.metrics_secs as i64, v.clamp(10, 3600));
                    prop_assert_eq!(e.metrics_from, from(device.metrics_secs, site.metrics_secs));
                }
                None => prop_assert_eq!((e.metrics_secs, e.metrics_from), (60, Source::Server)),
            }
            prop_assert!(HEARTBEAT_SECS.contains(&(e.heartbeat_secs as i64)));
            prop_assert!(e.offline_after_secs > e.heartbeat_secs);
        }

        #[test]
        fn check_accepts_exactly_the_range(v in -100i64..5000) {
            prop_assert_eq!(check(v, &METRICS_SECS).is_ok(), METRICS_SECS.contains(&v));
            prop_assert_eq!(check(v, &HEARTBEAT_SECS).is_ok(), HEARTBEAT_SECS.contains(&v));
        }
    }
}
