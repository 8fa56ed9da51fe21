//! Tickets, entries and queue lines as the API answers them (times as
//! RFC 3339), built from stored rows.

use super::clocks::{sla_view, SlaView};
use super::store::attachments::AttachmentRow;
use super::store::config::{priority, status};
use super::store::thread::{devices, links, pauses, EntryRow};
use super::store::{tags, QueueRow, TicketRow};
use crate::error::ApiError;
use crate::sla::model::ClockState;
use crate::store::Db;
use crate::time::Timestamp;
use serde::Serialize;

/// A status as a ticket shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusRef {
    pub id: i64,
    pub name: String,
    /// `new`, `open`, `waiting`, `scheduled`, `resolved` or `closed`.
    pub kind: String,
}

/// A ticket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: i64,
    /// Sequential across the installation, without gaps.
    pub number: i64,
    /// The number as people write it: `#1001`.
    pub reference: String,
    pub client_id: i64,
    pub site_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub subject: String,
    pub status: StatusRef,
    /// A priority code, e.g. `P2`.
    pub priority: String,
    /// `incident`, `service_request`, `problem` or `change`.
    #[serde(rename = "type")]
    pub ticket_type: String,
    pub board_id: i64,
    pub assignee_id: Option<i64>,
    pub tags: Vec<String>,
    pub device_ids: Vec<i64>,
    /// Related tickets.
    pub links: Vec<i64>,
    pub parent_id: Option<i64>,
    /// Set when this ticket was merged into another (it then redirects).
    pub merged_into: Option<i64>,
    pub due_at: Option<Timestamp>,
    pub opened_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The SLA clocks; `null` when no policy applies to the ticket.
    pub sla: Option<SlaView>,
}

/// A ticket in full, as the API shows it.
pub async fn ticket(db: &mut impl Db, t: TicketRow, now: i64) -> Result<Ticket, ApiError> {
    let st = status(db, t.status_id).await?.ok_or_else(|| ApiError::internal("ticket without status"))?;
    let pr = priority(db, t.priority_id).await?.ok_or_else(|| ApiError::internal("ticket without priority"))?;
    let tags = tags(db, &[t.id]).await?.into_iter().map(|(_, t)| t).collect();
    let device_ids = devices(db, &[t.id]).await?.into_iter().map(|d| d.device_id).collect();
    let links = links(db, t.id).await?;
    let p = pauses(db, t.id).await?;
    let sla = sla_view(&t, &p, now);
    Ok(Ticket {
        id: t.id,
        number: t.number,
        reference: super::model::display_number(t.number),
        client_id: t.client_id,
        site_id: t.site_id,
        contact_id: t.contact_id,
        subject: t.subject,
        status: StatusRef { id: st.id, name: st.name, kind: st.kind },
        priority: pr.code,
        ticket_type: t.ticket_type,
        board_id: t.board_id,
        assignee_id: t.assignee_id,
        tags,
        device_ids,
        links,
        parent_id: t.parent_id,
        merged_into: t.merged_into,
        due_at: t.due_at.map(Timestamp),
        opened_at: Timestamp(t.opened_at),
        first_response_at: t.first_response_at.map(Timestamp),
        resolved_at: t.resolved_at.map(Timestamp),
        closed_at: t.closed_at.map(Timestamp),
        created_by: t.created_by,
        created_at: Timestamp(t.created_at),
        updated_at: Timestamp(t.updated_at),
        sla,
    })
}

/// Who wrote an entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Author {
    pub id: i64,
    pub name: String,
}

/// An entry of a ticket's thread.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: i64,
    /// `request`, `reply`, `note` or `event`.
    pub kind: String,
    /// `null` for what the system did.
    pub author: Option<Author>,
    /// Plain text; shown as text, never as HTML.
    pub body: String,
    /// For events: what changed (`field`, `from`, `to`, ...).
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    pub created_at: Timestamp,
    /// The files attached to this entry.
    pub attachments: Vec<Attachment>,
}

/// A file on a ticket (its bytes at `url`, always as a download).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    /// The entry it came with, if any.
    pub entry_id: Option<i64>,
    /// Sanitized: no path parts, no control characters.
    pub file_name: String,
    /// The type it is served as (a short safe list, else
    /// `application/octet-stream`).
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Lowercase hex; the same bytes are stored once.
    pub sha256: String,
    pub uploaded_by: Option<Author>,
    pub created_at: Timestamp,
    /// Where to download it.
    pub url: String,
}

impl From<AttachmentRow> for Attachment {
    fn from(a: AttachmentRow) -> Self {
        Attachment {
            url: format!("/api/v1/clients/{}/tickets/{}/attachments/{}", a.client_id, a.ticket_id, a.id),
            id: a.id,
            ticket_id: a.ticket_id,
            entry_id: a.entry_id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by.map(|id| Author { id, name: a.uploader_name.unwrap_or_default() }),
            created_at: Timestamp(a.created_at),
        }
    }
}

/// A thread with each entry's attachments.
pub fn thread(entries: Vec<EntryRow>, attachments: Vec<AttachmentRow>) -> Vec<Entry> {
    let mut out: Vec<Entry> = entries.into_iter().map(Entry::from).collect();
    for a in attachments {
        if let Some(e) = out.iter_mut().find(|e| Some(e.id) == a.entry_id) {
            e.attachments.push(a.into());
        }
    }
    out
}

impl From<EntryRow> for Entry {
    fn from(e: EntryRow) -> Self {
        Entry {
            id: e.id,
            kind: e.kind,
            author: e.author_id.map(|id| Author { id, name: e.author_name.unwrap_or_default() }),
            body: e.body,
            details: e.details.and_then(|d| serde_json::from_str(&d).ok()),
            created_at: Timestamp(e.created_at),
            attachments: vec![],
        }
    }
}

/// A line of the queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub id: i64,
    pub number: i64,
    pub reference: String,
    pub client_id: i64,
    pub client_name: String,
    pub subject: String,
    pub status: StatusRef,
    pub priority: String,
    #[serde(rename = "type")]
    pub ticket_type: String,
    pub board_id: i64,
    pub assignee: Option<Author>,
    pub tags: Vec<String>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub due_at: Option<Timestamp>,
    /// The worse state of the two SLA clocks; `null` without an SLA.
    pub sla_state: Option<ClockState>,
    /// The earlier due time of an SLA clock still running.
    pub sla_due_at: Option<Timestamp>,
    pub merged_into: Option<i64>,
}

/// Queue lines with their tags.
pub async fn queue_items(db: &mut impl Db, rows: Vec<QueueRow>) -> Result<Vec<QueueItem>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let all_tags = tags(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| QueueItem {
            tags: all_tags.iter().filter(|(id, _)| *id == r.id).map(|(_, t)| t.clone()).collect(),
            id: r.id,
            number: r.number,
            reference: super::model::display_number(r.number),
            client_id: r.client_id,
            client_name: r.client_name,
            subject: r.subject,
            status: StatusRef { id: r.status_id, name: r.status_name, kind: r.status_kind },
            priority: r.priority_code,
            ticket_type: r.ticket_type,
            board_id: r.board_id,
            assignee: r.assignee_id.map(|id| Author { id, name: r.assignee_name.unwrap_or_default() }),
            opened_at: Timestamp(r.opened_at),
            updated_at: Timestamp(r.updated_at),
            due_at: r.due_at.map(Timestamp),
            sla_state: r.sla_state.as_deref().and_then(ClockState::parse),
            sla_due_at: r.sla_due_at.map(Timestamp),
            merged_into: r.merged_into,
        })
        .collect())
}
