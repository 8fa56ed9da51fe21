//! Audited changes to tickets, shared by the API, the pages, the bulk
//! actions and the jobs. Each validates its input (400 naming the field, or
//! 422 for a record that is not this client's), checks the caller's
//! permission, writes the change, its events in the ticket's own thread
//! and its audit entry in one transaction, and then tells the bus.

pub mod attachments;
pub mod bulk;
pub mod config;
pub mod create;
pub mod entries;
pub mod links;
pub mod merge;
pub mod resolve;
pub mod update;

use super::model::{transition, Kind, Standing};
use super::store::config::Status;
use super::store::thread::{add_entry, close_pause, open_pause, NewEntry};
use super::store::{TicketRow, Tickets};
use crate::error::ApiError;
use crate::store::Db;
use sea_query::{Expr, Query, SimpleExpr};
use serde_json::Value;

/// Writes an event into a ticket's thread: `body` for people, `details`
/// for programs.
pub(crate) async fn event(
    db: &mut impl Db,
    ticket_id: i64,
    author: Option<i64>,
    body: &str,
    details: Value,
    at: i64,
) -> Result<(), ApiError> {
    add_entry(db, NewEntry { ticket_id, kind: "event", author_id: author, body, details: Some(details), created_at: at }).await?;
    Ok(())
}

/// `UPDATE tickets SET … WHERE id = ?`.
pub(crate) async fn set(db: &mut impl Db, id: i64, sets: Vec<(Tickets, SimpleExpr)>) -> Result<(), ApiError> {
    if sets.is_empty() {
        return Ok(());
    }
    let mut q = Query::update();
    q.table(Tickets::Table).and_where(Expr::col(Tickets::Id).eq(id));
    for (c, v) in sets {
        q.value(c, v);
    }
    db.execute(&q).await?;
    crate::search::store::enqueue(db, crate::tickets::model::SEARCH_KIND, id, crate::time::now_us()).await?;
    Ok(())
}

fn standing(kind: &str, pauses_sla: bool) -> Standing {
    Standing { kind: Kind::parse(kind).unwrap_or(Kind::Open), pauses_sla }
}

/// Moves a ticket to another status: the pause intervals, the resolved
/// and closed instants, and an event in its thread.
pub(crate) async fn change_status(
    db: &mut impl Db,
    t: &TicketRow,
    from: &Status,
    to: &Status,
    author: Option<i64>,
    at: i64,
) -> Result<(), ApiError> {
    if from.id == to.id {
        return Ok(());
    }
    let e = transition(standing(&from.kind, from.pauses_sla), standing(&to.kind, to.pauses_sla), at);
    if e.close_pause {
        close_pause(db, t.id, at).await?;
    }
    if e.open_pause {
        open_pause(db, t.id, at).await?;
    }
    let mut sets: Vec<(Tickets, SimpleExpr)> = vec![(Tickets::StatusId, to.id.into()), (Tickets::StatusKind, to.kind.clone().into())];
    if let Some(r) = e.resolved_at {
        sets.push((Tickets::ResolvedAt, r.into()));
    }
    if let Some(c) = e.closed_at {
        sets.push((Tickets::ClosedAt, c.into()));
    }
    set(db, t.id, sets).await?;
    let body = format!("Status: {} → {}", from.name, to.name);
    event(db, t.id, author, &body, serde_json::json!({"field": "status", "from": from.name, "to": to.name, "to_kind": to.kind}), at).await
}
