//! The Steward endpoint agent as a library: the connection and its
//! handshake ([`conn`], [`pin`]), staying connected and reporting
//! ([`link`], [`report`]), running scripts ([`scripts`]) and the
//! monitoring policy's checks ([`checks`]), the OS service
//! ([`service`]), the
//! configuration file ([`config`]) and the
//! fleet simulator ([`simulate`], which the server's demo runs in-process).
//! The `steward-agent` binary (`main.rs`) is the command line around it.

pub mod checks;
pub mod config;
pub mod conn;
pub mod link;
pub mod pin;
pub mod reboot;
pub mod report;
pub mod scripts;
pub mod service;
pub mod simulate;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use config::AgentConfig;
use ed25519_dalek::SigningKey;
use steward_protocol::messages::{AgentMsg, Purpose, ServerMsg};
use steward_protocol::PROTOCOL_VERSION;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the agent installed in `dir` (the foreground `run` and the services).
pub async fn run_installed(dir: &std::path::Path) -> Result<(), String> {
    let cfg = config::load(dir)?;
    let spool = report::spool::Spool::open(Some(dir.join(report::spool::FILE)), report::spool::DEFAULT_MAX);
    link::keep_connected(&cfg, report::Machine::Real, spool, Some(dir), true).await
}

pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

pub fn os_name() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())));
    pretty.unwrap_or_else(|| std::env::consts::OS.to_string())
}

/// Checks a pin's form: 64 hex digits.
pub fn normalise_pin(pin: &str) -> Result<String, String> {
    let pin = pin.trim().to_lowercase();
    if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("--pin must be the 64 hex digits of the server's SPKI SHA-256".into());
    }
    Ok(pin)
}

/// Makes a new identity and enrols it; returns the configuration to keep.
pub async fn enroll(server: &str, pin: &str, token: &str, hostname: String, os: String) -> Result<AgentConfig, String> {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let (mut ws, nonce) = conn::open(server, pin).await?;
    conn::send(
        &mut ws,
        &AgentMsg::Enroll {
            protocol: PROTOCOL_VERSION,
            token: token.to_string(),
            public_key: B64.encode(key.verifying_key().as_bytes()),
            proof: conn::sign(&key, Purpose::Enroll, &nonce, 0),
            hostname,
            os,
            agent_version: VERSION.into(),
        },
    )
    .await?;
    let (device_id, command_keys) = match conn::recv(&mut ws).await? {
        ServerMsg::Enrolled { device_id, command_keys } => (device_id, command_keys),
        ServerMsg::Refused { code, message } => return Err(conn::refusal_text(&code, &message)),
        other => return Err(format!("unexpected answer: {other:?}")),
    };
    let _ = ws.close(None).await;
    Ok(AgentConfig {
        server: server.to_string(),
        pin: pin.to_string(),
        device_id,
        private_key: B64.encode(key.to_bytes()),
        command_keys,
        reboot_command: vec![],
    })
}
