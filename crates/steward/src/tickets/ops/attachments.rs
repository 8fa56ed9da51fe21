//! Attaching files to a ticket, or to one of its entries. The bytes are
//! in the file store already (`http::multipart` streamed them there);
//! here the rows that name them and their audit entry are written in one
//! transaction, so an attachment nobody can account for never appears.

use super::set;
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::http::multipart::Upload;
use crate::tickets::model::EntryKind;
use crate::tickets::store::attachments::{self, NewAttachment};
use crate::tickets::store::thread::entry;
use crate::tickets::store::{get, Tickets};
use crate::tickets::view::Attachment;
use crate::time::now_us;
use serde_json::json;

/// Checks that the caller may attach to this ticket, before any byte of
/// an upload is read: a ticket they cannot see is 404 with nothing stored.
pub async fn may_attach(app: &App, p: &Principal, client_id: i64, ticket_id: i64) -> Result<(), ApiError> {
    p.require(Permission::TicketsWrite)?;
    let t = get(&mut app.store.clone(), p.client(client_id)?, ticket_id).await?.ok_or(ApiError::NotFound)?;
    if t.merged_into.is_some() {
        return Err(ApiError::refused("ticket_id", "this ticket was merged; attach to the ticket it was merged into"));
    }
    Ok(())
}

pub async fn attach(
    app: &App,
    p: &Principal,
    client_id: i64,
    ticket_id: i64,
    entry_id: Option<i64>,
    files: &[Upload],
) -> Result<Vec<Attachment>, ApiError> {
    p.require(Permission::TicketsWrite)?;
    if files.is_empty() {
        return Err(ApiError::invalid("file", "attach at least one file"));
    }
    let client = p.client(client_id)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let t = get(db, client, ticket_id).await?.ok_or(ApiError::NotFound)?;
    if t.merged_into.is_some() {
        return Err(ApiError::refused("ticket_id", "this ticket was merged; attach to the ticket it was merged into"));
    }
    if let Some(e) = entry_id {
        let e = entry(db, ticket_id, e).await?.ok_or_else(|| ApiError::refused("entry_id", "is not an entry of this ticket"))?;
        if EntryKind::parse(&e.kind).is_none_or(|k| !matches!(k, EntryKind::Request | EntryKind::Reply | EntryKind::Note)) {
            return Err(ApiError::refused("entry_id", "files go on a request, reply or note, not on an event"));
        }
    }
    let mut ids = vec![];
    for f in files {
        let id = attachments::insert(
            db,
            NewAttachment {
                ticket_id,
                entry_id,
                client_id: t.client_id,
                sha256: &f.stored.sha256,
                size: i64::try_from(f.stored.size).map_err(ApiError::internal)?,
                file_name: &f.file_name,
                content_type: f.content_type,
                uploaded_by: Some(p.user.id),
                created_at: now,
            },
        )
        .await?;
        ids.push(id);
    }
    set(db, ticket_id, vec![(Tickets::UpdatedAt, now.into())]).await?;
    let out: Vec<Attachment> =
        attachments::of_ticket(db, ticket_id).await?.into_iter().filter(|a| ids.contains(&a.id)).map(Attachment::from).collect();
    let listed: Vec<_> = out
        .iter()
        .map(|a| json!({"id": a.id, "file_name": a.file_name, "sha256": a.sha256, "size": a.size, "content_type": a.content_type}))
        .collect();
    tx.commit(
        &p.actor(),
        Event::new("ticket.attach", "ticket", ticket_id)
            .client(t.client_id)
            .details(json!({"number": t.number, "entry_id": entry_id, "files": listed})),
    )
    .await?;
    app.bus.publish(Happened::TicketChanged { ticket: ticket_id, client: t.client_id }).await;
    Ok(out)
}
