//! The `recurring.run` job: opens the tickets whose schedules are due.
//!
//! Exactly once per occurrence: one audited transaction first moves the
//! schedule's `next_run_at` on with a compare-and-set (the winner owns the
//! occurrence; on PostgreSQL it also holds the row), then creates the
//! ticket through `tickets::ops::create::insert`, then commits both with
//! the ticket's audit entry. A crash before the commit leaves neither, so
//! the next run does it; after it leaves both, so nothing repeats. The
//! job's lease keeps other nodes from even trying at the same time.
//!
//! After downtime spanning several occurrences only the latest missed one
//! opens a ticket (`model::catch_up`), and the next run lands after now.
//! A ticket that cannot be opened (its assignee disabled, its board
//! archived) still moves the schedule on, with the reason in `last_error`
//! and the audit log, so one bad schedule does not retry forever.

use super::model::catch_up;
use super::ops::when;
use super::store::{self, RecurringRow, RecurringTickets as R};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::auth::principal::ScopedClient;
use crate::events::Event as Happened;
use crate::tickets::ops::create::{insert, NewTicket};
use crate::time::{now_us, rfc3339};
use serde_json::json;

/// Schedules handled per round.
const BATCH: u64 = 100;

/// Opens what is due; returns how many tickets it opened.
pub async fn run_due(app: &App) -> anyhow::Result<usize> {
    let mut opened = 0;
    let mut seen = std::collections::HashSet::new();
    loop {
        let now = now_us();
        let ids: Vec<i64> = store::due(&mut app.store.clone(), now, BATCH).await?.into_iter().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() {
            return Ok(opened);
        }
        for id in ids {
            if let Some(row) = store::get_any(&mut app.store.clone(), id).await? {
                match one(app, row, now).await {
                    Ok(true) => opened += 1,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(recurring_ticket = id, error = format!("{e:#}"), "recurring ticket not run"),
                }
            }
        }
    }
}

fn ticket_of(r: &RecurringRow, priority: Option<String>) -> NewTicket {
    NewTicket {
        subject: r.subject.clone(),
        priority,
        ticket_type: Some(r.ticket_type.clone()),
        board_id: r.board_id,
        assignee_id: r.assignee_id,
        site_id: r.site_id,
        contact_id: r.contact_id,
        tags: serde_json::from_str(&r.tags).unwrap_or_default(),
        body: Some(r.body.clone()).filter(|b| !b.trim().is_empty()),
        ..Default::default()
    }
}

/// One schedule's due occurrence: whether a ticket was opened.
async fn one(app: &App, r: RecurringRow, now: i64) -> anyhow::Result<bool> {
    let Some(seen) = r.next_run_at else { return Ok(false) };
    let w = when(&r)?;
    let at = |us: i64| jiff::Timestamp::from_microsecond(us);
    let (occurrence, next) = catch_up(&w.rule, w.time, &w.tz, at(seen)?, at(now)?);
    let Some(occurrence) = occurrence.map(|t| t.as_microsecond()) else { return Ok(false) };
    let next = next.map(|t| t.as_microsecond());
    let priority = match r.priority_id {
        Some(id) => {
            crate::tickets::store::config::priorities(&mut app.store.clone()).await?.into_iter().find(|p| p.id == id).map(|p| p.code)
        }
        None => None,
    };
    let client = ScopedClient::system(r.client_id);
    let skipped = (occurrence - seen) / 1_000_000;

    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    if !store::advance(db, r.id, seen, next, vec![(R::LastRunAt, occurrence.into())]).await? {
        // Someone moved it first (a change to the schedule, another node).
        return Ok(false);
    }
    match insert(db, r.created_by, client, ticket_of(&r, priority), None).await {
        Ok(t) => {
            store::update(db, r.id, vec![(R::LastTicketId, t.id.into()), (R::LastError, None::<String>.into())]).await?;
            let details = json!({
                "after": t,
                "recurring_ticket_id": r.id,
                "occurrence": rfc3339(occurrence),
                "missed_seconds": skipped,
            });
            tx.commit(&Actor::system(), Event::new("ticket.create", "ticket", t.id).client(r.client_id).details(details)).await?;
            app.bus.publish(Happened::TicketChanged { ticket: t.id, client: r.client_id }).await;
            Ok(true)
        }
        // A store failure may pass: the occurrence stays due for the next run.
        Err(crate::error::ApiError::Internal(e)) => Err(e),
        Err(e) => {
            // Nothing of the half-made ticket stays; the schedule moves on
            // in a transaction of its own, saying why.
            drop(tx);
            let reason = e.body().error.message;
            let mut tx = app.store.begin_audited().await?;
            let sets = vec![(R::LastRunAt, occurrence.into()), (R::LastError, reason.clone().into())];
            if !store::advance(tx.tx(), r.id, seen, next, sets).await? {
                return Ok(false);
            }
            let details = json!({"occurrence": rfc3339(occurrence), "error": reason, "field": e.body().error.field});
            tx.commit(
                &Actor::system(),
                Event::new("recurring_ticket.failed", "recurring_ticket", r.id).client(r.client_id).details(details),
            )
            .await?;
            tracing::warn!(recurring_ticket = r.id, error = %reason, "recurring ticket not opened");
            Ok(false)
        }
    }
}
