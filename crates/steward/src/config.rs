//! Server configuration.
//!
//! Precedence, lowest first: built-in defaults < TOML file (`--config`) <
//! `STEWARD_*` environment variables < command-line flags. clap resolves the
//! last two (a flag beats its env var); [`Partial::over`] layers the result on
//! the file, and [`Partial::finish`] on the defaults.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub database_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP (only behind a TLS-terminating reverse proxy).
    pub plain_http: bool,
    /// The externally visible origin (`https://steward.example.com`), used for
    /// Origin checks behind a proxy. When unset, the request's Host is used.
    pub public_url: Option<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy).
    pub trust_forwarded_for: bool,
    /// Browsers themselves speak plain HTTP to this server (the demo, tried
    /// from another machine): the session cookie can then be neither
    /// `Secure` nor `__Host-`, or browsers drop it. Set only by `steward
    /// demo`, never from a file or a flag: a real install serves TLS or sits
    /// behind a proxy that does.
    pub browsers_on_plain_http: bool,
    pub master_key_file: Option<PathBuf>,
    pub body_limit_bytes: usize,
    pub session_idle_minutes: u64,
    pub session_absolute_hours: u64,
    pub audit_anchor_file: Option<PathBuf>,
    pub audit_anchor_webhook: Option<String>,
    pub audit_anchor_interval_secs: u64,
    /// The SPKI SHA-256 agents pin, when TLS ends at a proxy in front of us.
    pub agent_pin: Option<String>,
    pub metrics_raw_days: u32,
    pub metrics_5m_days: u32,
    pub metrics_1h_days: u32,
    pub agent_metrics_secs: u32,
    pub agent_heartbeat_secs: u32,
    pub agent_offline_after_secs: u32,
    pub tls_handshakes_in_flight: usize,
    pub tls_handshakes_per_address: usize,
    pub job_lease_secs: u64,
    pub http_header_timeout_secs: u64,
    pub unauthenticated_per_address: usize,
    pub sla_check_secs: u64,
    /// The largest file accepted as an attachment, in bytes.
    pub attachment_max_bytes: u64,
    pub recurring_check_secs: u64,
    pub expiry_check_secs: u64,
    /// Seconds between evaluations of the server-side checks (offline).
    pub monitoring_check_secs: u64,
    /// An enrolled device silent this long raises an offline alert.
    pub alert_offline_after_secs: u64,
    /// Seconds between rounds of webhook deliveries.
    pub webhook_check_secs: u64,
    /// Seconds before an unsent mail's first retry (doubling after).
    pub mail_retry_secs: u64,
    /// Address ranges webhooks may reach although private (CIDR).
    pub webhook_allow_private: Vec<String>,
    /// Alert events a webhook receives one by one within 5 minutes; past
    /// that (a storm) the rest wait and go as one digest.
    pub webhook_storm_limit: u64,
    /// Seconds held events gather before their digest goes.
    pub webhook_digest_secs: u64,
    /// How recently a session must have proven its second factor to
    /// reveal a vault secret.
    pub vault_reveal_mfa_minutes: u64,
    /// Where the agent binaries handed out at `/agent/download/…` are
    /// (`None`: beside this executable; see `devices::enrollment::binaries`).
    pub agent_dir: Option<PathBuf>,
}

/// Seconds between an agent's heartbeats that the server (and any client,
/// site or device) may set and agents accept.
pub const AGENT_HEARTBEAT_SECS: std::ops::RangeInclusive<i64> = 5..=3600;

/// The largest attachment, unless configured: 25 MiB.
pub const DEFAULT_ATTACHMENT_MAX_BYTES: u64 = 25 * 1024 * 1024;

/// TLS handshakes at once, overall, unless configured.
pub const DEFAULT_HANDSHAKES_IN_FLIGHT: usize = 256;
/// TLS handshakes at once from one source address, unless configured.
pub const DEFAULT_HANDSHAKES_PER_ADDRESS: usize = 32;

