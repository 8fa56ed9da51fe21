//! The mail tables: `mailboxes` (where reading stands: `uid_validity`,
//! `last_uid`) and `mail_messages` (each message handled, by Message-ID).

use crate::store::{Db, IdRow, Result};
use sea_query::{Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Mailboxes {
    Table,
    Id,
    Name,
    Host,
    Port,
    Security,
    Username,
    PasswordSealed,
    Folder,
    CaPem,
    DefaultClientId,
    BoardId,
    PollSecs,
    Enabled,
    UidValidity,
    LastUid,
    NextPollAt,
    LastPolledAt,
    LastError,
    MoveTo,
    FloodPerHour,
    CreatedAt,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum MailMessages {
    Table,
    Id,
    MailboxId,
    Direction,
    MessageId,
    UidValidity,
    Uid,
    TicketId,
    EntryId,
    FromAddress,
    Subject,
    Handling,
    Automatic,
    At,
    Cc,
}

/// A mailbox as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailboxRow {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub port: i64,
    pub security: String,
    pub username: String,
    pub password_sealed: String,
    pub folder: String,
    pub ca_pem: Option<String>,
    pub default_client_id: i64,
    pub board_id: Option<i64>,
    pub poll_secs: i64,
    pub enabled: bool,
    pub uid_validity: Option<i64>,
    pub last_uid: i64,
    pub last_polled_at: Option<i64>,
    pub last_error: String,
    /// The folder read messages are moved to, if any.
    pub move_to: Option<String>,
    /// Messages from one sender an hour before a flood is folded.
    pub flood_per_hour: i64,
    pub created_at: i64,
    /// Changes with every change of its settings.
    pub updated_at: i64,
}

const COLS: [Mailboxes; 21] = [
    Mailboxes::Id,
    Mailboxes::Name,
    Mailboxes::Host,
    Mailboxes::Port,
    Mailboxes::Security,
    Mailboxes::Username,
    Mailboxes::PasswordSealed,
    Mailboxes::Folder,
    Mailboxes::CaPem,
    Mailboxes::DefaultClientId,
    Mailboxes::BoardId,
    Mailboxes::PollSecs,
    Mailboxes::Enabled,
    Mailboxes::UidValidity,
    Mailboxes::LastUid,
    Mailboxes::LastPolledAt,
    Mailboxes::LastError,
    Mailboxes::MoveTo,
    Mailboxes::FloodPerHour,
    Mailboxes::CreatedAt,
    Mailboxes::UpdatedAt,
];

pub async fn list(db: &mut impl Db) -> Result<Vec<MailboxRow>> {
    db.fetch_all(Query::select().columns(COLS).from(Mailboxes::Table).order_by(Mailboxes::Name, Order::Asc)).await
}

pub async fn get(db: &mut impl Db, id: i64) -> Result<Option<MailboxRow>> {
    db.fetch_optional(Query::select().columns(COLS).from(Mailboxes::Table).and_where(Expr::col(Mailboxes::Id).eq(id))).await
}

/// Enabled mailboxes due a poll at `now`.
pub async fn due(db: &mut impl Db, now: i64) -> Result<Vec<MailboxRow>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(Mailboxes::Table)
            .and_where(Expr::col(Mailboxes::Enabled).eq(true))
            .and_where(Expr::col(Mailboxes::NextPollAt).lte(now))
            .order_by(Mailboxes::Id, Order::Asc),
    )
    .await
}

/// A new mailbox (its password sealed after, with its id in the context).
pub struct NewMailbox<'a> {
    pub name: &'a str,
    pub host: &'a str,
    pub port: i64,
    pub security: &'a str,
    pub username: &'a str,
    pub folder: &'a str,
    pub ca_pem: Option<&'a str>,
    pub default_client_id: i64,
    pub board_id: Option<i64>,
    pub poll_secs: i64,
    pub move_to: Option<&'a str>,
    pub flood_per_hour: i64,
}

