//! Reports: what the service desk delivered, for the dispatcher, the owner
//! and the client review. Each report is a folder (`sla/`: attainment per
//! client, technician, priority or month) with its pure figures, its
//! queries, the JSON API, the page and a CSV download (`csv`, safe to open
//! in a spreadsheet). Reports only read; they are scoped like every list.

pub mod csv;
pub mod sla;

use crate::app::domain::{get, Domain, NavGroup, NavItem, Need};
use crate::auth::roles::Permission::TicketsRead as Read;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let read = Need::Perm(Read);
    Domain::new("reports")
        .api(read, routes!(sla::api::sla))
        .api(read, routes!(sla::api::sla_csv))
        .pages([get("/reports/sla", read, sla::pages::sla)])
        .nav(NavItem { group: NavGroup::Psa, order: 8, id: "reports", label: "SLA report", href: "/reports/sla", key: 'l', need: read })
}
