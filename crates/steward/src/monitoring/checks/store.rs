//! The check_states, check_results and check_changes tables: each check's
//! state per device (what hysteresis and flapping remember, the last
//! output and figure), every result as reported (kept like raw metrics),
//! and every change of state (kept two years, drawn as the device page's
//! strips).

use crate::store::{Db, Result};
use sea_query::{Expr, Iden, OnConflict, Order, Query};

#[derive(Iden, Clone, Copy)]
enum CheckStates {
    Table,
    DeviceId,
    CheckKey,
    CheckType,
    State,
    Status,
    Output,
    Value,
    UpdatedAt,
}
use CheckStates as S;

#[derive(Iden, Clone, Copy)]
enum CheckResults {
    Table,
    DeviceId,
    CheckKey,
    At,
    Status,
    Output,
    Value,
}
use CheckResults as R;

#[derive(Iden, Clone, Copy)]
enum CheckChanges {
    Table,
    DeviceId,
    CheckKey,
    At,
    Status,
}
use CheckChanges as C;

/// A check's state as the device page reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StateView {
    pub check_key: String,
    pub check_type: String,
    /// `checks::model::State` as JSON.
    pub state: String,
    pub status: String,
    pub output: String,
    pub value: Option<f64>,
    pub updated_at: i64,
}

pub async fn of_device(db: &mut impl Db, device_id: i64) -> Result<Vec<StateView>> {
    db.fetch_all(
        Query::select()
            .columns([S::CheckKey, S::CheckType, S::State, S::Status, S::Output, S::Value, S::UpdatedAt])
            .from(S::Table)
            .and_where(Expr::col(S::DeviceId).eq(device_id))
            .order_by(S::CheckKey, Order::Asc),
    )
    .await
}

/// A stored state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StateRow {
    pub device_id: i64,
    pub check_key: String,
    pub state: String,
    pub output: String,
    pub updated_at: i64,
}

/// The states of every check of the devices in `ids`.
pub async fn states(db: &mut impl Db, ids: &[i64]) -> Result<Vec<StateRow>> {
    db.fetch_all(
        Query::select()
            .columns([S::DeviceId, S::CheckKey, S::State, S::Output, S::UpdatedAt])
            .from(S::Table)
            .and_where(Expr::col(S::DeviceId).is_in(ids.iter().copied())),
    )
    .await
}

/// A state to keep.
pub struct StateWrite<'a> {
    pub device_id: i64,
    pub check_key: &'a str,
    pub check_type: &'a str,
    pub state: &'a str,
    pub status: &'a str,
    pub output: &'a str,
    pub value: Option<f64>,
    pub now: i64,
}

pub async fn set_state(db: &mut impl Db, w: &StateWrite<'_>) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(S::Table)
            .columns([S::DeviceId, S::CheckKey, S::CheckType, S::State, S::Status, S::Output, S::Value, S::UpdatedAt])
            .values_panic([
                w.device_id.into(),
                w.check_key.into(),
                w.check_type.into(),
                w.state.into(),
                w.status.into(),
                w.output.into(),
                w.value.into(),
                w.now.into(),
            ])
            .on_conflict(
                OnConflict::columns([S::DeviceId, S::CheckKey])
                    .update_columns([S::CheckType, S::State, S::Status, S::Output, S::Value, S::UpdatedAt])
                    .to_owned(),
            ),
    )
    .await?;
    Ok(())
}

/// One result as reported (`at` µs).
#[derive(Debug, Clone)]
pub struct ResultRow {
    pub device_id: i64,
    pub check_key: String,
    pub at: i64,
    pub status: &'static str,
    pub output: String,
    pub value: Option<f64>,
}

/// Stores results, a few hundred rows per statement.
pub async fn add_results(db: &mut impl Db, rows: &[ResultRow]) -> Result<()> {
    for chunk in rows.chunks(200) {
        let mut q = Query::insert();
        q.into_table(R::Table).columns([R::DeviceId, R::CheckKey, R::At, R::Status, R::Output, R::Value]);
        for r in chunk {
            q.values_panic([
                r.device_id.into(),
                r.check_key.as_str().into(),
                r.at.into(),
                r.status.into(),
                r.output.as_str().into(),
                r.value.into(),
            ]);
        }
        db.execute(&q).await?;
    }
    Ok(())
}

pub async fn add_change(db: &mut impl Db, device_id: i64, check_key: &str, at: i64, status: &str) -> Result<()> {
    db.execute(Query::insert().into_table(C::Table).columns([C::DeviceId, C::CheckKey, C::At, C::Status]).values_panic([
        device_id.into(),
        check_key.into(),
        at.into(),
        status.into(),
    ]))
    .await?;
    Ok(())
}

/// A change of a check's state (`at` µs).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub check_key: String,
    pub at: i64,
    pub status: String,
}

/// A device's changes since `since` (µs), and the last one before it (so
/// a strip knows the state it starts in), oldest first.
pub async fn changes(db: &mut impl Db, device_id: i64, since: i64) -> Result<Vec<ChangeRow>> {
    db.fetch_all(
        Query::select()
            .columns([C::CheckKey, C::At, C::Status])
            .from(C::Table)
            .and_where(Expr::col(C::DeviceId).eq(device_id))
            .and_where(Expr::col(C::At).gte(since))
            .order_by(C::At, Order::Asc)
            .limit(5000),
    )
    .await
}

/// Deletes results before `results_before` and changes before
/// `changes_before` (µs); returns the rows removed.
pub async fn prune(db: &mut impl Db, results_before: i64, changes_before: i64) -> Result<u64> {
    let a = db.execute(Query::delete().from_table(R::Table).and_where(Expr::col(R::At).lt(results_before))).await?;
    let b = db.execute(Query::delete().from_table(C::Table).and_where(Expr::col(C::At).lt(changes_before))).await?;
    Ok(a + b)
}
