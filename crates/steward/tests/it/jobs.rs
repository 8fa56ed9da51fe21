//! Jobs run once per occurrence across nodes: two `steward serve` processes
//! on one PostgreSQL database share the scheduled audit anchor (each node
//! writes to its own file; the chain is kept moving, so every occurrence
//! writes), so together they write it about once a second, not twice; when
//! one is killed the other goes on alone. The lease rules
//! themselves (a held lease blocks others until it expires) are checked on
//! the store directly, on both engines.
//!
//! Several nodes need PostgreSQL (`STEWARD_TEST_POSTGRES_URL` or
//! `STEWARD_TEST_DATABASE_URL`; CI sets it in every pass).

use crate::common::*;
use std::time::{Duration, Instant};
use steward::store::lease::{self, Terms};

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map(|s| s.lines().count()).unwrap_or(0)
}

#[tokio::test]
async fn two_nodes_run_each_occurrence_once_and_one_takes_over_when_the_other_dies() {
    let side_by_side = std::env::var("STEWARD_TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty());
    let Some(admin) = side_by_side.or_else(pg_admin_url) else {
        assert!(!require_all(), "STEWARD_TEST_POSTGRES_URL is required in CI");
        eprintln!("\n!!! jobs across nodes NOT tested: it needs PostgreSQL; set STEWARD_TEST_POSTGRES_URL=postgres://… !!!\n");
        return;
    };
    let url = fresh_pg_database(&admin).await;
    let env_a = Env { dir: tempfile::tempdir().unwrap(), database_url: Some(url.clone()) };
    env_a.create_admin(ADMIN_EMAIL);
    let key = env_a.data_dir().join("master.key");
    let env_b = Env { dir: tempfile::tempdir().unwrap(), database_url: Some(url) };
    let (file_a, file_b) = (env_a.data_dir().join("anchors.jsonl"), env_b.data_dir().join("anchors.jsonl"));
    let flags = |file: &std::path::Path| {
        vec![
            "--audit-anchor-file".to_string(),
            file.display().to_string(),
            "--audit-anchor-interval-secs".into(),
            "1".into(),
            "--job-lease-secs".into(),
            "3".into(),
            "--master-key-file".into(),
            key.display().to_string(),
        ]
    };
    let fa = flags(&file_a);
    let fb = flags(&file_b);
    let a = Server::start_in(env_a, &fa.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let b = Server::start_in(env_b, &fb.iter().map(String::as_str).collect::<Vec<_>>()).await;

    // The anchor is written when the head moved: keep the chain moving (a
    // client a fifth of a second, through node B, which outlives A).
    let writer = b.admin().await;
    let busy = tokio::spawn(async move {
        for i in 0.. {
            make_client(&writer, &format!("Busy {i}")).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    // Both running: the anchor is due once a second, and each occurrence is
    // written by one node (two nodes each running it would write twice).
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (na, nb) = (lines(&file_a), lines(&file_b));
    assert!(na + nb >= 4, "the job runs on some node: {na} + {nb} anchors in {elapsed:.1} s");
    assert!(
        ((na + nb) as f64) <= elapsed + 2.0,
        "{na} + {nb} anchors in {elapsed:.1} s: occurrences ran on both nodes (A: {}, B: {})",
        a.stderr(),
        b.stderr()
    );

    // A dies without a word (no lease released): B carries on alone.
    drop(a);
    let before = lines(&file_b);
    let dead_a = lines(&file_a);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = lines(&file_b);
    assert!(after >= before + 3, "B took over the job: {before} → {after} anchors in 6 s ({})", b.stderr());
    assert_eq!(lines(&file_a), dead_a, "nothing writes A's file once A is gone");
    busy.abort();
}

#[tokio::test]
async fn a_held_lease_blocks_other_nodes_until_it_expires() {
    let env = Env::new().await;
    let store = steward::store::Store::open(env.data_dir(), env.database_url.as_deref()).await.unwrap();
    // A run that takes longer than the period: its lease outlives the next due time.
    let (s, lease_us, period) = (1_000_000_000_000i64, 120_000_000i64, 60_000_000i64);
    let at = |now: i64| Terms { now, next_due: now + period, lease: lease_us };
    assert!(lease::claim(&store, "job", "n1", at(s)).await.unwrap(), "a new job is due at once");
    assert!(!lease::claim(&store, "job", "n2", at(s)).await.unwrap(), "the same occurrence goes to one node");
    // n1 is still running it (its lease holds) when the next one is due.
    assert!(!lease::claim(&store, "job", "n2", at(s + period)).await.unwrap(), "a held lease blocks the next occurrence");
    assert!(lease::renew(&store, "job", "n1", s + period + lease_us).await.unwrap());
    assert!(!lease::claim(&store, "job", "n2", at(s + lease_us + 1)).await.unwrap(), "renewed: still held past its first term");
    // n1 died: once its lease ran out, n2 takes the due occurrence.
    let t = s + period + lease_us + 1;
    assert!(lease::claim(&store, "job", "n2", at(t)).await.unwrap(), "an expired lease is taken over");
    assert!(!lease::renew(&store, "job", "n1", t + lease_us).await.unwrap(), "the old holder no longer holds it");
    // n2 finishes and releases: the next occurrence may go to anyone, when due.
    lease::release(&store, "job", "n2").await.unwrap();
    assert!(!lease::claim(&store, "job", "n1", at(t + 1)).await.unwrap(), "not due yet");
    assert!(lease::claim(&store, "job", "n1", at(t + period)).await.unwrap(), "due and free");
    store.close().await;
}