/// The agent settings of the server's configuration: the last level every
/// client, site and device inherits from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentDefaults {
    pub heartbeat_secs: u32,
    pub metrics_secs: u32,
    /// Silence after which a device on the server's heartbeat counts as gone.
    pub offline_after_secs: u32,
}

/// Session lifetimes, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle_us: i64,
    pub absolute_us: i64,
}

/// `DATA_DIR/../<name of DATA_DIR>.audit-anchors.jsonl`.
pub fn default_anchor_file(data_dir: &std::path::Path) -> PathBuf {
    let abs = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let name = abs.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "steward".into());
    abs.parent().unwrap_or(std::path::Path::new("/")).join(format!("{name}.audit-anchors.jsonl"))
}

/// Every setting optional: one layer of configuration.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Partial {
    /// Directory for the embedded database, TLS material and keys.
    #[arg(long, env = "STEWARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port and prints it).
    #[arg(long, env = "STEWARD_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long, env = "STEWARD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PEM certificate chain (otherwise a self-signed one is generated).
    #[arg(long, env = "STEWARD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "STEWARD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP; only for use behind a TLS-terminating reverse proxy.
    #[arg(long, env = "STEWARD_PLAIN_HTTP")]
    pub plain_http: Option<bool>,
    /// External origin, e.g. https://steward.example.com.
    #[arg(long, env = "STEWARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Trust X-Forwarded-For for the client address (behind a proxy only).
    #[arg(long, env = "STEWARD_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: Option<bool>,
    /// File holding the master key that wraps every secret's data key.
    #[arg(long, env = "STEWARD_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "STEWARD_BODY_LIMIT_BYTES")]
    pub body_limit_bytes: Option<usize>,
    /// Sign out after this many idle minutes.
    #[arg(long, env = "STEWARD_SESSION_IDLE_MINUTES")]
    pub session_idle_minutes: Option<u64>,
    /// Sign out after this many hours whatever the activity.
    #[arg(long, env = "STEWARD_SESSION_ABSOLUTE_HOURS")]
    pub session_absolute_hours: Option<u64>,
    /// Append the audit chain head to this file periodically.
    #[arg(long, env = "STEWARD_AUDIT_ANCHOR_FILE")]
    pub audit_anchor_file: Option<PathBuf>,
    /// POST the audit chain head to this URL periodically.
    #[arg(long, env = "STEWARD_AUDIT_ANCHOR_WEBHOOK")]
    pub audit_anchor_webhook: Option<String>,
    /// Seconds between audit anchors.
    #[arg(long, env = "STEWARD_AUDIT_ANCHOR_INTERVAL_SECS")]
    pub audit_anchor_interval_secs: Option<u64>,
    /// SPKI SHA-256 (hex) of the certificate agents see, when a proxy terminates TLS.
    #[arg(long, env = "STEWARD_AGENT_PIN")]
    pub agent_pin: Option<String>,
    /// Days raw metric samples (one a minute per device) are kept.
    #[arg(long, env = "STEWARD_METRICS_RAW_DAYS")]
    pub metrics_raw_days: Option<u32>,
    /// Days 5-minute metric rollups (min/avg/max) are kept.
    #[arg(long, env = "STEWARD_METRICS_5M_DAYS")]
    pub metrics_5m_days: Option<u32>,
    /// Days hourly metric rollups are kept.
    #[arg(long, env = "STEWARD_METRICS_1H_DAYS")]
    pub metrics_1h_days: Option<u32>,
    /// Seconds between the metric samples agents take (default 60).
    #[arg(long, env = "STEWARD_AGENT_METRICS_SECS")]
    pub agent_metrics_secs: Option<u32>,
    /// Seconds between agents' heartbeats (default 30).
    #[arg(long, env = "STEWARD_AGENT_HEARTBEAT_SECS")]
    pub agent_heartbeat_secs: Option<u32>,
    /// A device silent this long is marked offline (default 3 heartbeats).
    #[arg(long, env = "STEWARD_AGENT_OFFLINE_AFTER_SECS")]
    pub agent_offline_after_secs: Option<u32>,
    /// TLS handshakes run at once; more connections wait their turn (default 256).
    #[arg(long, env = "STEWARD_TLS_HANDSHAKES_IN_FLIGHT")]
    pub tls_handshakes_in_flight: Option<usize>,
    /// TLS handshakes run at once from one source address, an IPv6 /64 (default 32).
    #[arg(long, env = "STEWARD_TLS_HANDSHAKES_PER_ADDRESS")]
    pub tls_handshakes_per_address: Option<usize>,
    /// Seconds a node holds a running job's lease before another may take
    /// over (renewed while the job runs; default 60).
    #[arg(long, env = "STEWARD_JOB_LEASE_SECS")]
    pub job_lease_secs: Option<u64>,
    /// Seconds a connection may take to send a request's headers, and may
    /// stay idle between requests, before it is closed (default 10).
    #[arg(long, env = "STEWARD_HTTP_HEADER_TIMEOUT_SECS")]
    pub http_header_timeout_secs: Option<u64>,
    /// Connections from one source address (an IPv6 /64) that have finished
    /// TLS but not yet authenticated, at most (default 128).
    #[arg(long, env = "STEWARD_UNAUTHENTICATED_PER_ADDRESS")]
    pub unauthenticated_per_address: Option<usize>,
    /// Seconds between looks for SLA warnings and breaches to announce
    /// (default 20: each is announced within a minute of its instant).
    #[arg(long, env = "STEWARD_SLA_CHECK_SECS")]
    pub sla_check_secs: Option<u64>,
    /// Largest attachment accepted, in bytes (default 25 MiB).
    #[arg(long, env = "STEWARD_ATTACHMENT_MAX_BYTES")]
    pub attachment_max_bytes: Option<u64>,
    /// Seconds between looks for recurring tickets that are due (default
    /// 30: each opens within a minute of its time).
    #[arg(long, env = "STEWARD_RECURRING_CHECK_SECS")]
    pub recurring_check_secs: Option<u64>,
    /// Seconds between looks for expiry dates to warn about (default 3600).
    #[arg(long, env = "STEWARD_EXPIRY_CHECK_SECS")]
    pub expiry_check_secs: Option<u64>,
    /// Seconds between evaluations of the server-side checks (default 30;
    /// 1–300).
    #[arg(long, env = "STEWARD_MONITORING_CHECK_SECS")]
    pub monitoring_check_secs: Option<u64>,
    /// Seconds a device may be offline before it raises an alert (default
    /// 900).
    #[arg(long, env = "STEWARD_ALERT_OFFLINE_AFTER_SECS")]
    pub alert_offline_after_secs: Option<u64>,
    /// Seconds between rounds of webhook deliveries (default 5; 1–300).
    #[arg(long, env = "STEWARD_WEBHOOK_CHECK_SECS")]
    pub webhook_check_secs: Option<u64>,
    /// Seconds before a mail the SMTP server did not take is tried again
    /// (default 60, doubling up to 4 hours; 1–3600).
    #[arg(long, env = "STEWARD_MAIL_RETRY_SECS")]
    pub mail_retry_secs: Option<u64>,
    /// Private address ranges webhooks may reach anyway, comma-separated
    /// CIDR (e.g. `10.0.5.0/24`); by default none: loopback, private,
    /// link-local and multicast addresses are refused.
    #[arg(long, env = "STEWARD_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: Option<String>,
    /// Alert events a webhook receives one by one within 5 minutes before
    /// the rest are bundled into digests (default 20; 1–10000).
    #[arg(long, env = "STEWARD_WEBHOOK_STORM_LIMIT")]
    pub webhook_storm_limit: Option<u64>,
    /// Seconds bundled events gather before their digest is sent (default
    /// 60; 1–3600).
    #[arg(long, env = "STEWARD_WEBHOOK_DIGEST_SECS")]
    pub webhook_digest_secs: Option<u64>,
    /// Minutes a second factor proven in a session allows vault reveals
    /// (default 15; 1–1440).
    #[arg(long, env = "STEWARD_VAULT_REVEAL_MFA_MINUTES")]
    pub vault_reveal_mfa_minutes: Option<u64>,
    /// Directory of the agent binaries to hand out (`steward-agent-linux-x86_64`,
    /// `steward-agent-windows-x86_64.exe`, …); default: beside this executable.
    #[arg(long, env = "STEWARD_AGENT_DIR")]
    pub agent_dir: Option<PathBuf>,
}

