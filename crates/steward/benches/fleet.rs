//! Fleet benchmark: one real (release) server, N simulated agents over the
//! real protocol (`steward-agent simulate`: TLS, Ed25519 proofs, heartbeats,
//! signed commands) on loopback, on this machine.
//!
//! Three phases, each a server configuration (the server tells agents their
//! heartbeat and sampling periods when they connect, and a restart makes
//! every agent reconnect):
//! 1. the defaults' 30 s heartbeats, no samples: enrolment time, memory per
//!    connection, CPU of an idle fleet, command round trips;
//! 2. heartbeats as often as 100,000 agents would send them (3,333/s; agents
//!    beat at most every 5 s, so with fewer than 16,667 agents the rate is
//!    lower and the per-heartbeat cost is what carries over): reconnect time
//!    after a restart, CPU per heartbeat;
//! 3. the defaults (30 s heartbeats, a sample a minute): memory per
//!    connection once settled after a restart, CPU per metrics message.
//!
//! The 100,000-agent memory figure follows from the per-connection numbers;
//! this machine caps each process at 20,000 open files, so the fleet is
//! split over simulator processes of at most 5,000 agents, and one server
//! process can hold up to ~19,000.
//!
//! Run: `cargo build --release -p steward-agent && cargo bench -p steward --bench fleet`
//! (`STEWARD_FLEET=N` sets the fleet size, default 2000). With
//! `--features heap-count` the server also reports its live heap, which
//! tells the memory connections hold from what the allocator keeps. The
//! server inherits the environment, so `STEWARD_TLS_HANDSHAKES_IN_FLIGHT`
//! and `STEWARD_TLS_HANDSHAKES_PER_ADDRESS` compare handshake bounds.

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "shared/proc_stats.rs"]
#[allow(dead_code)] // children's CPU is the agent footprint's measure
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

/// Waits until the server has worked through a burst (enrolment, a
/// reconnect): its CPU use over 5 s falls under a quarter of a core, or
/// two minutes have passed.
async fn settle(pid: u32) {
    let start = Instant::now();
    while cpu_percent(pid, 5).await > 25.0 && start.elapsed() < Duration::from_secs(120) {}
}

/// The server's live heap in KiB, with `--features heap-count`.
fn heap_kib(path: &std::path::Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse::<u64>().ok().map(|b| b / 1024)
}

