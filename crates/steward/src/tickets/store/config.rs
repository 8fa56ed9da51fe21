//! The service desk's configurable lists: statuses (each of a fixed kind),
//! priorities (P1–P4 by default) and boards.

use crate::store::{Db, Result};
use sea_query::{Expr, Iden, Order, Query};
use serde::Serialize;

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketStatuses {
    Table,
    Id,
    Name,
    Kind,
    PausesSla,
    Position,
    Archived,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketPriorities {
    Table,
    Id,
    Code,
    Name,
    Position,
    Archived,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum TicketBoards {
    Table,
    Id,
    Name,
    Archived,
}

/// A ticket status: a name of the MSP's choosing over one fixed kind.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Status {
    pub id: i64,
    pub name: String,
    /// `new`, `open`, `waiting`, `scheduled`, `resolved` or `closed`.
    pub kind: String,
    /// Whether the resolution clock stands still in this status.
    pub pauses_sla: bool,
    pub position: i64,
    pub archived: bool,
}

/// A priority, e.g. `P1` "Critical".
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Priority {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub position: i64,
    pub archived: bool,
}

/// A board (queue) tickets are worked from.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Board {
    pub id: i64,
    pub name: String,
    pub archived: bool,
}

pub(crate) const STATUS_COLS: [TicketStatuses; 6] = [
    TicketStatuses::Id,
    TicketStatuses::Name,
    TicketStatuses::Kind,
    TicketStatuses::PausesSla,
    TicketStatuses::Position,
    TicketStatuses::Archived,
];
pub(crate) const PRIORITY_COLS: [TicketPriorities; 5] =
    [TicketPriorities::Id, TicketPriorities::Code, TicketPriorities::Name, TicketPriorities::Position, TicketPriorities::Archived];
pub(crate) const BOARD_COLS: [TicketBoards; 3] = [TicketBoards::Id, TicketBoards::Name, TicketBoards::Archived];

/// Every status, in order.
pub async fn statuses(db: &mut impl Db) -> Result<Vec<Status>> {
    db.fetch_all(
        Query::select()
            .columns(STATUS_COLS)
            .from(TicketStatuses::Table)
            .order_by(TicketStatuses::Position, Order::Asc)
            .order_by(TicketStatuses::Id, Order::Asc),
    )
    .await
}

/// Every priority, most urgent first.
pub async fn priorities(db: &mut impl Db) -> Result<Vec<Priority>> {
    db.fetch_all(
        Query::select()
            .columns(PRIORITY_COLS)
            .from(TicketPriorities::Table)
            .order_by(TicketPriorities::Position, Order::Asc)
            .order_by(TicketPriorities::Id, Order::Asc),
    )
    .await
}

/// Every board, by name.
pub async fn boards(db: &mut impl Db) -> Result<Vec<Board>> {
    db.fetch_all(Query::select().columns(BOARD_COLS).from(TicketBoards::Table).order_by(TicketBoards::Name, Order::Asc)).await
}

pub async fn status(db: &mut impl Db, id: i64) -> Result<Option<Status>> {
    db.fetch_optional(Query::select().columns(STATUS_COLS).from(TicketStatuses::Table).and_where(Expr::col(TicketStatuses::Id).eq(id)))
        .await
}

pub async fn priority(db: &mut impl Db, id: i64) -> Result<Option<Priority>> {
    db.fetch_optional(
        Query::select().columns(PRIORITY_COLS).from(TicketPriorities::Table).and_where(Expr::col(TicketPriorities::Id).eq(id)),
    )
    .await
}

pub async fn priority_by_code(db: &mut impl Db, code: &str) -> Result<Option<Priority>> {
    db.fetch_optional(
        Query::select().columns(PRIORITY_COLS).from(TicketPriorities::Table).and_where(Expr::col(TicketPriorities::Code).eq(code)),
    )
    .await
}

pub async fn board(db: &mut impl Db, id: i64) -> Result<Option<Board>> {
    db.fetch_optional(Query::select().columns(BOARD_COLS).from(TicketBoards::Table).and_where(Expr::col(TicketBoards::Id).eq(id))).await
}

/// The first status (by position) of a kind that is in use.
pub async fn first_of_kind(db: &mut impl Db, kind: &str) -> Result<Option<Status>> {
    db.fetch_optional(
        Query::select()
            .columns(STATUS_COLS)
            .from(TicketStatuses::Table)
            .and_where(Expr::col(TicketStatuses::Kind).eq(kind))
            .and_where(Expr::col(TicketStatuses::Archived).eq(false))
            .order_by(TicketStatuses::Position, Order::Asc)
            .order_by(TicketStatuses::Id, Order::Asc)
            .limit(1),
    )
    .await
}

/// The board new tickets land on: the first one not archived.
pub async fn default_board(db: &mut impl Db) -> Result<Option<Board>> {
    db.fetch_optional(
        Query::select()
            .columns(BOARD_COLS)
            .from(TicketBoards::Table)
            .and_where(Expr::col(TicketBoards::Archived).eq(false))
            .order_by(TicketBoards::Id, Order::Asc)
            .limit(1),
    )
    .await
}