pub async fn insert(db: &mut impl Db, m: &NewMailbox<'_>, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Mailboxes::Table)
                .columns([
                    Mailboxes::Name,
                    Mailboxes::Host,
                    Mailboxes::Port,
                    Mailboxes::Security,
                    Mailboxes::Username,
                    Mailboxes::PasswordSealed,
                    Mailboxes::Folder,
                    Mailboxes::CaPem,
                    Mailboxes::DefaultClientId,
                    Mailboxes::BoardId,
                    Mailboxes::PollSecs,
                    Mailboxes::MoveTo,
                    Mailboxes::FloodPerHour,
                    Mailboxes::CreatedAt,
                    Mailboxes::UpdatedAt,
                ])
                .values_panic([
                    m.name.into(),
                    m.host.into(),
                    m.port.into(),
                    m.security.into(),
                    m.username.into(),
                    "".into(),
                    m.folder.into(),
                    m.ca_pem.into(),
                    m.default_client_id.into(),
                    m.board_id.into(),
                    m.poll_secs.into(),
                    m.move_to.into(),
                    m.flood_per_hour.into(),
                    now.into(),
                    now.into(),
                ])
                .returning_col(Mailboxes::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn set_password(db: &mut impl Db, id: i64, sealed: &str) -> Result<()> {
    db.execute(Query::update().table(Mailboxes::Table).value(Mailboxes::PasswordSealed, sealed).and_where(Expr::col(Mailboxes::Id).eq(id)))
        .await?;
    Ok(())
}

pub async fn delete(db: &mut impl Db, id: i64) -> Result<u64> {
    // The messages it read stay (their tickets keep their history); they
    // only lose their mailbox.
    db.execute(
        Query::update()
            .table(MailMessages::Table)
            .value(MailMessages::MailboxId, Option::<i64>::None)
            .and_where(Expr::col(MailMessages::MailboxId).eq(id)),
    )
    .await?;
    db.execute(Query::delete().from_table(Mailboxes::Table).and_where(Expr::col(Mailboxes::Id).eq(id))).await
}

/// Where reading stands after a message: in the message's transaction.
pub async fn advance(db: &mut impl Db, id: i64, uid_validity: i64, last_uid: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(Mailboxes::Table)
            .value(Mailboxes::UidValidity, uid_validity)
            .value(Mailboxes::LastUid, last_uid)
            .and_where(Expr::col(Mailboxes::Id).eq(id)),
    )
    .await?;
    Ok(())
}

/// The outcome of a poll: when, what went wrong (empty when nothing), the next.
pub async fn polled(db: &mut impl Db, id: i64, now: i64, error: &str, next: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(Mailboxes::Table)
            .value(Mailboxes::LastPolledAt, now)
            .value(Mailboxes::LastError, error)
            .value(Mailboxes::NextPollAt, next)
            .and_where(Expr::col(Mailboxes::Id).eq(id)),
    )
    .await?;
    Ok(())
}

/// A message handled.
pub struct Handled<'a> {
    pub mailbox_id: Option<i64>,
    pub direction: &'a str,
    pub message_id: &'a str,
    pub uid_validity: Option<i64>,
    pub uid: Option<i64>,
    pub ticket_id: Option<i64>,
    pub entry_id: Option<i64>,
    pub from_address: &'a str,
    pub subject: &'a str,
    pub handling: &'a str,
    pub automatic: &'a str,
    pub at: i64,
    /// JSON array of the addresses copied.
    pub cc: &'a str,
}

/// Records a message; `Conflict` when this mailbox's UID was handled already.
pub async fn record(db: &mut impl Db, h: &Handled<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(MailMessages::Table)
                .columns([
                    MailMessages::MailboxId,
                    MailMessages::Direction,
                    MailMessages::MessageId,
                    MailMessages::UidValidity,
                    MailMessages::Uid,
                    MailMessages::TicketId,
                    MailMessages::EntryId,
                    MailMessages::FromAddress,
                    MailMessages::Subject,
                    MailMessages::Handling,
                    MailMessages::Automatic,
                    MailMessages::At,
                    MailMessages::Cc,
                ])
                .values_panic([
                    h.mailbox_id.into(),
                    h.direction.into(),
                    h.message_id.into(),
                    h.uid_validity.into(),
                    h.uid.into(),
                    h.ticket_id.into(),
                    h.entry_id.into(),
                    h.from_address.into(),
                    h.subject.into(),
                    h.handling.into(),
                    h.automatic.into(),
                    h.at.into(),
                    h.cc.into(),
                ])
                .returning_col(MailMessages::Id),
        )
        .await?;
    Ok(r.id)
}

