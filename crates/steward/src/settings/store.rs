//! Installation-wide settings (key/value), their API and page.
//!
//! Today: `require_mfa`, which makes every staff user enrol TOTP before they
//! can do anything else, and `script_approval_threshold`, past which a
//! script run needs a second person's approval. Every change is audited with before and after.

use crate::audit::store::{Actor, Event};
use crate::store::{Result, Store};
use sea_query::{Expr, Iden, OnConflict, Query};

#[derive(Iden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(sqlx::FromRow)]
struct Row {
    value: String,
}

pub const REQUIRE_MFA: &str = "require_mfa";
/// A script run on more devices than this needs a second person's approval.
pub const SCRIPT_APPROVAL_THRESHOLD: &str = "script_approval_threshold";
pub const DEFAULT_SCRIPT_APPROVAL_THRESHOLD: u32 = 10;
/// Days a resolved ticket waits before it closes itself (0: never).
pub const TICKET_AUTOCLOSE_DAYS: &str = "ticket_autoclose_days";
pub const DEFAULT_TICKET_AUTOCLOSE_DAYS: u32 = 7;

/// Alerts of at least this severity open a ticket (`off`, `warning` or
/// `critical`).
pub const ALERT_TICKETS: &str = "alert_tickets";

pub async fn get(store: &Store, key: &str) -> Result<Option<String>> {
    let r: Option<Row> = store
        .fetch_optional(Query::select().column(Settings::Value).from(Settings::Table).and_where(Expr::col(Settings::Key).eq(key)))
        .await?;
    Ok(r.map(|r| r.value))
}

pub async fn require_mfa(store: &Store) -> Result<bool> {
    Ok(get(store, REQUIRE_MFA).await?.as_deref() == Some("true"))
}

pub async fn script_approval_threshold(store: &Store) -> Result<u32> {
    Ok(get(store, SCRIPT_APPROVAL_THRESHOLD).await?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_SCRIPT_APPROVAL_THRESHOLD))
}

/// `warning`, `critical`, or `off` (the default: an upgrade does not start
/// opening tickets by itself).
pub async fn alert_tickets(store: &Store) -> Result<String> {
    Ok(get(store, ALERT_TICKETS).await?.filter(|v| matches!(v.as_str(), "warning" | "critical")).unwrap_or_else(|| "off".into()))
}

pub async fn ticket_autoclose_days(store: &Store) -> Result<u32> {
    Ok(get(store, TICKET_AUTOCLOSE_DAYS).await?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TICKET_AUTOCLOSE_DAYS))
}

/// Writes a setting inside the caller's transaction (which audits it).
pub async fn put(db: &mut impl crate::store::Db, key: &str, value: &str) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(Settings::Table)
            .columns([Settings::Key, Settings::Value])
            .values_panic([key.into(), value.into()])
            .on_conflict(OnConflict::column(Settings::Key).update_column(Settings::Value).to_owned()),
    )
    .await?;
    Ok(())
}

/// Reads a setting inside the caller's transaction.
pub async fn read(db: &mut impl crate::store::Db, key: &str) -> Result<Option<String>> {
    let r: Option<Row> = db
        .fetch_optional(Query::select().column(Settings::Value).from(Settings::Table).and_where(Expr::col(Settings::Key).eq(key)))
        .await?;
    Ok(r.map(|r| r.value))
}

/// Removes a setting inside the caller's transaction (back to its default).
pub async fn remove(db: &mut impl crate::store::Db, key: &str) -> Result<()> {
    db.execute(Query::delete().from_table(Settings::Table).and_where(Expr::col(Settings::Key).eq(key))).await?;
    Ok(())
}

/// Sets a value, audited with its old and new values.
pub async fn set(store: &Store, actor: &Actor, key: &str, value: &str) -> Result<()> {
    let before = get(store, key).await?;
    let mut tx = store.begin_audited().await?;
    put(tx.tx(), key, value).await?;
    tx.commit(
        actor,
        Event::new("settings.update", "setting", key).details(serde_json::json!({"key": key, "before": before, "after": value})),
    )
    .await?;
    Ok(())
}
