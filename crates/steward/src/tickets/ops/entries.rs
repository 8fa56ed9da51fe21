//! Answering a ticket: a public reply (the first from staff meets the
//! first-response target; one to a resolved ticket reopens it, one to a
//! new ticket opens it) or an internal note.

use super::{change_status, resolve, set};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::tickets::clocks::refresh;
use crate::tickets::model::{EntryKind, Kind};
use crate::tickets::store::config::status;
use crate::tickets::store::thread::{add_entry, entry, NewEntry};
use crate::tickets::store::{get, Tickets};
use crate::tickets::view::Entry;
use crate::time::{now_us, Timestamp};
use crate::validate::Message;
use serde::Deserialize;
use serde_json::json;

crate::choice!(
    /// What a person may write into a thread.
    EntryKindInput: "reply", "note"
);

/// A new entry of a ticket's thread.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntryInput {
    /// `reply` (the client sees it) or `note` (staff only).
    #[schema(value_type = EntryKindInput)]
    pub kind: String,
    /// Plain text, not empty.
    #[schema(value_type = crate::validate::shapes::Body<100_000>)]
    pub body: String,
    /// When it was written, for imports (needs `tickets:import`).
    pub created_at: Option<Timestamp>,
}

pub async fn add(app: &App, p: &Principal, client_id: i64, ticket_id: i64, input: NewEntryInput) -> Result<Entry, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let kind = match EntryKind::parse(input.kind.trim()) {
        Some(k @ (EntryKind::Reply | EntryKind::Note)) => k,
        _ => return Err(ApiError::invalid("kind", "must be reply or note")),
    };
    let body = Message::parse(&input.body).map_err(|m| ApiError::invalid("body", m))?;
    if body.is_empty() {
        // Nothing at all breaks the schema; only spaces is refused.
        let e = if input.body.is_empty() { ApiError::invalid } else { ApiError::refused };
        return Err(e("body", "must not be empty"));
    }
    let now = now_us();
    let at = resolve::imported(p, "created_at", input.created_at)?.unwrap_or(now);
    let client = p.client(client_id)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let t = get(db, client, ticket_id).await?.ok_or(ApiError::NotFound)?;
    if at < t.opened_at {
        return Err(ApiError::refused("created_at", "is before the ticket was opened"));
    }
    if t.merged_into.is_some() {
        return Err(ApiError::refused("ticket_id", "this ticket was merged; answer the ticket it was merged into"));
    }
    let current = status(db, t.status_id).await?.ok_or_else(|| ApiError::internal("ticket without status"))?;
    if kind == EntryKind::Reply && current.kind == Kind::Closed.as_str() {
        return Err(ApiError::refused("kind", "the ticket is closed; reopen it (set its status) before replying"));
    }
    let id =
        add_entry(db, NewEntry { ticket_id, kind: kind.as_str(), author_id: Some(p.user.id), body: &body, details: None, created_at: at })
            .await?;
    let mut sets = vec![(Tickets::UpdatedAt, now.into())];
    if kind == EntryKind::Reply {
        if t.first_response_at.is_none() {
            sets.push((Tickets::FirstResponseAt, at.into()));
        }
        let reopen = match Kind::parse(&current.kind) {
            Some(Kind::Resolved) | Some(Kind::New) => Some(resolve::status_of_kind(db, Kind::Open).await?),
            _ => None,
        };
        if let Some(to) = reopen {
            change_status(db, &t, &current, &to, Some(p.user.id), at).await?;
        }
    }
    // A public reply (not an imported one) is mailed to the client, queued
    // in this transaction: committed together, sent by the mail job.
    let mailed = if kind == EntryKind::Reply && input.created_at.is_none() {
        crate::mail::outbox::enqueue_reply(app, db, ticket_id, id, &body, now).await?
    } else {
        None
    };
    set(db, ticket_id, sets).await?;
    refresh(db, ticket_id, now).await?;
    let e: Entry = entry(db, ticket_id, id).await?.ok_or(ApiError::NotFound)?.into();
    let action = if kind == EntryKind::Reply { "ticket.reply" } else { "ticket.note" };
    tx.commit(
        &p.actor(),
        Event::new(action, "ticket", ticket_id)
            .client(client_id)
            .details(json!({"entry_id": id, "number": t.number, "chars": e.body.chars().count(), "mail_id": mailed})),
    )
    .await?;
    app.bus.publish(Happened::TicketChanged { ticket: ticket_id, client: client_id }).await;
    Ok(e)
}
