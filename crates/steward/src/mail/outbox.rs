//! The outbox: a mail to send is a row written in the transaction of what
//! it tells of, and the `mail.send` job sends it (`send`). Each is made
//! from its template (`templates`): a public reply to the ticket's
//! contact, copying whoever the client copied; the acknowledgement of a
//! ticket a person's mail opened; the notice that a ticket was resolved;
//! and notices to staff. All are threaded under the ticket's mail
//! (`In-Reply-To` the newest message, `References` the whole thread) with
//! `[#N]` in the subject, their Message-ID fixed now and recorded, so an
//! answer to any of them finds the ticket.

use super::model::subject::with_number;
use super::model::template::render;
use super::smtp::SmtpSettings;
use super::store::{self as mail_store, Handled, MailMessages};
use crate::app::App;
use crate::auth::principal::ScopedClient;
use crate::store::{Db, IdRow, Result};
use crate::tickets::model::display_number;
use crate::tickets::store::TicketRow;
use sea_query::{Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
enum MailOutbox {
    Table,
    Id,
    TicketId,
    EntryId,
    ToAddresses,
    CcAddresses,
    Subject,
    MessageId,
    InReplyTo,
    Refs,
    BodyText,
    BodyHtml,
    State,
    Attempts,
    NextAt,
    LastError,
    CreatedAt,
    SentAt,
    Kind,
    ClientId,
}

/// A row of the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub to_addresses: String,
    pub cc_addresses: String,
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: String,
    pub refs: String,
    pub body_text: String,
    pub body_html: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
    pub kind: String,
    pub client_id: Option<i64>,
}

const COLS: [MailOutbox; 15] = [
    MailOutbox::Id,
    MailOutbox::TicketId,
    MailOutbox::ToAddresses,
    MailOutbox::CcAddresses,
    MailOutbox::Subject,
    MailOutbox::MessageId,
    MailOutbox::InReplyTo,
    MailOutbox::Refs,
    MailOutbox::BodyText,
    MailOutbox::BodyHtml,
    MailOutbox::State,
    MailOutbox::Attempts,
    MailOutbox::LastError,
    MailOutbox::Kind,
    MailOutbox::ClientId,
];

/// The thread of a ticket as mail knows it: its Message-IDs, oldest
/// first, and the newest the client's side sent (what a mail answers).
async fn thread(db: &mut impl Db, ticket: i64) -> Result<(Vec<String>, Option<String>)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        message_id: String,
        direction: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .columns([MailMessages::MessageId, MailMessages::Direction])
                .from(MailMessages::Table)
                .and_where(Expr::col(MailMessages::TicketId).eq(ticket))
                // Notices to staff are not part of the client's thread.
                .and_where(Expr::col(MailMessages::Handling).not_like("staff%"))
                .order_by(MailMessages::Id, Order::Asc)
                .limit(100),
        )
        .await?;
    let answered = rows.iter().rev().find(|r| r.direction == "in").map(|r| r.message_id.clone());
    Ok((rows.into_iter().map(|r| r.message_id).collect(), answered))
}

/// What a template may say of a ticket.
async fn values(app: &App, db: &mut impl Db, t: &TicketRow, message: &str, settings: &SmtpSettings) -> Result<Vec<(&'static str, String)>> {
    let client = crate::tenancy::store::client_names(db, &[t.client_id]).await?.into_iter().next().map(|c| c.name).unwrap_or_default();
    let contact = match t.contact_id {
        Some(c) => crate::tenancy::store::get_contact(db, ScopedClient::system(t.client_id), c).await?.map(|c| c.name),
        None => None,
    };
    let technician = match t.assignee_id {
        Some(u) => crate::users::store::by_id(db, u).await?.map(|u| u.name),
        None => None,
    };
    let base = app.cfg.public_url.as_deref().unwrap_or("").trim_end_matches('/');
    let company = if settings.from_name.is_empty() { settings.from_address.clone() } else { settings.from_name.clone() };
    Ok(vec![
        ("ticket.number", display_number(t.number)),
        ("ticket.subject", t.subject.clone()),
        ("ticket.url", format!("{base}/clients/{}/tickets/{}", t.client_id, t.id)),
        ("client.name", client),
        ("contact.name", contact.unwrap_or_else(|| "there".into())),
        ("technician.name", technician.unwrap_or_else(|| company.clone())),
        ("company.name", company),
        ("message", message.to_string()),
    ])
}

