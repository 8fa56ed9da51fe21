//! The audit log page, with filters and an on-demand chain verification.

use super::chain::Entry;
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, PanelCtx};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::page::html;
use crate::web::{error::PageResult, layout::Layout};
use askama::Template;
use axum::extract::State;
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
            at: crate::time::fmt_time(e.at),
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

pub async fn list(State(app): State<App>, p: Principal, ApiQuery(q): ApiQuery<AuditPageQuery>) -> PageResult {
    p.require(Permission::AuditRead)?;
    let f = super::api::filter_for(&p, Some(q.action.trim().to_string()), None, None);
    let limit = 100;
    let offset = q.offset.unwrap_or(0);
    let (rows, total) = super::store::list(&mut app.store.snapshot().await?, &f, limit, offset).await?;
    let verify = if q.verify.is_some() {
        Some(match super::store::verify(&app.store).await? {
            Ok(n) => (true, format!("The chain verifies: {n} entries, none changed, removed or reordered.")),
            Err(e) => (false, format!("The chain is broken: {e}")),
        })
    } else {
        None
    };
    Ok(html(&AuditPage {
        l: Layout::new(&app, &p, "Audit log", "audit"),
        action: q.action,
        rows: rows.into_iter().map(Row::from).collect(),
        total,
        prev: (offset > 0).then(|| offset.saturating_sub(limit)),
        next: ((offset + limit) < total as u64).then_some(offset + limit),
        verify,
    }))
}

#[derive(Template)]
#[template(path = "audit_recent.html")]
struct Recent {
    rows: Vec<Row>,
}

/// The home page's "recent activity": the newest entries the caller may see.
pub fn recent<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::AuditRead) {
            return Ok(None);
        }
        let f = super::api::filter_for(p, None, None, None);
        let (entries, _) = super::store::list(&mut app.store.clone(), &f, 10, 0).await?;
        if entries.is_empty() {
            return Ok(None);
        }
        Fragment::render(&Recent { rows: entries.into_iter().map(Row::from).collect() }).map(Some)
    })
}
