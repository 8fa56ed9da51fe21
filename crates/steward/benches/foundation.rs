//! Foundation benchmark: starts the real (release) server and measures, over
//! HTTPS on loopback, what every later feature stands on.
//!
//! - audited write: `POST /api/v1/clients` (validation, one transaction with
//!   its hash-chained audit entry, `synchronous=FULL` on SQLite);
//! - authenticated read: `GET /api/v1/clients?limit=50` (session lookup,
//!   scope, one page and a count);
//! - sign-in: argon2id verification plus session creation and audit;
//! - audit verification: `steward audit verify` over the whole chain.
//!
//! Run: `cargo bench -p steward --bench foundation` (set
//! `STEWARD_TEST_DATABASE_URL` to also run on PostgreSQL). Prints a table.

#[path = "../tests/it/common/mod.rs"]
mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 8;
const WRITES: usize = 2000;
const READS: usize = 4000;
const SIGNINS: usize = 20;

struct Row {
    engine: &'static str,
    what: &'static str,
    n: usize,
    p50: Duration,
    p99: Duration,
    per_sec: f64,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run_concurrent<F, Fut>(n: usize, f: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let start = Instant::now();
    let mut tasks = vec![];
    for w in 0..CONCURRENCY {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut i = w;
            while i < n {
                let t = Instant::now();
                f(i).await;
                lat.push(t.elapsed());
                i += CONCURRENCY;
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = start.elapsed();
    all.sort();
    (all, wall)
}

fn row(engine: &'static str, what: &'static str, lat: &[Duration], wall: Duration) -> Row {
    Row { engine, what, n: lat.len(), p50: pct(lat, 0.5), p99: pct(lat, 0.99), per_sec: lat.len() as f64 / wall.as_secs_f64() }
}

async fn bench(engine: &'static str, env: Env, rows: &mut Vec<Row>) {
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &[]).await;
    let a = Arc::new(s.admin().await);

    let c = a.clone();
    let (lat, wall) = run_concurrent(WRITES, move |i| {
        let c = c.clone();
        async move {
            let (st, v) = c.post("/api/v1/clients", json!({"name": format!("Bench client {i:05}")})).await;
            assert_eq!(st, 201, "{v}");
        }
    })
    .await;
    rows.push(row(engine, "audited write (create client)", &lat, wall));

    let c = a.clone();
    let (lat, wall) = run_concurrent(READS, move |i| {
        let c = c.clone();
        async move {
            let (st, _) = c.get(&format!("/api/v1/clients?limit=50&offset={}", (i * 37) % 1900)).await;
            assert_eq!(st, 200);
        }
    })
    .await;
    rows.push(row(engine, "authenticated read (50 clients)", &lat, wall));

    let mut lat = vec![];
    let start = Instant::now();
    for _ in 0..SIGNINS {
        let c = s.client();
        let t = Instant::now();
        c.login_ok(ADMIN_EMAIL, PASSWORD).await;
        lat.push(t.elapsed());
    }
    let wall = start.elapsed();
    lat.sort();
    rows.push(row(engine, "sign-in (argon2id + session + audit)", &lat, wall));

    let t = Instant::now();
    let (code, out, _) = s.env.cli(&["audit", "verify"], "");
    let took = t.elapsed();
    assert_eq!(code, 0, "{out}");
    let n: usize = out.split_whitespace().rev().nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
    rows.push(Row {
        engine,
        what: "audit verify (whole chain, incl. process start)",
        n,
        p50: took,
        p99: took,
        per_sec: n as f64 / took.as_secs_f64(),
    });
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut rows = vec![];
    bench("SQLite", Env::sqlite(), &mut rows).await;
    if pg_admin_url().is_some() {
        let env = Env::new().await;
        bench("PostgreSQL", env, &mut rows).await;
    } else {
        eprintln!("(PostgreSQL not measured: set STEWARD_TEST_DATABASE_URL)");
    }
    println!(
        "\nSteward foundation benchmark: {CONCURRENCY} concurrent HTTPS clients on loopback, {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("| engine | operation | n | p50 | p99 | per second |");
    println!("|---|---|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.2} ms | {:.2} ms | {:.0} |",
            r.engine,
            r.what,
            r.n,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.per_sec
        );
    }
}
