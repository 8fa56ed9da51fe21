//! Service levels: business calendars (an IANA zone, weekly working spans,
//! holidays, or 24x7), SLA policies (per-priority first-response and
//! resolution targets in business minutes), and the clock math tickets are
//! measured with (`model`, pure and property-tested). Tickets copy the
//! policy they start with; the clocks themselves live on the ticket.

pub mod api;
pub mod model;
pub mod ops;
pub mod store;

use crate::app::domain::{Domain, Need};
use crate::auth::roles::Permission::{ServiceDeskAdmin as Admin, TicketsRead as Read};
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, admin) = (Need::Perm(Read), Need::Perm(Admin));
    Domain::new("sla")
        .api(read, routes!(api::list_calendars))
        .api(admin, routes!(api::create_calendar))
        .api(read, routes!(api::get_calendar))
        .api(admin, routes!(api::update_calendar))
        .api(read, routes!(api::list_policies))
        .api(admin, routes!(api::create_policy))
        .api(read, routes!(api::get_policy))
        .api(admin, routes!(api::update_policy))
}