/// A mail about a ticket, made from the template `kind`.
struct Mail<'a> {
    kind: &'a str,
    ticket: &'a TicketRow,
    entry_id: Option<i64>,
    to: Vec<String>,
    cc: Vec<String>,
    message: &'a str,
}

/// The SMTP settings, when a server is configured (nothing is queued
/// otherwise: there would be nothing to send it with).
async fn settings(db: &mut impl Db) -> Result<Option<SmtpSettings>> {
    let raw = crate::settings::store::read(db, super::smtp::SETTINGS_KEY).await?;
    Ok(raw.and_then(|raw| serde_json::from_str(&raw).ok()))
}

/// Queues `m` in the caller's transaction, threaded under its ticket's
/// mail with `[#N]` in the subject, and records its Message-ID so an
/// answer to it finds the ticket.
async fn enqueue(app: &App, db: &mut impl Db, s: &SmtpSettings, m: Mail<'_>, now: i64) -> Result<i64> {
    let t = m.ticket;
    let r = render(&super::templates::current(db, m.kind).await?, &values(app, db, t, m.message, s).await?);
    let (refs, answered) = thread(db, t.id).await?;
    let domain = s.from_address.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_else(|| "steward.invalid".into());
    let message_id = format!("steward.{}.{}.{}@{domain}", t.id, m.entry_id.unwrap_or(0), hex::encode(rand::random::<[u8; 6]>()));
    let subject = with_number(&r.subject, t.number);
    let own = s.from_address.to_lowercase();
    let cc: Vec<String> = m.cc.into_iter().filter(|a| !m.to.contains(a) && *a != own).collect();
    let id: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(MailOutbox::Table)
                .columns([
                    MailOutbox::TicketId,
                    MailOutbox::EntryId,
                    MailOutbox::ToAddresses,
                    MailOutbox::CcAddresses,
                    MailOutbox::Subject,
                    MailOutbox::MessageId,
                    MailOutbox::InReplyTo,
                    MailOutbox::Refs,
                    MailOutbox::BodyText,
                    MailOutbox::BodyHtml,
                    MailOutbox::NextAt,
                    MailOutbox::CreatedAt,
                    MailOutbox::Kind,
                    MailOutbox::ClientId,
                ])
                .values_panic([
                    t.id.into(),
                    m.entry_id.into(),
                    serde_json::to_string(&m.to).unwrap_or_default().into(),
                    serde_json::to_string(&cc).unwrap_or_default().into(),
                    subject.clone().into(),
                    message_id.clone().into(),
                    answered.or_else(|| refs.last().cloned()).unwrap_or_default().into(),
                    refs.join(" ").into(),
                    r.text.into(),
                    r.html.into(),
                    now.into(),
                    now.into(),
                    m.kind.into(),
                    t.client_id.into(),
                ])
                .returning_col(MailOutbox::Id),
        )
        .await?;
    mail_store::record(
        db,
        &Handled {
            mailbox_id: None,
            direction: "out",
            message_id: &message_id,
            uid_validity: None,
            uid: None,
            ticket_id: Some(t.id),
            entry_id: m.entry_id,
            from_address: &own,
            subject: &subject,
            handling: m.kind,
            automatic: "",
            at: now,
            cc: "[]",
        },
    )
    .await?;
    Ok(id.id)
}

/// The ticket's contact's address, if it has one.
async fn contact_address(db: &mut impl Db, t: &TicketRow) -> Result<Option<String>> {
    match t.contact_id {
        Some(c) => crate::tenancy::store::contact_email(db, c).await,
        None => Ok(None),
    }
}

/// Queues a public reply on a ticket for its contact (copying whom the
/// client copied), in the caller's transaction; `None` when there is
/// nobody to mail (no contact with an address) or no SMTP server.
pub async fn enqueue_reply(app: &App, db: &mut impl Db, ticket_id: i64, entry_id: i64, body: &str, now: i64) -> Result<Option<i64>> {
    let Some(s) = settings(db).await? else { return Ok(None) };
    let Some(t) = crate::tickets::store::get_any(db, ticket_id).await? else { return Ok(None) };
    let Some(to) = contact_address(db, &t).await? else { return Ok(None) };
    let cc = mail_store::last_cc(db, ticket_id).await?;
    let m = Mail { kind: "reply", ticket: &t, entry_id: Some(entry_id), to: vec![to], cc, message: body };
    Ok(Some(enqueue(app, db, &s, m, now).await?))
}

