//! Time: work types, time entries on tickets (by hand or by a timer, one
//! running per user), a technician's week as a timesheet, and approval,
//! which locks a week's entries. Money comes with billing, which reads the
//! approved, billable entries.

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

use crate::app::domain::{get, post, Domain, NavGroup, NavItem, Need};
use crate::auth::roles::Permission::{ServiceDeskAdmin as Admin, TicketsRead as Read, TicketsWrite as Write};
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write, admin) = (Need::Perm(Read), Need::Perm(Write), Need::Perm(Admin));
    Domain::new("timesheets")
        .api(read, routes!(api::of_ticket))
        .api(write, routes!(api::add))
        .api(write, routes!(api::change))
        .api(write, routes!(api::remove))
        .api(write, routes!(api::start))
        .api(write, routes!(api::stop))
        .api(read, routes!(api::list))
        .api(admin, routes!(api::approve))
        .api(read, routes!(api::work_types))
        .api(admin, routes!(api::create_work_type))
        .api(admin, routes!(api::update_work_type))
        .pages([
            get("/timesheet", read, pages::timesheet),
            post("/timesheet/approve", admin, pages::approve),
            post("/clients/{id}/tickets/{ticket_id}/time", write, pages::log_time),
            post("/clients/{id}/tickets/{ticket_id}/timer", write, pages::start),
            post("/clients/{id}/tickets/{ticket_id}/timer/stop", write, pages::stop),
            post("/clients/{id}/tickets/{ticket_id}/time/{entry_id}/delete", write, pages::delete),
        ])
        .nav(NavItem { group: NavGroup::Psa, order: 6, id: "timesheet", label: "Timesheet", href: "/timesheet", key: 'w', need: read })
        .panel(pages::TICKET_PANEL)
}
