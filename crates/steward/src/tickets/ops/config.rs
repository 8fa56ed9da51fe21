//! Configuring the service desk's lists: statuses (a name over one of the
//! fixed kinds), priorities and boards. Records in use are archived, never
//! deleted, so every ticket keeps what it was.

use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::{Db, IdRow};
use crate::tickets::model::Kind;
use crate::tickets::store::config::{self, Board, Priority, Status, TicketBoards, TicketPriorities, TicketStatuses};
use crate::validate::Name;
use sea_query::{Expr, Query, SimpleExpr};
use serde::Deserialize;
use serde_json::json;

/// A new status.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStatus {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// `new`, `open`, `waiting`, `scheduled`, `resolved` or `closed`.
    #[schema(value_type = crate::tickets::model::Kind)]
    pub kind: String,
    /// Stop the resolution clock in this status (default: for `waiting`).
    pub pauses_sla: Option<bool>,
    /// Where it sorts (default: last).
    #[schema(minimum = 0, maximum = 10000)]
    pub position: Option<i64>,
}

/// Changes to a status (its kind is fixed).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub pauses_sla: Option<bool>,
    #[schema(minimum = 0, maximum = 10000)]
    pub position: Option<i64>,
    pub archived: Option<bool>,
}

/// A new priority.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPriority {
    /// A short code, e.g. `P5`: 1–8 letters and digits.
    #[schema(value_type = crate::validate::shapes::PriorityCode)]
    pub code: String,
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    #[schema(minimum = 0, maximum = 10000)]
    pub position: Option<i64>,
}

/// Changes to a priority (its code is fixed: SLA targets name it).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(minimum = 0, maximum = 10000)]
    pub position: Option<i64>,
    pub archived: Option<bool>,
}

/// A new board.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBoard {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
}

/// Changes to a board.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardInput {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub archived: Option<bool>,
}

fn name(v: &str) -> Result<Name, ApiError> {
    Name::parse(v).map_err(|m| ApiError::invalid("name", m))
}

fn position(v: Option<i64>) -> Result<Option<i64>, ApiError> {
    match v {
        Some(p) if !(0..=10_000).contains(&p) => Err(ApiError::invalid("position", "must be 0–10000")),
        v => Ok(v),
    }
}

pub async fn create_status(app: &App, p: &Principal, input: NewStatus) -> Result<Status, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let name = name(&input.name)?;
    let kind = Kind::parse(input.kind.trim())
        .ok_or_else(|| ApiError::invalid("kind", "must be new, open, waiting, scheduled, resolved or closed"))?;
    let pauses = input.pauses_sla.unwrap_or(kind == Kind::Waiting);
    let mut tx = app.store.begin_audited().await?;
    let pos = match position(input.position)? {
        Some(p) => p,
        None => config::statuses(tx.tx()).await?.iter().map(|s| s.position).max().unwrap_or(0) + 1,
    };
    let r: IdRow = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(TicketStatuses::Table)
                .columns([TicketStatuses::Name, TicketStatuses::Kind, TicketStatuses::PausesSla, TicketStatuses::Position])
                .values_panic([name.into(), kind.as_str().into(), pauses.into(), pos.into()])
                .returning_col(TicketStatuses::Id),
        )
        .await?;
    let s = config::status(tx.tx(), r.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(&p.actor(), Event::new("ticket_status.create", "ticket_status", r.id).details(json!({"after": s}))).await?;
    Ok(s)
}

pub async fn update_status(app: &App, p: &Principal, id: i64, patch: StatusPatch) -> Result<Status, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let mut sets: Vec<(TicketStatuses, SimpleExpr)> = vec![];
    if let Some(n) = &patch.name {
        sets.push((TicketStatuses::Name, name(n)?.into()));
    }
    if let Some(v) = patch.pauses_sla {
        sets.push((TicketStatuses::PausesSla, v.into()));
    }
    if let Some(v) = position(patch.position)? {
        sets.push((TicketStatuses::Position, v.into()));
    }
    if let Some(v) = patch.archived {
        sets.push((TicketStatuses::Archived, v.into()));
    }
    let mut tx = app.store.begin_audited().await?;
    let before = config::status(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    if patch.archived == Some(true) && !before.archived {
        let left = config::statuses(tx.tx()).await?.into_iter().filter(|s| s.kind == before.kind && !s.archived && s.id != id).count();
        if left == 0 {
            return Err(ApiError::refused("archived", format!("this is the last {} status in use; add another first", before.kind)));
        }
    }
    if !sets.is_empty() {
        tx.tx().execute(Query::update().table(TicketStatuses::Table).values(sets).and_where(Expr::col(TicketStatuses::Id).eq(id))).await?;
    }
    let after = config::status(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("ticket_status.update", "ticket_status", id), &before, &after).await?;
    Ok(after)
}

