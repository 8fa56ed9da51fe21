//! Fleet benchmark: one real (release) server, N simulated agents over the
//! real protocol (`steward-agent simulate`: TLS, Ed25519 proofs, heartbeats,
//! signed commands) on loopback, on this machine.
//!
//! Reports: time for the fleet to come online, server resident memory per
//! connection, server CPU per heartbeat (a phase with heartbeats only) and
//! per metrics message (a phase with the default 60 s samples), command
//! round trips, and the time to reconnect after a server restart.
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

/// A process's CPU use over the next `secs` seconds, in % of one core.
async fn cpu_percent(pid: u32, secs: u64) -> f64 {
    let t0 = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    (cpu_ticks(pid) - t0) as f64 / 100.0 / secs as f64 * 100.0
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
    // First phase: heartbeats only (samples once an hour), so that their cost
    // shows on its own; the restart below brings the default minute back.
    let config = env.data_dir().join("bench.toml");
    std::fs::write(&config, "agent_metrics_secs = 3600\n").unwrap();
    let config_arg = config.display().to_string();
    let mut s = Server::start_in(env, &["--config", &config_arg]).await;
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
    // What the server spends with no agents at all (its periodic jobs).
    let idle_cpu_pct = cpu_percent(pid, 20).await;
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
    // Settled: the last inventories are stored.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let rss_enrolled = status_kib(pid, "VmRSS:");

    // Heartbeats only: server CPU over 60 s (two heartbeat periods).
    let hb_cpu_pct = cpu_percent(pid, 60).await;

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

    // A server restart: every agent comes back on its own (backoff with
    // jitter), now told to sample every minute.
    std::fs::write(&config, "agent_metrics_secs = 60\n").unwrap();
    let t = Instant::now();
    s.restart();
    let pid = s.child.as_ref().unwrap().id();
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
    // Settled: every agent has sent its inventory and buffered samples.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let rss_steady = status_kib(pid, "VmRSS:");
    // Heartbeats and a metrics message per agent a minute.
    let full_cpu_pct = cpu_percent(pid, 60).await;
    for mut sim in sims {
        let _ = sim.kill();
        let _ = sim.wait();
    }

    let per_conn = |rss: u64| rss.saturating_sub(rss_before) as f64 / n as f64;
    let heartbeats_per_s = n as f64 / 30.0;
    let metrics_per_s = n as f64 / 60.0;
    // CPU seconds per second, per message.
    let us_per_heartbeat = ((hb_cpu_pct - idle_cpu_pct) / 100.0).max(0.0) / heartbeats_per_s * 1e6;
    let us_per_metrics = ((full_cpu_pct - hb_cpu_pct) / 100.0).max(0.0) / metrics_per_s * 1e6;
    println!(
        "\nSteward fleet benchmark: {n} simulated agents in {} simulator process(es), one server on SQLite, loopback, {} cores",
        n.div_ceil(PER_PROCESS),
        std::thread::available_parallelism().map(|v| v.get()).unwrap_or(0)
    );
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| agents connected | {n} |");
    println!("| time to enrol and connect the whole fleet | {:.1} s |", online.as_secs_f64());
    println!(
        "| server RSS before / after enrolment / after restart, settled | {} / {} / {} MiB |",
        rss_before / 1024,
        rss_enrolled / 1024,
        rss_steady / 1024
    );
    println!("| server RSS per connection, after enrolment | {:.1} KiB |", per_conn(rss_enrolled));
    println!("| server RSS per connection, after restart, settled | {:.1} KiB |", per_conn(rss_steady));
    println!("| → 100,000 connections at the settled rate | {:.2} GiB |", per_conn(rss_steady) * 100_000.0 / 1024.0 / 1024.0);
    println!("| server CPU, no agents | {idle_cpu_pct:.2} % of one core |");
    println!("| server CPU, heartbeats only ({heartbeats_per_s:.0}/s) | {hb_cpu_pct:.2} % of one core |");
    println!("| → CPU per heartbeat | {us_per_heartbeat:.0} µs |");
    println!("| → 100,000 agents' heartbeats (3,333/s) | {:.1} % of one core |", idle_cpu_pct + us_per_heartbeat * 3333.3 / 1e4);
    println!("| server CPU, heartbeats + samples every 60 s ({metrics_per_s:.0} metrics messages/s) | {full_cpu_pct:.2} % of one core |");
    println!("| → CPU per metrics message | {us_per_metrics:.0} µs |");
    println!(
        "| → 100,000 agents, heartbeats + metrics | {:.1} % of one core |",
        idle_cpu_pct + (us_per_heartbeat * 3333.3 + us_per_metrics * 1666.7) / 1e4
    );
    println!(
        "| command round trip p50 / p99 (API → agent → API, incl. signing, audit) | {:.1} / {:.1} ms |",
        rtt[rtt.len() / 2].as_secs_f64() * 1e3,
        rtt[rtt.len() * 99 / 100].as_secs_f64() * 1e3
    );
    println!("| whole fleet back online after a server restart | {:.1} s |", reconnect.as_secs_f64());
}
