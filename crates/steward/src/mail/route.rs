//! Where one incoming message goes, inside its transaction:
//! - a bounce joins the ticket of the mail it returns (by the returned
//!   Message-ID), as a note: never a public entry, never answered;
//! - a reply finds its ticket by `In-Reply-To`/`References` (Message-IDs
//!   Steward stored or sent), else by the `[#N]` in its subject, following
//!   merges; from the ticket's contact or an address already on the
//!   ticket it is a public entry (and reopens a resolved or waiting
//!   ticket), from anyone else an internal note flagged for review; a
//!   reply to a closed ticket opens a new one linked to it;
//! - past the mailbox's per-sender limit in an hour (a flood, a loop) the
//!   sender's tickets of that hour are merged into their first, and the
//!   message becomes a note there: a flood is one ticket;
//! - otherwise a new ticket: for the contact with the sender's address,
//!   else for the client whose mail domain it is (the sender proposed as
//!   a contact, never created silently), else the mailbox's client for
//!   unknown senders, tagged so.

use super::model::read::Incoming;
use super::model::subject::ticket_number;
use super::store::{self, MailboxRow};
use crate::audit::store::Event;
use crate::auth::principal::ScopedClient;
use crate::store::Db;
use crate::tickets::model::Kind;
use crate::tickets::ops::create::{insert, NewTicket};
use crate::tickets::store::thread::{add_entry, NewEntry};
use crate::tickets::store::TicketRow;
use serde_json::{json, Value};

/// The tag on tickets from senders no contact has.
pub const UNKNOWN_SENDER_TAG: &str = "unknown-sender";
/// The tag on tickets whose sender could become a contact (domain match).
pub const PROPOSED_CONTACT_TAG: &str = "proposed-contact";
/// The longest text kept on an entry (the validator's limit for a message).
pub const MAX_TEXT: usize = 100_000;

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ticket_id: Option<i64>,
    /// `new_ticket`, `domain`, `unknown_sender`, `unreadable`, `reply`,
    /// `note`, `flood`, `bounce`, `follow_up`.
    pub handling: &'static str,
    /// The entry the message became.
    pub entry_id: i64,
    pub client_id: i64,
    /// A new ticket for a known person: what an acknowledgement goes to.
    pub acknowledge: bool,
}

/// `s` cut to `max` characters, saying so.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}\n[… cut: the message was longer]", &s[..at]),
        None => s.to_string(),
    }
}

/// Routes `m`; `details` are the entry's (where it came from, its files).
pub async fn route(db: &mut impl Db, mb: &MailboxRow, m: &Incoming, details: Value, now: i64) -> anyhow::Result<(Outcome, Event)> {
    let from = m.from.clone().unwrap_or_default();
    let text = if m.readable {
        cut(&m.text, MAX_TEXT)
    } else {
        "This message could not be read as e-mail: its raw form is attached (message.eml), and kept on the mail server.".to_string()
    };
    let with_review = |review: bool| {
        let mut d = details.clone();
        d["mail"]["review"] = json!(review);
        d
    };
    if m.bounce {
        let returned = store::ticket_of(db, &m.bounce_of).await?;
        if let Some(t) = live(db, returned).await? {
            let body = format!("Mail could not be delivered (a bounce from {from}):\n\n{text}");
            let entry = note(db, t.id, &body, with_review(true), now).await?;
            let e = Event::new("ticket.mail_bounce", "ticket", t.id).client(t.client_id).details(json!({"entry_id": entry, "from": from}));
            return Ok((
                Outcome { ticket_id: Some(t.id), handling: "bounce", entry_id: entry, client_id: t.client_id, acknowledge: false },
                e,
            ));
        }
    }
    let mut found = store::ticket_of(db, &m.replies_to).await?;
    if found.is_none() {
        if let Some(n) = ticket_number(&m.subject) {
            found = crate::tickets::store::by_number(db, n).await?.map(|t| t.id);
        }
    }
    let mut follows = None;
    if let Some(t) = live(db, found).await? {
        if t.status_kind == Kind::Closed.as_str() {
            follows = Some(t);
        } else {
            return reply(db, t, &from, &text, with_review, now).await;
        }
    }
    if !from.is_empty() && !m.bounce && follows.is_none() {
        if let Some(r) = flood(db, mb, &from, m, &with_review(true), now).await? {
            return Ok(r);
        }
    }
    new_ticket(db, mb, m, &from, &text, details, follows, now).await
}

