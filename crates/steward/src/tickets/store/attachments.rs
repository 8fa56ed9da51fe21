//! The rows naming a ticket's files (their bytes are in `files::store`):
//! a ticket's attachments, one by id within its ticket, and moving them
//! with their ticket (a merge, a client move).

use crate::store::{Db, IdRow, Result};
use crate::users::store::Users;
use sea_query::{Alias, Expr, Iden, Order, Query, SelectStatement};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Attachments {
    Table,
    Id,
    TicketId,
    EntryId,
    ClientId,
    Sha256,
    Size,
    FileName,
    ContentType,
    UploadedBy,
    CreatedAt,
}

/// An attachment as stored, with its uploader's name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub ticket_id: i64,
    pub entry_id: Option<i64>,
    pub client_id: i64,
    pub sha256: String,
    pub size: i64,
    pub file_name: String,
    pub content_type: String,
    pub uploaded_by: Option<i64>,
    pub uploader_name: Option<String>,
    pub created_at: i64,
}

/// A new attachment row; its file is already in the store.
pub struct NewAttachment<'a> {
    pub ticket_id: i64,
    pub entry_id: Option<i64>,
    pub client_id: i64,
    pub sha256: &'a str,
    pub size: i64,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub uploaded_by: Option<i64>,
    pub created_at: i64,
}

pub async fn insert(db: &mut impl Db, a: NewAttachment<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Attachments::Table)
                .columns([
                    Attachments::TicketId,
                    Attachments::EntryId,
                    Attachments::ClientId,
                    Attachments::Sha256,
                    Attachments::Size,
                    Attachments::FileName,
                    Attachments::ContentType,
                    Attachments::UploadedBy,
                    Attachments::CreatedAt,
                ])
                .values_panic([
                    a.ticket_id.into(),
                    a.entry_id.into(),
                    a.client_id.into(),
                    a.sha256.into(),
                    a.size.into(),
                    a.file_name.into(),
                    a.content_type.into(),
                    a.uploaded_by.into(),
                    a.created_at.into(),
                ])
                .returning_col(Attachments::Id),
        )
        .await?;
    Ok(r.id)
}

fn select() -> SelectStatement {
    let a = |c: Attachments| (Attachments::Table, c);
    Query::select()
        .columns([
            a(Attachments::Id),
            a(Attachments::TicketId),
            a(Attachments::EntryId),
            a(Attachments::ClientId),
            a(Attachments::Sha256),
            a(Attachments::Size),
            a(Attachments::FileName),
            a(Attachments::ContentType),
            a(Attachments::UploadedBy),
            a(Attachments::CreatedAt),
        ])
        .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("uploader_name"))
        .from(Attachments::Table)
        .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals(a(Attachments::UploadedBy)))
        .to_owned()
}

/// A ticket's attachments, oldest first.
pub async fn of_ticket(db: &mut impl Db, ticket_id: i64) -> Result<Vec<AttachmentRow>> {
    db.fetch_all(
        select()
            .and_where(Expr::col((Attachments::Table, Attachments::TicketId)).eq(ticket_id))
            .order_by((Attachments::Table, Attachments::Id), Order::Asc),
    )
    .await
}

/// One attachment of a ticket of this client (`None` for anything else).
pub async fn get(
    db: &mut impl Db,
    client_id: crate::auth::principal::ScopedClient,
    ticket_id: i64,
    id: i64,
) -> Result<Option<AttachmentRow>> {
    db.fetch_optional(
        select()
            .and_where(Expr::col((Attachments::Table, Attachments::Id)).eq(id))
            .and_where(Expr::col((Attachments::Table, Attachments::TicketId)).eq(ticket_id))
            .and_where(Expr::col((Attachments::Table, Attachments::ClientId)).eq(client_id.id())),
    )
    .await
}

/// Moves every attachment of `from` to ticket `to` of `client_id` (a
/// merge, or `from == to` for a client move).
pub async fn move_to(db: &mut impl Db, from: i64, to: i64, client_id: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(Attachments::Table)
            .value(Attachments::TicketId, to)
            .value(Attachments::ClientId, client_id)
            .and_where(Expr::col(Attachments::TicketId).eq(from)),
    )
    .await
}
