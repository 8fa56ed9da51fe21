//! The service desk's jobs. `tickets.sla_check` announces SLA warnings and
//! breaches: every ticket stores the next instant one of its clocks changes
//! state (`sla_next_check_at`, kept by every change), so the job reads only
//! the tickets whose instant has come, including those that came while the
//! server was down. Each announcement (an event in the thread, a
//! notification to the assignee, an `Sla` event on the bus) happens once
//! per clock: what was announced is stored with the ticket in the same
//! transaction. Then it closes tickets resolved longer than the
//! `ticket_autoclose_days` setting (default 7; 0 never).

use super::clocks::{cached, clocks, unannounced};
use super::model::{display_number, Kind};
use super::ops::{change_status, event, resolve, set};
use super::store::config::status;
use super::store::thread::pauses;
use super::store::{get_any, Tickets};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::events::{Event as Happened, SlaClock};
use crate::notifications::store::{insert as notify, NewNotification};
use crate::sla::model::{Clock, ClockState};
use crate::store::IdRow;
use crate::time::{fmt_time, now_us};
use sea_query::{Expr, Order, Query};
use serde_json::json;

/// Tickets handled per round of a job.
const BATCH: u64 = 200;

async fn due_ids(app: &App, now: i64) -> anyhow::Result<Vec<i64>> {
    let rows: Vec<IdRow> = app
        .store
        .fetch_all(
            Query::select()
                .column(Tickets::Id)
                .from(Tickets::Table)
                .and_where(Expr::col(Tickets::SlaNextCheckAt).lte(now))
                .order_by(Tickets::SlaNextCheckAt, Order::Asc)
                .limit(BATCH),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Announces what is due; returns how many tickets it looked at.
pub async fn sla_check(app: &App) -> anyhow::Result<usize> {
    // Each ticket once per run, so a ticket whose next instant is somehow
    // still due cannot keep a run going.
    let mut seen = std::collections::HashSet::new();
    loop {
        let now = now_us();
        let ids: Vec<i64> = due_ids(app, now).await?.into_iter().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() {
            return Ok(seen.len());
        }
        for id in &ids {
            check_one(app, *id, now).await?;
        }
    }
}

/// What to announce of one clock: `Some(breached)`.
fn announcement(c: &Clock, announced: &str) -> Option<bool> {
    unannounced(c, announced).then_some(c.state == ClockState::Breached)
}

async fn check_one(app: &App, id: i64, now: i64) -> anyhow::Result<()> {
    // Most looks find something to announce; the rest only move the
    // cached instant, which is no change anyone made, so not audited.
    let Some(t) = get_any(&mut app.store.clone(), id).await? else { return Ok(()) };
    let c = clocks(&t, &pauses(&mut app.store.clone(), id).await?, now);
    let any = c.as_ref().is_some_and(|c| {
        announcement(&c.first_response, &t.sla_first_response_announced).is_some()
            || announcement(&c.resolution, &t.sla_resolution_announced).is_some()
    });
    if !any {
        let mut tx = app.store.begin().await?;
        set(&mut tx, id, cached(&t, c.as_ref(), now)).await?;
        tx.commit().await?;
        return Ok(());
    }
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let Some(t) = get_any(db, id).await? else { return Ok(()) };
    if t.sla_next_check_at.is_none_or(|at| at > now) {
        // Another node (or a change to the ticket) got here first.
        return Ok(());
    }
    let p = pauses(db, id).await?;
    let c = clocks(&t, &p, now);
    let mut said = vec![];
    let mut t2 = t.clone();
    if let Some(c) = &c {
        for (clock, state, announced, col) in [
            (SlaClock::FirstResponse, &c.first_response, &t.sla_first_response_announced, Tickets::SlaFirstResponseAnnounced),
            (SlaClock::Resolution, &c.resolution, &t.sla_resolution_announced, Tickets::SlaResolutionAnnounced),
        ] {
            let Some(breached) = announcement(state, announced) else { continue };
            let word = if breached { "breached" } else { "warning" };
            let due = state.due_at.map(fmt_time).unwrap_or_default();
            let text = if breached {
                format!("SLA breached: {} of {} was due {due}", clock.label(), display_number(t.number))
            } else {
                format!("SLA warning: {} of {} is due {due}", clock.label(), display_number(t.number))
            };
            event(
                db,
                id,
                None,
                &text,
                json!({"field": "sla", "clock": clock.as_str(), "state": word, "due_at": state.due_at.map(crate::time::rfc3339)}),
                now,
            )
            .await?;
            if let Some(user) = t.assignee_id {
                notify(
                    db,
                    NewNotification {
                        user_id: user,
                        client_id: Some(t.client_id),
                        ticket_id: Some(id),
                        kind: &format!("sla.{word}"),
                        text: &text,
                        at: now,
                    },
                )
                .await?;
                crate::mail::outbox::enqueue_staff(app, db, "staff_sla", id, &[user], &text, now).await?;
            }
            set(db, id, vec![(col, word.into())]).await?;
            match clock {
                SlaClock::FirstResponse => t2.sla_first_response_announced = word.into(),
                SlaClock::Resolution => t2.sla_resolution_announced = word.into(),
            }
            said.push((clock, breached));
        }
    }
    set(db, id, cached(&t2, c.as_ref(), now)).await?;
    let list: Vec<_> = said.iter().map(|(c, b)| json!({"clock": c.as_str(), "breached": b})).collect();
    tx.commit(
        &Actor::system(),
        Event::new("ticket.sla", "ticket", id).client(t.client_id).details(json!({"number": t.number, "announced": list})),
    )
    .await?;
    for (clock, breached) in said {
        app.bus.publish(Happened::Sla { ticket: id, client: t.client_id, clock, breached }).await;
    }
    app.bus.publish(Happened::TicketChanged { ticket: id, client: t.client_id }).await;
    Ok(())
}

/// Closes tickets resolved longer than the setting; how many.
pub async fn autoclose(app: &App) -> anyhow::Result<usize> {
    let days = i64::from(crate::settings::store::ticket_autoclose_days(&app.store).await?);
    if days <= 0 {
        return Ok(0);
    }
    let now = now_us();
    let before = now - days * 86_400_000_000;
    let rows: Vec<IdRow> = app
        .store
        .fetch_all(
            Query::select()
                .column(Tickets::Id)
                .from(Tickets::Table)
                .and_where(Expr::col(Tickets::StatusKind).eq(Kind::Resolved.as_str()))
                .and_where(Expr::col(Tickets::ResolvedAt).lte(before))
                .limit(BATCH),
        )
        .await?;
    for r in &rows {
        let mut tx = app.store.begin_audited().await?;
        let db = tx.tx();
        let Some(t) = get_any(db, r.id).await? else { continue };
        if t.status_kind != Kind::Resolved.as_str() || t.resolved_at.is_none_or(|at| at > before) {
            continue;
        }
        let from = status(db, t.status_id).await?.ok_or_else(|| anyhow::anyhow!("ticket without status"))?;
        let to = resolve::status_of_kind(db, Kind::Closed).await?;
        change_status(db, &t, &from, &to, None, now).await?;
        event(
            db,
            t.id,
            None,
            &format!("Closed automatically after {days} days resolved"),
            json!({"field": "autoclose", "days": days}),
            now,
        )
        .await?;
        set(db, t.id, vec![(Tickets::UpdatedAt, now.into())]).await?;
        tx.commit(
            &Actor::system(),
            Event::new("ticket.autoclose", "ticket", t.id).client(t.client_id).details(json!({"number": t.number, "days": days})),
        )
        .await?;
        app.bus.publish(Happened::TicketChanged { ticket: t.id, client: t.client_id }).await;
    }
    Ok(rows.len())
}
