//! Changing a ticket: every field a technician moves (status, priority,
//! assignee, board, client, ...), each change an event in the ticket's own
//! thread. A new client or priority takes that client's policy and
//! priority's targets anew and measures them from the ticket's history.

use super::{change_status, event, resolve, set};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::store::Db;
use crate::tickets::clocks::{refresh, snapshot};
use crate::tickets::model::{tags, Kind};
use crate::tickets::store::config::{priority, status};
use crate::tickets::store::thread::{devices, set_devices};
use crate::tickets::store::{get, get_any, set_tags, TicketRow, Tickets};
use crate::tickets::view::{ticket, Ticket};
use crate::time::{now_us, Timestamp};
use crate::validate::Name;
use sea_query::SimpleExpr;
use serde::Deserialize;
use serde_json::json;

/// Changes to a ticket; absent fields stay as they are, `null` clears.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub subject: Option<String>,
    /// A status name or kind.
    pub status: Option<String>,
    /// A priority code, e.g. `P1`.
    pub priority: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<crate::tickets::model::TicketType>)]
    pub ticket_type: Option<String>,
    pub board_id: Option<i64>,
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub site_id: Option<Option<i64>>,
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub contact_id: Option<Option<i64>>,
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<Timestamp>)]
    pub due_at: Option<Option<Timestamp>>,
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Replaces the devices (of the ticket's client).
    #[schema(max_items = 100)]
    pub device_ids: Option<Vec<i64>>,
    /// Moves the ticket to another client (both must be yours); its site,
    /// contact and devices are cleared unless given anew.
    pub client_id: Option<i64>,
}

/// One field's change, for the thread and the audit entry.
fn changed(field: &str, from: impl ToString, to: impl ToString) -> (String, serde_json::Value) {
    let (from, to) = (from.to_string(), to.to_string());
    (
        format!("{}: {} → {}", field.replace('_', " "), if from.is_empty() { "—" } else { &from }, if to.is_empty() { "—" } else { &to }),
        json!({"field": field, "from": from, "to": to}),
    )
}

async fn user_name(db: &mut impl Db, id: Option<i64>) -> Result<String, ApiError> {
    Ok(match id {
        Some(id) => crate::users::store::by_id(db, id).await?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    })
}

