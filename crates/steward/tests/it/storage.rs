//! Storage: the two engines' migrations describe the same schema (every
//! table and column, with the same nullability; compared side by side, so
//! it needs a PostgreSQL server in every pass: `STEWARD_TEST_POSTGRES_URL`
//! or `STEWARD_TEST_DATABASE_URL`; CI sets it), and a snapshot sees one
//! moment while the server writes (on the pass's engine).

use crate::common::*;
use sqlx::{Connection, Row};
use std::collections::BTreeSet;

#[tokio::test]
async fn sqlite_and_postgresql_migrations_define_the_same_schema() {
    let side_by_side = std::env::var("STEWARD_TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty());
    let Some(admin) = side_by_side.or_else(pg_admin_url) else {
        assert!(!require_all(), "STEWARD_TEST_POSTGRES_URL is required in CI");
        eprintln!("\n!!! schema parity NOT checked: it needs PostgreSQL; set STEWARD_TEST_POSTGRES_URL=postgres://… !!!\n");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lite = steward::store::Store::open(dir.path(), None).await.unwrap();
    lite.close().await;
    let pg_url = fresh_pg_database(&admin).await;
    let pg = steward::store::Store::open(dir.path(), Some(&pg_url)).await.unwrap();
    pg.close().await;

    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.path().join("steward.db").display())).await.unwrap();
    let rows = sqlx::query(
        // `table_xinfo`: generated columns (tickets.active) too.
        "SELECT m.name AS t, p.name AS c, p.\"notnull\" AS nn, p.pk AS pk FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let lite_cols: BTreeSet<(String, String, bool)> = rows
        .iter()
        .map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c"), r.get::<i64, _>("nn") == 1 || r.get::<i64, _>("pk") > 0))
        .collect();

    let mut c = sqlx::PgConnection::connect(&pg_url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, is_nullable::text AS n FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let pg_cols: BTreeSet<(String, String, bool)> =
        rows.iter().map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c"), r.get::<String, _>("n") == "NO")).collect();

    assert!(lite_cols.len() > 50, "{} columns", lite_cols.len());
    let only_lite: Vec<_> = lite_cols.difference(&pg_cols).collect();
    let only_pg: Vec<_> = pg_cols.difference(&lite_cols).collect();
    assert!(only_lite.is_empty() && only_pg.is_empty(), "schemas differ:\n only SQLite: {only_lite:?}\n only PostgreSQL: {only_pg:?}");
}

/// A page and its total read in one `Store::snapshot` agree, however many
/// rows the server adds between the two reads, and the snapshot holds no
/// write back.
#[tokio::test]
async fn a_snapshot_sees_one_moment_while_the_server_writes() {
    let s = Server::start().await;
    let a = s.admin().await;
    make_client(&a, "First Ltd").await;
    let store = steward::store::Store::open(s.env.data_dir(), s.env.database_url.as_deref()).await.unwrap();
    let all = steward::tenancy::store::ClientQuery { scope: None, include_archived: false, search: None };
    let mut snap = store.snapshot().await.unwrap();
    let (_, before) = steward::tenancy::store::list_clients(&mut snap, &all, 50, 0).await.unwrap();
    assert_eq!(before, 1);
    // Written and acknowledged by the server while the snapshot is open.
    make_client(&a, "Second Ltd").await;
    let (items, total) = steward::tenancy::store::list_clients(&mut snap, &all, 50, 0).await.unwrap();
    assert_eq!((items.len(), total), (1, 1), "the snapshot still sees one moment");
    drop(snap);
    let (items, total) = steward::tenancy::store::list_clients(&mut store.clone(), &all, 50, 0).await.unwrap();
    assert_eq!((items.len(), total), (2, 2), "a new read sees the write");
    store.close().await;
}
