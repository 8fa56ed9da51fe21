//! Webhooks as pure rules: the signature a receiver checks, when a failed
//! delivery is tried again, which addresses a delivery may reach (never
//! loopback, private, link-local, shared or multicast ones unless a range
//! is allowed by the administrator), and which URLs are acceptable at all.
//! No I/O; property-tested.

pub use crate::validate::cidr::Range;
use std::net::IpAddr;

/// Tries before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// `X-Steward-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with
/// the webhook's secret, of the timestamp, a dot and the body, so a
/// receiver can refuse a replayed or altered delivery.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("sha256={}", hex::encode(crate::crypto::keyed(secret, &signed)))
}

/// Seconds to wait after the `attempt`-th failure (1-based): 30 s, 1 min,
/// 2 min, … up to an hour.
pub fn backoff_secs(attempt: i64) -> i64 {
    (30i64 << (attempt.clamp(1, 20) - 1)).min(3600)
}

/// Whether an address is one anyone on the internet could reach (not this
/// host, the local network, link-local, shared or multicast space).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            !(v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_multicast()
                || v.is_broadcast()
                || v.is_unspecified()
                || v.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(v) => {
            if let Some(v4) = v.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v.segments();
            !(v.is_loopback() || v.is_unspecified() || v.is_multicast() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Whether a delivery may go to `ip`.
pub fn may_reach(ip: IpAddr, allowed: &[Range]) -> bool {
    is_public(ip) || allowed.iter().any(|r| r.contains(ip))
}

/// Whether a delivery may go over plain `http` to these addresses: only
/// inside a range the administrator allowed (a lab receiver), never across
/// the internet, where the payload (client and host names) would travel in
/// clear.
pub fn may_use_plain_http(ips: &[IpAddr], allowed: &[Range]) -> bool {
    !ips.is_empty() && ips.iter().all(|ip| allowed.iter().any(|r| r.contains(*ip)))
}

/// Checks a webhook URL: `https` (or `http`), a host, no user name or
/// password in it; returns why not.
pub fn check_url(raw: &str) -> Result<reqwest::Url, String> {
    let u = reqwest::Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(u.scheme(), "https" | "http") {
        return Err("use an https:// (or http://) URL".into());
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("put credentials in the secret, not the URL".into());
    }
    if raw.len() > 2000 {
        return Err("at most 2000 characters".into());
    }
    Ok(u)
}

/// The window a storm is counted over.
pub const STORM_WINDOW_US: i64 = 5 * 60 * 1_000_000;
/// Events in one digest at most (a larger storm sends several).
pub const DIGEST_MAX: u64 = 500;

/// Whether a webhook that was sent `sent` events in the storm window is in
/// a storm (its next events wait for a digest).
pub fn in_storm(sent: i64, limit: u64) -> bool {
    sent >= limit as i64
}

/// What a webhook takes: its events, and for alerts only some clients',
/// some policies' (empty: all) or only critical ones.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub events: Vec<String>,
    pub client_ids: Vec<i64>,
    pub policy_ids: Vec<i64>,
    pub critical_only: bool,
}

/// Whether a webhook with `route` takes `event` about `payload`
/// (`{"alert": {client_id, policy_id, severity, …}}`).
pub fn takes(route: &Route, event: &str, payload: &serde_json::Value) -> bool {
    if !route.events.iter().any(|e| e == event) {
        return false;
    }
    let alert = &payload["alert"];
    let client_ok = route.client_ids.is_empty() || alert["client_id"].as_i64().is_some_and(|c| route.client_ids.contains(&c));
    let policy_ok = route.policy_ids.is_empty() || alert["policy_id"].as_i64().is_some_and(|p| route.policy_ids.contains(&p));
    let severity_ok = !route.critical_only || alert["severity"] == "critical";
    client_ok && policy_ok && severity_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_takes_only_its_clients_policies_and_severity() {
        let alert = |client: i64, policy: Option<i64>, severity: &str| serde_json::json!({"alert": {"client_id": client, "policy_id": policy, "severity": severity}});
        let all = Route { events: vec!["alert.open".into()], ..Default::default() };
        assert!(takes(&all, "alert.open", &alert(1, None, "warning")));
        assert!(!takes(&all, "alert.resolve", &alert(1, None, "warning")), "not its event");
        let narrow = Route { events: vec!["alert.open".into()], client_ids: vec![2], policy_ids: vec![7], critical_only: true };
        assert!(takes(&narrow, "alert.open", &alert(2, Some(7), "critical")));
        assert!(!takes(&narrow, "alert.open", &alert(3, Some(7), "critical")), "another client");
        assert!(!takes(&narrow, "alert.open", &alert(2, Some(8), "critical")), "another policy");
        assert!(!takes(&narrow, "alert.open", &alert(2, None, "critical")), "no policy");
        assert!(!takes(&narrow, "alert.open", &alert(2, Some(7), "warning")), "not critical");
    }
    use proptest::prelude::*;

    #[test]
    fn private_and_local_addresses_are_refused_unless_allowed() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.10",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!may_reach(bad.parse().unwrap(), &[]), "{bad}");
        }
        for good in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(may_reach(good.parse().unwrap(), &[]), "{good}");
        }
        let lab = Range::parse("10.0.5.0/24").unwrap();
        assert!(may_reach("10.0.5.77".parse().unwrap(), &[lab]));
        assert!(!may_reach("10.0.6.1".parse().unwrap(), &[lab]));
        assert_eq!(Range::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn plain_http_only_to_an_allowed_range() {
        let lab = [Range::parse("10.0.5.0/24").unwrap()];
        assert!(may_use_plain_http(&["10.0.5.9".parse().unwrap()], &lab));
        assert!(!may_use_plain_http(&["93.184.216.34".parse().unwrap()], &lab));
        assert!(!may_use_plain_http(&[], &lab));
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://hooks.example.com/steward").is_ok());
        for bad in ["ftp://x.example", "https://user:pw@x.example/", "not a url", "file:///etc/passwd"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_signature_changes_with_any_part(secret in prop::collection::vec(any::<u8>(), 1..40), t in 0i64..4_000_000_000, body in prop::collection::vec(any::<u8>(), 0..200), flip in any::<usize>()) {
            let s = signature(&secret, t, &body);
            prop_assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
            prop_assert_ne!(signature(&secret, t + 1, &body), s.clone());
            if !body.is_empty() {
                let mut other = body.clone();
                let i = flip % other.len();
                other[i] ^= 1;
                prop_assert_ne!(signature(&secret, t, &other), s);
            }
        }

        #[test]
        fn backoff_grows_and_is_capped(a in 1i64..50) {
            prop_assert!(backoff_secs(a) >= 30 && backoff_secs(a) <= 3600);
            prop_assert!(backoff_secs(a + 1) >= backoff_secs(a));
        }

        #[test]
        fn a_range_contains_its_own_network(a in any::<u32>(), prefix in 0u8..=32) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(a));
            let r = Range { net: ip, prefix };
            prop_assert!(r.contains(ip));
            prop_assert!(!r.contains(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)));
        }
    }
}
