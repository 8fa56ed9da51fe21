//! The outbox: a mail to send is a row written in the transaction of what
//! it tells of, and the `mail.send` job sends it (`send`). A public reply
//! on a ticket is mailed to the ticket's contact, copying whoever the
//! client copied, threaded under the ticket's mail (`In-Reply-To` the
//! newest message, `References` the whole thread) with `[#N]` in the
//! subject, its Message-ID fixed now and recorded, so the answer to it
//! finds the ticket.

use super::model::subject::with_number;
use super::store::{self as mail_store, Handled, MailMessages};
use crate::store::{Db, IdRow, Result};
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
}

const COLS: [MailOutbox; 13] = [
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
];

/// The thread of a ticket as mail knows it: Message-IDs, oldest first.
async fn thread(db: &mut impl Db, ticket: i64) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        message_id: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .column(MailMessages::MessageId)
                .from(MailMessages::Table)
                .and_where(Expr::col(MailMessages::TicketId).eq(ticket))
                .order_by(MailMessages::Id, Order::Asc)
                .limit(100),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.message_id).collect())
}

/// The HTML part of a plain-text reply: escaped, line breaks kept.
fn html_of(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!("<div style=\"font-family:sans-serif\">{}</div>", escaped.replace('\n', "<br>\n"))
}

/// Queues a public reply on a ticket for its contact, in the caller's
/// transaction; `None` when there is nobody to mail (no contact with an
/// address) or no SMTP server is configured.
pub async fn enqueue_reply(db: &mut impl Db, ticket_id: i64, entry_id: i64, body: &str, now: i64) -> Result<Option<i64>> {
    let Some(raw) = crate::settings::store::read(db, super::smtp::SETTINGS_KEY).await? else { return Ok(None) };
    let Ok(settings) = serde_json::from_str::<super::smtp::SmtpSettings>(&raw) else { return Ok(None) };
    let Some(t) = crate::tickets::store::get_any(db, ticket_id).await? else { return Ok(None) };
    let Some(to) = (match t.contact_id {
        Some(c) => crate::tenancy::store::contact_email(db, c).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let refs = thread(db, ticket_id).await?;
    let cc = mail_store::last_cc(db, ticket_id)
        .await?
        .into_iter()
        .filter(|a| *a != to && *a != settings.from_address.to_lowercase())
        .collect::<Vec<_>>();
    let domain = settings.from_address.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_else(|| "steward.invalid".into());
    let message_id = format!("steward.{ticket_id}.{entry_id}.{}@{domain}", hex::encode(rand::random::<[u8; 6]>()));
    let subject = with_number(&format!("Re: {}", t.subject), t.number);
    let r: IdRow = db
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
                ])
                .values_panic([
                    ticket_id.into(),
                    entry_id.into(),
                    serde_json::to_string(&[&to]).unwrap_or_default().into(),
                    serde_json::to_string(&cc).unwrap_or_default().into(),
                    subject.clone().into(),
                    message_id.clone().into(),
                    refs.last().cloned().unwrap_or_default().into(),
                    refs.join(" ").into(),
                    body.into(),
                    html_of(body).into(),
                    now.into(),
                    now.into(),
                ])
                .returning_col(MailOutbox::Id),
        )
        .await?;
    // Recorded now, so the client's answer to it finds the ticket.
    mail_store::record(
        db,
        &Handled {
            mailbox_id: None,
            direction: "out",
            message_id: &message_id,
            uid_validity: None,
            uid: None,
            ticket_id: Some(ticket_id),
            entry_id: Some(entry_id),
            from_address: &settings.from_address.to_lowercase(),
            subject: &subject,
            handling: "reply",
            automatic: "",
            at: now,
            cc: "[]",
        },
    )
    .await?;
    Ok(Some(r.id))
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
