//! Agent footprint: the real `steward-agent` (release build) enrolled with
//! a real server and left running, reporting heartbeats, its inventory and a
//! metric sample a minute as in production, and running 20 monitoring
//! checks of the default kinds at their default intervals (the standard
//! policy's three posture checks hourly, and a policy of 17 more every
//! minute: disk, CPU, memory, services, processes, ports, ping, HTTP, the
//! system log, a pending restart, the clock). Prints its resident memory
//! (peak and at the end) and CPU use over the run, and the binary's size.
//!
//! Run: `cargo build --release -p steward-agent && cargo bench -p steward --bench agent_footprint`
//! (`STEWARD_FOOTPRINT_SECS=N` sets the duration, default 600 = 10 minutes).

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "shared/proc_stats.rs"]
#[allow(dead_code)] // `Resident` is for the server, which this bench does not start
mod proc_stats;

use common::*;
use proc_stats::*;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("STEWARD_FOOTPRINT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let exe = std::env::current_exe().unwrap();
    let agent = exe.parent().unwrap().parent().unwrap().join("steward-agent");
    assert!(agent.exists(), "build the agent first: cargo build --release -p steward-agent ({})", agent.display());
    let size = std::fs::metadata(&agent).unwrap().len();

    let env = Env::sqlite();
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &[]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Footprint").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Lab", "timezone": "UTC"})).await;
    let port = s.base.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    let checks = json!([
        {"type": "disk_free", "percent": {"warning": 10, "critical": 5}},
        {"type": "cpu", "levels": {"warning": 90}, "window_secs": 900},
        {"type": "memory", "levels": {"warning": 95}, "window_secs": 900},
        {"type": "service", "name": "cron"},
        {"type": "service", "name": "ssh"},
        {"type": "service", "name": "systemd-journald"},
        {"type": "process", "name": "steward-agent"},
        {"type": "process", "name": "sshd"},
        {"type": "process", "name": "cron"},
        {"type": "tcp_port", "host": "127.0.0.1", "port": port.parse::<u16>().unwrap(), "timeout_ms": 2000},
        {"type": "tcp_port", "host": "127.0.0.1", "port": 22, "timeout_ms": 2000},
        {"type": "tcp_port", "host": "127.0.0.1", "port": 5432, "timeout_ms": 2000},
        {"type": "ping", "host": "127.0.0.1", "timeout_ms": 2000},
        {"type": "http", "url": format!("https://127.0.0.1:{port}/healthz"), "timeout_ms": 2000, "cert_days": {"warning": 14}},
        {"type": "event_log", "level": "error", "text": "out of memory"},
        {"type": "pending_reboot"},
        {"type": "time_drift", "levels": {"warning": 60, "critical": 300}},
    ]);
    let (st, policy) = a.post("/api/v1/monitoring/policies", json!({"name": "Footprint", "checks": checks})).await;
    assert_eq!(st, 201, "{policy}");
    a.patch(&format!("/api/v1/clients/{client}"), json!({"monitoring_policy_ids": [policy["id"]]})).await;
    let (_, tok) = a.post(&format!("/api/v1/clients/{client}/sites/{}/enrollment-tokens", site["id"]), json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().display().to_string();
    let out = Command::new(&agent)
        .args([
            "install",
            "--server",
            &s.base,
            "--token",
            tok["token"].as_str().unwrap(),
            "--pin",
            &s.spki,
            "--config-dir",
            &cfg,
            "--no-service",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut child = Command::new(&agent).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let pid = child.id();

    // Settle (connect, first inventory), then measure.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (t0, c0, k0) = (Instant::now(), cpu_ticks(pid), cpu_ticks_with_children(pid));
    let mut rss_max = 0;
    while t0.elapsed() < Duration::from_secs(secs) {
        rss_max = rss_max.max(status_kib(pid, "VmRSS:"));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let cpu = (cpu_ticks(pid) - c0) as f64 / 100.0 / t0.elapsed().as_secs_f64() * 100.0;
    let with_children = (cpu_ticks_with_children(pid) - k0) as f64 / 100.0 / t0.elapsed().as_secs_f64() * 100.0;
    let (rss_end, hwm) = (status_kib(pid, "VmRSS:"), status_kib(pid, "VmHWM:"));
    let (_, list) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    let online = list["items"][0]["online"] == true;
    let (_, checks) = a.get(&format!("/api/v1/clients/{client}/devices/{}/checks", list["items"][0]["id"])).await;
    let reported = checks.as_array().map_or(0, |c| c.iter().filter(|c| c["updated_at"].is_string()).count());
    let _ = child.kill();
    let _ = child.wait();

    println!("\nSteward agent footprint: release build, Linux x86_64, {secs} s connected to a local server (heartbeat 30 s, metrics 60 s, 20 checks)");
    println!("| measure | value | goal |");
    println!("|---|---:|---:|");
    println!("| binary size | {:.1} MiB | < 10 MiB |", size as f64 / 1048576.0);
    println!("| resident memory at the end | {:.1} MiB | < 8 MiB |", rss_end as f64 / 1024.0);
    println!("| resident memory, peak sampled / high-water mark | {:.1} / {:.1} MiB | |", rss_max as f64 / 1024.0, hwm as f64 / 1024.0);
    println!("| CPU over the run, the agent | {cpu:.3} % of one core | < 0.05 % |");
    println!("| CPU over the run, with the programs its checks ran | {with_children:.3} % of one core | |");
    println!("| checks with a result on the server | {reported} of 20 | 20 |");
    println!("| still online at the end | {online} | |");
}
