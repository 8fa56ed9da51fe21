//! Merging a ticket into another of the same client: its thread,
//! attachments, tags, devices and links move to the target, it closes with `merged_into` set
//! (its number then leads to the target), and both threads say so.

use super::{change_status, event, resolve, set};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::store::Db;
use crate::tickets::clocks::refresh;
use crate::tickets::model::{display_number, tags as canonical_tags, Kind};
use crate::tickets::store::config::status;
use crate::tickets::store::thread::{devices, link, links, move_entries, set_devices, unlink};
use crate::tickets::store::{get, get_any, set_tags, tags, Tickets};
use crate::tickets::view::{ticket, Ticket};
use crate::time::now_us;
use sea_query::{Expr, Query};
use serde::Deserialize;
use serde_json::json;

/// Which ticket to merge into.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The ticket (of the same client) that takes this one's thread.
    pub into_ticket_id: i64,
}

/// Merges `id` into `into` inside `db`'s transaction (by `author`, none
/// for Steward itself); the target after.
pub(crate) async fn apply(
    db: &mut impl Db,
    client: ScopedClient,
    author: Option<i64>,
    id: i64,
    into: i64,
    now: i64,
) -> Result<Ticket, ApiError> {
    let src = get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    if into == id {
        return Err(ApiError::refused("into_ticket_id", "a ticket cannot be merged into itself"));
    }
    let dst = get(db, client, into).await?.ok_or_else(|| ApiError::refused("into_ticket_id", "is not a ticket of this client"))?;
    if src.merged_into.is_some() {
        return Err(ApiError::refused("ticket_id", "this ticket was merged already"));
    }
    if dst.merged_into.is_some() {
        return Err(ApiError::refused("into_ticket_id", "that ticket was itself merged into another"));
    }
    move_entries(db, id, into).await?;
    crate::timesheets::store::move_to(db, id, into, dst.client_id).await?;
    crate::tickets::store::attachments::move_to(db, id, into, dst.client_id).await?;
    let mut all_tags: Vec<String> = tags(db, &[id, into]).await?.into_iter().map(|(_, t)| t).collect();
    all_tags = canonical_tags(&all_tags).unwrap_or(all_tags);
    all_tags.truncate(crate::tickets::model::MAX_TAGS);
    set_tags(db, into, &all_tags).await?;
    let mut devs: Vec<i64> = devices(db, &[id, into]).await?.into_iter().map(|d| d.device_id).collect();
    devs.sort();
    devs.dedup();
    set_devices(db, into, &devs).await?;
    for other in links(db, id).await? {
        unlink(db, id, other).await?;
        if other != into {
            link(db, into, other).await?;
        }
    }
    // Children of the merged ticket become the target's.
    db.execute(Query::update().table(Tickets::Table).value(Tickets::ParentId, into).and_where(Expr::col(Tickets::ParentId).eq(id))).await?;
    // The earlier first response counts for the merged ticket.
    if let Some(fr) = src.first_response_at {
        if dst.first_response_at.is_none_or(|d| fr < d) {
            set(db, into, vec![(Tickets::FirstResponseAt, fr.into())]).await?;
        }
    }
    let from = status(db, src.status_id).await?.ok_or_else(|| ApiError::internal("ticket without status"))?;
    let closed = resolve::status_of_kind(db, Kind::Closed).await?;
    change_status(db, &src, &from, &closed, author, now).await?;
    set(db, id, vec![(Tickets::MergedInto, into.into()), (Tickets::UpdatedAt, now.into())]).await?;
    set(db, into, vec![(Tickets::UpdatedAt, now.into())]).await?;
    let (a, b) = (display_number(src.number), display_number(dst.number));
    event(db, id, author, &format!("Merged into {b}"), json!({"field": "merged_into", "to": into, "to_number": dst.number}), now).await?;
    event(
        db,
        into,
        author,
        &format!("{a} merged into this ticket"),
        json!({"field": "merged_from", "from": id, "from_number": src.number}),
        now,
    )
    .await?;
    refresh(db, id, now).await?;
    refresh(db, into, now).await?;
    let row = get_any(db, into).await?.ok_or(ApiError::NotFound)?;
    ticket(db, row, now).await
}

pub async fn merge(app: &App, p: &Principal, client_id: i64, id: i64, input: MergeInput) -> Result<Ticket, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let target = apply(tx.tx(), p.client(client_id)?, Some(p.user.id), id, input.into_ticket_id, now).await?;
    tx.commit(
        &p.actor(),
        Event::new("ticket.merge", "ticket", id).client(client_id).details(json!({"into": target.id, "into_number": target.number})),
    )
    .await?;
    app.bus.publish(Happened::TicketChanged { ticket: id, client: client_id }).await;
    app.bus.publish(Happened::TicketChanged { ticket: target.id, client: client_id }).await;
    Ok(target)
}
