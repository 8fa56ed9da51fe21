//! The device list's columns and saved views as pure rules: which columns
//! exist and in what order, how a view's query is normalized, how a view
//! opens. No I/O; property-tested.

use serde::{Deserialize, Serialize};

/// Every column the list can show after the host name (always shown), in
/// the order shown: key and header.
pub const COLUMNS: [(&str, &str); 12] = [
    ("client", "Client"),
    ("site", "Site"),
    ("os", "OS"),
    ("cpu", "CPU"),
    ("memory", "Memory"),
    ("disk", "Disk"),
    ("ip", "IP address"),
    ("user", "Signed in"),
    ("uptime", "Uptime"),
    ("agent", "Agent"),
    ("state", "State"),
    ("last_seen", "Last seen"),
];

/// What a user who never chose sees.
pub const DEFAULT_COLUMNS: [&str; 9] = ["client", "site", "os", "cpu", "memory", "disk", "ip", "state", "last_seen"];

/// The chosen columns in the list's order, each once, or the first
/// unknown name.
pub fn columns(chosen: &[String]) -> Result<Vec<&'static str>, String> {
    if let Some(bad) = chosen.iter().find(|c| !COLUMNS.iter().any(|(k, _)| k == c)) {
        return Err(bad.clone());
    }
    Ok(COLUMNS.iter().map(|(k, _)| *k).filter(|k| chosen.iter().any(|c| c == k)).collect())
}

/// A named device list filter a user saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct View {
    pub name: String,
    /// The list's query string, e.g. `state=offline&client_id=3`.
    pub query: String,
}

/// The most views one user keeps.
pub const MAX_VIEWS: usize = 30;

/// The longest query a view keeps.
pub const MAX_QUERY: usize = 2000;

/// The list's parameters a view may hold, in the order a normalized query
/// lists them (`offset` is left out: a view opens at its first page).
pub const PARAMS: [&str; 7] = ["client_id", "site_id", "os", "state", "q", "sort", "order"];

/// `raw` as a view's query: known parameters only, each once, empty ones
/// and `offset` dropped, in [`PARAMS`] order; or what is wrong with it.
pub fn normalize(raw: &str) -> Result<String, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.trim().trim_start_matches('?')).map_err(|e| format!("not a query string: {e}"))?;
    let mut kept: Vec<(String, String)> = vec![];
    for (k, v) in pairs {
        if k == "offset" {
            continue;
        }
        if !PARAMS.contains(&k.as_str()) {
            return Err(format!("{k:?} is not a device list parameter ({})", PARAMS.join(", ")));
        }
        if kept.iter().any(|(n, _)| *n == k) {
            return Err(format!("{k:?} is given twice"));
        }
        if !v.trim().is_empty() {
            kept.push((k, v.trim().to_string()));
        }
    }
    kept.sort_by_key(|(k, _)| PARAMS.iter().position(|n| n == k));
    serde_urlencoded::to_string(&kept).map_err(|e| e.to_string())
}

/// The device list's path for a query a form sent back (anything but the
/// list's own parameters dropped), with `extra` (already encoded) added.
pub fn list_path(back: &str, extra: &str) -> String {
    let back = normalize(back).unwrap_or_default();
    let parts: Vec<&str> = [back.as_str(), extra].into_iter().filter(|s| !s.is_empty()).collect();
    format!("/devices?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_query_keeps_known_parameters_in_one_order() {
        assert_eq!(normalize("?state=offline&client_id=3&offset=50&q=").unwrap(), "client_id=3&state=offline");
        assert!(normalize("sort=cpu&sort=disk").unwrap_err().contains("twice"));
        assert!(normalize("evil=1").unwrap_err().contains("not a device list parameter"));
    }

    #[test]
    fn a_way_back_keeps_only_the_list() {
        assert_eq!(list_path("state=online&next=https://evil.example", ""), "/devices?");
        assert_eq!(list_path("q=web&offset=100", "moved=2"), "/devices?q=web&moved=2");
    }

    #[test]
    fn columns_follow_the_list_order_and_refuse_unknown_ones() {
        let c = columns(&["disk".into(), "client".into(), "disk".into()]).unwrap();
        assert_eq!(c, ["client", "disk"]);
        assert_eq!(columns(&["password".into()]).unwrap_err(), "password");
    }

    proptest! {
        #[test]
        fn normalizing_is_idempotent(pairs in prop::collection::vec((prop::sample::select(PARAMS.to_vec()), "[a-z0-9 &=%]{0,6}"), 0..6)) {
            let raw = serde_urlencoded::to_string(&pairs).unwrap();
            if let Ok(once) = normalize(&raw) {
                prop_assert_eq!(normalize(&once).unwrap(), once.clone());
                // Nothing known is lost, nothing empty kept.
                let back: Vec<(String, String)> = serde_urlencoded::from_str(&once).unwrap();
                prop_assert!(back.iter().all(|(k, v)| PARAMS.contains(&k.as_str()) && !v.is_empty()));
            }
        }

    }
}
