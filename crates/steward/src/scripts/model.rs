//! The rules of scripts (pure logic, no I/O): what a valid script and a
//! valid run request are, the script's hash, and when a run needs a second
//! person's approval.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SHELLS: [&str; 5] = ["bash", "sh", "python", "powershell", "cmd"];
/// Largest script text.
pub const MAX_BODY: usize = 256 * 1024;
/// Longest a script may run.
pub const MAX_TIMEOUT_SECS: u32 = 4 * 3600;
/// Output kept per stream per device; the agent cuts there and says so.
pub const MAX_OUTPUT_BYTES: u32 = 64 * 1024;
/// Devices one run may target.
pub const MAX_TARGETS: usize = 100_000;

/// A parameter a script takes; its value reaches the script as the
/// environment variable `STEWARD_PARAM_<NAME>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Letters, digits and `_`, starting with a letter; at most 64.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub label: String,
    #[serde(default)]
    pub default: String,
    #[serde(default)]
    pub required: bool,
}

/// SHA-256 (hex) over the shell and the text: what approvals and the audit
/// log name, so "the script that ran" is exactly identified.
pub fn hash(shell: &str, body: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(shell.as_bytes());
    h.update([0]);
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

fn valid_param_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic()) && n.len() <= 64 && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// `system`, or a POSIX-style user name.
pub fn valid_run_as(s: &str) -> bool {
    s == "system"
        || (!s.is_empty()
            && s.len() <= 32
            && s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'))
}

/// The first parameter named twice (names are case-insensitive, as the
/// environment variables they become are on Windows).
pub fn duplicate_param(params: &[ParamSpec]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    params.iter().find(|p| !seen.insert(p.name.to_lowercase())).map(|p| p.name.as_str())
}

/// Checks a script's fields; `Err((field, message))` names what is wrong.
pub fn check_script(shell: &str, body: &str, params: &[ParamSpec], timeout_secs: u32, run_as: &str) -> Result<(), (&'static str, String)> {
    if !SHELLS.contains(&shell) {
        return Err(("shell", format!("use one of {}", SHELLS.join(", "))));
    }
    if body.trim().is_empty() {
        return Err(("body", "the script is empty".into()));
    }
    if body.len() > MAX_BODY {
        return Err(("body", format!("at most {} KiB", MAX_BODY / 1024)));
    }
    if !(1..=MAX_TIMEOUT_SECS).contains(&timeout_secs) {
        return Err(("timeout_secs", format!("between 1 and {MAX_TIMEOUT_SECS}")));
    }
    if !valid_run_as(run_as) {
        return Err(("run_as", "system, or a user name (lower case letters, digits, _ and -)".into()));
    }
    if params.len() > 32 {
        return Err(("parameters", "at most 32".into()));
    }
    for p in params {
        if !valid_param_name(&p.name) {
            return Err(("parameters", format!("{:?} is not a valid name (letters, digits, _; starting with a letter)", p.name)));
        }
        if p.label.chars().count() > 200 || p.default.len() > 4096 {
            return Err(("parameters", format!("{}: label or default too long", p.name)));
        }
    }
    Ok(())
}

/// The values a run uses: given ones, else defaults; unknown names,
/// missing required values and oversized values are refused.
pub fn resolve_params(spec: &[ParamSpec], given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, String> {
    if let Some(unknown) = given.keys().find(|k| !spec.iter().any(|p| &p.name == *k)) {
        return Err(format!("the script has no parameter {unknown:?}"));
    }
    let mut out = BTreeMap::new();
    for p in spec {
        let v = given.get(&p.name).cloned().unwrap_or_else(|| p.default.clone());
        if p.required && v.trim().is_empty() {
            return Err(format!("{} is required", p.name));
        }
        if v.len() > 4096 || v.contains('\0') {
            return Err(format!("{}: at most 4096 bytes, no NUL", p.name));
        }
        out.insert(p.name.clone(), v);
    }
    Ok(out)
}

/// Seconds between occurrences of a recurring run.
pub fn period_secs(every: &str) -> Option<i64> {
    Some(match every {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        _ => return None,
    })
}

/// The first occurrence after `now` of a schedule that started at `first`
/// and repeats every `period` (all µs): a server that was down skips the
/// occurrences it missed rather than running them all at once.
pub fn next_occurrence(first: i64, period: i64, now: i64) -> i64 {
    if now < first {
        return first;
    }
    first + ((now - first) / period + 1) * period
}

/// A run needs a second person's approval when it reaches more devices than
/// the configured threshold, or devices of more than one client.
pub fn needs_approval(devices: usize, clients: usize, threshold: usize) -> bool {
    devices > threshold || clients > 1
}

/// What a run targets, kept so that later occurrences find the devices
/// there are then.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
}

/// A script's interpreter, for the API's schema (`SHELLS`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Shell {
    Bash,
    Sh,
    Python,
    Powershell,
    Cmd,
}

