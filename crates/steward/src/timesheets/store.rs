//! Work types and time entries in the database: a ticket's entries, a
//! user's running timer, the filtered list (scoped to the clients a user
//! may see), and approving a user's week.

use crate::store::{Count, Db, IdRow, Result};
use crate::time::Timestamp;
use crate::users::store::Users;
use sea_query::{Alias, Expr, Iden, Order, Query, SelectStatement};
use serde::Serialize;

#[derive(Iden, Clone, Copy)]
pub(crate) enum WorkTypes {
    Table,
    Id,
    Name,
    Billable,
    Archived,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TimeEntries {
    Table,
    Id,
    TicketId,
    ClientId,
    UserId,
    WorkTypeId,
    StartedAt,
    Minutes,
    Billable,
    Note,
    ApprovedAt,
    ApprovedBy,
    CreatedAt,
    UpdatedAt,
}

/// A kind of work, billable by default or not.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WorkType {
    pub id: i64,
    pub name: String,
    /// Entries of this type start billable.
    pub billable: bool,
    pub archived: bool,
}

pub async fn work_types(db: &mut impl Db) -> Result<Vec<WorkType>> {
    db.fetch_all(
        Query::select()
            .columns([WorkTypes::Id, WorkTypes::Name, WorkTypes::Billable, WorkTypes::Archived])
            .from(WorkTypes::Table)
            .order_by(WorkTypes::Name, Order::Asc),
    )
    .await
}

pub async fn work_type(db: &mut impl Db, id: i64) -> Result<Option<WorkType>> {
    db.fetch_optional(
        Query::select()
            .columns([WorkTypes::Id, WorkTypes::Name, WorkTypes::Billable, WorkTypes::Archived])
            .from(WorkTypes::Table)
            .and_where(Expr::col(WorkTypes::Id).eq(id)),
    )
    .await
}

pub async fn insert_work_type(db: &mut impl Db, name: &str, billable: bool) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(WorkTypes::Table)
                .columns([WorkTypes::Name, WorkTypes::Billable])
                .values_panic([name.into(), billable.into()])
                .returning_col(WorkTypes::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn update_work_type(db: &mut impl Db, id: i64, name: Option<&str>, billable: Option<bool>, archived: Option<bool>) -> Result<()> {
    let mut q = Query::update();
    q.table(WorkTypes::Table).and_where(Expr::col(WorkTypes::Id).eq(id));
    if let Some(n) = name {
        q.value(WorkTypes::Name, n);
    }
    if let Some(b) = billable {
        q.value(WorkTypes::Billable, b);
    }
    if let Some(a) = archived {
        q.value(WorkTypes::Archived, a);
    }
    if name.is_some() || billable.is_some() || archived.is_some() {
        db.execute(&q).await?;
    }
    Ok(())
}

/// A time entry as stored, with the names the pages show.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub ticket_id: i64,
    pub client_id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub work_type_id: i64,
    pub work_type: String,
    pub started_at: i64,
    pub minutes: Option<i64>,
    pub billable: bool,
    pub note: String,
    pub approved_at: Option<i64>,
    pub approved_by: Option<i64>,
}

/// A time entry as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimeEntry {
    pub id: i64,
    pub ticket_id: i64,
    pub client_id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub work_type_id: i64,
    pub work_type: String,
    pub started_at: Timestamp,
    /// Whole minutes; `null` while the timer runs.
    pub minutes: Option<i64>,
    pub running: bool,
    pub billable: bool,
    pub note: String,
    /// Set once the week is approved: the entry is locked.
    pub approved_at: Option<Timestamp>,
    pub approved_by: Option<i64>,
}

impl From<EntryRow> for TimeEntry {
    fn from(r: EntryRow) -> Self {
        TimeEntry {
            id: r.id,
            ticket_id: r.ticket_id,
            client_id: r.client_id,
            user_id: r.user_id,
            user_name: r.user_name,
            work_type_id: r.work_type_id,
            work_type: r.work_type,
            started_at: Timestamp(r.started_at),
            running: r.minutes.is_none(),
            minutes: r.minutes,
            billable: r.billable,
            note: r.note,
            approved_at: r.approved_at.map(Timestamp),
            approved_by: r.approved_by,
        }
    }
}

