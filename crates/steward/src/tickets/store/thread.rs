//! What hangs off a ticket: its thread of entries, the pauses of its
//! resolution clock, its devices and its links to other tickets.

use crate::devices::store::Devices;
use crate::store::{Db, IdRow, Result};
use crate::users::store::Users;
use sea_query::{Alias, Cond, Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketEntries {
    Table,
    Id,
    TicketId,
    Kind,
    AuthorId,
    Body,
    Details,
    CreatedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketPauses {
    Table,
    TicketId,
    StartedAt,
    EndedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketDevices {
    Table,
    TicketId,
    DeviceId,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketLinks {
    Table,
    AId,
    BId,
}

/// An entry as stored, with its author's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: String,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub body: String,
    pub details: Option<String>,
    pub created_at: i64,
}

/// A new entry.
pub struct NewEntry<'a> {
    pub ticket_id: i64,
    pub kind: &'a str,
    pub author_id: Option<i64>,
    pub body: &'a str,
    pub details: Option<serde_json::Value>,
    pub created_at: i64,
}

pub async fn add_entry(db: &mut impl Db, e: NewEntry<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(TicketEntries::Table)
                .columns([
                    TicketEntries::TicketId,
                    TicketEntries::Kind,
                    TicketEntries::AuthorId,
                    TicketEntries::Body,
                    TicketEntries::Details,
                    TicketEntries::CreatedAt,
                ])
                .values_panic([
                    e.ticket_id.into(),
                    e.kind.into(),
                    e.author_id.into(),
                    e.body.into(),
                    e.details.map(|d| d.to_string()).into(),
                    e.created_at.into(),
                ])
                .returning_col(TicketEntries::Id),
        )
        .await?;
    crate::search::store::enqueue(db, crate::tickets::model::SEARCH_KIND, e.ticket_id, crate::time::now_us()).await?;
    Ok(r.id)
}

/// A ticket's thread, oldest first.
pub async fn entries(db: &mut impl Db, ticket_id: i64) -> Result<Vec<EntryRow>> {
    let e = |c: TicketEntries| (TicketEntries::Table, c);
    db.fetch_all(
        Query::select()
            .columns([
                e(TicketEntries::Id),
                e(TicketEntries::TicketId),
                e(TicketEntries::Kind),
                e(TicketEntries::AuthorId),
                e(TicketEntries::Body),
                e(TicketEntries::Details),
                e(TicketEntries::CreatedAt),
            ])
            .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("author_name"))
            .from(TicketEntries::Table)
            .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals(e(TicketEntries::AuthorId)))
            .and_where(Expr::col(e(TicketEntries::TicketId)).eq(ticket_id))
            .order_by(e(TicketEntries::CreatedAt), Order::Asc)
            .order_by(e(TicketEntries::Id), Order::Asc),
    )
    .await
}

pub async fn entry(db: &mut impl Db, ticket_id: i64, id: i64) -> Result<Option<EntryRow>> {
    Ok(entries(db, ticket_id).await?.into_iter().find(|e| e.id == id))
}

/// Moves every entry of `from` to `to` (a merge).
pub async fn move_entries(db: &mut impl Db, from: i64, to: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(TicketEntries::Table)
            .value(TicketEntries::TicketId, to)
            .and_where(Expr::col(TicketEntries::TicketId).eq(from)),
    )
    .await
}

/// The resolution clock's pauses: (start, end or `None` while open).
pub async fn pauses(db: &mut impl Db, ticket_id: i64) -> Result<Vec<(i64, Option<i64>)>> {
    #[derive(sqlx::FromRow)]
    struct P {
        started_at: i64,
        ended_at: Option<i64>,
    }
    let rows: Vec<P> = db
        .fetch_all(
            Query::select()
                .columns([TicketPauses::StartedAt, TicketPauses::EndedAt])
                .from(TicketPauses::Table)
                .and_where(Expr::col(TicketPauses::TicketId).eq(ticket_id))
                .order_by(TicketPauses::StartedAt, Order::Asc),
        )
        .await?;
    Ok(rows.into_iter().map(|p| (p.started_at, p.ended_at)).collect())
}

