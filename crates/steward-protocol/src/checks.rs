//! Checks an agent runs on its own schedule, and the results it reports.
//!
//! The server sends a device's whole [`CheckSet`] inside a signed command
//! (`CommandBody::Checks`): a check set can make the agent run a script or
//! restart a service, so it needs the same signature as a command. An agent
//! says which set it runs in `Hello` (`checks_version`), so an unchanged set
//! is not sent again; it keeps the set on disk and runs it while the server
//! is unreachable. Results travel in batches (`AgentMsg::CheckResults`);
//! the server keeps each check's state (hysteresis, flapping) and its alerts.
//!
//! An agent grades what it can measure (a disk's free space against the
//! levels given); `time_drift` is graded by the server, which compares the
//! agent's clock in the batch with its own.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warning,
    Critical,
}

/// The checks a device runs, as one versioned set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckSet {
    /// Changes whenever the set does (a hash the server computes).
    pub version: String,
    pub checks: Vec<CheckSpec>,
}

/// One check: what to look at, how often, and what a failure is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckSpec {
    /// Names the check on this device (unique in the set).
    pub key: String,
    /// Seconds between runs (at least 10).
    pub interval_secs: u32,
    /// What a failed yes/no check is (`disk_free`, `cpu`, `memory`, `ping`
    /// and `http` latency, `http` certificate days have levels of their own).
    #[serde(default = "critical")]
    pub severity: Verdict,
    #[serde(flatten)]
    pub kind: CheckKind,
}

fn critical() -> Verdict {
    Verdict::Critical
}

/// Levels of a measured value: crossing `warning` warns, crossing
/// `critical` is critical. Which way "crossing" goes is the check's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Levels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<f64>,
}

impl Levels {
    /// The verdict for a value where higher is worse.
    pub fn above(&self, v: f64) -> Verdict {
        match (self.warning, self.critical) {
            (_, Some(c)) if v >= c => Verdict::Critical,
            (Some(w), _) if v >= w => Verdict::Warning,
            _ => Verdict::Pass,
        }
    }

    /// The verdict for a value where lower is worse (free space, days left).
    pub fn below(&self, v: f64) -> Verdict {
        match (self.warning, self.critical) {
            (_, Some(c)) if v < c => Verdict::Critical,
            (Some(w), _) if v < w => Verdict::Warning,
            _ => Verdict::Pass,
        }
    }

    /// Whether any level is set.
    pub fn is_set(&self) -> bool {
        self.warning.is_some() || self.critical.is_some()
    }
}

