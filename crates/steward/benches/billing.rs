//! Billing benchmark (issue 16's targets: an invoice run for 2,000 clients
//! with 100,000 devices and 500,000 time entries in under 10 s, the
//! reconciliation page under 300 ms): the installation written straight
//! into the embedded SQLite database — 2,000 clients, each with one site,
//! 50 devices seen today, one ticket with 250 billable time entries of the
//! month, and a contract (per device following the count, a flat fee, time
//! and materials) — then the real (release) server bills December through
//! `POST /api/v1/invoice-runs`, timed from the request until the run says
//! `done` (someone signing in every quarter second meanwhile); then the
//! reconciliation (API and page, for an administrator)
//! one request at a time.
//!
//! Run: `cargo bench -p steward --bench billing` (`STEWARD_BENCH_CLIENTS`,
//! `STEWARD_BENCH_DEVICES`, `STEWARD_BENCH_ENTRIES` for other sizes).
//! Prints a table; the results are kept in bench/RESULTS.md.

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "shared/timing.rs"]
mod timing;

use sqlx::Connection;
use std::time::{Duration, Instant};
use steward::store::Store;
use timing::{ms, time};

/// Writes the installation in large transactions (the bench measures
/// billing it, not writing it). The administrator is user 1.
async fn generate(path: &std::path::Path, clients: i64, devices: i64, entries: i64) -> anyhow::Result<()> {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    sqlx::query("PRAGMA synchronous=OFF").execute(&mut c).await?;
    let now = steward::time::now_us();
    // The month billed: December 2026; its entries start on the 1st.
    let month = 1_796_083_200_000_000i64;
    let mut tx = c.begin().await?;
    for i in 1..=clients {
        sqlx::query("INSERT INTO clients (id, name, created_at, updated_at, tax_rate) VALUES (?, ?, ?, ?, '8.25')")
            .bind(i)
            .bind(format!("Client {i:04}"))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sites (id, client_id, name, timezone, created_at, updated_at) VALUES (?, ?, 'HQ', 'UTC', ?, ?)")
            .bind(i)
            .bind(i)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO tickets (id, number, client_id, subject, status_id, status_kind, priority_id, ticket_type, board_id, opened_at, created_at, updated_at) VALUES (?, ?, ?, 'Support', 2, 'open', 2, 'incident', 1, ?, ?, ?)")
            .bind(i)
            .bind(100_000 + i)
            .bind(i)
            .bind(now)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO contracts (id, client_id, name, start_date, billing_cycle, billed, currency, seen_within_days, created_at, updated_at) VALUES (?, ?, 'Managed services', '2026-01-01', 'monthly', 'advance', 'USD', 30, ?, ?)")
            .bind(i)
            .bind(i)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for (n, (kind, desc, price, follow)) in [
            ("per_device", "Managed devices", "45.00", true),
            ("flat", "Service fee", "250.00", false),
            ("time_and_materials", "Other work", "0", false),
        ]
        .into_iter()
        .enumerate()
        {
            sqlx::query("INSERT INTO contract_lines (contract_id, position, kind, description, unit_price, quantity, follow_count) VALUES (?, ?, ?, ?, ?, '1', ?)")
                .bind(i)
                .bind(n as i64)
                .bind(kind)
                .bind(desc)
                .bind(price)
                .bind(follow)
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query("UPDATE work_types SET rate = '125.00'").execute(&mut *tx).await?;
    tx.commit().await?;
    for chunk in (1..=devices).collect::<Vec<_>>().chunks(10_000) {
        let mut tx = c.begin().await?;
        for &d in chunk {
            let client = d % clients + 1;
            sqlx::query("INSERT INTO devices (id, client_id, site_id, hostname, os, agent_version, public_key, enrolled_at, last_seen_at, online) VALUES (?, ?, ?, ?, 'Windows 11 Pro', '0.1.0', ?, ?, ?, FALSE)")
                .bind(d)
                .bind(client)
                .bind(client)
                .bind(format!("PC-{d:06}"))
                .bind(format!("key-{d}"))
                .bind(now - 86_400_000_000)
                .bind(now - (d % 3_600) * 1_000_000)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    for chunk in (0..entries).collect::<Vec<_>>().chunks(20_000) {
        let mut tx = c.begin().await?;
        for &e in chunk {
            let client = e % clients + 1;
            let started = month + (e % (29 * 86_400)) * 1_000_000;
            sqlx::query("INSERT INTO time_entries (ticket_id, client_id, user_id, work_type_id, started_at, minutes, billable, created_at, updated_at) VALUES (?, ?, 1, 1, ?, ?, TRUE, ?, ?)")
                .bind(client)
                .bind(client)
                .bind(started)
                .bind(15 + e % 46)
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    sqlx::query("ANALYZE").execute(&mut c).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let var = |k: &str, d: i64| std::env::var(k).ok().and_then(|s| s.parse().ok()).unwrap_or(d);
    let (clients, devices, entries) =
        (var("STEWARD_BENCH_CLIENTS", 2_000), var("STEWARD_BENCH_DEVICES", 100_000), var("STEWARD_BENCH_ENTRIES", 500_000));
    let env = common::Env::sqlite();
    println!("billing benchmark: {clients} clients, {devices} devices, {entries} time entries, data in {}", env.dir.path().display());
    let store = Store::open(env.dir.path(), None).await?;
    let db_path = store.sqlite_path().expect("the embedded database").to_path_buf();
    store.close().await;
    env.create_admin(common::ADMIN_EMAIL);
    let t = Instant::now();
    generate(&db_path, clients, devices, entries).await?;
    println!("generated in {:.0} s", t.elapsed().as_secs_f64());

    let server = common::Server::start_in(env, &["--monitoring-check-secs", "300", "--alert-offline-after-secs", "604800"]).await;
    let a = server.admin().await;
    let t = Instant::now();
    let (st, run) = a.post("/api/v1/invoice-runs", serde_json::json!({"period_start": "2026-12-01", "period_end": "2026-12-31"})).await;
    assert_eq!(st, 202, "{run}");
    let path = format!("/api/v1/invoice-runs/{}", run["id"]);
    // Someone signs in every quarter second while the run writes: each
    // sign-in writes too (its attempt), and must get its turn.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signing = {
        let (c, stop) = (server.client(), stop.clone());
        tokio::spawn(async move {
            let mut took = vec![];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let (st, body) = c.login(common::ADMIN_EMAIL, common::PASSWORD, None).await;
                assert_eq!(st, 200, "a sign-in during the invoice run failed: {body}");
                took.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            took.sort();
            took
        })
    };
    let done = loop {
        let (_, r) = a.get(&path).await;
        if r["state"] != "running" {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = t.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let signins = signing.await?;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["invoices_made"].as_i64(), Some(clients), "{}", done["invoices_made"]);
    let (_, r) = a.get("/api/v1/reconciliation").await;
    assert_eq!(r["totals"][0]["unbilled_time_value"], "0.00", "every entry billed: {}", r["totals"]);
    let (_, one) = a.get(&format!("/api/v1/clients/1/invoices/{}", done["invoice_ids"][0])).await;
    println!("one invoice: {} lines, total {} {}", one["lines"].as_array().map(|l| l.len()).unwrap_or(0), one["total"], one["currency"]);

    println!();
    println!("| billing ({clients} clients, {devices} devices, {entries} time entries) | time |");
    println!("|---|---|");
    println!("| invoice run for December, request to `done` | {:.2} s |", took.as_secs_f64());
    println!(
        "| {} sign-ins during the run (each writes its attempt), median / slowest | {} / {} |",
        signins.len(),
        ms(signins[signins.len() / 2]),
        ms(*signins.last().expect("at least one sign-in"))
    );
    println!();
    println!("| reconciliation | p50 | p95 | p99 |");
    println!("|---|---|---|---|");
    for (what, path) in [("API", "/api/v1/reconciliation"), ("page (/billing)", "/billing")] {
        let [p50, p95, p99] = time(&a, path, 20).await;
        println!("| {what} | {} | {} | {} |", ms(p50), ms(p95), ms(p99));
    }
    Ok(())
}
