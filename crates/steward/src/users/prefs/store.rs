//! The user_prefs table: a user's own small settings of the pages (JSON
//! values by key), only ever read or written for that user.

use crate::store::like_prefix;
use crate::store::{Db, Result};
use sea_query::{Expr, Iden, OnConflict, Order, Query};

#[derive(Iden, Clone, Copy)]
enum UserPrefs {
    Table,
    UserId,
    Key,
    Value,
    UpdatedAt,
}

#[derive(sqlx::FromRow)]
struct ValueRow {
    value: String,
}

/// The user's value for `key`, if they set one.
pub async fn get(db: &mut impl Db, user_id: i64, key: &str) -> Result<Option<String>> {
    let row: Option<ValueRow> = db
        .fetch_optional(
            Query::select()
                .column(UserPrefs::Value)
                .from(UserPrefs::Table)
                .and_where(Expr::col(UserPrefs::UserId).eq(user_id))
                .and_where(Expr::col(UserPrefs::Key).eq(key)),
        )
        .await?;
    Ok(row.map(|r| r.value))
}

/// Sets the user's value for `key`.
pub async fn set(db: &mut impl Db, user_id: i64, key: &str, value: &str, now: i64) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(UserPrefs::Table)
            .columns([UserPrefs::UserId, UserPrefs::Key, UserPrefs::Value, UserPrefs::UpdatedAt])
            .values_panic([user_id.into(), key.into(), value.into(), now.into()])
            .on_conflict(
                OnConflict::columns([UserPrefs::UserId, UserPrefs::Key])
                    .update_columns([UserPrefs::Value, UserPrefs::UpdatedAt])
                    .to_owned(),
            ),
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct KeyValue {
    value: String,
}

/// The user's values whose keys start with `prefix`, by key.
pub async fn with_prefix(db: &mut impl Db, user_id: i64, prefix: &str) -> Result<Vec<String>> {
    let rows: Vec<KeyValue> = db
        .fetch_all(
            Query::select()
                .column(UserPrefs::Value)
                .from(UserPrefs::Table)
                .and_where(Expr::col(UserPrefs::UserId).eq(user_id))
                .and_where(Expr::col(UserPrefs::Key).like(like_prefix(prefix)))
                .order_by(UserPrefs::Key, Order::Asc),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.value).collect())
}

/// Removes the user's value for `key`; false when there was none.
pub async fn delete(db: &mut impl Db, user_id: i64, key: &str) -> Result<bool> {
    let n = db
        .execute(
            Query::delete()
                .from_table(UserPrefs::Table)
                .and_where(Expr::col(UserPrefs::UserId).eq(user_id))
                .and_where(Expr::col(UserPrefs::Key).eq(key)),
        )
        .await?;
    Ok(n > 0)
}
