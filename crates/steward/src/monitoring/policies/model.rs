//! Monitoring policies as pure rules: what a check in a policy may say
//! (read from the API's JSON with a message naming the field at fault),
//! which checks a device ends up with when policies are assigned at the
//! installation, a client, a site and the device ([`resolve`]: the most
//! specific definition of a check wins, per check key; a level can exclude
//! an inherited check), and the signed set its agent runs ([`agent_set`]).
//! No I/O; property-tested.

use crate::monitoring::checks::model::{Hysteresis, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use steward_protocol::checks::{CheckKind, CheckSet, CheckSpec, Levels};

/// Where a policy is assigned, most general first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Installation,
    Client,
    Site,
    Device,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Installation, Level::Client, Level::Site, Level::Device];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Installation => "installation",
            Level::Client => "client",
            Level::Site => "site",
            Level::Device => "device",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Checks the server runs itself, on what agents already send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerKind {
    /// Silent for longer than `after_secs` (absent: the server's
    /// `alert_offline_after_secs`).
    Offline {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_secs: Option<u32>,
    },
    /// A reported metric (`cpu`, `mem`, or `disk`: the fullest disk's use,
    /// all in %) averaged over `window_secs` (`disk`: the latest) at or above
    /// a level.
    Metric {
        series: String,
        #[serde(default = "fifteen_minutes")]
        window_secs: u32,
        levels: Levels,
    },
    /// A library script the agent runs as a check (the server sends the
    /// script's current text in the signed set).
    Script {
        script_id: i64,
        #[serde(default)]
        params: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_secs: Option<u32>,
    },
}

fn fifteen_minutes() -> u32 {
    900
}

/// What a check looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Kind {
    Server(ServerKind),
    Agent(CheckKind),
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Server(ServerKind::Offline { .. }) => "offline",
            Kind::Server(ServerKind::Metric { .. }) => "metric",
            Kind::Server(ServerKind::Script { .. }) => "script",
            Kind::Agent(k) => k.type_name(),
        }
    }
}

/// One check of a policy, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub key: String,
    pub interval_secs: u32,
    pub severity: Status,
    pub fail_after: u32,
    pub recover_after: u32,
    #[serde(flatten)]
    pub kind: Kind,
}

impl Check {
    pub fn hysteresis(&self) -> Hysteresis {
        Hysteresis { fail_after: self.fail_after, recover_after: self.recover_after }
    }
}

/// Types the server runs.
const SERVER_TYPES: [&str; 3] = ["offline", "metric", "script"];
/// Types an agent runs (besides `script`, which names a library script).
pub const AGENT_TYPES: [&str; 14] = [
    "disk_free",
    "cpu",
    "memory",
    "service",
    "process",
    "ping",
    "tcp_port",
    "http",
    "event_log",
    "pending_reboot",
    "time_drift",
    "antivirus",
    "firewall",
    "disk_encryption",
];

/// The checks of a policy at most.
pub const MAX_CHECKS: usize = 100;
/// Interval bounds, seconds.
const INTERVAL: std::ops::RangeInclusive<u32> = 10..=86_400;
const TIMEOUT_MS: std::ops::RangeInclusive<u32> = 100..=60_000;

/// The common fields of a check (each optional in the API).
#[derive(Deserialize)]
struct Common {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    interval_secs: Option<u32>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    fail_after: Option<u32>,
    #[serde(default)]
    recover_after: Option<u32>,
}

/// A host name or address a check may name: no spaces, nothing that could
/// pass for a program's option.
fn host_ok(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && !h.starts_with('-')
        && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
}

/// A service, process or log source name (as the agent accepts it).
fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && !s.starts_with('-')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | ':' | '-' | ' ' | '$'))
}

fn levels_ok(l: &Levels, what: &str) -> Result<(), String> {
    if !l.is_set() {
        return Err(format!("{what} needs a warning or a critical level"));
    }
    if [l.warning, l.critical].into_iter().flatten().any(|v| !v.is_finite() || v < 0.0) {
        return Err(format!("{what} levels must be numbers of at least 0"));
    }
    Ok(())
}

