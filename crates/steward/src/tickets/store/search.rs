//! Tickets as search documents: the subject, number, client, contact and
//! tags, and the words of its requests, replies and notes (system events
//! are left out: "Status: New → Open" in every ticket only adds noise).
//! Merged tickets have no document of their own: their threads are in
//! their targets.

use super::thread::TicketEntries;
use super::tickets::{TicketTags, Tickets};
use crate::search::model::{clip, Doc};
use crate::store::{Db, Result};
use crate::tenancy::store::{Clients, Contacts};
use crate::tickets::model::display_number;
use sea_query::{Alias, Expr, Order, Query, SelectStatement};
use std::collections::HashMap;

/// The kind of a ticket's document.
pub const KIND: &str = "ticket";

#[derive(sqlx::FromRow)]
struct Head {
    id: i64,
    number: i64,
    client_id: i64,
    subject: String,
    status_kind: String,
    opened_at: i64,
    client_name: String,
    contact_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Body {
    ticket_id: i64,
    body: String,
}

#[derive(sqlx::FromRow)]
struct Tag {
    ticket_id: i64,
    tag: String,
}

fn heads() -> SelectStatement {
    let t = |c: Tickets| (Tickets::Table, c);
    Query::select()
        .columns([
            t(Tickets::Id),
            t(Tickets::Number),
            t(Tickets::ClientId),
            t(Tickets::Subject),
            t(Tickets::StatusKind),
            t(Tickets::OpenedAt),
        ])
        .expr_as(Expr::col((Clients::Table, Clients::Name)), Alias::new("client_name"))
        .expr_as(Expr::col((Contacts::Table, Contacts::Name)), Alias::new("contact_name"))
        .from(Tickets::Table)
        .inner_join(Clients::Table, Expr::col((Clients::Table, Clients::Id)).equals((Tickets::Table, Tickets::ClientId)))
        .left_join(Contacts::Table, Expr::col((Contacts::Table, Contacts::Id)).equals((Tickets::Table, Tickets::ContactId)))
        .and_where(Expr::col((Tickets::Table, Tickets::MergedInto)).is_null())
        .to_owned()
}

/// The documents of these tickets (a merged or missing one has none).
pub async fn docs(db: &mut impl Db, ids: &[i64]) -> Result<Vec<Doc>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let heads: Vec<Head> = db.fetch_all(heads().and_where(Expr::col((Tickets::Table, Tickets::Id)).is_in(ids.iter().copied()))).await?;
    assemble(db, heads).await
}

/// Up to `limit` documents of the tickets after id `after`, by id, and the
/// last ticket id looked at (`None`: no tickets after `after`).
pub async fn docs_after(db: &mut impl Db, after: i64, limit: u64) -> Result<(Vec<Doc>, Option<i64>)> {
    #[derive(sqlx::FromRow)]
    struct Id {
        id: i64,
    }
    // The page is cut by id over every ticket, merged ones included, so a
    // page of merged tickets still moves the scan on.
    let ids: Vec<Id> = db
        .fetch_all(
            Query::select()
                .column(Tickets::Id)
                .from(Tickets::Table)
                .and_where(Expr::col(Tickets::Id).gt(after))
                .order_by(Tickets::Id, Order::Asc)
                .limit(limit),
        )
        .await?;
    let Some(last) = ids.last().map(|i| i.id) else { return Ok((vec![], None)) };
    let heads: Vec<Head> = db
        .fetch_all(
            heads()
                .and_where(Expr::col((Tickets::Table, Tickets::Id)).gt(after))
                .and_where(Expr::col((Tickets::Table, Tickets::Id)).lte(last))
                .order_by((Tickets::Table, Tickets::Id), Order::Asc),
        )
        .await?;
    Ok((assemble(db, heads).await?, Some(last)))
}

async fn assemble(db: &mut impl Db, heads: Vec<Head>) -> Result<Vec<Doc>> {
    let ids: Vec<i64> = heads.iter().map(|h| h.id).collect();
    let bodies: Vec<Body> = db
        .fetch_all(
            Query::select()
                .columns([TicketEntries::TicketId, TicketEntries::Body])
                .from(TicketEntries::Table)
                .and_where(Expr::col(TicketEntries::TicketId).is_in(ids.iter().copied()))
                .and_where(Expr::col(TicketEntries::Kind).is_in(["request", "reply", "note"]))
                .order_by(TicketEntries::Id, Order::Asc),
        )
        .await?;
    let tags: Vec<Tag> = db
        .fetch_all(
            Query::select()
                .columns([TicketTags::TicketId, TicketTags::Tag])
                .from(TicketTags::Table)
                .and_where(Expr::col(TicketTags::TicketId).is_in(ids.iter().copied())),
        )
        .await?;
    let mut text: HashMap<i64, String> = HashMap::with_capacity(heads.len());
    for t in tags {
        let s = text.entry(t.ticket_id).or_default();
        s.push_str(&t.tag);
        s.push(' ');
    }
    for b in bodies {
        let s = text.entry(b.ticket_id).or_default();
        s.push('\n');
        s.push_str(&b.body);
    }
    Ok(heads
        .into_iter()
        .map(|h| {
            let title = format!("{} {}", display_number(h.number), h.subject);
            let rest = text.remove(&h.id).unwrap_or_default();
            let contact = h.contact_name.unwrap_or_default();
            Doc {
                kind: KIND,
                id: h.id,
                client_id: h.client_id,
                status: h.status_kind,
                opened_at: h.opened_at,
                text: clip(format!("{title}\n{} {contact}\n{rest}", h.client_name)),
                title,
            }
        })
        .collect())
}