/// How often a recurring run repeats, for the API's schema.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Repeat {
    Hourly,
    Daily,
    Weekly,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(name: &str, required: bool, default: &str) -> ParamSpec {
        ParamSpec { name: name.into(), label: String::new(), default: default.into(), required }
    }

    proptest! {
        #[test]
        fn approval_is_needed_exactly_past_the_threshold_or_across_clients(d in 0usize..1000, c in 0usize..5, t in 0usize..500) {
            prop_assert_eq!(needs_approval(d, c, t), d > t || c > 1);
            // More devices or more clients never make approval unnecessary.
            if needs_approval(d, c, t) {
                prop_assert!(needs_approval(d + 1, c, t) && needs_approval(d, c + 1, t));
            }
        }

        #[test]
        fn the_hash_changes_with_any_change_of_shell_or_text(a in ".{0,40}", b in ".{0,40}") {
            prop_assert_eq!(hash("bash", &a) == hash("bash", &b), a == b);
            prop_assert_ne!(hash("bash", &a), hash("sh", &a));
        }

        #[test]
        fn resolved_params_are_exactly_the_spec(vals in prop::collection::btree_map("[a-c]", "[^\\x00]{0,20}", 0..3)) {
            let s = vec![spec("a", false, "x"), spec("b", false, ""), spec("c", false, "z")];
            let r = resolve_params(&s, &vals).unwrap();
            prop_assert_eq!(r.keys().cloned().collect::<Vec<_>>(), vec!["a", "b", "c"]);
            for (k, v) in &vals {
                prop_assert_eq!(&r[k], v);
            }
        }
    }

    proptest! {
        #[test]
        fn the_next_occurrence_is_in_the_future_and_on_the_schedule(first in 0i64..1_000_000_000, p in 1i64..1_000_000, now in 0i64..2_000_000_000) {
            let n = next_occurrence(first, p, now);
            prop_assert!(n > now || (now < first && n == first));
            prop_assert_eq!((n - first) % p, 0);
            prop_assert!(n - p <= now.max(first - p), "no occurrence is skipped that is still ahead");
        }
    }

    #[test]
    fn the_documented_shells_and_repeats_are_the_ones_accepted() {
        use utoipa::PartialSchema;
        let shells = serde_json::to_value(Shell::schema()).unwrap();
        assert_eq!(shells["enum"], serde_json::json!(SHELLS));
        let repeats = serde_json::to_value(Repeat::schema()).unwrap();
        for r in repeats["enum"].as_array().unwrap() {
            assert!(period_secs(r.as_str().unwrap()).is_some(), "{r}");
        }
    }

    #[test]
    fn bad_scripts_and_parameters_are_named() {
        assert_eq!(check_script("zsh", "x", &[], 60, "system").unwrap_err().0, "shell");
        assert_eq!(check_script("bash", "  ", &[], 60, "system").unwrap_err().0, "body");
        assert_eq!(check_script("bash", "x", &[], 0, "system").unwrap_err().0, "timeout_secs");
        assert_eq!(check_script("bash", "x", &[], 60, "root; rm").unwrap_err().0, "run_as");
        assert_eq!(check_script("bash", "x", &[spec("9x", false, "")], 60, "system").unwrap_err().0, "parameters");
        assert_eq!(duplicate_param(&[spec("a", false, ""), spec("A", false, "")]), Some("A"));
        assert_eq!(duplicate_param(&[spec("a", false, ""), spec("b", false, "")]), None);
        assert!(check_script("powershell", "Get-Date", &[spec("Path", true, "")], 600, "backup-op").is_ok());
        let s = vec![spec("path", true, "")];
        assert!(resolve_params(&s, &BTreeMap::new()).unwrap_err().contains("required"));
        assert!(resolve_params(&s, &[("other".to_string(), "1".to_string())].into()).unwrap_err().contains("no parameter"));
    }
}
