//! Bulk actions on a selection of tickets (assign, status, priority,
//! merge): all or nothing, in one transaction, each ticket's change in its
//! own thread and the whole action in one audit entry listing every
//! ticket's before and after.

use super::update::{self, TicketPatch};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::tickets::store::get_any;
use crate::time::now_us;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// At most this many tickets per bulk action.
pub const MAX_BULK: usize = 500;

/// What to do to every selected ticket; give at least one action.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    #[schema(min_items = 1, max_items = 500)]
    pub ticket_ids: Vec<i64>,
    /// A user id, or `null` to unassign.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// A status name or kind.
    pub status: Option<String>,
    /// A priority code.
    pub priority: Option<String>,
    /// Merge every selected ticket into this one (of the same client).
    pub merge_into: Option<i64>,
}

/// What a bulk action did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    /// The tickets changed, in the order given.
    pub updated: Vec<i64>,
}

pub async fn bulk(app: &App, p: &Principal, input: BulkInput) -> Result<BulkResult, ApiError> {
    p.require(Permission::TicketsWrite)?;
    // Counted as sent, as the schema states, before repeats are dropped.
    if input.ticket_ids.is_empty() || input.ticket_ids.len() > MAX_BULK {
        return Err(ApiError::invalid("ticket_ids", format!("give 1–{MAX_BULK} tickets")));
    }
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<i64> = input.ticket_ids.iter().copied().filter(|i| seen.insert(*i)).collect();
    let patch = TicketPatch {
        assignee_id: input.assignee_id,
        status: input.status.clone(),
        priority: input.priority.clone(),
        ..Default::default()
    };
    let has_patch = patch.assignee_id.is_some() || patch.status.is_some() || patch.priority.is_some();
    if !has_patch && input.merge_into.is_none() {
        return Err(ApiError::refused("ticket_ids", "give an action: assignee_id, status, priority or merge_into"));
    }
    if has_patch && input.merge_into.is_some() {
        return Err(ApiError::refused("merge_into", "merge on its own; it closes the merged tickets"));
    }
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let mut changes = vec![];
    let mut clients = vec![];
    for id in &ids {
        // A ticket of a client the caller cannot see is as absent as one
        // that does not exist.
        let row = get_any(tx.tx(), *id).await?.filter(|t| p.sees_client(t.client_id));
        let row = row.ok_or_else(|| ApiError::refused("ticket_ids", format!("{id} is not a ticket")))?;
        clients.push((*id, row.client_id));
        if let Some(into) = input.merge_into {
            if into == *id {
                continue;
            }
            let after = super::merge::apply(tx.tx(), p.client(row.client_id)?, Some(p.user.id), *id, into, now).await?;
            changes.push(json!({"ticket_id": id, "merged_into": after.id}));
        } else {
            let (before, after) = update::apply(app, tx.tx(), p, row.client_id, *id, &patch, now).await?;
            changes.push(json!({"ticket_id": id, "before": before, "after": after}));
        }
    }
    let action = if input.merge_into.is_some() { "ticket.bulk_merge" } else { "ticket.bulk_update" };
    tx.commit(
        &p.actor(),
        Event::new(action, "ticket", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")).details(json!({"changes": changes})),
    )
    .await?;
    for (ticket, client) in &clients {
        app.bus.publish(Happened::TicketChanged { ticket: *ticket, client: *client }).await;
    }
    Ok(BulkResult { updated: ids })
}