/// The ticket `id` lives on as (merges followed).
async fn live(db: &mut impl Db, id: Option<i64>) -> anyhow::Result<Option<TicketRow>> {
    let mut row = match id {
        Some(id) => crate::tickets::store::get_any(db, id).await?,
        None => None,
    };
    for _ in 0..8 {
        match row.as_ref().and_then(|r| r.merged_into) {
            Some(next) => row = crate::tickets::store::get_any(db, next).await?,
            None => break,
        }
    }
    Ok(row)
}

async fn note(db: &mut impl Db, ticket_id: i64, body: &str, details: Value, now: i64) -> anyhow::Result<i64> {
    Ok(add_entry(db, NewEntry { ticket_id, kind: "note", author_id: None, body, details: Some(details), created_at: now }).await?)
}

async fn reply(
    db: &mut impl Db,
    t: TicketRow,
    from: &str,
    text: &str,
    with_review: impl Fn(bool) -> Value,
    now: i64,
) -> anyhow::Result<(Outcome, Event)> {
    let contact = match t.contact_id {
        Some(c) => crate::tenancy::store::contact_email(db, c).await?,
        None => None,
    };
    let known = !from.is_empty() && (contact.as_deref() == Some(from) || store::from_sender_on_ticket(db, from, t.id).await?);
    let (kind, handling) = if known { ("request", "reply") } else { ("note", "note") };
    let entry =
        add_entry(db, NewEntry { ticket_id: t.id, kind, author_id: None, body: text, details: Some(with_review(!known)), created_at: now })
            .await?;
    // The client answered: a resolved ticket, or one waiting for them, is open again.
    let mut reopened = false;
    if known && matches!(Kind::parse(&t.status_kind), Some(Kind::Resolved | Kind::Waiting)) {
        let from_status =
            crate::tickets::store::config::status(db, t.status_id).await?.ok_or_else(|| anyhow::anyhow!("ticket without status"))?;
        let open = crate::tickets::ops::resolve::status_of_kind(db, Kind::Open).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        crate::tickets::ops::change_status(db, &t, &from_status, &open, None, now).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        reopened = true;
    }
    crate::tickets::clocks::refresh(db, t.id, now).await?;
    let e = Event::new("ticket.mail_in", "ticket", t.id)
        .client(t.client_id)
        .details(json!({"entry_id": entry, "from": from, "handling": handling, "reopened": reopened}));
    Ok((Outcome { ticket_id: Some(t.id), handling, entry_id: entry, client_id: t.client_id, acknowledge: false }, e))
}