impl Partial {
    /// `self` layered over `lower`: every value set here wins.
    pub fn over(self, lower: Partial) -> Partial {
        macro_rules! pick { ($($f:ident),*) => { Partial { $($f: self.$f.or(lower.$f)),* } } }
        pick!(
            data_dir,
            listen,
            database_url,
            tls_cert,
            tls_key,
            plain_http,
            public_url,
            trust_forwarded_for,
            master_key_file,
            body_limit_bytes,
            session_idle_minutes,
            session_absolute_hours,
            audit_anchor_file,
            audit_anchor_webhook,
            audit_anchor_interval_secs,
            agent_pin,
            metrics_raw_days,
            metrics_5m_days,
            metrics_1h_days,
            agent_metrics_secs,
            agent_heartbeat_secs,
            agent_offline_after_secs,
            tls_handshakes_in_flight,
            tls_handshakes_per_address,
            job_lease_secs,
            http_header_timeout_secs,
            unauthenticated_per_address,
            sla_check_secs,
            attachment_max_bytes,
            recurring_check_secs,
            expiry_check_secs,
            monitoring_check_secs,
            alert_offline_after_secs,
            webhook_check_secs,
            mail_retry_secs,
            webhook_allow_private,
            webhook_storm_limit,
            webhook_digest_secs,
            vault_reveal_mfa_minutes,
            agent_dir
        )
    }

