//! One message into the service desk, in one audited transaction with
//! the mailbox's reading position and the message's record, so a crash
//! loses nothing and doubles nothing:
//! - a reply finds its ticket by `In-Reply-To`/`References` (Message-IDs
//!   Steward stored), else by the `[#N]` in its subject; from the ticket's
//!   contact or an address already on the ticket it is a public entry,
//!   from anyone else an internal note flagged for review;
//! - otherwise a new ticket: for the contact with the sender's address,
//!   else for the mailbox's client for unknown senders, tagged so;
//! - past the per-sender limit (a flood, a loop) a message becomes a note
//!   on that sender's newest ticket instead of one more ticket.
//!
//! Nothing here answers a message; what may be answered is marked
//! (`automatic` says why not).

use super::model::read::{read, Incoming};
use super::model::subject::ticket_number;
use super::store::{self, Handled, MailboxRow};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::auth::principal::ScopedClient;
use crate::events::Event as Happened;
use crate::store::Db;
use crate::tickets::ops::create::{insert, NewTicket};
use crate::tickets::store::thread::{add_entry, NewEntry};
use crate::time::now_us;
use serde_json::json;

/// Messages from one sender in an hour before the rest become notes.
pub const FLOOD_PER_HOUR: i64 = 20;
/// The tag on tickets from senders no contact has.
pub const UNKNOWN_SENDER_TAG: &str = "unknown-sender";
/// The longest text kept on an entry (the validator's limit for a message).
const MAX_TEXT: usize = 100_000;

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ticket_id: Option<i64>,
    pub handling: &'static str,
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}\n[… cut: the message was longer]", &s[..at]),
        None => s.to_string(),
    }
}

/// Handles message `uid` of the mailbox (`uid_validity`), unless handled
/// already (then `None`).
pub async fn handle(app: &App, mb: &MailboxRow, uid_validity: i64, uid: i64, raw: &[u8]) -> anyhow::Result<Option<Outcome>> {
    let m = read(raw);
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    if store::handled(tx.tx(), mb.id, uid_validity, uid).await? {
        return Ok(None);
    }
    let (outcome, event) = route(tx.tx(), mb, &m, now).await?;
    // Whom the sender copied, less our own mailbox.
    let own = mb.username.trim().to_lowercase();
    let cc = serde_json::to_string(&m.cc.iter().filter(|a| **a != own && Some(a.as_str()) != m.from.as_deref()).collect::<Vec<_>>())?;
    let message_id = m.message_id.clone().unwrap_or_else(|| format!("steward-mailbox-{}-{uid_validity}-{uid}", mb.id));
    store::record(
        tx.tx(),
        &Handled {
            mailbox_id: Some(mb.id),
            direction: "in",
            message_id: &message_id,
            uid_validity: Some(uid_validity),
            uid: Some(uid),
            ticket_id: outcome.ticket_id,
            entry_id: event.1,
            from_address: m.from.as_deref().unwrap_or(""),
            subject: &cut(&m.subject, 500),
            handling: outcome.handling,
            automatic: m.automatic.unwrap_or(""),
            at: now,
            cc: &cc,
        },
    )
    .await?;
    store::advance(tx.tx(), mb.id, uid_validity, uid).await?;
    tx.commit(&Actor::system(), event.0).await?;
    if let (Some(t), Some(c)) = (outcome.ticket_id, event.2) {
        app.bus.publish(Happened::TicketChanged { ticket: t, client: c }).await;
    }
    Ok(Some(outcome))
}

/// The entry's details: where it came from, and what a person may want.
fn details(m: &Incoming, review: bool) -> serde_json::Value {
    json!({
        "mail": {
            "from": m.from, "from_name": m.from_name, "message_id": m.message_id, "cc": m.cc,
            "html": m.html, "quoted": cut(&m.quoted, MAX_TEXT), "remote_images_blocked": m.remote_images,
            "automatic": m.automatic, "bounce": m.bounce, "attachments_not_kept": m.attachments,
            "readable": m.readable, "review": review,
        }
    })
}

type Audit = (Event, Option<i64>, Option<i64>);