/// Past the limit: the sender's tickets of the hour merged into their
/// first, the message a note there. `None` below the limit (or when
/// none of their tickets lives on).
async fn flood(
    db: &mut impl Db,
    mb: &MailboxRow,
    from: &str,
    m: &Incoming,
    details: &Value,
    now: i64,
) -> anyhow::Result<Option<(Outcome, Event)>> {
    let (recent, made) = store::from_sender(db, from, now - 3_600_000_000).await?;
    if recent < mb.flood_per_hour.max(1) {
        return Ok(None);
    }
    let mut tickets = vec![];
    for id in made {
        if let Some(t) = crate::tickets::store::get_any(db, id).await?.filter(|t| t.merged_into.is_none()) {
            tickets.push(t);
        }
    }
    let Some(first) = tickets.first().cloned() else { return Ok(None) };
    let mut merged = vec![];
    for t in tickets.iter().skip(1).filter(|t| t.client_id == first.client_id) {
        crate::tickets::ops::merge::apply(db, ScopedClient::system(first.client_id), None, t.id, first.id, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        merged.push(t.id);
    }
    let body = format!(
        "Message {} from {from} within an hour (the limit is {}): kept here instead of a new ticket.\n\n{}",
        recent + 1,
        mb.flood_per_hour,
        cut(&m.subject, 500)
    );
    let entry = note(db, first.id, &body, details.clone(), now).await?;
    let e = Event::new("ticket.mail_flood", "ticket", first.id)
        .client(first.client_id)
        .details(json!({"entry_id": entry, "from": from, "merged": merged}));
    Ok(Some((Outcome { ticket_id: Some(first.id), handling: "flood", entry_id: entry, client_id: first.client_id, acknowledge: false }, e)))
}

#[allow(clippy::too_many_arguments)]
async fn new_ticket(
    db: &mut impl Db,
    mb: &MailboxRow,
    m: &Incoming,
    from: &str,
    text: &str,
    mut details: Value,
    follows: Option<TicketRow>,
    now: i64,
) -> anyhow::Result<(Outcome, Event)> {
    let contact = match m.from.as_deref() {
        Some(a) => crate::tenancy::store::contact_by_email(db, a).await?,
        None => None,
    };
    let domain = match (contact, m.from.as_deref()) {
        (None, Some(a)) => super::clients::client_of_domain(db, a).await?,
        _ => None,
    };
    let unknown = || vec![UNKNOWN_SENDER_TAG.to_string()];
    let (client, contact_id, mut tags, handling) = match (contact, domain) {
        (Some((contact, client)), _) => (client, Some(contact), vec![], "new_ticket"),
        (None, Some(client)) if m.readable => {
            details["mail"]["proposed_contact"] = json!({"email": from, "name": m.from_name});
            (client, None, vec![PROPOSED_CONTACT_TAG.to_string()], "domain")
        }
        _ if !m.readable => (mb.default_client_id, None, [unknown(), vec!["unreadable-mail".to_string()]].concat(), "unreadable"),
        _ => (mb.default_client_id, None, unknown(), "unknown_sender"),
    };
    if m.bounce {
        tags.push("bounce".to_string());
    }
    // A follow-up of a closed ticket stays with that ticket's client.
    let (client, handling) = match &follows {
        Some(t) if contact_id.is_none() && domain.is_none() => (t.client_id, "follow_up"),
        Some(_) => (client, "follow_up"),
        None => (client, handling),
    };
    details["mail"]["review"] = json!(contact_id.is_none());
    let input =
        NewTicket { subject: cut(m.subject.trim(), 190), contact_id, board_id: mb.board_id, tags, body: None, ..Default::default() };
    let t = insert(db, None, ScopedClient::system(client), input, None).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let entry =
        add_entry(db, NewEntry { ticket_id: t.id, kind: "request", author_id: None, body: text, details: Some(details), created_at: now })
            .await?;
    if let Some(old) = &follows {
        crate::tickets::store::thread::link(db, t.id, old.id).await?;
        let words = format!("A reply to {} after it was closed", crate::tickets::model::display_number(old.number));
        crate::tickets::ops::event(db, t.id, None, &words, json!({"field": "follows", "ticket_id": old.id}), now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let e = Event::new("ticket.create", "ticket", t.id)
        .client(client)
        .details(json!({"from_mail": {"from": from, "mailbox_id": mb.id, "handling": handling}, "after": t}));
    let acknowledge = m.readable && m.automatic.is_none() && (contact_id.is_some() || domain.is_some());
    Ok((Outcome { ticket_id: Some(t.id), handling, entry_id: entry, client_id: client, acknowledge }, e))
}
