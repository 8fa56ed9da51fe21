//! `steward-agent`: the endpoint agent that runs on client machines (the
//! command line around the `steward_agent` library).
//!
//! Deliberately small and dependency-light (every crate in it runs on
//! customers' machines). Commands:
//! - `install --server URL --token TOKEN --pin SPKI_SHA256 [--config-dir DIR] [--no-service]`:
//!   makes this machine's Ed25519 identity key, enrols over a pinned TLS
//!   WebSocket, writes the configuration (owner-only), and installs the
//!   systemd service (Linux) or Windows service unless `--no-service`;
//! - `run [--config-dir DIR]`: runs in the foreground: connects and stays
//!   connected, reporting inventory and metrics and taking signed commands
//!   and scripts, reconnecting forever with backoff and full jitter;
//! - `uninstall [--config-dir DIR]`: removes the service, the configuration
//!   and the key;
//! - `service [--config-dir DIR]` (Windows): the entry the Service Control
//!   Manager starts;
//! - `simulate --server URL --token TOKEN --pin PIN --count N`: N simulated
//!   machines in one process (real protocol, real keys), for tests, the demo
//!   and benchmarks; `--failing-checks PCT` and `--flapping-checks PCT` set
//!   the share of their monitoring checks that fail steadily or flap;
//! - `--version`.

use std::path::PathBuf;
use std::process::ExitCode;
use steward_agent::{config, enroll, hostname, normalise_pin, os_name, simulate, VERSION};
use steward_protocol::PROTOCOL_VERSION;

fn usage() -> ExitCode {
    eprintln!(
        "steward-agent {VERSION}\n\
         usage:\n  steward-agent install --server https://HOST:PORT --token TOKEN --pin SPKI_SHA256 [--config-dir DIR] [--no-service]\n  \
         steward-agent run [--config-dir DIR]\n  \
         steward-agent uninstall [--config-dir DIR]\n  \
         steward-agent simulate --server URL --token TOKEN --pin SPKI_SHA256 --count N [--ramp-secs S] [--prefix NAME-]\n                         [--failing-checks PCT] [--flapping-checks PCT]\n  steward-agent --version"
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
        "run" => rt.block_on(steward_agent::run_installed(&dir)),
        "uninstall" => steward_agent::service::remove_all(&dir),
        #[cfg(windows)]
        "service" => steward_agent::service::serve(dir),
        "simulate" => {
            let (Some(server), Some(token), Some(pin)) = (args.flags.get("server"), args.flags.get("token"), args.flags.get("pin")) else {
                return usage();
            };
            let Some(count) = args.flags.get("count").map_or(Some(10), |c| c.parse::<usize>().ok().filter(|n| *n > 0)) else {
                return usage();
            };
            let ramp = args.flags.get("ramp-secs").and_then(|c| c.parse().ok()).unwrap_or(0.0);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
            let name_prefix = args.flags.get("prefix").cloned().unwrap_or_else(|| "sim-".into());
            let share = |f: &str| args.flags.get(f).and_then(|c| c.parse::<f64>().ok()).unwrap_or(0.0);
            steward_agent::checks::simulated::set_shares(share("failing-checks"), share("flapping-checks"));
            rt.block_on(simulate::run(server, token, pin, simulate::Options { count, ramp_secs: ramp, name_prefix, progress: true }))
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

async fn install(server: &str, token: &str, pin: &str, dir: &std::path::Path, service: bool) -> Result<(), String> {
    let pin = normalise_pin(pin)?;
    let cfg = enroll(server, &pin, token, hostname(), os_name()).await?;
    let device_id = cfg.device_id;
    config::save(dir, &cfg)?;
    println!("enrolled as device {device_id}; configuration in {}", dir.join(config::FILE).display());
    if service {
        steward_agent::service::install(dir)?;
    }
    Ok(())
}
