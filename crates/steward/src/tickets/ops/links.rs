//! Linking related tickets (of any clients the caller sees), audited and
//! noted in both threads.

use super::event;
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::tickets::model::display_number;
use crate::tickets::store::thread::{link, links, unlink};
use crate::tickets::store::{get, get_any};
use crate::time::now_us;
use serde::Deserialize;
use serde_json::json;

/// The ticket to link to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    pub ticket_id: i64,
}

/// Links (`on`) or unlinks two tickets; the linked ids after.
pub async fn set_link(app: &App, p: &Principal, client_id: i64, id: i64, other: i64, on: bool) -> Result<Vec<i64>, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let t = get(db, p.client(client_id)?, id).await?.ok_or(ApiError::NotFound)?;
    let o = get_any(db, other)
        .await?
        .filter(|o| p.sees_client(o.client_id))
        .ok_or_else(|| ApiError::refused("ticket_id", "is not a ticket"))?;
    if o.id == t.id {
        return Err(ApiError::refused("ticket_id", "a ticket cannot be linked to itself"));
    }
    let was = links(db, id).await?.contains(&other);
    if was != on {
        if on {
            link(db, id, other).await?;
        } else {
            unlink(db, id, other).await?;
        }
        let (verb, field) = if on { ("Linked to", "link") } else { ("Unlinked from", "unlink") };
        event(db, id, Some(p.user.id), &format!("{verb} {}", display_number(o.number)), json!({"field": field, "ticket_id": other}), now)
            .await?;
        event(db, other, Some(p.user.id), &format!("{verb} {}", display_number(t.number)), json!({"field": field, "ticket_id": id}), now)
            .await?;
    }
    let now_links = links(db, id).await?;
    let action = if on { "ticket.link" } else { "ticket.unlink" };
    tx.commit(&p.actor(), Event::new(action, "ticket", id).client(client_id).details(json!({"other": other, "changed": was != on})))
        .await?;
    app.bus.publish(Happened::TicketChanged { ticket: id, client: client_id }).await;
    app.bus.publish(Happened::TicketChanged { ticket: other, client: o.client_id }).await;
    Ok(now_links)
}
