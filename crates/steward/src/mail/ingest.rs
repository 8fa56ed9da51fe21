//! One message into the service desk, in one audited transaction with
//! the mailbox's reading position and the message's record, so a crash
//! loses nothing and doubles nothing. Where it goes is `route`'s; here its
//! files are kept (attachments and inline images as the ticket's
//! attachments, under the service desk's size limit and name rules; an
//! unreadable message whole, as `message.eml`), written to the file store
//! before the transaction so a row never names a missing file, and an
//! acknowledgement is queued for a new ticket of a known person.
//!
//! Nothing here answers a machine: `automatic` says why not.

use super::model::read::{read, Incoming};
use super::route::{self, cut, Outcome, MAX_TEXT};
use super::store::{self, Handled, MailboxRow};
use crate::app::App;
use crate::audit::store::Actor;
use crate::events::Event as Happened;
use crate::tickets::store::attachments::{self, NewAttachment};
use crate::time::now_us;
use axum::body::Bytes;
use serde_json::{json, Value};

/// The most files kept from one message.
pub const MAX_FILES: usize = 50;

/// A file of the message, in the file store.
struct Kept {
    name: String,
    content_type: String,
    content_id: Option<String>,
    sha256: String,
    size: i64,
}

/// Handles message `uid` of the mailbox (`uid_validity`), unless handled
/// already (then `None`).
pub async fn handle(app: &App, mb: &MailboxRow, uid_validity: i64, uid: i64, raw: &[u8]) -> anyhow::Result<Option<Outcome>> {
    let m = read(raw);
    let (kept, not_kept) = keep_files(app, &m, raw).await?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    if store::handled(tx.tx(), mb.id, uid_validity, uid).await? {
        return Ok(None);
    }
    let (outcome, event) = route::route(tx.tx(), mb, &m, details(&m, &kept, &not_kept), now).await?;
    if let Some(ticket_id) = outcome.ticket_id {
        for f in &kept {
            attachments::insert(
                tx.tx(),
                NewAttachment {
                    ticket_id,
                    entry_id: Some(outcome.entry_id),
                    client_id: outcome.client_id,
                    sha256: &f.sha256,
                    size: f.size,
                    file_name: &f.name,
                    content_type: &f.content_type,
                    uploaded_by: None,
                    created_at: now,
                },
            )
            .await?;
        }
        if let (true, Some(to)) = (outcome.acknowledge, m.from.as_deref()) {
            super::outbox::enqueue_acknowledgement(app, tx.tx(), ticket_id, to, now).await?;
        }
        match outcome.handling {
            "reply" => {
                if let Some(t) = crate::tickets::store::get_any(tx.tx(), ticket_id).await? {
                    super::staff::client_reply(app, tx.tx(), &t, &cut(&m.text, 5_000), now).await?;
                }
            }
            "new_ticket" | "domain" | "unknown_sender" | "unreadable" | "follow_up" => {
                super::staff::new_ticket(app, tx.tx(), ticket_id, None, now).await?;
            }
            _ => {}
        }
    }
    // Whom the sender copied, less our own mailbox.
    let own = mb.username.trim().to_lowercase();
    let cc = serde_json::to_string(&m.cc.iter().filter(|a| **a != own && Some(a.as_str()) != m.from.as_deref()).collect::<Vec<_>>())?;
    let message_id = m.message_id.clone().unwrap_or_else(|| format!("steward-mailbox-{}-{uid_validity}-{uid}", mb.id));
    store::record(
        tx.tx(),
        &Handled {
            mailbox_id: Some(mb.id),
            direction: "in",
            message_id: &message_id,
            uid_validity: Some(uid_validity),
            uid: Some(uid),
            ticket_id: outcome.ticket_id,
            entry_id: Some(outcome.entry_id),
            from_address: m.from.as_deref().unwrap_or(""),
            subject: &cut(&m.subject, 500),
            handling: outcome.handling,
            automatic: m.automatic.unwrap_or(""),
            at: now,
            cc: &cc,
        },
    )
    .await?;
    store::advance(tx.tx(), mb.id, uid_validity, uid).await?;
    tx.commit(&Actor::system(), event).await?;
    if let Some(t) = outcome.ticket_id {
        app.bus.publish(Happened::TicketChanged { ticket: t, client: outcome.client_id }).await;
    }
    Ok(Some(outcome))
}

/// Puts the message's files in the file store: those it carries, or the
/// whole message when it could not be read. Returns what was kept and
/// the names of what was not (over the size limit, past [`MAX_FILES`]).
async fn keep_files(app: &App, m: &Incoming, raw: &[u8]) -> anyhow::Result<(Vec<Kept>, Vec<String>)> {
    let blobs = crate::tickets::attachments::blobs(app);
    let max = app.cfg.attachment_max_bytes;
    let whole;
    let files: Vec<(&str, &str, Option<&str>, &[u8])> = if m.readable {
        m.files.iter().map(|f| (f.name.as_str(), f.content_type.as_str(), f.content_id.as_deref(), f.bytes.as_slice())).collect()
    } else {
        whole = raw;
        vec![("message.eml", "message/rfc822", None, whole)]
    };
    let (mut kept, mut not_kept) = (vec![], vec![]);
    for (i, (name, content_type, content_id, bytes)) in files.into_iter().enumerate() {
        if i >= MAX_FILES || bytes.len() as u64 > max {
            not_kept.push(name.to_string());
            continue;
        }
        let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::copy_from_slice(bytes))]);
        let stored = blobs.put(body, max).await.map_err(|e| anyhow::anyhow!("keeping {name}: {e:?}"))?;
        kept.push(Kept {
            name: name.to_string(),
            content_type: content_type.to_string(),
            content_id: content_id.map(str::to_string),
            sha256: stored.sha256,
            size: stored.size as i64,
        });
    }
    Ok((kept, not_kept))
}

/// The entry's details: where it came from, and what a person may want.
fn details(m: &Incoming, kept: &[Kept], not_kept: &[String]) -> Value {
    // What `cid:` in the HTML names: the file (by hash) to show instead.
    let inline: serde_json::Map<String, Value> =
        kept.iter().filter_map(|f| f.content_id.as_ref().map(|c| (c.clone(), json!(f.sha256)))).collect();
    json!({
        "mail": {
            "from": m.from, "from_name": m.from_name, "message_id": m.message_id, "cc": m.cc,
            "html": m.html, "html_with_images": m.html_with_images, "quoted": cut(&m.quoted, MAX_TEXT),
            "remote_images_blocked": m.remote_images, "inline": inline,
            "automatic": m.automatic, "bounce": m.bounce, "files_not_kept": not_kept,
            "readable": m.readable, "review": false,
        }
    })
}
