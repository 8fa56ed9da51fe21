//! Dashboard benchmark (issue 15's target: under 200 ms with 100,000
//! devices and 20,000 open alerts): a believable installation written
//! straight into the embedded SQLite database — 2,000 clients, 100,000
//! devices (none connected, so every one counts as offline: the worst case
//! for the offline figure), 20,000 unresolved alerts and 100,000 resolved
//! ones — then the real (release) server's dashboard API and home page,
//! timed one request at a time over HTTPS on loopback, for an administrator
//! (every client) and for a technician limited to 25 clients.
//!
//! Run: `cargo bench -p steward --bench dashboard` (`STEWARD_BENCH_DEVICES`
//! and `STEWARD_BENCH_ALERTS` for other sizes). Prints a table; the results
//! are kept in bench/RESULTS.md.

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "shared/timing.rs"]
mod timing;

use sqlx::Connection;
use std::time::{Duration, Instant};
use steward::store::Store;
use timing::{ms, time};

const CLIENTS: i64 = 2_000;
/// The standard policy's checks (an alert of a check a device does not run
/// would be resolved by the next evaluation): type, key, severity.
const TYPES: [(&str, &str, &str); 7] = [
    ("offline", "offline", "critical"),
    ("metric", "cpu", "warning"),
    ("metric", "disk_free", "critical"),
    ("metric", "memory", "warning"),
    ("antivirus", "antivirus", "warning"),
    ("firewall", "firewall", "warning"),
    ("disk_encryption", "disk_encryption", "warning"),
];

/// Writes the installation in large transactions (the bench measures
/// reading it, not writing it).
async fn generate(path: &std::path::Path, devices: i64, open_alerts: i64) -> anyhow::Result<()> {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    sqlx::query("PRAGMA synchronous=OFF").execute(&mut c).await?;
    let now = steward::time::now_us();
    let mut tx = c.begin().await?;
    for i in 1..=CLIENTS {
        sqlx::query("INSERT INTO clients (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)")
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
    }
    tx.commit().await?;
    for chunk in (1..=devices).collect::<Vec<_>>().chunks(5_000) {
        let mut tx = c.begin().await?;
        for &d in chunk {
            let client = d % CLIENTS + 1;
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
    // Open alerts spread over the devices, one per check; resolved ones behind them.
    let total = open_alerts * 6;
    for chunk in (0..total).collect::<Vec<_>>().chunks(5_000) {
        let mut tx = c.begin().await?;
        for &i in chunk {
            let device = i * 7 % devices + 1;
            let client = device % CLIENTS + 1;
            let (check_type, key, severity) = TYPES[(i % TYPES.len() as i64) as usize];
            let open = i < open_alerts;
            let opened = now - (total - i) * 30_000_000;
            sqlx::query("INSERT INTO alerts (client_id, device_id, check_key, check_type, severity, state, title, output, opened_at, updated_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)")
                .bind(client)
                .bind(device)
                .bind(key)
                .bind(check_type)
                .bind(severity)
                .bind(if open { "open" } else { "resolved" })
                .bind(format!("PC-{device:06} {check_type}"))
                .bind(opened)
                .bind(opened)
                .bind(if open { None } else { Some(opened + 60_000_000) })
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    // What the alert store keeps as alerts change (here written at once).
    sqlx::query("INSERT INTO alert_counts (client_id, check_type, severity, n) SELECT client_id, check_type, severity, COUNT(*) FROM alerts WHERE resolved_at IS NULL GROUP BY client_id, check_type, severity")
        .execute(&mut c)
        .await?;
    sqlx::query("ANALYZE").execute(&mut c).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let devices: i64 = std::env::var("STEWARD_BENCH_DEVICES").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let alerts: i64 = std::env::var("STEWARD_BENCH_ALERTS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let env = common::Env::sqlite();
    println!("dashboard benchmark: {devices} devices, {alerts} open alerts, {CLIENTS} clients, data in {}", env.dir.path().display());
    let store = Store::open(env.dir.path(), None).await?;
    let db_path = store.sqlite_path().expect("the embedded database").to_path_buf();
    store.close().await;
    let t = Instant::now();
    generate(&db_path, devices, alerts).await?;
    println!("generated in {:.0} s", t.elapsed().as_secs_f64());

    env.create_admin(common::ADMIN_EMAIL);
    // Devices silent for a week before an offline alert: the bench's
    // devices have no agents, and the evaluation would open 100,000 more.
    let server = common::Server::start_in(env, &["--monitoring-check-secs", "300", "--alert-offline-after-secs", "604800"]).await;
    // The first evaluation runs at the start; let it finish.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let a = server.admin().await;
    let (_, d) = a.get("/api/v1/dashboard").await;
    assert_eq!(d["total"]["offline"].as_i64(), Some(devices), "{}", d["total"]);
    let open: i64 = ["critical", "warning"].iter().map(|s| d["total"][s].as_i64().unwrap()).sum();
    assert_eq!(open, alerts, "{}", d["total"]);
    common::make_user(&a, "tech@example.com", "technician", Some((1..=25).collect())).await;
    let t = server.client();
    t.login_ok("tech@example.com", common::PASSWORD).await;

    println!();
    println!("| dashboard ({devices} devices, {alerts} open alerts) | p50 | p95 | p99 |");
    println!("|---|---|---|---|");
    for (who, c) in [("administrator", &a), ("technician, 25 clients", &t)] {
        for (what, path) in [("API", "/api/v1/dashboard"), ("home page", "/")] {
            let [p50, p95, p99] = time(c, path, 100).await;
            println!("| {what}, {who} | {} | {} | {} |", ms(p50), ms(p95), ms(p99));
        }
    }
    Ok(())
}
