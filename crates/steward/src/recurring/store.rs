//! The recurring_tickets table: one schedule within its client, the list
//! (scoped to the clients a user may see), the schedules that are due,
//! and moving one on with a compare-and-set of its `next_run_at`.

use crate::auth::principal::ScopedClient;
use crate::store::{Count, Db, IdRow, Result};
use crate::tenancy::store::Clients;
use sea_query::{Alias, Expr, Iden, Order, Query, SelectStatement, SimpleExpr};

#[derive(Iden, Clone, Copy)]
pub(crate) enum RecurringTickets {
    Table,
    Id,
    ClientId,
    SiteId,
    ContactId,
    AssigneeId,
    BoardId,
    PriorityId,
    TicketType,
    Subject,
    Body,
    Tags,
    Schedule,
    TimeOfDay,
    Timezone,
    Active,
    NextRunAt,
    LastRunAt,
    LastTicketId,
    LastError,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

use RecurringTickets as R;

/// A schedule as stored (times UTC microseconds), with its client's name.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct RecurringRow {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub site_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub board_id: Option<i64>,
    pub priority_id: Option<i64>,
    pub ticket_type: String,
    pub subject: String,
    pub body: String,
    pub tags: String,
    pub schedule: String,
    pub time_of_day: i64,
    pub timezone: String,
    pub active: bool,
    pub next_run_at: Option<i64>,
    pub last_run_at: Option<i64>,
    pub last_ticket_id: Option<i64>,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: [R; 22] = [
    R::Id,
    R::ClientId,
    R::SiteId,
    R::ContactId,
    R::AssigneeId,
    R::BoardId,
    R::PriorityId,
    R::TicketType,
    R::Subject,
    R::Body,
    R::Tags,
    R::Schedule,
    R::TimeOfDay,
    R::Timezone,
    R::Active,
    R::NextRunAt,
    R::LastRunAt,
    R::LastTicketId,
    R::LastError,
    R::CreatedBy,
    R::CreatedAt,
    R::UpdatedAt,
];

fn select() -> SelectStatement {
    let mut q = Query::select();
    q.columns(COLS.map(|c| (R::Table, c)))
        .expr_as(Expr::col((Clients::Table, Clients::Name)), Alias::new("client_name"))
        .from(R::Table)
        .inner_join(Clients::Table, Expr::col((Clients::Table, Clients::Id)).equals((R::Table, R::ClientId)));
    q
}

pub(crate) async fn insert(db: &mut impl Db, cols: Vec<(R, SimpleExpr)>) -> Result<i64> {
    let (names, values): (Vec<R>, Vec<SimpleExpr>) = cols.into_iter().unzip();
    let r: IdRow = db.fetch_one(Query::insert().into_table(R::Table).columns(names).values_panic(values).returning_col(R::Id)).await?;
    Ok(r.id)
}

/// One schedule of a client the caller may see.
pub async fn get(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<RecurringRow>> {
    db.fetch_optional(select().and_where(Expr::col((R::Table, R::Id)).eq(id)).and_where(Expr::col((R::Table, R::ClientId)).eq(client.id())))
        .await
}

/// For the job, which acts for every client.
pub async fn get_any(db: &mut impl Db, id: i64) -> Result<Option<RecurringRow>> {
    db.fetch_optional(select().and_where(Expr::col((R::Table, R::Id)).eq(id))).await
}

/// Which schedules: `scope` `None` is every client.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub scope: Option<Vec<i64>>,
    pub client_id: Option<i64>,
    pub active: Option<bool>,
}

pub async fn list(db: &mut impl Db, f: &Filter, limit: u64, offset: u64) -> Result<(Vec<RecurringRow>, i64)> {
    let mut q = select();
    if let Some(ids) = &f.scope {
        q.and_where(Expr::col((R::Table, R::ClientId)).is_in(ids.clone()));
    }
    if let Some(c) = f.client_id {
        q.and_where(Expr::col((R::Table, R::ClientId)).eq(c));
    }
    if let Some(a) = f.active {
        q.and_where(Expr::col((R::Table, R::Active)).eq(a));
    }
    let mut count = q.clone();
    count.clear_selects().expr_as(Expr::col((R::Table, R::Id)).count(), Alias::new("n"));
    let total: Count = db.fetch_one(&count).await?;
    q.order_by((Clients::Table, Clients::Name), Order::Asc).order_by((R::Table, R::Id), Order::Asc).limit(limit).offset(offset);
    Ok((db.fetch_all(&q).await?, total.n))
}

pub(crate) async fn update(db: &mut impl Db, id: i64, sets: Vec<(R, SimpleExpr)>) -> Result<()> {
    if sets.is_empty() {
        return Ok(());
    }
    let mut q = Query::update();
    q.table(R::Table).and_where(Expr::col(R::Id).eq(id));
    for (c, v) in sets {
        q.value(c, v);
    }
    db.execute(&q).await?;
    Ok(())
}

pub async fn delete(db: &mut impl Db, id: i64) -> Result<()> {
    db.execute(Query::delete().from_table(R::Table).and_where(Expr::col(R::Id).eq(id))).await?;
    Ok(())
}

/// Active schedules whose next run has come, oldest first.
pub async fn due(db: &mut impl Db, now: i64, limit: u64) -> Result<Vec<i64>> {
    let rows: Vec<IdRow> = db
        .fetch_all(
            Query::select()
                .column(R::Id)
                .from(R::Table)
                .and_where(Expr::col(R::Active).eq(true))
                .and_where(Expr::col(R::NextRunAt).lte(now))
                .order_by(R::NextRunAt, Order::Asc)
                .limit(limit),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Moves a schedule's next run from `seen` to `next`, only if it still is
/// `seen` and active: whoever moves it owns that occurrence. The update
/// also locks the row (PostgreSQL) for the rest of the transaction.
pub(crate) async fn advance(db: &mut impl Db, id: i64, seen: i64, next: Option<i64>, sets: Vec<(R, SimpleExpr)>) -> Result<bool> {
    let mut q = Query::update();
    q.table(R::Table)
        .value(R::NextRunAt, next)
        .and_where(Expr::col(R::Id).eq(id))
        .and_where(Expr::col(R::Active).eq(true))
        .and_where(Expr::col(R::NextRunAt).eq(seen));
    for (c, v) in sets {
        q.value(c, v);
    }
    Ok(db.execute(&q).await? == 1)
}
