//! Fleet benchmark: one real (release) server, N simulated agents over the
//! real protocol (`steward-agent simulate`: TLS, Ed25519 proofs, heartbeats,
//! signed commands) on loopback, on this machine.
//!
//! Reports: time for the fleet to come online, server resident memory per
//! connection, server CPU while idling with heartbeats, command round trips.
//! The 100,000-agent figure follows from the per-connection numbers; this
//! machine caps each process at 20,000 open files, so one simulator process
//! stays below that.
//!
//! Run: `cargo build --release -p steward-agent && cargo bench -p steward --bench fleet`
//! (`STEWARD_FLEET=N` sets the fleet size, default 2000).

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("STEWARD_FLEET").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let exe = std::env::current_exe().unwrap();
    let agent = exe.parent().unwrap().parent().unwrap().join("steward-agent");
    assert!(agent.exists(), "build the agent first: cargo build --release -p steward-agent ({})", agent.display());

    let env = Env::sqlite();
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &[]).await;
    let pid = s.child.as_ref().unwrap().id();
    let a = s.admin().await;
    let client = make_client(&a, "Fleet").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "DC", "timezone": "UTC"})).await;
    let (_, tok) = a.post(&format!("/api/v1/clients/{client}/sites/{}/enrollment-tokens", site["id"]), json!({"max_uses": n})).await;
    let token = tok["token"].as_str().unwrap();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kib(pid);
    let start = Instant::now();
    let mut sim = Command::new(&agent)
        .args(["simulate", "--server", &s.base, "--token", token, "--pin", &s.spki, "--count", &n.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let online = loop {
        let (_, all) = a.get(&format!("/api/v1/clients/{client}/devices?limit=500&offset={}", n.saturating_sub(500))).await;
        let enrolled = all["total"].as_i64().unwrap_or(0) as usize;
        // Every device enrolled, and the last page of the list registered online.
        if enrolled >= n && all["items"].as_array().is_some_and(|i| i.iter().all(|d| d["online"] == true)) {
            break start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(600), "the fleet did not come online ({enrolled} enrolled)");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = rss_kib(pid);

    // Idle with heartbeats: server CPU over 60 s (two heartbeat periods).
    let hz = 100.0;
    let t0 = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let cpu_pct = (cpu_ticks(pid) - t0) as f64 / hz / 60.0 * 100.0;

    // Command round trips to devices spread over the fleet.
    let (_, page) = a.get("/api/v1/devices?limit=500").await;
    let ids: Vec<i64> = page["items"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    let mut rtt = vec![];
    for i in 0..200 {
        let id = ids[(i * 37) % ids.len()];
        let t = Instant::now();
        let (st, _) = a.post(&format!("/api/v1/clients/{client}/devices/{id}/ping"), json!({})).await;
        assert_eq!(st, 200);
        rtt.push(t.elapsed());
    }
    rtt.sort();
    let _ = sim.kill();
    let _ = sim.wait();

    let per_conn = (rss_after.saturating_sub(rss_before)) as f64 / n as f64;
    println!(
        "\nSteward fleet benchmark: {n} simulated agents (one simulator process), one server, loopback, {} cores",
        std::thread::available_parallelism().map(|v| v.get()).unwrap_or(0)
    );
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| agents connected | {n} |");
    println!("| time to enrol and connect the whole fleet | {:.1} s |", online.as_secs_f64());
    println!("| server RSS before / after | {} / {} MiB |", rss_before / 1024, rss_after / 1024);
    println!("| server RSS per connection | {per_conn:.1} KiB |");
    println!("| → 100,000 connections at that rate | {:.2} GiB |", per_conn * 100_000.0 / 1024.0 / 1024.0);
    println!("| server CPU, idle fleet with 30 s heartbeats | {cpu_pct:.2} % of one core |");
    println!("| → heartbeats/s at this size | {:.0} |", n as f64 / 30.0);
    println!(
        "| command round trip p50 / p99 (API → agent → API, incl. signing, audit) | {:.1} / {:.1} ms |",
        rtt[rtt.len() / 2].as_secs_f64() * 1e3,
        rtt[rtt.len() * 99 / 100].as_secs_f64() * 1e3
    );
}
