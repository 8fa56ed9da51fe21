//! The saved_filters table: a user's named queue filters, only ever read
//! or changed through the user's own id.

use crate::store::{Db, IdRow, Result};
use sea_query::{Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub(crate) enum SavedFilters {
    Table,
    Id,
    UserId,
    Name,
    Query,
    Position,
    CreatedAt,
    UpdatedAt,
}

use SavedFilters as F;

/// A saved filter as stored (times UTC microseconds).
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct FilterRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub query: String,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: [F; 7] = [F::Id, F::UserId, F::Name, F::Query, F::Position, F::CreatedAt, F::UpdatedAt];

/// A user's filters in their order.
pub async fn of_user(db: &mut impl Db, user_id: i64) -> Result<Vec<FilterRow>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(F::Table)
            .and_where(Expr::col(F::UserId).eq(user_id))
            .order_by(F::Position, Order::Asc)
            .order_by(F::Id, Order::Asc),
    )
    .await
}

/// One of the user's filters; another user's is not found.
pub async fn get(db: &mut impl Db, user_id: i64, id: i64) -> Result<Option<FilterRow>> {
    db.fetch_optional(
        Query::select().columns(COLS).from(F::Table).and_where(Expr::col(F::Id).eq(id)).and_where(Expr::col(F::UserId).eq(user_id)),
    )
    .await
}

pub struct NewFilter<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub query: &'a str,
    pub position: i64,
    pub now: i64,
}

pub async fn insert(db: &mut impl Db, f: NewFilter<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(F::Table)
                .columns([F::UserId, F::Name, F::Query, F::Position, F::CreatedAt, F::UpdatedAt])
                .values_panic([f.user_id.into(), f.name.into(), f.query.into(), f.position.into(), f.now.into(), f.now.into()])
                .returning_col(F::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn update(db: &mut impl Db, id: i64, name: &str, query: &str, position: i64, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(F::Table)
            .values([(F::Name, name.into()), (F::Query, query.into()), (F::Position, position.into()), (F::UpdatedAt, now.into())])
            .and_where(Expr::col(F::Id).eq(id)),
    )
    .await?;
    Ok(())
}

pub async fn delete(db: &mut impl Db, id: i64) -> Result<()> {
    db.execute(Query::delete().from_table(F::Table).and_where(Expr::col(F::Id).eq(id))).await?;
    Ok(())
}
