//! The audit log page, with filters and an on-demand chain verification.

use super::chain::Entry;
use crate::auth::roles::Permission;
use crate::auth::Principal;
use crate::http::page::html;
use crate::http::App;
use crate::web::{Layout, PageResult};
use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

/// One entry as shown.
pub struct Row {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub target: String,
    pub client_id: String,
    pub details: String,
}

impl From<Entry> for Row {
    fn from(e: Entry) -> Self {
        Row {
            seq: e.seq,
            at: crate::store::fmt_time(e.at),
            actor: e.actor,
            ip: e.source_ip,
            action: e.action,
            target: format!("{} {}", e.target_type, e.target_id),
            client_id: e.client_id.map(|c| c.to_string()).unwrap_or_default(),
            details: e.details,
        }
    }
}

#[derive(Deserialize)]
pub struct AuditPageQuery {
    #[serde(default)]
    action: String,
    offset: Option<u64>,
    verify: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    action: String,
    rows: Vec<Row>,
    total: i64,
    prev: Option<u64>,
    next: Option<u64>,
    verify: Option<(bool, String)>,
}

pub async fn list(State(app): State<App>, p: Principal, Query(q): Query<AuditPageQuery>) -> PageResult {
    p.require(Permission::AuditRead)?;
    let f = super::api::filter_for(&p, Some(q.action.trim().to_string()), None, None);
    let limit = 100;
    let offset = q.offset.unwrap_or(0);
    let (rows, total) = super::list(&mut app.store.snapshot().await?, &f, limit, offset).await?;
    let verify = if q.verify.is_some() {
        Some(match super::verify(&app.store).await? {
            Ok(n) => (true, format!("The chain verifies: {n} entries, none changed, removed or reordered.")),
            Err(e) => (false, format!("The chain is broken: {e}")),
        })
    } else {
        None
    };
    Ok(html(&AuditPage {
        l: Layout::new(&p, "Audit log", "audit"),
        action: q.action,
        rows: rows.into_iter().map(Row::from).collect(),
        total,
        prev: (offset > 0).then(|| offset.saturating_sub(limit)),
        next: ((offset + limit) < total as u64).then_some(offset + limit),
        verify,
    }))
}
