//! What a user is told: an SLA warning or breach on a ticket assigned to
//! them, for now. Unread until they mark it read.

use crate::store::{Count, Db, IdRow, Result};
use crate::time::Timestamp;
use sea_query::{Expr, Iden, Order, Query};
use serde::Serialize;

#[derive(Iden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    ClientId,
    TicketId,
    Kind,
    Text,
    CreatedAt,
    ReadAt,
}

/// A notification.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub client_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// e.g. `sla.warning`, `sla.breached`.
    pub kind: String,
    pub text: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

pub struct NewNotification<'a> {
    pub user_id: i64,
    pub client_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub kind: &'a str,
    pub text: &'a str,
    pub at: i64,
}

pub async fn insert(db: &mut impl Db, n: NewNotification<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Notifications::Table)
                .columns([
                    Notifications::UserId,
                    Notifications::ClientId,
                    Notifications::TicketId,
                    Notifications::Kind,
                    Notifications::Text,
                    Notifications::CreatedAt,
                ])
                .values_panic([n.user_id.into(), n.client_id.into(), n.ticket_id.into(), n.kind.into(), n.text.into(), n.at.into()])
                .returning_col(Notifications::Id),
        )
        .await?;
    Ok(r.id)
}

/// A user's notifications, newest first, limited to the clients they see.
pub async fn list(db: &mut impl Db, user_id: i64, scope: Option<&[i64]>, unread_only: bool, limit: u64) -> Result<Vec<Notification>> {
    let mut q = Query::select();
    q.columns([
        Notifications::Id,
        Notifications::ClientId,
        Notifications::TicketId,
        Notifications::Kind,
        Notifications::Text,
        Notifications::CreatedAt,
        Notifications::ReadAt,
    ])
    .from(Notifications::Table)
    .and_where(Expr::col(Notifications::UserId).eq(user_id))
    .order_by(Notifications::Id, Order::Desc)
    .limit(limit);
    if unread_only {
        q.and_where(Expr::col(Notifications::ReadAt).is_null());
    }
    if let Some(ids) = scope {
        q.and_where(Expr::col(Notifications::ClientId).is_in(ids.to_vec()));
    }
    db.fetch_all(&q).await
}

pub async fn unread(db: &mut impl Db, user_id: i64) -> Result<i64> {
    let c: Count = db
        .fetch_one(
            Query::select()
                .expr_as(Expr::col(Notifications::Id).count(), crate::store::n())
                .from(Notifications::Table)
                .and_where(Expr::col(Notifications::UserId).eq(user_id))
                .and_where(Expr::col(Notifications::ReadAt).is_null()),
        )
        .await?;
    Ok(c.n)
}

/// Marks one (or, with `None`, every) notification of the user read; how
/// many of theirs it touched.
pub async fn mark_read(db: &mut impl Db, user_id: i64, id: Option<i64>, at: i64) -> Result<u64> {
    // Marking a read one again keeps when it was first read.
    let mut q = Query::update();
    q.table(Notifications::Table)
        .value(Notifications::ReadAt, sea_query::Func::coalesce([Expr::col(Notifications::ReadAt).into(), Expr::val(at).into()]))
        .and_where(Expr::col(Notifications::UserId).eq(user_id));
    match id {
        Some(id) => q.and_where(Expr::col(Notifications::Id).eq(id)),
        None => q.and_where(Expr::col(Notifications::ReadAt).is_null()),
    };
    db.execute(&q).await
}