/// Queues the acknowledgement of a new ticket opened by `to`'s mail.
pub async fn enqueue_acknowledgement(app: &App, db: &mut impl Db, ticket_id: i64, to: &str, now: i64) -> Result<Option<i64>> {
    let Some(s) = settings(db).await? else { return Ok(None) };
    let Some(t) = crate::tickets::store::get_any(db, ticket_id).await? else { return Ok(None) };
    let m = Mail { kind: "acknowledgement", ticket: &t, entry_id: None, to: vec![to.to_string()], cc: vec![], message: "" };
    Ok(Some(enqueue(app, db, &s, m, now).await?))
}

/// Queues the notice that a ticket was resolved, for its contact, with
/// the newest public reply as its message.
pub async fn enqueue_resolution(app: &App, db: &mut impl Db, ticket_id: i64, now: i64) -> Result<Option<i64>> {
    let Some(s) = settings(db).await? else { return Ok(None) };
    let Some(t) = crate::tickets::store::get_any(db, ticket_id).await? else { return Ok(None) };
    let Some(to) = contact_address(db, &t).await? else { return Ok(None) };
    let entries = crate::tickets::store::thread::entries(db, ticket_id).await?;
    let message = entries.iter().rev().find(|e| e.kind == "reply").map(|e| e.body.clone()).unwrap_or_else(|| t.subject.clone());
    let cc = mail_store::last_cc(db, ticket_id).await?;
    let m = Mail { kind: "resolution", ticket: &t, entry_id: None, to: vec![to], cc, message: &message };
    Ok(Some(enqueue(app, db, &s, m, now).await?))
}

/// Queues a notice to staff (`staff_*` templates) about a ticket, to each
/// user who takes mail notifications and may see the ticket's client.
pub async fn enqueue_staff(
    app: &App,
    db: &mut impl Db,
    kind: &str,
    ticket_id: i64,
    users: &[i64],
    message: &str,
    now: i64,
) -> Result<usize> {
    let Some(s) = settings(db).await? else { return Ok(0) };
    let Some(t) = crate::tickets::store::get_any(db, ticket_id).await? else { return Ok(0) };
    let to = crate::users::store::mail_recipients(db, users, t.client_id).await?;
    if to.is_empty() {
        return Ok(0);
    }
    let n = to.len();
    // One mail each: colleagues need not see who else was told.
    for address in to {
        let m = Mail { kind, ticket: &t, entry_id: None, to: vec![address], cc: vec![], message };
        enqueue(app, db, &s, m, now).await?;
    }
    Ok(n)
}

/// Mail due to be sent.
pub async fn due(db: &mut impl Db, now: i64, limit: u64) -> Result<Vec<OutRow>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(MailOutbox::Table)
            .and_where(Expr::col(MailOutbox::State).eq("pending"))
            .and_where(Expr::col(MailOutbox::NextAt).lte(now))
            .order_by(MailOutbox::Id, Order::Asc)
            .limit(limit),
    )
    .await
}

/// The outcome of an attempt.
pub async fn attempted(db: &mut impl Db, id: i64, state: &str, error: &str, next_at: i64, now: i64) -> Result<()> {
    let mut q = Query::update();
    q.table(MailOutbox::Table)
        .value(MailOutbox::State, state)
        .value(MailOutbox::Attempts, Expr::col(MailOutbox::Attempts).add(1))
        .value(MailOutbox::LastError, error)
        .value(MailOutbox::NextAt, next_at)
        .and_where(Expr::col(MailOutbox::Id).eq(id));
    if state == "sent" {
        q.value(MailOutbox::SentAt, now);
    }
    db.execute(&q).await?;
    Ok(())
}

/// A ticket's outgoing mail, newest first (for its page and API).
pub async fn of_ticket(db: &mut impl Db, ticket: i64) -> Result<Vec<OutRow>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(MailOutbox::Table)
            .and_where(Expr::col(MailOutbox::TicketId).eq(ticket))
            .order_by(MailOutbox::Id, Order::Desc)
            .limit(100),
    )
    .await
}