/// The largest live heap the server reported since the last `take` (KiB),
/// sampled every half second in the background (`--features heap-count`).
#[derive(Clone)]
struct PeakHeap(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl PeakHeap {
    fn watch(path: std::path::PathBuf) -> PeakHeap {
        let peak = PeakHeap(Default::default());
        let p = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some(kib) = heap_kib(&path) {
                    p.0.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        peak
    }

    fn take(&self) -> u64 {
        self.0.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Writes the server's configuration for the next start.
fn configure(path: &std::path::Path, heartbeat_secs: u64, metrics_secs: u64) {
    std::fs::write(path, format!("agent_heartbeat_secs = {heartbeat_secs}\nagent_metrics_secs = {metrics_secs}\n")).unwrap();
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
    let config = env.data_dir().join("bench.toml");
    configure(&config, 30, 3600);
    let config_arg = config.display().to_string();
    let heap_file = env.data_dir().join("heap-live");
    std::env::set_var("STEWARD_HEAP_COUNT_FILE", &heap_file);
    let mut s = Server::start_in(env, &["--config", &config_arg]).await;
    let mut pid = s.child.as_ref().unwrap().id();
    let mut a = s.admin().await;
    let client = make_client(&a, "Fleet").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "DC", "timezone": "UTC"})).await;

    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_before = status_kib(pid, "VmRSS:");
    let res_before = Resident::of(pid);
    let heap_before = heap_kib(&heap_file);
    let peak = PeakHeap::watch(heap_file.clone());
    // What the server spends with no agents at all (its periodic jobs).
    let idle_cpu_pct = cpu_percent(pid, 20).await;

    // Phase 1. Several simulator processes: each process here may hold at most 20,000 open files.
    let start = Instant::now();
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
    let online = wait_online(&a, n, start, "enrolment").await;
    // Settled: the last inventories are stored.
    settle(pid).await;
    let peak_enrolment = peak.take();
    let rss_enrolled = status_kib(pid, "VmRSS:");
    let res_enrolled = Resident::of(pid);
    let heap_enrolled = heap_kib(&heap_file);
    let slow_cpu_pct = cpu_percent(pid, 60).await;

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

    // Phase 2: a restart; every agent comes back on its own (backoff with
    // jitter), told to beat at the 100,000-agent rate where it can.
    let fast_secs = ((n as f64 / 3333.3).floor() as u64).max(5);
    configure(&config, fast_secs, 3600);
    let t = Instant::now();
    s.restart();
    pid = s.child.as_ref().unwrap().id();
    a = s.admin().await;
    let _ = peak.take();
    let reconnect = wait_online(&a, n, t, "reconnection").await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let peak_reconnect = peak.take();
    let fast_cpu_pct = cpu_percent(pid, 60).await;

    // Phase 3: the defaults, a sample a minute.
    configure(&config, 30, 60);
    s.restart();
    pid = s.child.as_ref().unwrap().id();
    a = s.admin().await;
    wait_online(&a, n, Instant::now(), "reconnection").await;
    settle(pid).await;
    let rss_steady = status_kib(pid, "VmRSS:");
    let res_steady = Resident::of(pid);
    let heap_steady = heap_kib(&heap_file);
    let full_cpu_pct = cpu_percent(pid, 60).await;
    for mut sim in sims {
        let _ = sim.kill();
        let _ = sim.wait();
    }

    let per_conn = |rss: u64| rss.saturating_sub(rss_before) as f64 / n as f64;
    let slow_rate = n as f64 / 30.0;
    let fast_rate = n as f64 / fast_secs as f64;
    let metrics_rate = n as f64 / 60.0;
    // CPU seconds per second, per message.
    let us_per_heartbeat = ((fast_cpu_pct - idle_cpu_pct) / 100.0).max(0.0) / fast_rate * 1e6;
    let us_per_metrics = ((full_cpu_pct - slow_cpu_pct) / 100.0).max(0.0) / metrics_rate * 1e6;
    println!(
        "\nSteward fleet benchmark: {n} simulated agents in {} simulator process(es), one server on SQLite, loopback, {} cores",
        n.div_ceil(PER_PROCESS),
        std::thread::available_parallelism().map(|v| v.get()).unwrap_or(0)
    );
    let knob = |var: &str| std::env::var(var).unwrap_or_else(|_| "default".into());
    println!(
        "TLS handshakes at once: {} overall, {} per source address (all agents here come from 127.0.0.1)",
        knob("STEWARD_TLS_HANDSHAKES_IN_FLIGHT"),
        knob("STEWARD_TLS_HANDSHAKES_PER_ADDRESS")
    );
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| agents connected | {n} |");
    println!("| time to enrol and connect the whole fleet | {:.1} s |", online.as_secs_f64());
    println!(
        "| server RSS: no agents / enrolled, settled / after restarts, settled | {} / {} / {} MiB |",
        rss_before / 1024,
        rss_enrolled / 1024,
        rss_steady / 1024
    );
    println!("| server RSS per connection, enrolled | {:.1} KiB |", per_conn(rss_enrolled));
    println!("| server RSS per connection, after restarts | {:.1} KiB |", per_conn(rss_steady));
    let resident = |what: &str, f: fn(&Resident) -> u64| {
        let [b, e, st] = [&res_before, &res_enrolled, &res_steady].map(|r| f(r) / 1024);
        println!("| {what}: no agents / enrolled / after restarts | {b} / {e} / {st} MiB |");
    };
    resident("of the RSS, mimalloc's arenas (Rust's heap and what mimalloc keeps)", |r| r.mimalloc);
    resident("of the RSS, glibc's arenas (SQLite's page caches and statements)", |r| r.glibc);
    resident("of the RSS, the binary and libraries", |r| r.files);
    resident("of the RSS, the rest (thread stacks, other mappings)", |r| r.other);
    if let (Some(b), Some(e), Some(st)) = (heap_before, heap_enrolled, heap_steady) {
        println!(
            "| server live heap (Rust allocations): no agents / enrolled / after restarts | {} / {} / {} MiB |",
            b / 1024,
            e / 1024,
            st / 1024
        );
        let per = |h: u64| h.saturating_sub(b) as f64 / n as f64;
        println!("| → live heap per connection, enrolled / after restarts | {:.1} / {:.1} KiB |", per(e), per(st));
        println!(
            "| server live heap at its peak: enrolment / first reconnection (sampled every 0.5 s) | {} / {} MiB |",
            peak_enrolment / 1024,
            peak_reconnect / 1024
        );
    }
    println!(
        "| → 100,000 connections at the larger rate | {:.2} GiB |",
        per_conn(rss_enrolled.max(rss_steady)) * 100_000.0 / 1024.0 / 1024.0
    );
    println!("| server CPU, no agents | {idle_cpu_pct:.2} % of one core |");
    println!("| server CPU, 30 s heartbeats ({slow_rate:.0}/s) | {slow_cpu_pct:.2} % of one core |");
    println!("| server CPU, {fast_secs} s heartbeats ({fast_rate:.0}/s) | {fast_cpu_pct:.2} % of one core |");
    println!("| → CPU per heartbeat | {us_per_heartbeat:.0} µs |");
    println!(
        "| → 100,000 agents' heartbeats (3,333/s){} | {:.1} % of one core |",
        if fast_rate >= 3333.0 { ", measured at a higher rate" } else { ", from the per-heartbeat cost" },
        idle_cpu_pct + us_per_heartbeat * 3333.3 / 1e4
    );
    println!(
        "| server CPU, 30 s heartbeats + a sample a minute ({metrics_rate:.0} metrics messages/s) | {full_cpu_pct:.2} % of one core |"
    );
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

/// Waits until `n` devices are online (as the database says); returns how long it took.
async fn wait_online(a: &Client, n: usize, start: Instant, what: &str) -> Duration {
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
