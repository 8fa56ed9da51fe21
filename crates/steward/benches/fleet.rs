//! Fleet benchmark: one real (release) server, N simulated agents over the
//! real protocol (`steward-agent simulate`: TLS, Ed25519 proofs, heartbeats,
//! signed commands) on loopback, on this machine.
//!
//! Reports: time for the fleet to come online, server resident memory per
//! connection, server CPU while idling with heartbeats, command round trips,
//! and the time to reconnect after a server restart.
//! The 100,000-agent figure follows from the per-connection numbers; this
//! machine caps each process at 20,000 open files, so the fleet is split
//! over simulator processes of at most 5,000 agents, and one server process
//! can hold up to ~19,000. Then the server is restarted and the time for the
//! whole fleet to return is measured.
//!
//! Run: `cargo build --release -p steward-agent && cargo bench -p steward --bench fleet`
//! (`STEWARD_FLEET=N` sets the fleet size, default 2000).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "shared/proc_stats.rs"]
mod proc_stats;

use common::*;
use proc_stats::*;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Agents per simulator process (each process may open at most 20,000 files here).
const PER_PROCESS: usize = 5000;

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
    let mut s = Server::start_in(env, &[]).await;
    let pid = s.child.as_ref().unwrap().id();
    let a = s.admin().await;
    let client = make_client(&a, "Fleet").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "DC", "timezone": "UTC"})).await;

    // Waits until `n` devices are online (as the database says); returns how long it took.
    let wait_online = |start: Instant, what: &'static str| {
        let a = &a;
        async move {
            loop {
                let (_, v) = a.get("/api/v1/devices?state=online&limit=1").await;
                let online = v["total"].as_i64().unwrap_or(0) as usize;
                if online >= n {
                    return start.elapsed();
                }
                assert!(start.elapsed() < Duration::from_secs(900), "{what}: only {online} of {n} online");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = status_kib(pid, "VmRSS:");
    let start = Instant::now();
    // Several simulator processes: each process here may hold at most 20,000 open files.
    let mut sims = vec![];
    for (k, count) in (0..n).collect::<Vec<_>>().chunks(PER_PROCESS).map(|c| c.len()).enumerate() {
        let (_, tok) =
            a.post(&format!("/api/v1/clients/{client}/sites/{}/enrollment-tokens", site["id"]), json!({"max_uses": count})).await;
        let child = Command::new(&agent)
            .args(["simulate", "--server", &s.base, "--token", tok["token"].as_str().unwrap(), "--pin", &s.spki])
            .args(["--count", &count.to_string(), "--ramp-secs", "5", "--prefix", &format!("f{k}-")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        sims.push(child);
    }
    let online = wait_online(start, "enrolment").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = status_kib(pid, "VmRSS:");

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

    // A server restart: every agent comes back on its own (backoff with jitter).
    let t = Instant::now();
    s.restart();
    let a = s.admin().await;
    let reconnect = {
        let start = t;
        loop {
            let (_, v) = a.get("/api/v1/devices?state=online&limit=1").await;
            if v["total"].as_i64().unwrap_or(0) as usize >= n {
                break start.elapsed();
            }
            assert!(start.elapsed() < Duration::from_secs(900), "the fleet did not come back: {v}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    for mut sim in sims {
        let _ = sim.kill();
        let _ = sim.wait();
    }

    let per_conn = (rss_after.saturating_sub(rss_before)) as f64 / n as f64;
    println!(
        "\nSteward fleet benchmark: {n} simulated agents in {} simulator process(es), one server on SQLite, loopback, {} cores",
        n.div_ceil(PER_PROCESS),
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
    println!("| whole fleet back online after a server restart | {:.1} s |", reconnect.as_secs_f64());
}
