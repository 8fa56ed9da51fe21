//! Canned responses: text a technician starts a reply from, shared (kept
//! by service-desk administrators) or personal, for every client or one,
//! with placeholders filled in for a ticket (`model`, pure). `store`,
//! `ops`, a thin `api`, and the picker on the ticket page (`pages`).

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

use crate::app::domain::{Domain, Need};
use crate::auth::roles::Permission::{TicketsRead as Read, TicketsWrite as Write};
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write) = (Need::Perm(Read), Need::Perm(Write));
    Domain::new("canned")
        .api(read, routes!(api::list))
        .api(write, routes!(api::create))
        .api(read, routes!(api::get))
        .api(write, routes!(api::update))
        .api(write, routes!(api::delete))
        .api(read, routes!(api::render))
        .panel(pages::TICKET_PANEL)
}
