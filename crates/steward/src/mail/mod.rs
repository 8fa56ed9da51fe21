//! Email in and out of the service desk. Today: mailboxes read over IMAP
//! (`imap`), each new message handled once, in one transaction with the
//! mailbox's reading position (`poll`, `ingest`), threaded to its ticket
//! by Message-ID or `[#N]`, routed to the sender's contact or the
//! mailbox's client for unknown senders, its HTML sanitized and machines'
//! mail marked never to be answered (`model`). Out: a public reply is
//! queued in its own transaction (`outbox`) and sent over SMTP by a leased
//! job with retries (`send`, `smtp`; settings and test in `smtp_api`).

pub mod account;
pub mod clients;
pub mod idle;
pub mod imap;
pub mod ingest;
pub mod mailboxes;
pub mod model;
pub mod outbox;
pub mod pages;
pub mod poll;
pub mod route;
pub mod send;
pub mod settings_page;
pub mod smtp;
pub mod smtp_api;
pub mod staff;
pub mod store;
pub mod templates;
pub mod view;

use crate::app::domain::{get, post, BoxFut, Domain, Job, Need};
use crate::app::App;
use crate::auth::roles::Permission;
use std::time::Duration;
use utoipa_axum::routes;

/// The job that reads the mailboxes.
pub const POLL_JOB: &str = "mail.poll";
/// The job that sends the outbox.
pub const SEND_JOB: &str = "mail.send";

pub fn domain() -> Domain {
    let admin = Need::Perm(Permission::SettingsWrite);
    Domain::new("mail")
        .api(admin, routes!(mailboxes::list))
        .api(admin, routes!(mailboxes::create))
        .api(admin, routes!(mailboxes::show, mailboxes::update, mailboxes::delete))
        .api(admin, routes!(mailboxes::test))
        .api(admin, routes!(mailboxes::poll_now))
        .api(admin, routes!(smtp_api::show))
        .api(admin, routes!(smtp_api::update))
        .api(admin, routes!(smtp_api::test))
        .api(Need::Perm(Permission::TicketsRead), routes!(smtp_api::of_ticket))
        .api(admin, routes!(templates::list))
        .api(admin, routes!(templates::update, templates::reset))
        .api(admin, routes!(templates::preview))
        .api(Need::Perm(Permission::ClientsRead), routes!(clients::show, clients::update))
        .api(Need::SignedIn, routes!(staff::show, staff::update))
        .pages([
            get(
                "/clients/{id}/tickets/{ticket_id}/entries/{entry_id}/mail.html",
                Need::Perm(Permission::TicketsRead),
                pages::with_remote_images,
            ),
            post(
                "/clients/{id}/tickets/{ticket_id}/entries/{entry_id}/adopt-contact",
                Need::Perm(Permission::ClientsWrite),
                pages::adopt_contact,
            ),
            get("/settings/mail", admin, settings_page::show),
            post("/settings/mail/mailboxes", admin, settings_page::create),
            post("/settings/mail/mailboxes/{id}", admin, settings_page::act),
            post("/settings/mail/smtp", admin, settings_page::save_smtp),
            post("/settings/mail/smtp/test", admin, settings_page::test_smtp),
            post("/settings/mail/templates/{kind}", admin, settings_page::save_template),
            post("/settings/mail/templates/{kind}/preview", admin, settings_page::preview),
        ])
        .listener(idle::LISTENER)
        .job(Job { name: POLL_JOB, every: |_| Some(Duration::from_secs(2)), run: poll })
        .job(Job { name: SEND_JOB, every: |_| Some(Duration::from_secs(2)), run: send })
}

fn send(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move { send::run(&app).await })
}

fn poll(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move { poll::run(&app).await })
}