pub async fn create_priority(app: &App, p: &Principal, input: NewPriority) -> Result<Priority, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let code = input.code.to_uppercase();
    if code.is_empty() || code.len() > 8 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::invalid("code", "must be 1–8 letters and digits, e.g. P5"));
    }
    let name = name(&input.name)?;
    let mut tx = app.store.begin_audited().await?;
    let pos = match position(input.position)? {
        Some(p) => p,
        None => config::priorities(tx.tx()).await?.iter().map(|s| s.position).max().unwrap_or(0) + 1,
    };
    let r: IdRow = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(TicketPriorities::Table)
                .columns([TicketPriorities::Code, TicketPriorities::Name, TicketPriorities::Position])
                .values_panic([code.into(), name.into(), pos.into()])
                .returning_col(TicketPriorities::Id),
        )
        .await?;
    let s = config::priority(tx.tx(), r.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(&p.actor(), Event::new("ticket_priority.create", "ticket_priority", r.id).details(json!({"after": s}))).await?;
    Ok(s)
}

pub async fn update_priority(app: &App, p: &Principal, id: i64, patch: PriorityPatch) -> Result<Priority, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let mut sets: Vec<(TicketPriorities, SimpleExpr)> = vec![];
    if let Some(n) = &patch.name {
        sets.push((TicketPriorities::Name, name(n)?.into()));
    }
    if let Some(v) = position(patch.position)? {
        sets.push((TicketPriorities::Position, v.into()));
    }
    if let Some(v) = patch.archived {
        sets.push((TicketPriorities::Archived, v.into()));
    }
    let mut tx = app.store.begin_audited().await?;
    let before = config::priority(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    if patch.archived == Some(true) && config::priorities(tx.tx()).await?.iter().filter(|p| !p.archived && p.id != id).count() == 0 {
        return Err(ApiError::refused("archived", "this is the last priority in use"));
    }
    if !sets.is_empty() {
        tx.tx()
            .execute(Query::update().table(TicketPriorities::Table).values(sets).and_where(Expr::col(TicketPriorities::Id).eq(id)))
            .await?;
    }
    let after = config::priority(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("ticket_priority.update", "ticket_priority", id), &before, &after).await?;
    Ok(after)
}

pub async fn create_board(app: &App, p: &Principal, input: NewBoard) -> Result<Board, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let name = name(&input.name)?;
    let mut tx = app.store.begin_audited().await?;
    let r: IdRow = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(TicketBoards::Table)
                .columns([TicketBoards::Name])
                .values_panic([name.into()])
                .returning_col(TicketBoards::Id),
        )
        .await?;
    let b = config::board(tx.tx(), r.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(&p.actor(), Event::new("ticket_board.create", "ticket_board", r.id).details(json!({"after": b}))).await?;
    Ok(b)
}

pub async fn update_board(app: &App, p: &Principal, id: i64, patch: BoardInput) -> Result<Board, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let mut sets: Vec<(TicketBoards, SimpleExpr)> = vec![];
    if let Some(n) = &patch.name {
        sets.push((TicketBoards::Name, name(n)?.into()));
    }
    if let Some(v) = patch.archived {
        sets.push((TicketBoards::Archived, v.into()));
    }
    let mut tx = app.store.begin_audited().await?;
    let before = config::board(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    if patch.archived == Some(true) && config::boards(tx.tx()).await?.iter().filter(|b| !b.archived && b.id != id).count() == 0 {
        return Err(ApiError::refused("archived", "this is the last board in use"));
    }
    if !sets.is_empty() {
        tx.tx().execute(Query::update().table(TicketBoards::Table).values(sets).and_where(Expr::col(TicketBoards::Id).eq(id))).await?;
    }
    let after = config::board(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("ticket_board.update", "ticket_board", id), &before, &after).await?;
    Ok(after)
}
