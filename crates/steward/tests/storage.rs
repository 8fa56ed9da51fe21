//! The two engines' migrations describe the same schema: every table and
//! column, with the same nullability. Compares both side by side, so it needs
//! a PostgreSQL server in every pass: `STEWARD_TEST_POSTGRES_URL` (or
//! `STEWARD_TEST_DATABASE_URL`); CI sets it.

mod common;
use common::*;
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
        "SELECT m.name AS t, p.name AS c, p.\"notnull\" AS nn, p.pk AS pk FROM sqlite_master m JOIN pragma_table_info(m.name) p \
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