/// Applies `patch` to a ticket inside `db`'s transaction: checks, writes,
/// events. Returns the ticket before and after.
pub(crate) async fn apply(
    app: &App,
    db: &mut impl Db,
    p: &Principal,
    client_id: i64,
    id: i64,
    patch: &TicketPatch,
    now: i64,
) -> Result<(Ticket, Ticket), ApiError> {
    let client = p.client(client_id)?;
    let row = get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    let before = ticket(db, row.clone(), now).await?;
    let author = Some(p.user.id);
    let target_client = match patch.client_id {
        Some(c) if c != client_id => {
            let c = p.client(c).map_err(|_| ApiError::refused("client_id", "is not a client you may see"))?;
            crate::tenancy::store::get_client(db, c).await?.ok_or_else(|| ApiError::refused("client_id", "is not a client"))?;
            Some(c)
        }
        _ => None,
    };
    let scope = target_client.unwrap_or(client);
    let mut sets: Vec<(Tickets, SimpleExpr)> = vec![];
    let mut events: Vec<(String, serde_json::Value)> = vec![];
    let mut retarget = false;

    if let Some(s) = &patch.subject {
        let s = Name::parse(s).map_err(|m| ApiError::invalid("subject", m))?;
        if s.as_str() != row.subject {
            events.push(changed("subject", &row.subject, s.as_str()));
            sets.push((Tickets::Subject, s.into()));
        }
    }
    if let Some(t) = &patch.ticket_type {
        let t = resolve::ticket_type(t)?;
        if t.as_str() != row.ticket_type {
            events.push(changed("type", &row.ticket_type, t.as_str()));
            sets.push((Tickets::TicketType, t.as_str().into()));
        }
    }
    if let Some(pr) = &patch.priority {
        let pr = resolve::priority(db, pr).await?;
        if pr.id != row.priority_id {
            events.push(changed("priority", &before.priority, &pr.code));
            sets.push((Tickets::PriorityId, pr.id.into()));
            retarget = true;
        }
    }
    if let Some(b) = patch.board_id {
        let b = resolve::board(db, Some(b)).await?;
        if b.id != row.board_id {
            let old = crate::tickets::store::config::board(db, row.board_id).await?.map(|b| b.name).unwrap_or_default();
            events.push(changed("board", old, &b.name));
            sets.push((Tickets::BoardId, b.id.into()));
        }
    }
    if let Some(c) = target_client {
        let old = crate::tenancy::store::get_client(db, client).await?.map(|c| c.name).unwrap_or_default();
        let new = crate::tenancy::store::get_client(db, c).await?.map(|c| c.name).unwrap_or_default();
        events.push(changed("client", old, new));
        sets.push((Tickets::ClientId, c.id().into()));
        crate::timesheets::store::move_to(db, id, id, c.id()).await?;
        crate::tickets::store::attachments::move_to(db, id, id, c.id()).await?;
        retarget = true;
        // Site, contact and devices belong to the old client unless given.
        if patch.site_id.is_none() {
            sets.push((Tickets::SiteId, Option::<i64>::None.into()));
        }
        if patch.contact_id.is_none() {
            sets.push((Tickets::ContactId, Option::<i64>::None.into()));
        }
        if patch.device_ids.is_none() {
            set_devices(db, id, &[]).await?;
        }
        if patch.parent_id.is_none() && row.parent_id.is_some() {
            sets.push((Tickets::ParentId, Option::<i64>::None.into()));
        }
    }
    let assignee_now = match patch.assignee_id {
        Some(Some(u)) => Some(resolve::assignee(db, scope.id(), u).await?),
        Some(None) => None,
        // A move to another client keeps the assignee only if they may
        // work that client too.
        None if target_client.is_some() => match row.assignee_id {
            Some(u) => resolve::assignee(db, scope.id(), u).await.ok(),
            None => None,
        },
        None => row.assignee_id,
    };
    if assignee_now != row.assignee_id {
        events.push(changed("assignee", user_name(db, row.assignee_id).await?, user_name(db, assignee_now).await?));
        sets.push((Tickets::AssigneeId, assignee_now.into()));
    }
    if let Some(s) = patch.site_id {
        let s = match s {
            Some(s) => Some(resolve::site(db, scope, s).await?),
            None => None,
        };
        sets.push((Tickets::SiteId, s.into()));
    }
    if let Some(c) = patch.contact_id {
        let c = match c {
            Some(c) => Some(resolve::contact(db, scope, c).await?),
            None => None,
        };
        sets.push((Tickets::ContactId, c.into()));
    }
    if let Some(d) = patch.due_at {
        let d = d.map(|d| d.micros());
        if d != row.due_at {
            events.push(changed(
                "due",
                row.due_at.map(Timestamp).map(|t| t.to_string()).unwrap_or_default(),
                d.map(Timestamp).map(|t| t.to_string()).unwrap_or_default(),
            ));
            sets.push((Tickets::DueAt, d.into()));
        }
    }
    if let Some(parent) = patch.parent_id {
        if let Some(pid) = parent {
            if pid == id {
                return Err(ApiError::refused("parent_id", "a ticket cannot be its own parent"));
            }
            let parent_row = get(db, scope, pid).await?.ok_or_else(|| ApiError::refused("parent_id", "is not a ticket of this client"))?;
            // Up the new parent's ancestry: meeting this ticket would make
            // a circle (a child of its own child, at any depth).
            let mut up = parent_row.parent_id;
            for _ in 0..1000 {
                let Some(a) = up else { break };
                if a == id {
                    return Err(ApiError::refused("parent_id", "that ticket is below this one"));
                }
                up = get_any(db, a).await?.and_then(|r| r.parent_id);
            }
        }
        sets.push((Tickets::ParentId, parent.into()));
    }
    if let Some(t) = &patch.tags {
        let t = tags(t).map_err(|m| ApiError::refused("tags", m))?;
        if t != before.tags {
            events.push(changed("tags", before.tags.join(", "), t.join(", ")));
            set_tags(db, id, &t).await?;
        }
    }
    if let Some(d) = &patch.device_ids {
        let d = resolve::devices(db, scope, d).await?;
        if d != before.device_ids {
            let names =
                |ds: Vec<crate::tickets::store::thread::TicketDevice>| ds.into_iter().map(|d| d.hostname).collect::<Vec<_>>().join(", ");
            let old = names(devices(db, &[id]).await?);
            set_devices(db, id, &d).await?;
            events.push(changed("devices", old, names(devices(db, &[id]).await?)));
        }
    }
    if let Some(s) = &patch.status {
        let to = resolve::status(db, "status", s).await?;
        let from = status(db, row.status_id).await?.ok_or_else(|| ApiError::internal("ticket without status"))?;
        change_status(db, &row, &from, &to, author, now).await?;
        // The client hears that it is resolved (from the outbox, with this change).
        if to.kind == Kind::Resolved.as_str() && from.kind != to.kind {
            crate::mail::outbox::enqueue_resolution(app, db, id, now).await?;
        }
    }
    sets.push((Tickets::UpdatedAt, now.into()));
    set(db, id, sets).await?;
    for (body, details) in events {
        event(db, id, author, &body, details, now).await?;
    }
    if retarget {
        let t = get_any(db, id).await?.ok_or(ApiError::NotFound)?;
        let code = priority(db, t.priority_id).await?.map(|p| p.code).unwrap_or_default();
        let snap = snapshot(db, t.client_id, &code).await?;
        let mut s = snap.sets();
        // New targets: what was announced for the old ones no longer holds.
        s.push((Tickets::SlaFirstResponseAnnounced, "none".into()));
        s.push((Tickets::SlaResolutionAnnounced, "none".into()));
        set(db, id, s).await?;
    }
    refresh(db, id, now).await?;
    let after_row: TicketRow = get_any(db, id).await?.ok_or(ApiError::NotFound)?;
    let after = ticket(db, after_row, now).await?;
    Ok((before, after))
}

pub async fn update(app: &App, p: &Principal, client_id: i64, id: i64, patch: TicketPatch) -> Result<Ticket, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let (before, after) = apply(app, tx.tx(), p, client_id, id, &patch, now).await?;
    tx.commit_change(&p.actor(), Event::new("ticket.update", "ticket", id).client(after.client_id), &before, &after).await?;
    app.bus.publish(Happened::TicketChanged { ticket: id, client: after.client_id }).await;
    if after.client_id != client_id {
        app.bus.publish(Happened::TicketChanged { ticket: id, client: client_id }).await;
    }
    Ok(after)
}
