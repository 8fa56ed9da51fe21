//! Check ingest benchmark (issue 15): one real (release) server on SQLite,
//! N simulated agents over the real protocol, each running a policy of 20
//! checks, a share of them failing steadily (1 %) and flapping (0.5 %). The
//! check interval is chosen so that the fleet sends what 100,000 devices
//! reporting 20 results every 2 minutes would: about 16,700 results a
//! second (at least 10 s, the shortest interval a check may have, so with
//! fewer than 8,350 agents the rate is lower and the per-result cost is what
//! carries over).
//!
//! It prints, over a minute of steady ingest: results stored per second
//! (rows of `check_results`, read beside the server), the server's CPU, the
//! delay from a failing result arriving to its alert being recorded (p50,
//! p99: the alert's `opened_at` is the arrival, its `opened` history entry
//! the commit), and the command round trip (ping) to connected agents while
//! the stream is ingested (p50, p99).
//!
//! Run: `cargo build --release -p steward-agent && cargo bench -p steward --bench checks`
//! (`STEWARD_FLEET=N` sets the fleet size, default 8,350).

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "shared/proc_stats.rs"]
#[allow(dead_code)] // only the CPU and resident figures are read here
mod proc_stats;

use common::*;
use proc_stats::*;
use serde_json::{json, Value};
use sqlx::Connection;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Agents per simulator process (each process may open at most 20,000 files here).
const PER_PROCESS: usize = 5000;
/// What 100,000 devices with 20 checks every 2 minutes send.
const TARGET_PER_SEC: f64 = 100_000.0 * 20.0 / 120.0;
const MEASURE_SECS: u64 = 60;

fn ms(d: f64) -> String {
    format!("{d:.1} ms")
}

/// Twenty checks of the kinds a policy has (a simulated machine grades
/// them from its seed).
fn checks(interval: u32) -> Vec<Value> {
    let mut v = vec![];
    for i in 0..20 {
        let c = match i % 5 {
            0 => json!({"type": "service", "name": format!("svc{i}")}),
            1 => json!({"type": "process", "name": format!("proc{i}")}),
            2 => json!({"type": "tcp_port", "host": "10.0.0.1", "port": 1000 + i, "timeout_ms": 1000}),
            3 => json!({"type": "disk_free", "mount": format!("/d{i}"), "percent": {"warning": 10, "critical": 5}}),
            _ => json!({"type": "ping", "host": format!("h{i}.lan"), "timeout_ms": 1000}),
        };
        let mut c = c;
        c["interval_secs"] = json!(interval);
        v.push(c);
    }
    v
}