/// The ticket a message with one of these Message-IDs belongs to.
pub async fn ticket_of(db: &mut impl Db, message_ids: &[String]) -> Result<Option<i64>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        ticket_id: Option<i64>,
    }
    if message_ids.is_empty() {
        return Ok(None);
    }
    let r: Option<Row> = db
        .fetch_optional(
            Query::select()
                .column(MailMessages::TicketId)
                .from(MailMessages::Table)
                .and_where(Expr::col(MailMessages::MessageId).is_in(message_ids.iter().take(50).cloned()))
                .and_where(Expr::col(MailMessages::TicketId).is_not_null())
                .order_by(MailMessages::Id, Order::Desc)
                .limit(1),
        )
        .await?;
    Ok(r.and_then(|r| r.ticket_id))
}

/// Messages from `address` since `since`, and the tickets they made
/// (not merged since), oldest first.
pub async fn from_sender(db: &mut impl Db, address: &str, since: i64) -> Result<(i64, Vec<i64>)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        ticket_id: Option<i64>,
        handling: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .columns([MailMessages::TicketId, MailMessages::Handling])
                .from(MailMessages::Table)
                .and_where(Expr::col(MailMessages::FromAddress).eq(address))
                .and_where(Expr::col(MailMessages::Direction).eq("in"))
                .and_where(Expr::col(MailMessages::At).gte(since))
                .order_by(MailMessages::Id, Order::Asc),
        )
        .await?;
    let made = rows
        .iter()
        .filter(|r| matches!(r.handling.as_str(), "new_ticket" | "unknown_sender" | "unreadable" | "domain"))
        .filter_map(|r| r.ticket_id)
        .collect();
    Ok((rows.len() as i64, made))
}

/// Changes a mailbox's settings (the columns given).
pub(crate) async fn update(db: &mut impl Db, id: i64, sets: Vec<(Mailboxes, sea_query::SimpleExpr)>, now: i64) -> Result<u64> {
    let mut q = Query::update();
    q.table(Mailboxes::Table).value(Mailboxes::UpdatedAt, now).and_where(Expr::col(Mailboxes::Id).eq(id));
    for (c, v) in sets {
        q.value(c, v);
    }
    db.execute(&q).await
}

/// Whether this mailbox's message was handled already.
pub async fn handled(db: &mut impl Db, mailbox: i64, uid_validity: i64, uid: i64) -> Result<bool> {
    let r: Option<IdRow> = db
        .fetch_optional(
            Query::select()
                .column(MailMessages::Id)
                .from(MailMessages::Table)
                .and_where(Expr::col(MailMessages::MailboxId).eq(mailbox))
                .and_where(Expr::col(MailMessages::UidValidity).eq(uid_validity))
                .and_where(Expr::col(MailMessages::Uid).eq(uid)),
        )
        .await?;
    Ok(r.is_some())
}

/// Whether `address` already wrote to this ticket (a CC'd colleague of the contact).
pub async fn from_sender_on_ticket(db: &mut impl Db, address: &str, ticket: i64) -> Result<bool> {
    if address.is_empty() {
        return Ok(false);
    }
    let r: Option<IdRow> = db
        .fetch_optional(
            Query::select()
                .column(MailMessages::Id)
                .from(MailMessages::Table)
                .and_where(Expr::col(MailMessages::FromAddress).eq(address))
                .and_where(Expr::col(MailMessages::TicketId).eq(ticket))
                .and_where(Expr::col(MailMessages::Handling).is_in(["new_ticket", "reply"]))
                .limit(1),
        )
        .await?;
    Ok(r.is_some())
}

/// Reads the mailbox at the job's next round.
pub async fn make_due(db: &mut impl Db, id: i64) -> Result<()> {
    db.execute(Query::update().table(Mailboxes::Table).value(Mailboxes::NextPollAt, 0i64).and_where(Expr::col(Mailboxes::Id).eq(id)))
        .await?;
    Ok(())
}

/// The addresses copied on the newest mail the client's side sent to a ticket.
pub async fn last_cc(db: &mut impl Db, ticket: i64) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        cc: String,
    }
    let r: Option<Row> = db
        .fetch_optional(
            Query::select()
                .column(MailMessages::Cc)
                .from(MailMessages::Table)
                .and_where(Expr::col(MailMessages::TicketId).eq(ticket))
                .and_where(Expr::col(MailMessages::Direction).eq("in"))
                .order_by(MailMessages::Id, Order::Desc)
                .limit(1),
        )
        .await?;
    Ok(r.and_then(|r| serde_json::from_str(&r.cc).ok()).unwrap_or_default())
}
