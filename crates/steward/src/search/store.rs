//! The search outbox in the database: a row per changed record, written by
//! the domains inside their own transactions ([`enqueue`]), read by every
//! node's indexer after its cursor, and pruned after a day.

use crate::store::{Db, Result};
use sea_query::{Cond, Expr, Func, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
enum SearchOutbox {
    Table,
    Id,
    Kind,
    TargetId,
    CreatedAt,
}

#[derive(Iden, Clone, Copy)]
enum SearchState {
    Table,
    Id,
    PrunedThrough,
}

/// Records that `kind` record `id` changed, in the caller's transaction.
pub async fn enqueue(db: &mut impl Db, kind: &str, id: i64, at: i64) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(SearchOutbox::Table)
            .columns([SearchOutbox::Kind, SearchOutbox::TargetId, SearchOutbox::CreatedAt])
            .values_panic([kind.into(), id.into(), at.into()]),
    )
    .await?;
    Ok(())
}

/// One outbox row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub target_id: i64,
    pub created_at: i64,
}

/// Rows after `after`, oldest first, at most `limit`.
pub async fn after(db: &mut impl Db, after: i64, limit: u64) -> Result<Vec<OutboxRow>> {
    db.fetch_all(
        Query::select()
            .columns([SearchOutbox::Id, SearchOutbox::Kind, SearchOutbox::TargetId, SearchOutbox::CreatedAt])
            .from(SearchOutbox::Table)
            .and_where(Expr::col(SearchOutbox::Id).gt(after))
            .order_by(SearchOutbox::Id, Order::Asc)
            .limit(limit),
    )
    .await
}

/// Rows whose ids fall in any of `ranges` (inclusive), oldest first.
pub async fn within(db: &mut impl Db, ranges: &[(i64, i64)]) -> Result<Vec<OutboxRow>> {
    let mut any = Cond::any();
    for (a, b) in ranges {
        any = any.add(Expr::col(SearchOutbox::Id).between(*a, *b));
    }
    db.fetch_all(
        Query::select()
            .columns([SearchOutbox::Id, SearchOutbox::Kind, SearchOutbox::TargetId, SearchOutbox::CreatedAt])
            .from(SearchOutbox::Table)
            .cond_where(any)
            .order_by(SearchOutbox::Id, Order::Asc),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct MaxId {
    id: Option<i64>,
}

/// The newest row created before `before` (µs): where a rebuild that
/// starts now may put its cursor (see `model::cursor::SETTLE_US`).
pub async fn settled_before(db: &mut impl Db, before: i64) -> Result<i64> {
    let r: MaxId = db
        .fetch_one(
            Query::select()
                .expr_as(Func::max(Expr::col(SearchOutbox::Id)), sea_query::Alias::new("id"))
                .from(SearchOutbox::Table)
                .and_where(Expr::col(SearchOutbox::CreatedAt).lt(before)),
        )
        .await?;
    Ok(r.id.unwrap_or(0))
}

#[derive(sqlx::FromRow)]
struct Pruned {
    pruned_through: i64,
}

/// Every row up to this id has been pruned: an index whose cursor is
/// below it has missed changes and is rebuilt.
pub async fn pruned_through(db: &mut impl Db) -> Result<i64> {
    let r: Pruned = db
        .fetch_one(Query::select().column(SearchState::PrunedThrough).from(SearchState::Table).and_where(Expr::col(SearchState::Id).eq(1)))
        .await?;
    Ok(r.pruned_through)
}

/// Deletes the rows created before `before` (µs) and remembers how far.
pub async fn prune(db: &mut impl Db, before: i64) -> Result<u64> {
    let through = settled_before(db, before).await?;
    if through == 0 {
        return Ok(0);
    }
    let n = db.execute(Query::delete().from_table(SearchOutbox::Table).and_where(Expr::col(SearchOutbox::Id).lte(through))).await?;
    db.execute(
        Query::update()
            .table(SearchState::Table)
            .value(SearchState::PrunedThrough, through)
            .and_where(Expr::col(SearchState::Id).eq(1))
            .and_where(Expr::col(SearchState::PrunedThrough).lt(through)),
    )
    .await?;
    Ok(n)
}
