//! The tickets table: one ticket by id within its client, gapless numbers,
//! and the queue (filtered, sorted and paged in SQL, scoped to the clients
//! a user may see).

use super::config::{TicketPriorities, TicketStatuses};
use crate::sla::model::ClockState;
use crate::store::{Db, Result, Total};
use crate::tenancy::store::Clients;
use crate::tickets::model::Kind;
use crate::users::store::Users;
use sea_query::{Alias, Cond, Expr, Iden, NullOrdering, Order, Query, SelectStatement};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Tickets {
    Table,
    Id,
    Number,
    ClientId,
    SiteId,
    ContactId,
    Subject,
    StatusId,
    StatusKind,
    PriorityId,
    TicketType,
    BoardId,
    AssigneeId,
    DueAt,
    OpenedAt,
    FirstResponseAt,
    ResolvedAt,
    ClosedAt,
    MergedInto,
    ParentId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    SlaPolicyId,
    SlaCalendar,
    SlaFirstResponseSecs,
    SlaResolutionSecs,
    SlaWarnPermille,
    SlaState,
    SlaDueAt,
    SlaNextCheckAt,
    SlaFirstResponseAnnounced,
    SlaResolutionAnnounced,
    /// Computed by the engine: an active status kind and not merged.
    Active,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketCounter {
    Table,
    Id,
    LastNumber,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketTags {
    Table,
    TicketId,
    Tag,
}

/// A ticket row as stored (times are UTC microseconds).
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct TicketRow {
    pub id: i64,
    pub number: i64,
    pub client_id: i64,
    pub site_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub subject: String,
    pub status_id: i64,
    pub status_kind: String,
    pub priority_id: i64,
    pub ticket_type: String,
    pub board_id: i64,
    pub assignee_id: Option<i64>,
    pub due_at: Option<i64>,
    pub opened_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub merged_into: Option<i64>,
    pub parent_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sla_policy_id: Option<i64>,
    pub sla_calendar: Option<String>,
    pub sla_first_response_secs: Option<i64>,
    pub sla_resolution_secs: Option<i64>,
    pub sla_warn_permille: Option<i64>,
    pub sla_state: Option<String>,
    pub sla_due_at: Option<i64>,
    pub sla_next_check_at: Option<i64>,
    pub sla_first_response_announced: String,
    pub sla_resolution_announced: String,
}

pub(crate) const TICKET_COLS: [Tickets; 32] = [
    Tickets::Id,
    Tickets::Number,
    Tickets::ClientId,
    Tickets::SiteId,
    Tickets::ContactId,
    Tickets::Subject,
    Tickets::StatusId,
    Tickets::StatusKind,
    Tickets::PriorityId,
    Tickets::TicketType,
    Tickets::BoardId,
    Tickets::AssigneeId,
    Tickets::DueAt,
    Tickets::OpenedAt,
    Tickets::FirstResponseAt,
    Tickets::ResolvedAt,
    Tickets::ClosedAt,
    Tickets::MergedInto,
    Tickets::ParentId,
    Tickets::CreatedBy,
    Tickets::CreatedAt,
    Tickets::UpdatedAt,
    Tickets::SlaPolicyId,
    Tickets::SlaCalendar,
    Tickets::SlaFirstResponseSecs,
    Tickets::SlaResolutionSecs,
    Tickets::SlaWarnPermille,
    Tickets::SlaState,
    Tickets::SlaDueAt,
    Tickets::SlaNextCheckAt,
    Tickets::SlaFirstResponseAnnounced,
    Tickets::SlaResolutionAnnounced,
];

/// The next ticket number, taken inside the creating transaction: a create
/// that rolls back gives its number back, so numbers have no gaps.
pub async fn next_number(db: &mut impl Db) -> Result<i64> {
    #[derive(sqlx::FromRow)]
    struct Last {
        last_number: i64,
    }
    let r: Last = db
        .fetch_one(
            Query::update()
                .table(TicketCounter::Table)
                .value(TicketCounter::LastNumber, Expr::col(TicketCounter::LastNumber).add(1))
                .and_where(Expr::col(TicketCounter::Id).eq(1))
                .returning_col(TicketCounter::LastNumber),
        )
        .await?;
    Ok(r.last_number)
}

/// A ticket of a client the caller may see.
pub async fn get(db: &mut impl Db, client: crate::auth::principal::ScopedClient, id: i64) -> Result<Option<TicketRow>> {
    db.fetch_optional(
        Query::select()
            .columns(TICKET_COLS)
            .from(Tickets::Table)
            .and_where(Expr::col(Tickets::Id).eq(id))
            .and_where(Expr::col(Tickets::ClientId).eq(client.id())),
    )
    .await
}

/// A ticket by id whatever its client: for jobs, and for the caller's own
/// scope checks right after.
pub async fn get_any(db: &mut impl Db, id: i64) -> Result<Option<TicketRow>> {
    db.fetch_optional(Query::select().columns(TICKET_COLS).from(Tickets::Table).and_where(Expr::col(Tickets::Id).eq(id))).await
}

/// A ticket by its number (whatever its client).
pub async fn by_number(db: &mut impl Db, number: i64) -> Result<Option<TicketRow>> {
    db.fetch_optional(Query::select().columns(TICKET_COLS).from(Tickets::Table).and_where(Expr::col(Tickets::Number).eq(number))).await
}

pub async fn tags(db: &mut impl Db, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    #[derive(sqlx::FromRow)]
    struct T {
        ticket_id: i64,
        tag: String,
    }
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows: Vec<T> = db
        .fetch_all(
            Query::select()
                .columns([TicketTags::TicketId, TicketTags::Tag])
                .from(TicketTags::Table)
                .and_where(Expr::col(TicketTags::TicketId).is_in(ids.to_vec()))
                .order_by(TicketTags::Tag, Order::Asc),
        )
        .await?;
    Ok(rows.into_iter().map(|t| (t.ticket_id, t.tag)).collect())
}

pub async fn set_tags(db: &mut impl Db, id: i64, tags: &[String]) -> Result<()> {
    db.execute(Query::delete().from_table(TicketTags::Table).and_where(Expr::col(TicketTags::TicketId).eq(id))).await?;
    for t in tags {
        db.execute(
            Query::insert()
                .into_table(TicketTags::Table)
                .columns([TicketTags::TicketId, TicketTags::Tag])
                .values_panic([id.into(), t.into()]),
        )
        .await?;
    }
    Ok(())
}

/// Whom a queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Nobody,
    User(i64),
}

/// How a queue is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently changed first.
    #[default]
    Updated,
    /// Newest first.
    Number,
    /// Most urgent priority first, then oldest.
    Priority,
    /// Soonest SLA due time first; tickets without one last.
    Due,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "updated" => Sort::Updated,
            "number" => Sort::Number,
            "priority" => Sort::Priority,
            "due" => Sort::Due,
            _ => return None,
        })
    }
}