/// The key a check gets when none is given: its type, and what it looks
/// at when a device may have several of that type.
fn default_key(kind: &Kind) -> String {
    let t = kind.type_name();
    match kind {
        Kind::Agent(CheckKind::DiskFree { mount: Some(m), .. }) => format!("{t}:{m}"),
        Kind::Agent(CheckKind::Service { name, .. } | CheckKind::Process { name }) => format!("{t}:{name}"),
        Kind::Agent(CheckKind::Ping { host, .. }) => format!("{t}:{host}"),
        Kind::Agent(CheckKind::TcpPort { host, port, .. }) => format!("{t}:{host}:{port}"),
        Kind::Agent(CheckKind::Http { url, .. }) => format!("{t}:{url}"),
        Kind::Server(ServerKind::Metric { series, .. }) => format!("{t}:{series}"),
        Kind::Server(ServerKind::Script { script_id, .. }) => format!("{t}:{script_id}"),
        _ => t.to_string(),
    }
}

/// What makes a kind's fields unusable, if anything.
fn kind_ok(kind: &Kind) -> Result<(), String> {
    match kind {
        Kind::Server(ServerKind::Offline { after_secs }) => {
            if after_secs.is_some_and(|s| !(60..=30 * 86_400).contains(&s)) {
                return Err("after_secs must be between 60 and 2592000".into());
            }
        }
        Kind::Server(ServerKind::Metric { series, window_secs, levels }) => {
            if !["cpu", "mem", "disk"].contains(&series.as_str()) {
                return Err("series must be cpu, mem or disk".into());
            }
            if !(60..=86_400).contains(window_secs) {
                return Err("window_secs must be between 60 and 86400".into());
            }
            levels_ok(levels, "levels")?;
        }
        Kind::Server(ServerKind::Script { params, timeout_secs, .. }) => {
            if timeout_secs.is_some_and(|t| !(1..=3600).contains(&t)) {
                return Err("timeout_secs must be between 1 and 3600".into());
            }
            if params.len() > 50 || params.iter().any(|(k, v)| k.len() > 64 || v.len() > 4096) {
                return Err("params: at most 50, names up to 64 and values up to 4096 characters".into());
            }
        }
        Kind::Agent(k) => match k {
            CheckKind::DiskFree { mount, percent, bytes } => {
                if mount.as_ref().is_some_and(|m| m.is_empty() || m.len() > 256) {
                    return Err("mount must be 1 to 256 characters".into());
                }
                if !percent.is_set() && !bytes.is_set() {
                    return Err("disk_free needs percent or bytes levels".into());
                }
            }
            CheckKind::Cpu { levels, window_secs } | CheckKind::Memory { levels, window_secs } => {
                levels_ok(levels, "levels")?;
                if !(60..=3600).contains(window_secs) {
                    return Err("window_secs must be between 60 and 3600".into());
                }
            }
            CheckKind::Service { name, .. } | CheckKind::Process { name } if !name_ok(name) => {
                return Err("name must be a service or process name (letters, digits, @ . _ : - $ and spaces)".into());
            }
            CheckKind::Ping { host, timeout_ms, .. } | CheckKind::TcpPort { host, timeout_ms, .. } => {
                if !host_ok(host) {
                    return Err("host must be a host name or an IP address".into());
                }
                if !TIMEOUT_MS.contains(timeout_ms) {
                    return Err("timeout_ms must be between 100 and 60000".into());
                }
                if matches!(k, CheckKind::TcpPort { port: 0, .. }) {
                    return Err("port must be between 1 and 65535".into());
                }
            }
            CheckKind::Http { url, timeout_ms, .. } => {
                let ok = (url.starts_with("http://") || url.starts_with("https://"))
                    && url.len() <= 2000
                    && url.chars().all(|c| c.is_ascii_graphic())
                    && url.split('/').nth(2).is_some_and(|a| !a.is_empty() && !a.contains('@'));
                if !ok {
                    return Err("url must be an http:// or https:// URL without credentials".into());
                }
                if !TIMEOUT_MS.contains(timeout_ms) {
                    return Err("timeout_ms must be between 100 and 60000".into());
                }
            }
            CheckKind::EventLog { source, level, text, .. } => {
                if source.as_ref().is_some_and(|s| !name_ok(s)) {
                    return Err("source must be a log source name".into());
                }
                if level.as_ref().is_some_and(|l| !["error", "warning", "info"].contains(&l.as_str())) {
                    return Err("level must be error, warning or info".into());
                }
                if text.as_ref().is_some_and(|t| t.len() > 500) {
                    return Err("text must be at most 500 characters".into());
                }
            }
            CheckKind::TimeDrift { levels } => levels_ok(levels, "levels")?,
            CheckKind::Antivirus { units } if units.iter().any(|u| !name_ok(u)) || units.len() > 20 => {
                return Err("units must be up to 20 service names".into());
            }
            CheckKind::Script { .. } => return Err("a script check names a library script: script_id".into()),
            _ => {}
        },
    }
    Ok(())
}