pub async fn open_pause(db: &mut impl Db, ticket_id: i64, at: i64) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(TicketPauses::Table)
            .columns([TicketPauses::TicketId, TicketPauses::StartedAt])
            .values_panic([ticket_id.into(), at.into()]),
    )
    .await?;
    Ok(())
}

pub async fn close_pause(db: &mut impl Db, ticket_id: i64, at: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(TicketPauses::Table)
            .value(TicketPauses::EndedAt, at)
            .and_where(Expr::col(TicketPauses::TicketId).eq(ticket_id))
            .and_where(Expr::col(TicketPauses::EndedAt).is_null()),
    )
    .await?;
    Ok(())
}

/// A device of a ticket, with what the queue and ticket page show of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketDevice {
    pub ticket_id: i64,
    pub device_id: i64,
    pub hostname: String,
    pub online: bool,
    pub last_seen_at: Option<i64>,
}

pub async fn devices(db: &mut impl Db, ids: &[i64]) -> Result<Vec<TicketDevice>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        Query::select()
            .columns([(TicketDevices::Table, TicketDevices::TicketId), (TicketDevices::Table, TicketDevices::DeviceId)])
            .columns([(Devices::Table, Devices::Hostname), (Devices::Table, Devices::Online), (Devices::Table, Devices::LastSeenAt)])
            .from(TicketDevices::Table)
            .inner_join(Devices::Table, Expr::col((Devices::Table, Devices::Id)).equals((TicketDevices::Table, TicketDevices::DeviceId)))
            .and_where(Expr::col((TicketDevices::Table, TicketDevices::TicketId)).is_in(ids.to_vec()))
            .order_by((Devices::Table, Devices::Hostname), Order::Asc),
    )
    .await
}

pub async fn set_devices(db: &mut impl Db, ticket_id: i64, device_ids: &[i64]) -> Result<()> {
    db.execute(Query::delete().from_table(TicketDevices::Table).and_where(Expr::col(TicketDevices::TicketId).eq(ticket_id))).await?;
    for d in device_ids {
        db.execute(
            Query::insert()
                .into_table(TicketDevices::Table)
                .columns([TicketDevices::TicketId, TicketDevices::DeviceId])
                .values_panic([ticket_id.into(), (*d).into()]),
        )
        .await?;
    }
    Ok(())
}

/// The ids of the tickets linked to `id`.
pub async fn links(db: &mut impl Db, id: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct L {
        a_id: i64,
        b_id: i64,
    }
    let rows: Vec<L> = db
        .fetch_all(
            Query::select()
                .columns([TicketLinks::AId, TicketLinks::BId])
                .from(TicketLinks::Table)
                .cond_where(Cond::any().add(Expr::col(TicketLinks::AId).eq(id)).add(Expr::col(TicketLinks::BId).eq(id))),
        )
        .await?;
    let mut out: Vec<i64> = rows.into_iter().map(|l| if l.a_id == id { l.b_id } else { l.a_id }).collect();
    out.sort();
    Ok(out)
}

/// Links two tickets (once, whichever way round).
pub async fn link(db: &mut impl Db, a: i64, b: i64) -> Result<()> {
    let (a, b) = (a.min(b), a.max(b));
    db.execute(
        Query::insert()
            .into_table(TicketLinks::Table)
            .columns([TicketLinks::AId, TicketLinks::BId])
            .values_panic([a.into(), b.into()])
            .on_conflict(sea_query::OnConflict::columns([TicketLinks::AId, TicketLinks::BId]).do_nothing().to_owned()),
    )
    .await?;
    Ok(())
}

pub async fn unlink(db: &mut impl Db, a: i64, b: i64) -> Result<()> {
    let (a, b) = (a.min(b), a.max(b));
    db.execute(
        Query::delete()
            .from_table(TicketLinks::Table)
            .and_where(Expr::col(TicketLinks::AId).eq(a))
            .and_where(Expr::col(TicketLinks::BId).eq(b)),
    )
    .await?;
    Ok(())
}