async fn route(db: &mut impl Db, mb: &MailboxRow, m: &Incoming, now: i64) -> anyhow::Result<(Outcome, Audit)> {
    let from = m.from.clone().unwrap_or_default();
    let text = if m.readable {
        cut(&m.text, MAX_TEXT)
    } else {
        "This message could not be read as e-mail. Its raw form is kept by the mail server (never deleted there).".to_string()
    };
    // A reply to a ticket of ours.
    let mut ticket = store::ticket_of(db, &m.replies_to).await?;
    if ticket.is_none() {
        if let Some(n) = ticket_number(&m.subject) {
            ticket = crate::tickets::store::by_number(db, n).await?.map(|t| t.id);
        }
    }
    // Follow merges to the ticket that lives on.
    let mut row = match ticket {
        Some(id) => crate::tickets::store::get_any(db, id).await?,
        None => None,
    };
    for _ in 0..8 {
        match row.as_ref().and_then(|r| r.merged_into) {
            Some(next) => row = crate::tickets::store::get_any(db, next).await?,
            None => break,
        }
    }
    if let Some(t) = row {
        let contact = match t.contact_id {
            Some(c) => crate::tenancy::store::contact_email(db, c).await?,
            None => None,
        };
        let known = contact.as_deref() == Some(from.as_str()) || store::from_sender_on_ticket(db, &from, t.id).await?;
        let (kind, handling) = if known && !from.is_empty() { ("request", "reply") } else { ("note", "note") };
        let entry = add_entry(
            db,
            NewEntry { ticket_id: t.id, kind, author_id: None, body: &text, details: Some(details(m, kind == "note")), created_at: now },
        )
        .await?;
        crate::tickets::clocks::refresh(db, t.id, now).await?;
        let e = Event::new("ticket.mail_in", "ticket", t.id)
            .client(t.client_id)
            .details(json!({"entry_id": entry, "from": from, "handling": handling}));
        return Ok((Outcome { ticket_id: Some(t.id), handling }, (e, Some(entry), Some(t.client_id))));
    }
    // A flood: the rest go on the sender's newest ticket as notes.
    if !from.is_empty() {
        let (recent, newest) = store::from_sender(db, &from, now - 3_600_000_000).await?;
        if let (true, Some(t)) = (recent >= FLOOD_PER_HOUR, newest) {
            if let Some(t) = crate::tickets::store::get_any(db, t).await? {
                let body = format!(
                    "Message {} from {from} within an hour (more than {FLOOD_PER_HOUR}): kept here instead of a new ticket.\n\n{}",
                    recent + 1,
                    cut(&m.subject, 500)
                );
                let entry = add_entry(
                    db,
                    NewEntry {
                        ticket_id: t.id,
                        kind: "note",
                        author_id: None,
                        body: &body,
                        details: Some(details(m, true)),
                        created_at: now,
                    },
                )
                .await?;
                let e =
                    Event::new("ticket.mail_flood", "ticket", t.id).client(t.client_id).details(json!({"entry_id": entry, "from": from}));
                return Ok((Outcome { ticket_id: Some(t.id), handling: "flood" }, (e, Some(entry), Some(t.client_id))));
            }
        }
    }
    // A new ticket.
    let known = match m.from.as_deref() {
        Some(a) => crate::tenancy::store::contact_by_email(db, a).await?,
        None => None,
    };
    let (client, contact, tags, handling) = match known {
        Some((contact, client)) => (client, Some(contact), vec![], "new_ticket"),
        None if m.readable => (mb.default_client_id, None, vec![UNKNOWN_SENDER_TAG.to_string()], "unknown_sender"),
        None => (mb.default_client_id, None, vec![UNKNOWN_SENDER_TAG.to_string(), "unreadable-mail".to_string()], "unreadable"),
    };
    let input = NewTicket {
        subject: cut(m.subject.trim(), 190),
        contact_id: contact,
        board_id: mb.board_id,
        tags,
        body: None,
        ..Default::default()
    };
    let t = insert(db, None, ScopedClient::system(client), input, None).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let entry = add_entry(
        db,
        NewEntry {
            ticket_id: t.id,
            kind: "request",
            author_id: None,
            body: &text,
            details: Some(details(m, contact.is_none())),
            created_at: now,
        },
    )
    .await?;
    let e = Event::new("ticket.create", "ticket", t.id)
        .client(client)
        .details(json!({"from_mail": {"from": from, "mailbox_id": mb.id}, "after": t}));
    Ok((Outcome { ticket_id: Some(t.id), handling }, (e, Some(entry), Some(client))))
}
