//! The settings an agent runs with, inherited down the tenancy: a site's
//! own value wins, else its client's, else the server's configuration.
//! Each setting is inherited on its own, so a client can set the metrics
//! period while one of its sites changes only the heartbeat.
//!
//! Pure: the gateway applies the result at each handshake, and
//! `settings_push` when a client or site changes.

use serde::Serialize;

/// Seconds between an agent's heartbeats: what the server's
/// `agent_heartbeat_secs` allows and agents accept.
pub const HEARTBEAT_SECS: std::ops::RangeInclusive<i64> = 5..=3600;

/// Seconds between metric samples a client or site may set. The server's
/// own `agent_metrics_secs` may go down to 1 s (tests, demos); an override
/// applies to a whole client's fleet, so it may not go below 10 s.
pub const METRICS_SECS: std::ops::RangeInclusive<i64> = 10..=3600;

/// What one level (a client or a site) sets; `None` inherits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub heartbeat_secs: Option<i64>,
    pub metrics_secs: Option<i64>,
}

/// The server's configuration, the last level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub heartbeat_secs: u32,
    pub metrics_secs: u32,
    /// Silence after which a device on the server's heartbeat counts as gone.
    pub offline_after_secs: u32,
}

/// Where a setting came from, shown on the device page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Server,
    Client,
    Site,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Server => "server",
            Source::Client => "client",
            Source::Site => "site",
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
    /// periods when a client or site sets the period, else the server's
    /// `agent_offline_after_secs` (which its operator chose for the
    /// server's period).
    pub offline_after_secs: u32,
}

/// The first value set, nearest level first, kept within `range` (stored
/// values were validated on write; the clamp guards hand-edited rows).
fn pick(site: Option<i64>, client: Option<i64>, range: &std::ops::RangeInclusive<i64>) -> Option<(u32, Source)> {
    let (v, from) = match (site, client) {
        (Some(v), _) => (v, Source::Site),
        (None, Some(v)) => (v, Source::Client),
        (None, None) => return None,
    };
    Some((v.clamp(*range.start(), *range.end()) as u32, from))
}

/// Resolves a device's settings from its client's and site's overrides.
pub fn resolve(server: Defaults, client: Overrides, site: Overrides) -> Effective {
    let heartbeat = pick(site.heartbeat_secs, client.heartbeat_secs, &HEARTBEAT_SECS);
    let (metrics_secs, metrics_from) =
        pick(site.metrics_secs, client.metrics_secs, &METRICS_SECS).unwrap_or((server.metrics_secs, Source::Server));
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
        let e = resolve(SERVER, Overrides::default(), Overrides::default());
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
        let e = resolve(SERVER, client, site);
        assert_eq!((e.heartbeat_secs, e.heartbeat_from), (10, Source::Site));
        assert_eq!((e.metrics_secs, e.metrics_from), (300, Source::Client));
        assert_eq!(e.offline_after_secs, 30);
    }

    proptest! {
        #[test]
        fn the_nearest_level_wins_and_the_result_is_always_in_range(client in level(), site in level()) {
            let e = resolve(SERVER, client, site);
            let expect_hb = site.heartbeat_secs.or(client.heartbeat_secs);
            match expect_hb {
                Some(v) => {
                    prop_assert_eq!(e.heartbeat_secs as i64, v.clamp(5, 3600));
                    prop_assert_eq!(e.heartbeat_from, if site.heartbeat_secs.is_some() { Source::Site } else { Source::Client });
                    prop_assert_eq!(e.offline_after_secs, 3 * e.heartbeat_secs);
                }
                None => prop_assert_eq!((e.heartbeat_secs, e.offline_after_secs), (30, 90)),
            }
            match site.metrics_secs.or(client.metrics_secs) {
                Some(v) => prop_assert_eq!(e.metrics_secs as i64, v.clamp(10, 3600)),
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
