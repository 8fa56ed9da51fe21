//! Search and queue benchmark over a believable service desk: by default
//! 1,000,000 tickets with about 5,000,000 thread entries across 2,000
//! clients (MSP vocabulary with a Zipf word distribution), on the embedded
//! SQLite database.
//!
//! It measures, on this machine, one query at a time:
//! - the index built from scratch from the database (`search::indexer::rebuild`,
//!   what `steward search reindex` runs), its size on disk;
//! - warm search latency (p50/p95/p99) per query class: a rare word, a
//!   common word, several words, a phrase, a common word within one client
//!   (a limited technician's scope) — each with its snippet, as served;
//! - the first query after the index is opened again (a cold start);
//! - how long a new ticket takes to become searchable once written (the
//!   outbox row to the committed index, `search::indexer::catch_up`);
//! - the queue's first page (50 rows and the total), unfiltered and filtered,
//!   from the store, then through the real (release) server: the API
//!   (`GET /api/v1/tickets?…`) and the queue page (`/tickets?…`).
//!
//! The cold start drops the operating system's file cache first when the
//! bench runs as root (`/proc/sys/vm/drop_caches`), so the first query
//! reads the index from disk; it says which it measured.
//!
//! Run: `cargo bench -p steward --bench search` (`STEWARD_BENCH_TICKETS=100000`
//! for a quicker, smaller run). Prints a table; the results are kept in
//! bench/RESULTS.md.

#[path = "../tests/it/common/mod.rs"]
mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward::search::runtime::{Index, Request};
use steward::store::Store;

const CLIENTS: i64 = 2_000;
const QUERIES: usize = 300;

/// The head of the vocabulary: what MSP tickets are about, most common first.
const MSP_WORDS: &[&str] = &[
    "the",
    "user",
    "please",
    "printer",
    "email",
    "outlook",
    "password",
    "reset",
    "vpn",
    "laptop",
    "cannot",
    "error",
    "access",
    "server",
    "network",
    "update",
    "windows",
    "office",
    "teams",
    "account",
    "login",
    "slow",
    "install",
    "drive",
    "share",
    "backup",
    "failed",
    "license",
    "phone",
    "wifi",
    "firewall",
    "mailbox",
    "calendar",
    "onedrive",
    "sharepoint",
    "monitor",
    "keyboard",
    "scanner",
    "toner",
    "citrix",
    "remote",
    "desktop",
    "certificate",
    "expired",
    "domain",
    "dns",
    "switch",
    "router",
    "antivirus",
    "ransomware",
    "phishing",
    "quarantine",
    "mfa",
    "authenticator",
    "locked",
    "disk",
    "space",
    "cpu",
    "memory",
    "reboot",
    "crash",
    "freeze",
    "excel",
    "word",
    "pdf",
    "adobe",
    "quickbooks",
    "sage",
    "erp",
    "crm",
    "migration",
    "tenant",
    "exchange",
    "azure",
    "intune",
    "autopilot",
    "bitlocker",
    "recovery",
    "key",
    "warranty",
    "dock",
    "usb",
    "headset",
    "camera",
    "zoom",
    "meeting",
    "room",
];

/// Words by Zipf rank: the MSP head, then a long synthetic tail.
struct Vocab {
    cdf: Vec<f64>,
    words: Vec<String>,
}