/// Reads one check of a policy from the API's JSON.
pub fn parse_check(v: &Value) -> Result<Check, String> {
    let t = v.get("type").and_then(Value::as_str).ok_or("type is required")?;
    let kind = if SERVER_TYPES.contains(&t) {
        Kind::Server(serde_json::from_value(v.clone()).map_err(|e| e.to_string())?)
    } else if AGENT_TYPES.contains(&t) {
        Kind::Agent(serde_json::from_value(v.clone()).map_err(|e| e.to_string())?)
    } else {
        return Err(format!("type {t:?} is not one of {}, {}", SERVER_TYPES.join(", "), AGENT_TYPES.join(", ")));
    };
    kind_ok(&kind)?;
    let c: Common = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let key = c.key.map(|k| k.trim().to_string()).unwrap_or_else(|| default_key(&kind));
    if key.is_empty() || key.chars().count() > 200 || key.chars().any(char::is_control) {
        return Err("key must be 1 to 200 characters".into());
    }
    let posture = matches!(kind, Kind::Agent(CheckKind::Antivirus { .. } | CheckKind::Firewall | CheckKind::DiskEncryption));
    let interval_secs = c.interval_secs.unwrap_or(if posture { 3600 } else { 60 });
    if !INTERVAL.contains(&interval_secs) {
        return Err("interval_secs must be between 10 and 86400".into());
    }
    let severity = match c.severity.as_deref() {
        None => Status::Critical,
        Some(s) => Status::parse(s).filter(|s| *s != Status::Pass).ok_or("severity must be warning or critical")?,
    };
    let offline = matches!(kind, Kind::Server(ServerKind::Offline { .. }));
    let default_after = if offline { 1 } else { 2 };
    let (fail_after, recover_after) = (c.fail_after.unwrap_or(default_after), c.recover_after.unwrap_or(default_after));
    if !(1..=20).contains(&fail_after) || !(1..=20).contains(&recover_after) {
        return Err("fail_after and recover_after must be between 1 and 20".into());
    }
    Ok(Check { key, interval_secs, severity, fail_after, recover_after, kind })
}

/// Reads a policy's checks; keys must differ.
pub fn parse_checks(list: &[Value]) -> Result<Vec<Check>, (String, String)> {
    if list.len() > MAX_CHECKS {
        return Err(("checks".into(), format!("at most {MAX_CHECKS} checks")));
    }
    let mut out: Vec<Check> = vec![];
    for (i, v) in list.iter().enumerate() {
        let c = parse_check(v).map_err(|e| (format!("checks[{i}]"), e))?;
        if out.iter().any(|o| o.key == c.key) {
            return Err((format!("checks[{i}]"), format!("key {:?} is used twice; give one of them its own key", c.key)));
        }
        out.push(c);
    }
    Ok(out)
}

/// A policy as resolution reads it.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub checks: Vec<Check>,
    pub ticket_on: Option<Status>,
}

/// What one level of a device assigns: its policies (later ones win over
/// earlier ones of the same level) and the inherited checks it excludes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assigned {
    pub policy_ids: Vec<i64>,
    pub excluded: Vec<String>,
}

/// A check a device runs, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub check: Check,
    pub policy_id: i64,
    pub policy: String,
    pub from: Level,
    pub ticket_on: Option<Status>,
}

/// The checks a device runs, by key: each level from the installation
/// down first drops the inherited checks it excludes, then adds its
/// policies' checks over what it inherited.
pub fn resolve(levels: &[(Level, &Assigned)], policies: &HashMap<i64, Policy>) -> Vec<Effective> {
    let mut by_key: BTreeMap<String, Effective> = BTreeMap::new();
    let mut ordered: Vec<&(Level, &Assigned)> = levels.iter().collect();
    ordered.sort_by_key(|(l, _)| *l);
    for (level, a) in ordered {
        for k in &a.excluded {
            by_key.remove(k);
        }
        for p in a.policy_ids.iter().filter_map(|id| policies.get(id)) {
            for c in &p.checks {
                let e = Effective { check: c.clone(), policy_id: p.id, policy: p.name.clone(), from: *level, ticket_on: p.ticket_on };
                by_key.insert(c.key.clone(), e);
            }
        }
    }
    by_key.into_values().collect()
}

