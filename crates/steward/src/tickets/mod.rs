//! The service desk: tickets of a client (numbered without gaps across the
//! installation), their threads (requests, public replies, internal notes,
//! system events) and attachments (`attachments`; the bytes in `files`),
//! configurable statuses over fixed kinds, priorities and boards, SLA clocks measured in business time (`clocks`, with the math
//! in `sla::model`), merges, links, bulk actions, and the cross-client
//! queue. Shaped like `tenancy/`: `store` (tables, the queue query),
//! `model` (pure rules), `ops` (validate, check, change and audit in one
//! transaction), thin `api` and `pages`, and `jobs` (SLA announcements,
//! auto-close). Each user's saved queue filters are in `filters`.

pub mod api;
pub mod attachments;
pub mod clocks;
pub mod filters;
pub mod jobs;
pub mod model;
pub mod ops;
pub mod pages;
pub mod queue;
pub mod search;
pub mod store;
pub mod view;

use crate::app::domain::{get, post, BoxFut, Domain, Job, NavGroup, NavItem, Need};
use crate::app::App;
use crate::auth::roles::Permission::{ServiceDeskAdmin as Admin, TicketsRead as Read, TicketsWrite as Write};
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write, admin) = (Need::Perm(Read), Need::Perm(Write), Need::Perm(Admin));
    Domain::new("tickets")
        .api(read, routes!(api::queue))
        .api(write, routes!(api::bulk))
        .api(read, routes!(api::by_number))
        .api(read, routes!(api::list))
        .api(write, routes!(api::create))
        .api(read, routes!(api::get))
        .api(write, routes!(api::update))
        .api(read, routes!(api::entries))
        .api(write, routes!(api::add_entry))
        .api(write, routes!(attachments::upload))
        .api(read, routes!(attachments::list))
        .api(read, routes!(attachments::download))
        .api(write, routes!(api::merge))
        .api(write, routes!(api::link))
        .api(write, routes!(api::unlink))
        .api(read, routes!(api::statuses))
        .api(admin, routes!(api::create_status))
        .api(admin, routes!(api::update_status))
        .api(read, routes!(api::priorities))
        .api(admin, routes!(api::create_priority))
        .api(admin, routes!(api::update_priority))
        .api(read, routes!(filters::api::list))
        .api(read, routes!(filters::api::create))
        .api(read, routes!(filters::api::update))
        .api(read, routes!(filters::api::remove))
        .api(read, routes!(api::boards))
        .api(admin, routes!(api::create_board))
        .api(admin, routes!(api::update_board))
        .pages([
            get("/tickets", read, pages::queue::show),
            post("/tickets/new", write, pages::queue::create),
            post("/tickets/bulk", write, pages::queue::bulk),
            post("/tickets/filters", read, pages::queue::save_filter),
            post("/tickets/filters/{filter_id}/delete", read, pages::queue::delete_filter),
            get("/tickets/events", read, pages::live::events),
            get("/t/{number}", read, pages::queue::by_number),
            get("/clients/{id}/tickets/{ticket_id}", read, pages::ticket::show),
            post("/clients/{id}/tickets/{ticket_id}/entries", write, pages::ticket::add_entry),
            get("/clients/{id}/tickets/{ticket_id}/attachments/{attachment_id}", read, attachments::page_download),
            post("/clients/{id}/tickets/{ticket_id}/edit", write, pages::ticket::edit),
            post("/clients/{id}/tickets/{ticket_id}/relate", write, pages::ticket::relate),
        ])
        .nav(NavItem { group: NavGroup::Psa, order: 5, id: "tickets", label: "Tickets", href: "/tickets", key: 't', need: read })
        .panel(pages::panels::OPEN_COUNT)
        .panel(pages::panels::BREACHED_COUNT)
        .panel(pages::panels::CLIENT_PANEL)
        .panel(pages::panels::DEVICE_PANEL)
        .search(search::SOURCE)
        .indexer(search::INDEXER)
        .job(Job { name: "tickets.clocks", every: |c| Some(Duration::from_secs(c.sla_check_secs.max(1))), run: clocks_job })
}

/// SLA announcements, then auto-close: both look only at what is due.
fn clocks_job(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        jobs::sla_check(&app).await?;
        jobs::autoclose(&app).await?;
        Ok(())
    })
}