impl Vocab {
    fn new(size: usize) -> Vocab {
        let words: Vec<String> = (0..size)
            .map(|i| MSP_WORDS.get(i).map(|w| w.to_string()).unwrap_or_else(|| format!("{}{}", syllable(i), syllable(i / 7 + 3))))
            .collect();
        let mut cdf = Vec::with_capacity(size);
        let mut total = 0.0;
        for rank in 1..=size {
            total += 1.0 / (rank as f64).powf(1.07);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Vocab { cdf, words }
    }

    fn word(&self, rng: &mut StdRng) -> &str {
        let x: f64 = rng.gen();
        let i = self.cdf.partition_point(|c| *c < x).min(self.words.len() - 1);
        &self.words[i]
    }

    fn sentence(&self, rng: &mut StdRng, n: usize) -> String {
        (0..n).map(|_| self.word(rng)).collect::<Vec<_>>().join(" ")
    }
}

fn syllable(i: usize) -> String {
    const C: &[u8] = b"bcdfghklmnprstvz";
    const V: &[u8] = b"aeiou";
    let mut s = String::new();
    let mut x = i + 11;
    for _ in 0..3 {
        s.push(C[x % C.len()] as char);
        x /= C.len();
        s.push(V[x % V.len()] as char);
        x /= V.len();
    }
    s
}

/// Builds the i-th query of a class.
type MakeRequest<'a> = Box<dyn Fn(usize) -> Request + 'a>;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Writes clients, tickets and entries straight into the database, in
/// large transactions (the bench measures reading them, not writing).
async fn generate(path: &std::path::Path, tickets: i64, vocab: &Vocab) -> anyhow::Result<i64> {
    let url = format!("sqlite://{}", path.display());
    let mut c = sqlx::SqliteConnection::connect(&url).await?;
    sqlx::query("PRAGMA synchronous=OFF").execute(&mut c).await?;
    let now = steward::time::now_us();
    let mut rng = StdRng::seed_from_u64(42);
    let mut tx = c.begin().await?;
    for i in 1..=CLIENTS {
        sqlx::query("INSERT INTO clients (name, created_at, updated_at) VALUES (?, ?, ?)")
            .bind(format!("Client {i} {}", syllable(i as usize * 31)))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let kinds = ["new", "open", "waiting", "resolved", "closed", "closed", "closed"];
    let status_ids = [1i64, 2, 3, 5, 7, 7, 7];
    let mut entries = 0i64;
    let batch = 500;
    let mut id = 0i64;
    while id < tickets {
        let mut tx = c.begin().await?;
        let mut tq = String::from("INSERT INTO tickets (id, number, client_id, subject, status_id, status_kind, priority_id, ticket_type, board_id, opened_at, created_at, updated_at) VALUES ");
        let mut args_t: Vec<(i64, i64, String, usize, i64)> = vec![];
        let mut args_e: Vec<(i64, &'static str, String, i64)> = vec![];
        for _ in 0..batch.min(tickets - id) {
            id += 1;
            // A few large clients, many small ones.
            let client = ((rng.gen::<f64>().powi(3)) * CLIENTS as f64) as i64 + 1;
            let k = rng.gen_range(0..kinds.len());
            let opened = now - rng.gen_range(0..(3 * 365 * 86_400_000_000i64));
            if !args_t.is_empty() {
                tq.push(',');
            }
            tq.push_str("(?, ?, ?, ?, ?, ?, 2, 'incident', 1, ?, ?, ?)");
            let n = rng.gen_range(4..9);
            args_t.push((id, client, vocab.sentence(&mut rng, n), k, opened));
            for e in 0..rng.gen_range(3..8) {
                let n = rng.gen_range(12..40);
                args_e.push((
                    id,
                    if e == 0 {
                        "request"
                    } else if e % 3 == 0 {
                        "note"
                    } else {
                        "reply"
                    },
                    vocab.sentence(&mut rng, n),
                    opened + e,
                ));
                entries += 1;
            }
        }
        let mut q = sqlx::query(&tq);
        for (id, client, subject, k, opened) in &args_t {
            q = q
                .bind(id)
                .bind(1000 + id)
                .bind(client)
                .bind(subject)
                .bind(status_ids[*k])
                .bind(kinds[*k])
                .bind(opened)
                .bind(opened)
                .bind(opened);
        }
        q.execute(&mut *tx).await?;
        // SQLite allows 32766 variables a statement: entries go in chunks.
        for chunk in args_e.chunks(2000) {
            let sql = format!(
                "INSERT INTO ticket_entries (ticket_id, kind, body, created_at) VALUES {}",
                vec!["(?, ?, ?, ?)"; chunk.len()].join(",")
            );
            let mut q = sqlx::query(&sql);
            for (t, kind, body, at) in chunk {
                q = q.bind(t).bind(*kind).bind(body).bind(at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    sqlx::query("UPDATE ticket_counter SET last_number = ?").bind(1000 + tickets).execute(&mut c).await?;
    sqlx::query("ANALYZE").execute(&mut c).await?;
    c.close().await?;
    Ok(entries)
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p).map(|d| d.flatten().map(|e| e.metadata().map(|m| m.len()).unwrap_or(0)).sum()).unwrap_or(0)
}

fn time_queries(index: &Index, make: impl Fn(usize) -> Request) -> (Vec<Duration>, usize) {
    let mut lat = vec![];
    let mut hits = 0;
    for i in 0..QUERIES {
        let r = make(i);
        let t = Instant::now();
        hits += index.search(&r).expect("search").len();
        lat.push(t.elapsed());
    }
    lat.sort();
    (lat, hits)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tickets: i64 = std::env::var("STEWARD_BENCH_TICKETS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let env = common::Env::sqlite();
    let dir = &env.dir;
    let vocab = Vocab::new(60_000);
    println!("search benchmark: {tickets} tickets, {CLIENTS} clients, data in {}", dir.path().display());

    let store = Store::open(dir.path(), None).await?;
    let db_path = store.sqlite_path().expect("the embedded database").to_path_buf();
    store.close().await;
    let t = Instant::now();
    let entries = generate(&db_path, tickets, &vocab).await?;
    println!("generated {tickets} tickets and {entries} entries in {:.0} s", t.elapsed().as_secs_f64());

    let store = Store::open(dir.path(), None).await?;
    let index_dir = dir.path().join("search");
    let index = Arc::new(Index::open(&index_dir)?);
    let built = steward::search::indexer::rebuild(&store, &index, &steward::routes::indexers()).await?;
    let size = dir_size(&index_dir);

    let mut rng = StdRng::seed_from_u64(7);
    // Query words by class, from the vocabulary's document frequencies.
    let df = |w: &str| index.doc_freq(w);
    let common: Vec<&str> = MSP_WORDS[1..40].to_vec();
    // Rare: the words found in the fewest tickets (at most 50 where the
    // vocabulary's tail allows it), but found.
    let mut by_df: Vec<(u64, &String)> = vocab.words[1_000..].iter().map(|w| (df(w), w)).filter(|(d, _)| *d > 0).collect();
    by_df.sort();
    let rare: Vec<String> = by_df.iter().take(200).map(|(_, w)| (*w).clone()).collect();
    anyhow::ensure!(!rare.is_empty(), "no vocabulary word is in the index: the index does not hold the generated tickets");
    println!("rare words: {} found in {}–{} tickets each", rare.len(), by_df[0].0, by_df[rare.len() - 1].0);
    let big_clients: Vec<i64> = (1..=20).collect();
    let mut rows = vec![];
    let classes: Vec<(&str, MakeRequest)> = vec![
        ("rare word", Box::new(|i| Request { text: rare[i % rare.len()].clone(), limit: 20, ..Default::default() })),
        ("common word", Box::new(|i| Request { text: common[i % common.len()].to_string(), limit: 20, ..Default::default() })),
        (
            "three words",
            Box::new(|i| Request {
                text: format!("{} {} {}", common[i % 39], common[(i * 7 + 3) % 39], common[(i * 13 + 5) % 39]),
                limit: 20,
                ..Default::default()
            }),
        ),
        (
            "phrase",
            Box::new(|i| Request { text: format!("\"{} {}\"", common[i % 39], common[(i * 7 + 1) % 39]), limit: 20, ..Default::default() }),
        ),
        (
            "common word, one client",
            Box::new(|i| Request {
                text: common[i % common.len()].to_string(),
                scope: Some(vec![big_clients[i % 20]]),
                limit: 20,
                ..Default::default()
            }),
        ),
        (
            "common word, 25 clients",
            Box::new(|i| Request {
                text: common[i % common.len()].to_string(),
                scope: Some((1..=25).map(|c| c * 80 - (i as i64 % 50)).collect()),
                limit: 20,
                ..Default::default()
            }),
        ),
        (
            "common word, active only",
            Box::new(|i| Request {
                text: common[i % common.len()].to_string(),
                statuses: vec!["new".into(), "open".into(), "waiting".into()],
                limit: 20,
                ..Default::default()
            }),
        ),
    ];
    // Warm up once over every class, then measure.
    for (_, make) in &classes {
        time_queries(&index, make);
    }
    for (name, make) in &classes {
        let (lat, hits) = time_queries(&index, make);
        rows.push((name.to_string(), pct(&lat, 0.5), pct(&lat, 0.95), pct(&lat, 0.99), hits as f64 / QUERIES as f64));
    }

    // A new ticket: from its outbox row to searchable.
    let word = format!("zzfresh{}", rng.gen_range(0..1_000_000));
    let mut fresh = vec![];
    for i in 0..20 {
        let w = format!("{word}{i}");
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db_path.display())).await?;
        let now = steward::time::now_us();
        let id = tickets + 1 + i;
        sqlx::query("INSERT INTO tickets (id, number, client_id, subject, status_id, status_kind, priority_id, ticket_type, board_id, opened_at, created_at, updated_at) VALUES (?, ?, 1, ?, 1, 'new', 2, 'incident', 1, ?, ?, ?)")
            .bind(id).bind(1000 + id).bind(format!("Fresh {w}")).bind(now).bind(now).bind(now).execute(&mut c).await?;
        sqlx::query("INSERT INTO search_outbox (kind, target_id, created_at) VALUES ('ticket', ?, ?)")
            .bind(id)
            .bind(now)
            .execute(&mut c)
            .await?;
        c.close().await?;
        let t = Instant::now();
        steward::search::indexer::catch_up(&store, &index, &steward::routes::indexers()).await?;
        assert!(index.contains(&w), "the fresh ticket is searchable");
        fresh.push(t.elapsed());
    }
    fresh.sort();

    // The queue's first page, with its total.
    let mut queue_rows = vec![];
    let queues: Vec<(&str, steward::tickets::store::Queue)> = vec![
        (
            "queue: active, all clients",
            steward::tickets::store::Queue { kinds: steward::tickets::model::Kind::active(), hide_merged: true, ..Default::default() },
        ),
        (
            "queue: active, one client",
            steward::tickets::store::Queue {
                kinds: steward::tickets::model::Kind::active(),
                client_id: Some(3),
                hide_merged: true,
                ..Default::default()
            },
        ),
        (
            "queue: active, a technician limited to 3 clients",
            steward::tickets::store::Queue {
                kinds: steward::tickets::model::Kind::active(),
                scope: Some(vec![80, 160, 240]),
                hide_merged: true,
                ..Default::default()
            },
        ),
        (
            "queue: active, all clients, soonest SLA due first",
            steward::tickets::store::Queue {
                kinds: steward::tickets::model::Kind::active(),
                sort: steward::tickets::store::Sort::Due,
                hide_merged: true,
                ..Default::default()
            },
        ),
        (
            "queue: waiting, 25 clients",
            steward::tickets::store::Queue {
                kinds: vec![steward::tickets::model::Kind::Waiting],
                scope: Some((1..=25).map(|c| c * 80).collect()),
                hide_merged: true,
                ..Default::default()
            },
        ),
    ];
    for (name, q) in &queues {
        let mut lat = vec![];
        for _ in 0..60 {
            let t = Instant::now();
            let mut db = store.snapshot().await?;
            let (page, _total) = steward::tickets::store::queue(&mut db, q, 50, 0).await?;
            assert!(!page.is_empty());
            lat.push(t.elapsed());
        }
        lat.sort();
        queue_rows.push((name.to_string(), pct(&lat, 0.5), pct(&lat, 0.95), pct(&lat, 0.99)));
    }
    store.close().await;

    // A cold start: the index opened again, its first query, with the
    // file cache dropped when we may.
    drop(classes);
    drop(index);
    let _ = std::process::Command::new("sync").status();
    let cold = std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok();
    let t = Instant::now();
    let index = Index::open(&index_dir)?;
    let opened = t.elapsed();
    let t = Instant::now();
    index.search(&Request { text: "outlook password".into(), limit: 20, ..Default::default() })?;
    let first = t.elapsed();

    println!();
    println!("| what | p50 | p95 | p99 | hits/query |");
    println!("|---|---|---|---|---|");
    for (name, p50, p95, p99, hits) in &rows {
        println!("| search: {name} | {} | {} | {} | {hits:.1} |", ms(*p50), ms(*p95), ms(*p99));
    }
    println!(
        "| new ticket searchable (outbox → committed index) | {} | {} | {} | |",
        ms(pct(&fresh, 0.5)),
        ms(pct(&fresh, 0.95)),
        ms(pct(&fresh, 0.99))
    );
    for (name, p50, p95, p99) in &queue_rows {
        println!("| {name} (first 50 and the total) | {} | {} | {} | |", ms(*p50), ms(*p95), ms(*p99));
    }
    println!();
    println!(
        "index built from the database: {} documents in {:.1} s; {:.0} MiB on disk",
        built.documents,
        built.took.as_secs_f64(),
        size as f64 / 1048576.0
    );
    println!(
        "cold start ({}): index opened in {}, first query {}",
        if cold { "file cache dropped" } else { "file cache NOT dropped: run as root for a cold read" },
        ms(opened),
        ms(first)
    );
    drop(index);

    // The queue through the real server, as a technician's browser or
    // script asks for it: over HTTPS on loopback, signed in.
    env.create_admin(common::ADMIN_EMAIL);
    let server = common::Server::start_in(env, &[]).await;
    let a = server.admin().await;
    println!();
    println!("| through the server (first 50 and the total) | p50 | p95 | p99 |");
    println!("|---|---|---|---|");
    for (name, query) in [
        ("active, all clients", ""),
        ("active, one client", "client_id=3"),
        ("waiting, one client", "status=waiting&client_id=3"),
        ("P1, active", "priority=P1"),
        ("active, all clients, by number", "sort=number"),
    ] {
        for (kind, path) in [("API", format!("/api/v1/tickets?{query}")), ("page", format!("/tickets?{query}"))] {
            let mut lat = vec![];
            for i in 0..61 {
                let t = Instant::now();
                let (st, _) = a.get_text(&path).await;
                assert_eq!(st, 200, "{path}");
                if i > 0 {
                    lat.push(t.elapsed());
                }
            }
            lat.sort();
            println!("| {kind}: {name} | {} | {} | {} |", ms(pct(&lat, 0.5)), ms(pct(&lat, 0.95)), ms(pct(&lat, 0.99)));
        }
    }
    Ok(())
}