/// What a failing check's alert says after the host name.
pub fn label(c: &Check) -> String {
    let level = |l: &Levels| l.warning.or(l.critical).unwrap_or(0.0);
    match &c.kind {
        Kind::Server(ServerKind::Offline { .. }) => "is offline".into(),
        Kind::Server(ServerKind::Metric { series, window_secs, levels }) => match series.as_str() {
            "disk" => "disk nearly full".into(),
            s => {
                let what = if s == "cpu" { "CPU" } else { "memory" };
                format!("{what} above {:.0} % for {} min", level(levels), window_secs / 60)
            }
        },
        Kind::Server(ServerKind::Script { .. }) => format!("check {} fails", c.key),
        Kind::Agent(k) => match k {
            CheckKind::DiskFree { mount: Some(m), .. } => format!("low on disk space on {m}"),
            CheckKind::DiskFree { .. } => "low on disk space".into(),
            CheckKind::Cpu { levels, window_secs } => format!("CPU above {:.0} % for {} min", level(levels), window_secs / 60),
            CheckKind::Memory { levels, window_secs } => format!("memory above {:.0} % for {} min", level(levels), window_secs / 60),
            CheckKind::Service { name, .. } => format!("service {name} is not running"),
            CheckKind::Process { name } => format!("process {name} is not running"),
            CheckKind::Ping { host, .. } => format!("cannot reach {host}"),
            CheckKind::TcpPort { host, port, .. } => format!("cannot connect to {host}:{port}"),
            CheckKind::Http { url, .. } => format!("{url} fails"),
            CheckKind::EventLog { .. } => format!("log entries match {}", c.key),
            CheckKind::Script { .. } => format!("check {} fails", c.key),
            CheckKind::PendingReboot => "needs a restart".into(),
            CheckKind::TimeDrift { .. } => "clock is off".into(),
            CheckKind::Antivirus { .. } => "antivirus missing, off or out of date".into(),
            CheckKind::Firewall => "firewall is off".into(),
            CheckKind::DiskEncryption => "system disk is not encrypted".into(),
        },
    }
}

/// A library script as a script check needs it.
#[derive(Debug, Clone)]
pub struct LibraryScript {
    pub shell: String,
    pub body: String,
    pub timeout_secs: u32,
}