fn select() -> SelectStatement {
    let e = |c: TimeEntries| (TimeEntries::Table, c);
    Query::select()
        .columns([
            e(TimeEntries::Id),
            e(TimeEntries::TicketId),
            e(TimeEntries::ClientId),
            e(TimeEntries::UserId),
            e(TimeEntries::WorkTypeId),
            e(TimeEntries::StartedAt),
            e(TimeEntries::Minutes),
            e(TimeEntries::Billable),
            e(TimeEntries::Note),
            e(TimeEntries::ApprovedAt),
            e(TimeEntries::ApprovedBy),
        ])
        .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("user_name"))
        .expr_as(Expr::col((WorkTypes::Table, WorkTypes::Name)), Alias::new("work_type"))
        .from(TimeEntries::Table)
        .inner_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals(e(TimeEntries::UserId)))
        .inner_join(WorkTypes::Table, Expr::col((WorkTypes::Table, WorkTypes::Id)).equals(e(TimeEntries::WorkTypeId)))
        .to_owned()
}

pub async fn of_ticket(db: &mut impl Db, ticket_id: i64) -> Result<Vec<EntryRow>> {
    db.fetch_all(
        select()
            .and_where(Expr::col((TimeEntries::Table, TimeEntries::TicketId)).eq(ticket_id))
            .order_by((TimeEntries::Table, TimeEntries::StartedAt), Order::Asc),
    )
    .await
}

pub async fn get(db: &mut impl Db, ticket_id: i64, id: i64) -> Result<Option<EntryRow>> {
    db.fetch_optional(
        select()
            .and_where(Expr::col((TimeEntries::Table, TimeEntries::TicketId)).eq(ticket_id))
            .and_where(Expr::col((TimeEntries::Table, TimeEntries::Id)).eq(id)),
    )
    .await
}

/// The user's running timer, on whichever ticket.
pub async fn running(db: &mut impl Db, user_id: i64) -> Result<Option<EntryRow>> {
    db.fetch_optional(
        select()
            .and_where(Expr::col((TimeEntries::Table, TimeEntries::UserId)).eq(user_id))
            .and_where(Expr::col((TimeEntries::Table, TimeEntries::Minutes)).is_null()),
    )
    .await
}

pub struct NewEntry<'a> {
    pub ticket_id: i64,
    pub client_id: i64,
    pub user_id: i64,
    pub work_type_id: i64,
    pub started_at: i64,
    pub minutes: Option<i64>,
    pub billable: bool,
    pub note: &'a str,
    pub now: i64,
}

pub async fn insert(db: &mut impl Db, e: NewEntry<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(TimeEntries::Table)
                .columns([
                    TimeEntries::TicketId,
                    TimeEntries::ClientId,
                    TimeEntries::UserId,
                    TimeEntries::WorkTypeId,
                    TimeEntries::StartedAt,
                    TimeEntries::Minutes,
                    TimeEntries::Billable,
                    TimeEntries::Note,
                    TimeEntries::CreatedAt,
                    TimeEntries::UpdatedAt,
                ])
                .values_panic([
                    e.ticket_id.into(),
                    e.client_id.into(),
                    e.user_id.into(),
                    e.work_type_id.into(),
                    e.started_at.into(),
                    e.minutes.into(),
                    e.billable.into(),
                    e.note.into(),
                    e.now.into(),
                    e.now.into(),
                ])
                .returning_col(TimeEntries::Id),
        )
        .await?;
    Ok(r.id)
}

/// What a change to an entry sets.
#[derive(Default)]
pub struct Change {
    pub started_at: Option<i64>,
    pub minutes: Option<i64>,
    pub billable: Option<bool>,
    pub note: Option<String>,
    pub work_type_id: Option<i64>,
}

pub async fn update(db: &mut impl Db, id: i64, c: Change, now: i64) -> Result<()> {
    let mut q = Query::update();
    q.table(TimeEntries::Table).value(TimeEntries::UpdatedAt, now).and_where(Expr::col(TimeEntries::Id).eq(id));
    if let Some(v) = c.started_at {
        q.value(TimeEntries::StartedAt, v);
    }
    if let Some(v) = c.minutes {
        q.value(TimeEntries::Minutes, v);
    }
    if let Some(v) = c.billable {
        q.value(TimeEntries::Billable, v);
    }
    if let Some(v) = c.note {
        q.value(TimeEntries::Note, v);
    }
    if let Some(v) = c.work_type_id {
        q.value(TimeEntries::WorkTypeId, v);
    }
    db.execute(&q).await?;
    Ok(())
}