/// What a queue shows.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    /// `None`: every client; `Some(ids)`: only these (a limited user).
    pub scope: Option<Vec<i64>>,
    pub client_id: Option<i64>,
    /// Empty: every kind.
    pub kinds: Vec<Kind>,
    pub priority_id: Option<i64>,
    pub assignee: Option<Assignee>,
    pub board_id: Option<i64>,
    /// Tickets about this device.
    pub device_id: Option<i64>,
    pub tag: Option<String>,
    pub sla_state: Option<ClockState>,
    /// A ticket number, or words of the subject.
    pub text: Option<String>,
    pub sort: Sort,
    /// Leave out tickets merged into another.
    pub hide_merged: bool,
    /// Only these tickets (the search's hits).
    pub ids: Option<Vec<i64>>,
}

impl Queue {
    /// Every active kind and no merged ticket: the `active` column.
    fn is_active_view(&self) -> bool {
        self.hide_merged && {
            let mut k: Vec<_> = self.kinds.iter().map(|k| k.as_str()).collect();
            k.sort_unstable();
            k.dedup();
            let mut a: Vec<_> = Kind::active().into_iter().map(|k| k.as_str()).collect();
            a.sort_unstable();
            k == a
        }
    }

    /// The few clients the queue is narrowed to, if it is.
    fn few_clients(&self) -> bool {
        self.client_id.is_some() || self.scope.as_ref().is_some_and(|s| s.len() <= FEW_CLIENTS)
    }
}