/// The set a device's agent runs: its agent checks, script checks with the
/// library script's current text (one whose script is gone is left out),
/// versioned by a hash of the whole.
pub fn agent_set(checks: &[Effective], scripts: &HashMap<i64, LibraryScript>) -> CheckSet {
    let specs: Vec<CheckSpec> = checks
        .iter()
        .filter_map(|e| {
            let c = &e.check;
            let kind = match &c.kind {
                Kind::Agent(k) => k.clone(),
                Kind::Server(ServerKind::Script { script_id, params, timeout_secs }) => {
                    let s = scripts.get(script_id)?;
                    CheckKind::Script {
                        shell: s.shell.clone(),
                        script: s.body.clone(),
                        params: params.clone(),
                        timeout_secs: timeout_secs.unwrap_or(s.timeout_secs).min(c.interval_secs),
                    }
                }
                Kind::Server(_) => return None,
            };
            Some(CheckSpec { key: c.key.clone(), interval_secs: c.interval_secs, severity: c.severity.into(), kind })
        })
        .collect();
    if specs.is_empty() {
        // What an agent that never ran checks says it runs.
        return CheckSet { version: String::new(), checks: vec![] };
    }
    let json = serde_json::to_string(&specs).expect("checks serialise");
    let version = crate::crypto::sha256_hex(&json)[..16].to_string();
    CheckSet { version, checks: specs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn check(key: &str, port: u16) -> Check {
        parse_check(&json!({"key": key, "type": "tcp_port", "host": "db", "port": port, "timeout_ms": 1000})).unwrap()
    }

    fn policy(id: i64, checks: Vec<Check>) -> Policy {
        Policy { id, name: format!("p{id}"), checks, ticket_on: None }
    }

    #[test]
    fn a_check_reads_with_defaults_and_clear_errors() {
        let c = parse_check(&json!({"type": "tcp_port", "host": "db.local", "port": 5432, "timeout_ms": 2000})).unwrap();
        assert_eq!(
            (c.key.as_str(), c.interval_secs, c.severity, c.fail_after, c.recover_after),
            ("tcp_port:db.local:5432", 60, Status::Critical, 2, 2)
        );
        let err = |v: Value| parse_check(&v).unwrap_err();
        assert!(err(json!({"type": "tcp_port", "host": "db", "timeout_ms": 10})).contains("port"), "missing port");
        assert!(err(json!({"type": "nope"})).contains("is not one of"));
        assert!(err(json!({"type": "ping", "host": "-f", "timeout_ms": 500})).contains("host"));
        assert!(err(json!({"type": "service", "name": "x;rm"})).contains("name"));
        assert!(err(json!({"type": "pending_reboot", "interval_secs": 5})).contains("interval_secs"));
        assert!(err(json!({"type": "http", "url": "http://user:pw@host/", "timeout_ms": 500})).contains("credentials"));
        assert!(err(json!({"type": "firewall", "severity": "pass"})).contains("severity"));
        let raw_script = parse_checks(&[json!({"type": "script", "script": "id", "shell": "bash", "timeout_secs": 5})]);
        assert!(raw_script.is_err(), "a script check must name a library script");
        let dup = parse_checks(&[json!({"type": "firewall"}), json!({"type": "firewall"})]).unwrap_err();
        assert_eq!(dup.0, "checks[1]");
        let stored = serde_json::to_value(&c).unwrap();
        assert_eq!(parse_check(&stored).unwrap(), c, "a stored check reads back the same");
    }

    #[test]
    fn the_nearest_definition_wins_and_exclusions_drop_inherited_checks() {
        let policies: HashMap<i64, Policy> =
            [(1, policy(1, vec![check("db", 5432), check("web", 80)])), (2, policy(2, vec![check("db", 6432)]))].into_iter().collect();
        let install = Assigned { policy_ids: vec![1], excluded: vec![] };
        let site = Assigned { policy_ids: vec![2], excluded: vec![] };
        let device = Assigned { policy_ids: vec![], excluded: vec!["web".into()] };
        let none = Assigned::default();
        let e =
            resolve(&[(Level::Installation, &install), (Level::Client, &none), (Level::Site, &site), (Level::Device, &device)], &policies);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].check.key.as_str(), e[0].from, e[0].policy_id), ("db", Level::Site, 2));
        assert!(matches!(e[0].check.kind, Kind::Agent(CheckKind::TcpPort { port: 6432, .. })));
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(str::to_string)
    }

    fn assigned() -> impl Strategy<Value = Assigned> {
        (prop::collection::vec(1i64..5, 0..3), prop::collection::vec(key(), 0..2))
            .prop_map(|(policy_ids, excluded)| Assigned { policy_ids, excluded })
    }

    proptest! {
        #[test]
        fn every_check_comes_from_the_nearest_level_that_defines_it_after_its_last_exclusion(
            levels in prop::collection::vec(assigned(), 4), defs in prop::collection::vec(prop::collection::vec(key(), 0..4), 4),
        ) {
            let policies: HashMap<i64, Policy> = (1..5)
                .map(|id| {
                    let mut keys = defs[(id - 1) as usize].clone();
                    keys.sort();
                    keys.dedup();
                    (id, policy(id, keys.iter().enumerate().map(|(i, k)| check(k, 1000 + id as u16 * 10 + i as u16)).collect()))
                })
                .collect();
            let named: Vec<(Level, &Assigned)> = Level::ALL.into_iter().zip(levels.iter()).collect();
            let out = resolve(&named, &policies);
            for k in ["a", "b", "c", "d"] {
                // Walk the levels by hand: the last definition standing wins.
                let mut expect: Option<(Level, i64)> = None;
                for (level, a) in &named {
                    if a.excluded.iter().any(|x| x == k) {
                        expect = None;
                    }
                    for id in &a.policy_ids {
                        if policies[id].checks.iter().any(|c| c.key == k) {
                            expect = Some((*level, *id));
                        }
                    }
                }
                let got = out.iter().find(|e| e.check.key == k).map(|e| (e.from, e.policy_id));
                prop_assert_eq!(got, expect, "check {}", k);
            }
            let mut keys: Vec<&str> = out.iter().map(|e| e.check.key.as_str()).collect();
            keys.dedup();
            prop_assert_eq!(keys.len(), out.len(), "a key appears once");
        }

        #[test]
        fn the_agent_sets_version_changes_with_its_checks(port in 1u16..u16::MAX, other in 1u16..u16::MAX) {
            let eff = |p: u16| vec![Effective { check: check("x", p), policy_id: 1, policy: "p".into(), from: Level::Client, ticket_on: None }];
            let (a, b) = (agent_set(&eff(port), &HashMap::new()), agent_set(&eff(other), &HashMap::new()));
            prop_assert_eq!(a.version == b.version, port == other);
        }
    }
}
