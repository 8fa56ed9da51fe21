//! Opening a ticket: a gapless number taken in the same transaction, the
//! client's SLA policy copied onto it, the request as the first entry.

use super::resolve;
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::store::{Db, IdRow};
use crate::tickets::clocks::{refresh, snapshot};
use crate::tickets::model::{tags, transition, Kind, Standing, TicketType};
use crate::tickets::store::thread::{add_entry, open_pause, set_devices, NewEntry};
use crate::tickets::store::{self as store, get, next_number, set_tags, Tickets};
use crate::tickets::view::{ticket, Ticket};
use crate::time::{now_us, Timestamp};
use crate::validate::{Message, Name};
use sea_query::{Query, SimpleExpr};
use serde::Deserialize;
use serde_json::json;

/// A new ticket.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    #[schema(value_type = crate::validate::Name)]
    pub subject: String,
    /// A priority code, e.g. `P2` (default: the middle priority, P3).
    pub priority: Option<String>,
    /// A status name (e.g. `Open`) or kind (e.g. `open`); default `new`.
    pub status: Option<String>,
    /// `incident` (default), `service_request`, `problem` or `change`.
    #[serde(rename = "type")]
    #[schema(value_type = Option<crate::tickets::model::TicketType>)]
    pub ticket_type: Option<String>,
    /// Default: the first board.
    pub board_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub site_id: Option<i64>,
    pub contact_id: Option<i64>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub device_ids: Vec<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub due_at: Option<Timestamp>,
    pub parent_id: Option<i64>,
    /// What was asked: the first entry of the thread.
    #[schema(value_type = Option<crate::validate::Message>)]
    pub body: Option<String>,
    /// When it was opened, for imports from another PSA (needs
    /// `tickets:import`); the SLA clocks run from this instant.
    pub opened_at: Option<Timestamp>,
}

pub async fn create(app: &App, p: &Principal, client_id: i64, input: NewTicket) -> Result<Ticket, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let client = p.client(client_id)?;
    let opened_at = resolve::imported(p, "opened_at", input.opened_at)?;
    let mut tx = app.store.begin_audited().await?;
    let t = insert(tx.tx(), Some(p.user.id), client, input, opened_at).await?;
    crate::mail::staff::new_ticket(app, tx.tx(), t.id, Some(p.user.id), crate::time::now_us()).await?;
    tx.commit(&p.actor(), Event::new("ticket.create", "ticket", t.id).client(client_id).details(json!({"after": t}))).await?;
    app.bus.publish(Happened::TicketChanged { ticket: t.id, client: client_id }).await;
    Ok(t)
}

/// Writes a new ticket inside the caller's transaction, for [`create`] and
/// for the server's own creators (recurring tickets), which audit it with
/// what caused it. `author` is the user it is created by and for; the
/// caller has checked that they may, and `opened_at` (an import's) is the
/// caller's to allow.
pub(crate) async fn insert(
    db: &mut impl Db,
    author: Option<i64>,
    client: ScopedClient,
    input: NewTicket,
    opened_at: Option<i64>,
) -> Result<Ticket, ApiError> {
    let client_id = client.id();
    let subject = Name::parse(&input.subject).map_err(|m| ApiError::invalid("subject", m))?;
    let body = input.body.as_deref().map(Message::parse).transpose().map_err(|m| ApiError::invalid("body", m))?;
    let ticket_type = input.ticket_type.as_deref().map(resolve::ticket_type).transpose()?.unwrap_or(TicketType::Incident);
    let tags = tags(&input.tags).map_err(|m| ApiError::refused("tags", m))?;
    let now = now_us();
    let opened_at = opened_at.unwrap_or(now);
    crate::tenancy::store::get_client(db, client).await?.ok_or(ApiError::NotFound)?;
    let priority = match &input.priority {
        Some(s) => resolve::priority(db, s).await?,
        None => resolve::default_priority(db).await?,
    };
    let status = match &input.status {
        Some(s) => resolve::status(db, "status", s).await?,
        None => resolve::status_of_kind(db, Kind::New).await?,
    };
    let board = resolve::board(db, input.board_id).await?;
    let assignee = match input.assignee_id {
        Some(u) => Some(resolve::assignee(db, client_id, u).await?),
        None => None,
    };
    let site = match input.site_id {
        Some(s) => Some(resolve::site(db, client, s).await?),
        None => None,
    };
    let contact = match input.contact_id {
        Some(c) => Some(resolve::contact(db, client, c).await?),
        None => None,
    };
    let devices = resolve::devices(db, client, &input.device_ids).await?;
    if let Some(parent) = input.parent_id {
        get(db, client, parent).await?.ok_or_else(|| ApiError::refused("parent_id", "is not a ticket of this client"))?;
    }
    let sla = snapshot(db, client_id, &priority.code).await?;
    // A ticket opened straight into a waiting or resolved status starts
    // with its clock still, exactly as if it had been moved there.
    let effects = transition(
        Standing { kind: Kind::Open, pauses_sla: false },
        Standing { kind: Kind::parse(&status.kind).unwrap_or(Kind::Open), pauses_sla: status.pauses_sla },
        opened_at,
    );
    let number = next_number(db).await?;
    let mut cols: Vec<(Tickets, SimpleExpr)> = vec![
        (Tickets::Number, number.into()),
        (Tickets::ClientId, client_id.into()),
        (Tickets::SiteId, site.into()),
        (Tickets::ContactId, contact.into()),
        (Tickets::Subject, subject.into()),
        (Tickets::StatusId, status.id.into()),
        (Tickets::StatusKind, status.kind.clone().into()),
        (Tickets::PriorityId, priority.id.into()),
        (Tickets::TicketType, ticket_type.as_str().into()),
        (Tickets::BoardId, board.id.into()),
        (Tickets::AssigneeId, assignee.into()),
        (Tickets::DueAt, input.due_at.map(|d| d.micros()).into()),
        (Tickets::OpenedAt, opened_at.into()),
        (Tickets::ResolvedAt, effects.resolved_at.flatten().into()),
        (Tickets::ClosedAt, effects.closed_at.flatten().into()),
        (Tickets::ParentId, input.parent_id.into()),
        (Tickets::CreatedBy, author.into()),
        (Tickets::CreatedAt, now.into()),
        (Tickets::UpdatedAt, now.into()),
    ];
    cols.extend(sla.sets());
    let (names, values): (Vec<Tickets>, Vec<SimpleExpr>) = cols.into_iter().unzip();
    let r: IdRow =
        db.fetch_one(Query::insert().into_table(Tickets::Table).columns(names).values_panic(values).returning_col(Tickets::Id)).await?;
    if effects.open_pause {
        open_pause(db, r.id, opened_at).await?;
    }
    crate::search::store::enqueue(db, crate::tickets::model::SEARCH_KIND, r.id, now).await?;
    set_tags(db, r.id, &tags).await?;
    set_devices(db, r.id, &devices).await?;
    if let Some(body) = body.filter(|b| !b.is_empty()) {
        add_entry(db, NewEntry { ticket_id: r.id, kind: "request", author_id: author, body: &body, details: None, created_at: opened_at })
            .await?;
    }
    refresh(db, r.id, now).await?;
    let row = store::get_any(db, r.id).await?.ok_or(ApiError::NotFound)?;
    ticket(db, row, now).await
}