pub async fn delete(db: &mut impl Db, id: i64) -> Result<()> {
    db.execute(Query::delete().from_table(TimeEntries::Table).and_where(Expr::col(TimeEntries::Id).eq(id))).await?;
    Ok(())
}

/// Moves a ticket's entries to another ticket (a merge) and client (a move).
pub async fn move_to(db: &mut impl Db, from_ticket: i64, to_ticket: i64, client_id: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(TimeEntries::Table)
            .value(TimeEntries::TicketId, to_ticket)
            .value(TimeEntries::ClientId, client_id)
            .and_where(Expr::col(TimeEntries::TicketId).eq(from_ticket)),
    )
    .await?;
    Ok(())
}

/// Which entries a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `None`: every client; `Some(ids)`: only these.
    pub scope: Option<Vec<i64>>,
    pub user_id: Option<i64>,
    pub client_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// `[from, to)`, µs.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub billable: Option<bool>,
    pub approved: Option<bool>,
}

fn filtered(q: &mut SelectStatement, f: &Filter) {
    let c = |x: TimeEntries| Expr::col((TimeEntries::Table, x));
    if let Some(ids) = &f.scope {
        q.and_where(c(TimeEntries::ClientId).is_in(ids.clone()));
    }
    if let Some(u) = f.user_id {
        q.and_where(c(TimeEntries::UserId).eq(u));
    }
    if let Some(v) = f.client_id {
        q.and_where(c(TimeEntries::ClientId).eq(v));
    }
    if let Some(v) = f.ticket_id {
        q.and_where(c(TimeEntries::TicketId).eq(v));
    }
    if let Some(v) = f.from {
        q.and_where(c(TimeEntries::StartedAt).gte(v));
    }
    if let Some(v) = f.to {
        q.and_where(c(TimeEntries::StartedAt).lt(v));
    }
    if let Some(v) = f.billable {
        q.and_where(c(TimeEntries::Billable).eq(v));
    }
    match f.approved {
        Some(true) => {
            q.and_where(c(TimeEntries::ApprovedAt).is_not_null());
        }
        Some(false) => {
            q.and_where(c(TimeEntries::ApprovedAt).is_null());
        }
        None => {}
    }
}

pub async fn list(db: &mut impl Db, f: &Filter, limit: u64, offset: u64) -> Result<(Vec<EntryRow>, i64)> {
    let mut q = select();
    filtered(&mut q, f);
    q.order_by((TimeEntries::Table, TimeEntries::StartedAt), Order::Asc)
        .order_by((TimeEntries::Table, TimeEntries::Id), Order::Asc)
        .limit(limit)
        .offset(offset);
    let rows = db.fetch_all(&q).await?;
    let mut c = Query::select();
    c.expr_as(Expr::col((TimeEntries::Table, TimeEntries::Id)).count(), crate::store::n()).from(TimeEntries::Table);
    filtered(&mut c, f);
    let n: Count = db.fetch_one(&c).await?;
    Ok((rows, n.n))
}

/// Approves (or, with `at = None`, reopens) a user's entries in `[from, to)`
/// that are not running; how many.
pub async fn approve(db: &mut impl Db, user_id: i64, from: i64, to: i64, by: i64, at: Option<i64>) -> Result<u64> {
    db.execute(
        Query::update()
            .table(TimeEntries::Table)
            .value(TimeEntries::ApprovedAt, at)
            .value(TimeEntries::ApprovedBy, at.map(|_| by))
            .and_where(Expr::col(TimeEntries::UserId).eq(user_id))
            .and_where(Expr::col(TimeEntries::StartedAt).gte(from))
            .and_where(Expr::col(TimeEntries::StartedAt).lt(to))
            .and_where(Expr::col(TimeEntries::Minutes).is_not_null()),
    )
    .await
}