/// What a check looks at (the JSON `type` field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CheckKind {
    /// Free space on one volume (`mount`; every volume when absent), as a
    /// percentage and/or in bytes: below a level fails.
    DiskFree {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mount: Option<String>,
        #[serde(default)]
        percent: Levels,
        #[serde(default)]
        bytes: Levels,
    },
    /// CPU use averaged over `window_secs` at or above a level.
    Cpu { levels: Levels, window_secs: u32 },
    /// Memory use averaged over `window_secs` at or above a level.
    Memory { levels: Levels, window_secs: u32 },
    /// A systemd unit or Windows service is running; `restart`: the agent
    /// starts it once when it finds it stopped (and says so).
    Service {
        name: String,
        #[serde(default)]
        restart: bool,
    },
    /// A process with this name is running.
    Process { name: String },
    /// The host answers an ICMP echo within `timeout_ms`; `latency_ms`
    /// levels grade a slow answer.
    Ping {
        host: String,
        timeout_ms: u32,
        #[serde(default)]
        latency_ms: Levels,
    },
    /// A TCP connection to `host:port` opens within `timeout_ms`.
    TcpPort { host: String, port: u16, timeout_ms: u32 },
    /// An HTTP(S) GET answers with `status` (any 2xx/3xx when absent),
    /// containing `body_contains`; `latency_ms` and the certificate's days
    /// to expiry (`cert_days`, HTTPS) have levels.
    Http {
        url: String,
        timeout_ms: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body_contains: Option<String>,
        #[serde(default)]
        latency_ms: Levels,
        #[serde(default)]
        cert_days: Levels,
    },
    /// Entries in the system log (journald, Windows event log) since the
    /// last run that match every given field; any match fails.
    EventLog {
        /// The journald unit / syslog identifier, or the Windows log source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// A Windows event id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event_id: Option<u32>,
        /// `error`, `warning` or `info`: that level or worse.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
        /// Text the message contains.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// A library script: exit code 0 passes, 1 warns, 2 (or anything else,
    /// or not finishing) is critical. Its output is kept.
    Script {
        shell: String,
        script: String,
        #[serde(default)]
        params: BTreeMap<String, String>,
        timeout_secs: u32,
    },
    /// The OS waits for a restart (updates installed).
    PendingReboot,
    /// The agent's clock against the server's (graded by the server).
    TimeDrift { levels: Levels },
    /// Antivirus/EDR present, running and (Windows) up to date; on Linux the
    /// `units` (e.g. `clamav-daemon`, `falcon-sensor`) must be running.
    Antivirus {
        #[serde(default)]
        units: Vec<String>,
    },
    /// A host firewall is on (Windows Firewall, every profile; nftables,
    /// ufw or firewalld with rules).
    Firewall,
    /// The system volume is encrypted (BitLocker; LUKS under `/`).
    DiskEncryption,
}

impl CheckKind {
    /// The `type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            CheckKind::DiskFree { .. } => "disk_free",
            CheckKind::Cpu { .. } => "cpu",
            CheckKind::Memory { .. } => "memory",
            CheckKind::Service { .. } => "service",
            CheckKind::Process { .. } => "process",
            CheckKind::Ping { .. } => "ping",
            CheckKind::TcpPort { .. } => "tcp_port",
            CheckKind::Http { .. } => "http",
            CheckKind::EventLog { .. } => "event_log",
            CheckKind::Script { .. } => "script",
            CheckKind::PendingReboot => "pending_reboot",
            CheckKind::TimeDrift { .. } => "time_drift",
            CheckKind::Antivirus { .. } => "antivirus",
            CheckKind::Firewall => "firewall",
            CheckKind::DiskEncryption => "disk_encryption",
        }
    }
}

/// One run of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub key: String,
    /// Unix seconds (the agent's clock).
    pub at: i64,
    pub verdict: Verdict,
    /// What was found, for people (capped by the server).
    #[serde(default)]
    pub output: String,
    /// The measured figure where there is one (free %, ms, days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// Results per `CheckResults` message at most.
pub const MAX_RESULTS: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_reads_from_the_api_shape() {
        let c: CheckSpec = serde_json::from_str(
            r#"{"key":"db","type":"tcp_port","host":"db.local","port":5432,"timeout_ms":2000,"interval_secs":60,"severity":"warning"}"#,
        )
        .unwrap();
        assert_eq!(c.kind, CheckKind::TcpPort { host: "db.local".into(), port: 5432, timeout_ms: 2000 });
        assert_eq!(c.severity, Verdict::Warning);
        let round: CheckSpec = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(round, c);
        let p: CheckSpec = serde_json::from_str(r#"{"key":"r","type":"pending_reboot","interval_secs":600}"#).unwrap();
        assert_eq!((p.kind.type_name(), p.severity), ("pending_reboot", Verdict::Critical));
    }

    #[test]
    fn levels_grade_both_ways() {
        let l = Levels { warning: Some(10.0), critical: Some(5.0) };
        assert_eq!([l.below(50.0), l.below(9.0), l.below(4.9)], [Verdict::Pass, Verdict::Warning, Verdict::Critical]);
        let l = Levels { warning: Some(90.0), critical: None };
        assert_eq!([l.above(89.0), l.above(95.0)], [Verdict::Pass, Verdict::Warning]);
    }
}
