//! What an SLA report reads: the tickets opened in a period (merged ones
//! left out) with what their clocks need and what they are grouped by,
//! and their pause intervals, both in one statement each.

use crate::store::{Db, Result};
use crate::tenancy::store::Clients;
use crate::tickets::store::config::TicketPriorities;
use crate::tickets::store::thread::TicketPauses;
use crate::tickets::store::Tickets;
use crate::users::store::Users;
use sea_query::{Alias, Expr, Order, Query, SelectStatement};
use std::collections::HashMap;

/// Which tickets a report counts.
#[derive(Debug, Clone)]
pub struct Period {
    /// `None`: every client; `Some(ids)`: only these (a limited user).
    pub scope: Option<Vec<i64>>,
    pub client_id: Option<i64>,
    /// Opened at or after (UTC µs).
    pub from: i64,
    /// Opened before.
    pub to: i64,
}

/// One ticket as a report reads it (times in UTC µs).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportTicket {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub priority_code: String,
    pub priority_position: i64,
    pub opened_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub sla_calendar: Option<String>,
    pub sla_first_response_secs: Option<i64>,
    pub sla_resolution_secs: Option<i64>,
    pub sla_warn_permille: Option<i64>,
}

fn within(q: &mut SelectStatement, p: &Period) {
    let col = |c: Tickets| Expr::col((Tickets::Table, c));
    q.and_where(col(Tickets::OpenedAt).gte(p.from))
        .and_where(col(Tickets::OpenedAt).lt(p.to))
        .and_where(col(Tickets::MergedInto).is_null());
    if let Some(ids) = &p.scope {
        q.and_where(col(Tickets::ClientId).is_in(ids.clone()));
    }
    if let Some(c) = p.client_id {
        q.and_where(col(Tickets::ClientId).eq(c));
    }
}

/// The tickets of the period, oldest first.
pub async fn tickets(db: &mut impl Db, p: &Period) -> Result<Vec<ReportTicket>> {
    let mut q = Query::select();
    q.columns([
        (Tickets::Table, Tickets::Id),
        (Tickets::Table, Tickets::ClientId),
        (Tickets::Table, Tickets::AssigneeId),
        (Tickets::Table, Tickets::OpenedAt),
        (Tickets::Table, Tickets::FirstResponseAt),
        (Tickets::Table, Tickets::ResolvedAt),
        (Tickets::Table, Tickets::SlaCalendar),
        (Tickets::Table, Tickets::SlaFirstResponseSecs),
        (Tickets::Table, Tickets::SlaResolutionSecs),
        (Tickets::Table, Tickets::SlaWarnPermille),
    ])
    .expr_as(Expr::col((Clients::Table, Clients::Name)), Alias::new("client_name"))
    .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("assignee_name"))
    .expr_as(Expr::col((TicketPriorities::Table, TicketPriorities::Code)), Alias::new("priority_code"))
    .expr_as(Expr::col((TicketPriorities::Table, TicketPriorities::Position)), Alias::new("priority_position"))
    .from(Tickets::Table)
    .inner_join(Clients::Table, Expr::col((Clients::Table, Clients::Id)).equals((Tickets::Table, Tickets::ClientId)))
    .inner_join(
        TicketPriorities::Table,
        Expr::col((TicketPriorities::Table, TicketPriorities::Id)).equals((Tickets::Table, Tickets::PriorityId)),
    )
    .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((Tickets::Table, Tickets::AssigneeId)))
    .order_by((Tickets::Table, Tickets::OpenedAt), Order::Asc)
    .order_by((Tickets::Table, Tickets::Id), Order::Asc);
    within(&mut q, p);
    db.fetch_all(&q).await
}

/// The pause intervals of the period's tickets, by ticket.
pub async fn pauses(db: &mut impl Db, p: &Period) -> Result<HashMap<i64, Vec<(i64, Option<i64>)>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        ticket_id: i64,
        started_at: i64,
        ended_at: Option<i64>,
    }
    let mut ids = Query::select();
    ids.column((Tickets::Table, Tickets::Id)).from(Tickets::Table);
    within(&mut ids, p);
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .columns([TicketPauses::TicketId, TicketPauses::StartedAt, TicketPauses::EndedAt])
                .from(TicketPauses::Table)
                .and_where(Expr::col(TicketPauses::TicketId).in_subquery(ids))
                .order_by(TicketPauses::TicketId, Order::Asc)
                .order_by(TicketPauses::StartedAt, Order::Asc),
        )
        .await?;
    let mut out: HashMap<i64, Vec<(i64, Option<i64>)>> = HashMap::new();
    for r in rows {
        out.entry(r.ticket_id).or_default().push((r.started_at, r.ended_at));
    }
    Ok(out)
}
