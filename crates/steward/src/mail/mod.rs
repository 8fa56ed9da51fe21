//! Email in and out of the service desk. Today: mailboxes read over IMAP
//! (`imap`), each new message handled once, in one transaction with the
//! mailbox's reading position (`poll`, `ingest`), threaded to its ticket
//! by Message-ID or `[#N]`, routed to the sender's contact or the
//! mailbox's client for unknown senders, its HTML sanitized and machines'
//! mail marked never to be answered (`model`). Sending (SMTP, an outbox)
//! comes next.

pub mod account;
pub mod imap;
pub mod ingest;
pub mod mailboxes;
pub mod model;
pub mod poll;
pub mod store;

use crate::app::domain::{BoxFut, Domain, Job, Need};
use crate::app::App;
use crate::auth::roles::Permission;
use std::time::Duration;
use utoipa_axum::routes;

/// The job that reads the mailboxes.
pub const POLL_JOB: &str = "mail.poll";

pub fn domain() -> Domain {
    let admin = Need::Perm(Permission::SettingsWrite);
    Domain::new("mail")
        .api(admin, routes!(mailboxes::list))
        .api(admin, routes!(mailboxes::create))
        .api(admin, routes!(mailboxes::show))
        .api(admin, routes!(mailboxes::delete))
        .api(admin, routes!(mailboxes::test))
        .api(admin, routes!(mailboxes::poll_now))
        .job(Job { name: POLL_JOB, every: |_| Some(Duration::from_secs(2)), run: poll })
}

fn poll(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move { poll::run(&app).await })
}