    /// Reads a TOML file layer.
    pub fn from_toml(text: &str) -> anyhow::Result<Partial> {
        Ok(toml::from_str(text)?)
    }

    /// Fills everything still unset with the defaults and validates.
    pub fn finish(self) -> anyhow::Result<Config> {
        let data_dir = self.data_dir.clone().unwrap_or_else(|| PathBuf::from("./steward-data"));
        let c = Config {
            data_dir: data_dir.clone(),
            listen: self.listen.unwrap_or_else(|| "127.0.0.1:8443".parse().expect("valid")),
            database_url: self.database_url.filter(|s| !s.is_empty()),
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            plain_http: self.plain_http.unwrap_or(false),
            public_url: self.public_url.map(|s| s.trim_end_matches('/').to_string()),
            trust_forwarded_for: self.trust_forwarded_for.unwrap_or(false),
            browsers_on_plain_http: false,
            master_key_file: self.master_key_file,
            body_limit_bytes: self.body_limit_bytes.unwrap_or(1024 * 1024),
            session_idle_minutes: self.session_idle_minutes.unwrap_or(120),
            session_absolute_hours: self.session_absolute_hours.unwrap_or(12),
            // By default next to the data directory, not in it: a copy of
            // the data directory alone then cannot rewrite the chain and its
            // anchors together. An empty value turns the file off.
            audit_anchor_file: match self.audit_anchor_file {
                Some(p) if p.as_os_str().is_empty() => None,
                Some(p) => Some(p),
                None => Some(default_anchor_file(&data_dir)),
            },
            audit_anchor_webhook: self.audit_anchor_webhook,
            audit_anchor_interval_secs: self.audit_anchor_interval_secs.unwrap_or(60),
            agent_pin: self.agent_pin.map(|p| p.trim().to_lowercase()),
            metrics_raw_days: self.metrics_raw_days.unwrap_or(14),
            metrics_5m_days: self.metrics_5m_days.unwrap_or(90),
            metrics_1h_days: self.metrics_1h_days.unwrap_or(730),
            agent_metrics_secs: self.agent_metrics_secs.unwrap_or(60),
            agent_heartbeat_secs: self.agent_heartbeat_secs.unwrap_or(30),
            agent_offline_after_secs: self.agent_offline_after_secs.unwrap_or(3 * self.agent_heartbeat_secs.unwrap_or(30)),
            tls_handshakes_in_flight: self.tls_handshakes_in_flight.unwrap_or(DEFAULT_HANDSHAKES_IN_FLIGHT),
            tls_handshakes_per_address: self.tls_handshakes_per_address.unwrap_or(DEFAULT_HANDSHAKES_PER_ADDRESS),
            job_lease_secs: self.job_lease_secs.unwrap_or(60),
            http_header_timeout_secs: self.http_header_timeout_secs.unwrap_or(10),
            unauthenticated_per_address: self.unauthenticated_per_address.unwrap_or(128),
            sla_check_secs: self.sla_check_secs.unwrap_or(20),
            attachment_max_bytes: self.attachment_max_bytes.unwrap_or(DEFAULT_ATTACHMENT_MAX_BYTES),
            recurring_check_secs: self.recurring_check_secs.unwrap_or(30),
            expiry_check_secs: self.expiry_check_secs.unwrap_or(3600),
            monitoring_check_secs: self.monitoring_check_secs.unwrap_or(30),
            alert_offline_after_secs: self.alert_offline_after_secs.unwrap_or(900),
            webhook_check_secs: self.webhook_check_secs.unwrap_or(5),
            mail_retry_secs: self.mail_retry_secs.unwrap_or(60),
            webhook_allow_private: self
                .webhook_allow_private
                .as_deref()
                .map(|s| s.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect())
                .unwrap_or_default(),
            webhook_storm_limit: self.webhook_storm_limit.unwrap_or(20),
            webhook_digest_secs: self.webhook_digest_secs.unwrap_or(60),
            vault_reveal_mfa_minutes: self.vault_reveal_mfa_minutes.unwrap_or(15),
            agent_dir: self.agent_dir,
        };
        anyhow::ensure!(c.attachment_max_bytes >= 1, "attachment_max_bytes must be at least 1");
        anyhow::ensure!((1..=300).contains(&c.recurring_check_secs), "recurring_check_secs must be between 1 and 300");
        anyhow::ensure!((1..=86_400).contains(&c.expiry_check_secs), "expiry_check_secs must be between 1 and 86400");
        anyhow::ensure!((1..=300).contains(&c.monitoring_check_secs), "monitoring_check_secs must be between 1 and 300");
        anyhow::ensure!((1..=604_800).contains(&c.alert_offline_after_secs), "alert_offline_after_secs must be between 1 and 604800");
        anyhow::ensure!((1..=300).contains(&c.webhook_check_secs), "webhook_check_secs must be between 1 and 300");
        anyhow::ensure!((1..=3600).contains(&c.mail_retry_secs), "mail_retry_secs must be between 1 and 3600");
        if let Some(bad) = c.webhook_allow_private.iter().find(|r| crate::validate::cidr::Range::parse(r).is_none()) {
            anyhow::bail!("webhook_allow_private: {bad:?} is not an address range like 10.0.5.0/24");
        }
        anyhow::ensure!((1..=10_000).contains(&c.webhook_storm_limit), "webhook_storm_limit must be between 1 and 10000");
        anyhow::ensure!((1..=3600).contains(&c.webhook_digest_secs), "webhook_digest_secs must be between 1 and 3600");
        anyhow::ensure!((1..=1440).contains(&c.vault_reveal_mfa_minutes), "vault_reveal_mfa_minutes must be between 1 and 1440");
        anyhow::ensure!((1..=60).contains(&c.sla_check_secs), "sla_check_secs must be between 1 and 60");
        anyhow::ensure!((1..=600).contains(&c.http_header_timeout_secs), "http_header_timeout_secs must be between 1 and 600");
        anyhow::ensure!(c.unauthenticated_per_address >= 1, "unauthenticated_per_address must be at least 1");
        anyhow::ensure!((3..=86_400).contains(&c.job_lease_secs), "job_lease_secs must be between 3 and 86400");
        if let Some(pin) = &c.agent_pin {
            anyhow::ensure!(pin.len() == 64 && pin.bytes().all(|b| b.is_ascii_hexdigit()), "agent_pin must be 64 hex digits (a SHA-256)");
        }
        anyhow::ensure!(c.tls_cert.is_some() == c.tls_key.is_some(), "--tls-cert and --tls-key go together");
        anyhow::ensure!(c.body_limit_bytes >= 1024, "body_limit_bytes must be at least 1024");
        anyhow::ensure!(c.session_idle_minutes >= 1 && c.session_absolute_hours >= 1, "session timeouts must be positive");
        anyhow::ensure!(c.audit_anchor_interval_secs >= 1, "audit_anchor_interval_secs must be positive");
        anyhow::ensure!((1..=3600).contains(&c.agent_metrics_secs), "agent_metrics_secs must be between 1 and 3600");
        anyhow::ensure!(AGENT_HEARTBEAT_SECS.contains(&(c.agent_heartbeat_secs as i64)), "agent_heartbeat_secs must be between 5 and 3600");
        anyhow::ensure!(
            c.agent_offline_after_secs >= 2 * c.agent_heartbeat_secs,
            "agent_offline_after_secs must be at least two heartbeats ({} s)",
            2 * c.agent_heartbeat_secs
        );
        anyhow::ensure!(
            1 <= c.tls_handshakes_per_address && c.tls_handshakes_per_address <= c.tls_handshakes_in_flight,
            "tls_handshakes_per_address must be at least 1 and at most tls_handshakes_in_flight"
        );
        anyhow::ensure!(
            1 <= c.metrics_raw_days && c.metrics_raw_days <= c.metrics_5m_days && c.metrics_5m_days <= c.metrics_1h_days,
            "metric retention must satisfy 1 <= metrics_raw_days <= metrics_5m_days <= metrics_1h_days"
        );
        Ok(c)
    }
}