/// Up to how many clients a queue narrowed to them is read client by
/// client (see [`queue`]).
const FEW_CLIENTS: usize = 64;

/// How far a queue's total is counted: past it the answer says "at least"
/// (`total_capped`), because counting 400,000 active tickets costs more than
/// the page itself and nobody pages that far.
pub const TOTAL_CAP: u64 = 10_000;

fn filter(q: &mut SelectStatement, f: &Queue) {
    let col = |c: Tickets| Expr::col((Tickets::Table, c));
    if let Some(ids) = &f.scope {
        q.and_where(col(Tickets::ClientId).is_in(ids.clone()));
    }
    if let Some(c) = f.client_id {
        q.and_where(col(Tickets::ClientId).eq(c));
    }
    if let Some(ids) = &f.ids {
        q.and_where(col(Tickets::Id).is_in(ids.clone()));
    }
    if f.is_active_view() {
        // One indexed value instead of four kinds and a null test: the
        // queue's default view reads in order from `tickets_*_active`.
        q.and_where(col(Tickets::Active).eq(true));
    } else if !f.kinds.is_empty() {
        q.and_where(col(Tickets::StatusKind).is_in(f.kinds.iter().map(|k| k.as_str())));
    }
    if let Some(p) = f.priority_id {
        q.and_where(col(Tickets::PriorityId).eq(p));
    }
    match f.assignee {
        Some(Assignee::Nobody) => {
            q.and_where(col(Tickets::AssigneeId).is_null());
        }
        Some(Assignee::User(u)) => {
            q.and_where(col(Tickets::AssigneeId).eq(u));
        }
        None => {}
    }
    if let Some(b) = f.board_id {
        q.and_where(col(Tickets::BoardId).eq(b));
    }
    if let Some(d) = f.device_id {
        q.and_where(
            col(Tickets::Id).in_subquery(
                Query::select()
                    .column(super::thread::TicketDevices::TicketId)
                    .from(super::thread::TicketDevices::Table)
                    .and_where(Expr::col(super::thread::TicketDevices::DeviceId).eq(d))
                    .to_owned(),
            ),
        );
    }
    if let Some(t) = &f.tag {
        q.and_where(
            col(Tickets::Id).in_subquery(
                Query::select()
                    .column(TicketTags::TicketId)
                    .from(TicketTags::Table)
                    .and_where(Expr::col(TicketTags::Tag).eq(t.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(s) = f.sla_state {
        q.and_where(col(Tickets::SlaState).eq(s.as_str()));
    }
    if f.hide_merged && !f.is_active_view() {
        q.and_where(col(Tickets::MergedInto).is_null());
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let words = t.split_whitespace().take(8).fold(Cond::all(), |c, w| {
            c.add(Expr::expr(sea_query::Func::lower(col(Tickets::Subject))).like(crate::store::like_contains(&w.to_lowercase())))
        });
        match crate::tickets::model::parse_number(t) {
            Some(n) => q.cond_where(Cond::any().add(col(Tickets::Number).eq(n)).add(words)),
            None => q.cond_where(words),
        };
    }
}

/// One line of a queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub number: i64,
    pub client_id: i64,
    pub client_name: String,
    pub subject: String,
    pub status_id: i64,
    pub status_name: String,
    pub status_kind: String,
    pub priority_code: String,
    pub ticket_type: String,
    pub board_id: i64,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub opened_at: i64,
    pub updated_at: i64,
    pub due_at: Option<i64>,
    pub sla_state: Option<String>,
    pub sla_due_at: Option<i64>,
    pub merged_into: Option<i64>,
}

/// One page of a queue and how many tickets match in all, counted up to
/// [`TOTAL_CAP`] (or past the page asked for).
///
/// A queue narrowed to a few clients is read client by client on SQLite
/// (`clients CROSS JOIN tickets` fixes that order there): without table
/// statistics its planner would rather walk the `updated_at` order of every
/// active ticket and skip the other clients' (70 ms for 3 clients of 2,000
/// over 430,000 active tickets, against under 1 ms).
pub async fn queue(db: &mut impl Db, f: &Queue, limit: u64, offset: u64) -> Result<(Vec<QueueRow>, Total)> {
    let t = |c: Tickets| (Tickets::Table, c);
    let mut q = Query::select();
    q.columns([
        t(Tickets::Id),
        t(Tickets::Number),
        t(Tickets::ClientId),
        t(Tickets::Subject),
        t(Tickets::StatusId),
        t(Tickets::StatusKind),
        t(Tickets::TicketType),
        t(Tickets::BoardId),
        t(Tickets::AssigneeId),
        t(Tickets::OpenedAt),
        t(Tickets::UpdatedAt),
        t(Tickets::DueAt),
        t(Tickets::SlaState),
        t(Tickets::SlaDueAt),
        t(Tickets::MergedInto),
    ])
    .expr_as(Expr::col((Clients::Table, Clients::Name)), Alias::new("client_name"))
    .expr_as(Expr::col((TicketStatuses::Table, TicketStatuses::Name)), Alias::new("status_name"))
    .expr_as(Expr::col((TicketPriorities::Table, TicketPriorities::Code)), Alias::new("priority_code"))
    .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("assignee_name"));
    let on_client = Expr::col((Clients::Table, Clients::Id)).equals(t(Tickets::ClientId));
    if db.backend() == crate::store::Backend::Sqlite && f.few_clients() {
        q.from(Clients::Table).cross_join(Tickets::Table, on_client);
        let client = Expr::col((Clients::Table, Clients::Id));
        if let Some(c) = f.client_id {
            q.and_where(client.clone().eq(c));
        }
        if let Some(scope) = &f.scope {
            q.and_where(client.is_in(scope.clone()));
        }
    } else {
        q.from(Tickets::Table).inner_join(Clients::Table, on_client);
    }
    q.inner_join(TicketStatuses::Table, Expr::col((TicketStatuses::Table, TicketStatuses::Id)).equals(t(Tickets::StatusId)))
        .inner_join(TicketPriorities::Table, Expr::col((TicketPriorities::Table, TicketPriorities::Id)).equals(t(Tickets::PriorityId)))
        .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals(t(Tickets::AssigneeId)))
        .limit(limit)
        .offset(offset);
    match f.sort {
        Sort::Updated => q.order_by(t(Tickets::UpdatedAt), Order::Desc).order_by(t(Tickets::Id), Order::Desc),
        Sort::Number => q.order_by(t(Tickets::Number), Order::Desc),
        Sort::Priority => {
            q.order_by((TicketPriorities::Table, TicketPriorities::Position), Order::Asc).order_by(t(Tickets::Id), Order::Asc)
        }
        // `NULLS LAST` (not `sla_due_at IS NULL` first) reads in index order.
        Sort::Due => q.order_by_with_nulls(t(Tickets::SlaDueAt), Order::Asc, NullOrdering::Last).order_by(t(Tickets::Id), Order::Asc),
    };
    filter(&mut q, f);
    let rows = db.fetch_all(&q).await?;
    let mut matching = Query::select();
    matching.expr(Expr::val(1)).from(Tickets::Table);
    filter(&mut matching, f);
    let total = crate::store::count_capped(db, matching, TOTAL_CAP.max(offset.saturating_add(limit))).await?;
    Ok((rows, total))
}