async fn count_results(db: &std::path::Path) -> i64 {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display())).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM check_results").fetch_one(&mut c).await.unwrap();
    n
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("STEWARD_FLEET").ok().and_then(|v| v.parse().ok()).unwrap_or(8_350);
    let exe = std::env::current_exe().unwrap();
    let agent = exe.parent().unwrap().parent().unwrap().join("steward-agent");
    assert!(agent.exists(), "build the agent first: cargo build --release -p steward-agent ({})", agent.display());
    let interval = ((n as f64 * 20.0 / TARGET_PER_SEC).round() as u32).max(10);

    let env = Env::sqlite();
    env.create_admin(ADMIN_EMAIL);
    let db = env.data_dir().join("steward.db");
    let s = Server::start_in(env, &["--monitoring-check-secs", "30"]).await;
    let pid = s.child.as_ref().unwrap().id();
    let a = s.admin().await;
    let (_, policy) = a.post("/api/v1/monitoring/policies", json!({"name": "Bench", "checks": checks(interval)})).await;
    // The fleet enrols first (the fleet benchmark measures that); its checks
    // start once it is all online.
    let (st, _) = a.patch("/api/v1/settings", json!({"monitoring_policy_ids": []})).await;
    assert_eq!(st, 200);
    let client = make_client(&a, "Fleet").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "DC", "timezone": "UTC"})).await;

    let mut sims = vec![];
    for (k, count) in (0..n).collect::<Vec<_>>().chunks(PER_PROCESS).map(|c| c.len()).enumerate() {
        let (_, tok) =
            a.post(&format!("/api/v1/clients/{client}/sites/{}/enrollment-tokens", site["id"]), json!({"max_uses": count})).await;
        sims.push(
            Command::new(&agent)
                .args(["simulate", "--server", &s.base, "--token", tok["token"].as_str().unwrap(), "--pin", &s.spki])
                .args(["--count", &count.to_string(), "--ramp-secs", "60", "--prefix", &format!("c{k}-")])
                .args(["--failing-checks", "1", "--flapping-checks", "0.5"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    let start = Instant::now();
    // An agent whose enrolment fails stops (the simulator does not retry):
    // give up after 15 minutes and say how many came.
    loop {
        let (_, v) = a.get("/api/v1/devices?state=online&limit=1").await;
        if v["total"].as_i64().unwrap_or(0) as usize >= n {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(900), "only {} of {n} online", v["total"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Every agent gets its set at once; after two intervals the stream is steady.
    let (st, _) = a.patch("/api/v1/settings", json!({"monitoring_policy_ids": [policy["id"]]})).await;
    assert_eq!(st, 200);
    tokio::time::sleep(Duration::from_secs(interval as u64 * 2 + 10)).await;

    let window_start = steward::time::now_us();
    let rows0 = count_results(&db).await;
    let ticks0 = cpu_ticks(pid);
    let t0 = Instant::now();
    // Round trips while the stream is ingested.
    let (_, page) = a.get("/api/v1/devices?limit=500").await;
    let ids: Vec<i64> = page["items"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    let mut rtt = vec![];
    let mut i = 0;
    while t0.elapsed() < Duration::from_secs(MEASURE_SECS) {
        let id = ids[(i * 37) % ids.len()];
        i += 1;
        let t = Instant::now();
        let (st, _) = a.post(&format!("/api/v1/clients/{client}/devices/{id}/ping"), json!({})).await;
        if st == 200 {
            rtt.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (cpu_ticks(pid) - ticks0) as f64 / 100.0 / secs * 100.0;
    let rows = count_results(&db).await - rows0;
    let rss = status_kib(pid, "VmRSS:");

    // Alerts opened in the window: arrival to record.
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display())).await.unwrap();
    let delays: Vec<(i64,)> = sqlx::query_as(
        "SELECT e.at - a.opened_at FROM alerts a JOIN alert_events e ON e.alert_id = a.id AND e.kind = 'opened' WHERE a.opened_at >= ?",
    )
    .bind(window_start)
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut delays: Vec<f64> = delays.into_iter().map(|(d,)| d as f64 / 1000.0).collect();
    delays.sort_by(f64::total_cmp);
    rtt.sort_by(f64::total_cmp);
    for mut sim in sims {
        let _ = sim.kill();
        let _ = sim.wait();
    }

    let offered = n as f64 * 20.0 / interval as f64;
    println!("\nSteward check ingest benchmark: {n} simulated agents × 20 checks every {interval} s, one server on SQLite, loopback");
    println!("| measure | value |");
    println!("|---|---|");
    println!("| results offered (agents × 20 / interval) | {offered:.0} /s (target {TARGET_PER_SEC:.0} /s) |");
    println!("| results stored, over {secs:.0} s | {:.0} /s |", rows as f64 / secs);
    println!("| server CPU | {cpu:.0} % of one core |");
    println!("| server resident memory | {} MiB |", rss / 1024);
    println!("| alerts opened in the window | {} |", delays.len());
    println!("| result arrival → alert recorded, p50 / p99 | {} / {} |", ms(pct(&delays, 0.5)), ms(pct(&delays, 0.99)));
    println!("| ping round trip while ingesting, p50 / p99 ({} pings) | {} / {} |", rtt.len(), ms(pct(&rtt, 0.5)), ms(pct(&rtt, 0.99)));
}