impl Config {
    /// The agent settings clients and sites inherit unless they set their own.
    pub fn agent_defaults(&self) -> AgentDefaults {
        AgentDefaults {
            heartbeat_secs: self.agent_heartbeat_secs,
            metrics_secs: self.agent_metrics_secs,
            offline_after_secs: self.agent_offline_after_secs,
        }
    }

    /// How long a session lives: idle, and at most.
    pub fn session_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle_us: self.session_idle_minutes as i64 * 60_000_000,
            absolute_us: self.session_absolute_hours as i64 * 3_600_000_000,
        }
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file.clone().unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let file = Partial::from_toml("listen = \"0.0.0.0:9000\"\nbody_limit_bytes = 4096\nsession_idle_minutes = 30\n").unwrap();
        // clap has already merged env and flags into one layer: here the
        // "command line" layer sets only the listen address.
        let cli = Partial { listen: Some("127.0.0.1:1".parse().unwrap()), ..Default::default() };
        let c = cli.over(file).finish().unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:1");
        assert_eq!(c.body_limit_bytes, 4096);
        assert_eq!(c.session_idle_minutes, 30);
        assert_eq!(c.session_absolute_hours, 12);
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error() {
        assert!(Partial::from_toml("lisen = \"x\"").is_err());
    }
}
