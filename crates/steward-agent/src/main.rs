//! `steward-agent`: the endpoint agent that runs on client machines.
//!
//! Deliberately small and dependency-light (every crate in it runs on
//! customers' machines). Commands:
//! - `install --server URL --token TOKEN --pin SPKI_SHA256 [--config-dir DIR] [--no-service]`:
//!   makes this machine's Ed25519 identity key, enrols over a pinned TLS
//!   WebSocket, writes the configuration (owner-only), and installs the
//!   systemd service (Linux) unless `--no-service`;
//! - `run [--config-dir DIR]`: connects and stays connected (heartbeats),
//!   reconnecting forever with exponential backoff and full jitter;
//! - `simulate --server URL --token TOKEN --pin PIN --count N`: N simulated
//!   agents in one process (real protocol, real keys), for tests, the demo
//!   and benchmarks;
//! - `--version`.
//!
//! Once connected the agent reports its inventory and a metric sample a
//! minute ([`report`]), buffering samples on disk while offline; commands
//! are verified with `steward_protocol::command` ([`link`]). Scripts and the
//! Windows service arrive with the rest of the agent issue.

mod config;
mod conn;
mod link;
mod pin;
mod report;
mod simulate;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use config::AgentConfig;
use ed25519_dalek::SigningKey;
use std::path::PathBuf;
use std::process::ExitCode;
use steward_protocol::messages::{AgentMsg, Purpose, ServerMsg};
use steward_protocol::PROTOCOL_VERSION;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn usage() -> ExitCode {
    eprintln!(
        "steward-agent {VERSION}\n\
         usage:\n  steward-agent install --server https://HOST:PORT --token TOKEN --pin SPKI_SHA256 [--config-dir DIR] [--no-service]\n  \
         steward-agent run [--config-dir DIR]\n  \
         steward-agent simulate --server URL --token TOKEN --pin SPKI_SHA256 --count N [--ramp-secs S]\n  steward-agent --version"
    );
    ExitCode::from(2)
}

struct Args {
    cmd: String,
    flags: std::collections::HashMap<String, String>,
    switches: Vec<String>,
}

fn parse(args: Vec<String>) -> Option<Args> {
    let mut it = args.into_iter();
    let cmd = it.next()?;
    let mut flags = std::collections::HashMap::new();
    let mut switches = vec![];
    while let Some(a) = it.next() {
        let name = a.strip_prefix("--")?.to_string();
        if name == "no-service" {
            switches.push(name);
        } else {
            flags.insert(name, it.next()?);
        }
    }
    Some(Args { cmd, flags, switches })
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if matches!(raw.first().map(String::as_str), Some("--version" | "-V" | "version")) {
        println!("steward-agent {VERSION} (protocol {PROTOCOL_VERSION})");
        return ExitCode::SUCCESS;
    }
    let Some(args) = parse(raw) else { return usage() };
    let dir = args.flags.get("config-dir").map(PathBuf::from).unwrap_or_else(config::default_dir);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let result = match args.cmd.as_str() {
        "install" => {
            let (Some(server), Some(token), Some(pin)) = (args.flags.get("server"), args.flags.get("token"), args.flags.get("pin")) else {
                return usage();
            };
            rt.block_on(install(server, token, pin, &dir, !args.switches.iter().any(|s| s == "no-service")))
        }
        "run" => rt.block_on(run(&dir)),
        "simulate" => {
            let (Some(server), Some(token), Some(pin)) = (args.flags.get("server"), args.flags.get("token"), args.flags.get("pin")) else {
                return usage();
            };
            let count = args.flags.get("count").and_then(|c| c.parse().ok()).unwrap_or(10);
            let ramp = args.flags.get("ramp-secs").and_then(|c| c.parse().ok()).unwrap_or(0.0);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
            rt.block_on(simulate::run(server, token, pin, count, ramp))
        }
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("steward-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

fn os_name() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())));
    pretty.unwrap_or_else(|| std::env::consts::OS.to_string())
}

/// Checks a pin's form: 64 hex digits.
fn normalise_pin(pin: &str) -> Result<String, String> {
    let pin = pin.trim().to_lowercase();
    if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("--pin must be the 64 hex digits of the server's SPKI SHA-256".into());
    }
    Ok(pin)
}

/// Makes a new identity and enrols it; returns the configuration to keep.
pub(crate) async fn enroll(server: &str, pin: &str, token: &str, hostname: String, os: String) -> Result<AgentConfig, String> {
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
    Ok(AgentConfig { server: server.to_string(), pin: pin.to_string(), device_id, private_key: B64.encode(key.to_bytes()), command_keys })
}

async fn install(server: &str, token: &str, pin: &str, dir: &std::path::Path, service: bool) -> Result<(), String> {
    let pin = normalise_pin(pin)?;
    let cfg = enroll(server, &pin, token, hostname(), os_name()).await?;
    let device_id = cfg.device_id;
    config::save(dir, &cfg)?;
    println!("enrolled as device {device_id}; configuration in {}", dir.join(config::FILE).display());
    if service {
        install_service(dir)?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn install_service(dir: &std::path::Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let unit = format!(
        "[Unit]\nDescription=Steward agent\nAfter=network-online.target\nWants=network-online.target\n\n\
         [Service]\nExecStart={} run --config-dir {}\nRestart=always\nRestartSec=5\nLimitNOFILE=65536\n\n[Install]\nWantedBy=multi-user.target\n",
        exe.display(),
        dir.display()
    );
    std::fs::write("/etc/systemd/system/steward-agent.service", unit)
        .map_err(|e| format!("cannot write the systemd unit: {e} (run as root, or use --no-service)"))?;
    let ok = std::process::Command::new("systemctl")
        .args(["enable", "--now", "steward-agent.service"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return Err("systemctl enable --now steward-agent.service failed".into());
    }
    println!("installed and started the steward-agent systemd service");
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn install_service(_dir: &std::path::Path) -> Result<(), String> {
    Err("installing the service is not supported on this OS yet: run `steward-agent run` under your service manager, or pass --no-service"
        .into())
}

async fn run(dir: &std::path::Path) -> Result<(), String> {
    let cfg = config::load(dir)?;
    let spool = report::spool::Spool::open(Some(dir.join(report::spool::FILE)), report::spool::DEFAULT_MAX);
    link::keep_connected(&cfg, report::Machine::Real, spool, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_parse() {
        assert_eq!(conn::host_port("https://steward.example.com").unwrap(), ("steward.example.com".into(), 443));
        assert_eq!(conn::host_port("https://127.0.0.1:8443/").unwrap(), ("127.0.0.1".into(), 8443));
        assert_eq!(conn::host_port("https://[::1]:9000").unwrap(), ("::1".into(), 9000));
        assert!(conn::host_port("http://plain.example").is_err());
        assert!(conn::host_port("https://:80").is_err());
    }
}
