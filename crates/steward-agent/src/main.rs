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
//! Inventory, metrics, scripts and the Windows service arrive with the rest
//! of the agent issue; commands are verified with `steward_protocol::command`.

mod config;
mod conn;
mod pin;
mod simulate;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use config::AgentConfig;
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use steward_protocol::command::{accept, Command, CommandBody, ReplayGuard};
use steward_protocol::envelope::TrustedKeys;
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

/// Full-jitter exponential backoff: a random wait in [0, min(cap, base·2^n)].
fn backoff(attempt: u32) -> Duration {
    let cap_ms: u64 = 300_000;
    let ceiling = 1_000u64.saturating_mul(1u64 << attempt.min(16)).min(cap_ms);
    let mut b = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    Duration::from_millis(u64::from_le_bytes(b) % (ceiling + 1))
}

/// Errors after which retrying cannot help.
fn fatal(e: &str) -> bool {
    e.contains("(device_revoked)") || e.contains("(device_unknown)") || e.contains("pin mismatch")
}

async fn run(dir: &std::path::Path) -> Result<(), String> {
    let cfg = config::load(dir)?;
    keep_connected(&cfg, true).await
}

/// Stays connected forever (reconnecting with backoff); returns only on a
/// refusal that retrying cannot fix.
pub(crate) async fn keep_connected(cfg: &AgentConfig, verbose: bool) -> Result<(), String> {
    let raw: [u8; 32] =
        B64.decode(&cfg.private_key).ok().and_then(|k| k.try_into().ok()).ok_or("the private key in the configuration is damaged")?;
    let key = SigningKey::from_bytes(&raw);
    let mut trusted = TrustedKeys::new();
    for k in &cfg.command_keys {
        let raw: [u8; 32] = B64.decode(k).ok().and_then(|k| k.try_into().ok()).ok_or("a command key in the configuration is damaged")?;
        trusted.add(VerifyingKey::from_bytes(&raw).map_err(|_| "a command key in the configuration is not an Ed25519 key")?);
    }
    // Survives reconnections, so a command cannot be replayed on a new connection.
    let mut guard = ReplayGuard::default();
    let mut attempt = 0u32;
    loop {
        match session(cfg, &key, &trusted, &mut guard, verbose).await {
            Ok(()) => attempt = 0,
            Err(e) if fatal(&e) => return Err(e),
            Err(e) => {
                if verbose {
                    eprintln!("steward-agent: {e}");
                }
                attempt = attempt.saturating_add(1);
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}

async fn session(cfg: &AgentConfig, key: &SigningKey, trusted: &TrustedKeys, guard: &mut ReplayGuard, verbose: bool) -> Result<(), String> {
    let (mut ws, nonce) = conn::open(&cfg.server, &cfg.pin).await?;
    conn::send(
        &mut ws,
        &AgentMsg::Hello {
            protocol: PROTOCOL_VERSION,
            device_id: cfg.device_id,
            proof: conn::sign(key, Purpose::Connect, &nonce, cfg.device_id),
            agent_version: VERSION.into(),
        },
    )
    .await?;
    let heartbeat = match conn::recv(&mut ws).await? {
        ServerMsg::Welcome { heartbeat_secs, .. } => heartbeat_secs.clamp(5, 3600),
        ServerMsg::Refused { code, message } => return Err(conn::refusal_text(&code, &message)),
        other => return Err(format!("unexpected answer: {other:?}")),
    };
    if verbose {
        eprintln!("steward-agent: connected to {} as device {}", cfg.server, cfg.device_id);
    }
    let mut tick = tokio::time::interval(Duration::from_secs(heartbeat as u64));
    let mut seq = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                seq += 1;
                conn::send(&mut ws, &AgentMsg::Heartbeat { seq }).await?;
            }
            m = conn::recv(&mut ws) => match m? {
                ServerMsg::Refused { code, message } => return Err(conn::refusal_text(&code, &message)),
                ServerMsg::Command { envelope } => {
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
                    let reply = match accept(&envelope, trusted, 1, cfg.device_id, now, guard) {
                        Ok(cmd) => execute(cmd),
                        Err(r) => {
                            eprintln!("steward-agent: refused a command: {r}");
                            AgentMsg::CommandRefused { reason: r.to_string() }
                        }
                    };
                    conn::send(&mut ws, &reply).await?;
                }
                other => eprintln!("steward-agent: ignoring {other:?}"),
            }
        }
    }
}

/// Carries out an accepted command.
fn execute(cmd: Command) -> AgentMsg {
    match cmd.body {
        CommandBody::Ping => AgentMsg::CommandResult { id: cmd.id, ok: true, output: "pong".into() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_ceiling() {
        for attempt in 0..40 {
            let ceiling = Duration::from_millis((1_000u64 << attempt.min(16)).min(300_000));
            for _ in 0..50 {
                assert!(backoff(attempt) <= ceiling);
            }
        }
    }

    #[test]
    fn server_urls_parse() {
        assert_eq!(conn::host_port("https://steward.example.com").unwrap(), ("steward.example.com".into(), 443));
        assert_eq!(conn::host_port("https://127.0.0.1:8443/").unwrap(), ("127.0.0.1".into(), 8443));
        assert_eq!(conn::host_port("https://[::1]:9000").unwrap(), ("::1".into(), 9000));
        assert!(conn::host_port("http://plain.example").is_err());
        assert!(conn::host_port("https://:80").is_err());
    }
}
