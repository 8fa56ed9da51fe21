//! The append-only, hash-chained audit log: `store` (the audited
//! transaction every change goes through, listing, verification), `chain`
//! (the pure hashing), `anchor` (copies of the head kept outside), and the
//! API and page.

pub mod anchor;
pub mod api;
pub mod chain;
pub mod pages;
pub mod runtime;
pub mod store;

use crate::app::domain::{get, BoxFut, Domain, Job, NavGroup, NavItem, Need};
use crate::app::panels::{Panel, Slot};
use crate::app::App;
use crate::auth::roles::Permission::AuditRead;
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let read = Need::Perm(AuditRead);
    Domain::new("audit")
        .api(read, routes!(api::list))
        .api(read, routes!(api::verify))
        .pages([get("/audit", read, pages::list)])
        .nav(NavItem { group: NavGroup::Admin, order: 30, id: "audit", label: "Audit log", href: "/audit", key: 'a', need: read })
        .panel(Panel { slot: Slot::Home, order: 90, render: pages::recent })
        .job(Job { name: "audit.anchor", every: anchor_every, run: write_anchor })
}

/// Anchors are written only where a file or webhook is configured.
fn anchor_every(cfg: &crate::config::Config) -> Option<Duration> {
    (cfg.audit_anchor_file.is_some() || cfg.audit_anchor_webhook.is_some()).then(|| Duration::from_secs(cfg.audit_anchor_interval_secs))
}

fn write_anchor(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        if let Some(a) =
            anchor::write_if_moved(&app.store, app.cfg.audit_anchor_file.as_deref(), app.cfg.audit_anchor_webhook.as_deref()).await?
        {
            tracing::debug!(seq = a.seq, hash = %a.hash, "audit anchor written");
        }
        Ok(())
    })
}
