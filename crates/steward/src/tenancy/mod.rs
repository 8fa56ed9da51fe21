//! Tenancy: the MSP's clients, their sites (each with an IANA time zone) and
//! contacts. The folder every domain copies: `store` (tables and queries),
//! `ops` (validate, check a permission, change and audit in one
//! transaction), thin `api` and `pages` over `ops`, and [`domain`] (what it
//! registers).

pub mod api;
pub mod ops;
pub mod pages;
pub mod panels;
pub mod store;

use crate::app::domain::{get, post, Domain, NavGroup, NavItem, Need};
use crate::auth::roles::Permission::{ClientsRead as Read, ClientsWrite as Write};
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write) = (Need::Perm(Read), Need::Perm(Write));
    Domain::new("tenancy")
        .api(read, routes!(api::list_clients))
        .api(write, routes!(api::create_client))
        .api(read, routes!(api::get_client))
        .api(write, routes!(api::update_client))
        .api(write, routes!(api::archive_client))
        .api(read, routes!(api::list_sites))
        .api(write, routes!(api::create_site))
        .api(read, routes!(api::get_site))
        .api(write, routes!(api::update_site))
        .api(read, routes!(api::list_contacts))
        .api(write, routes!(api::create_contact))
        .api(read, routes!(api::get_contact))
        .api(write, routes!(api::update_contact))
        .pages([
            get("/clients", read, pages::list),
            post("/clients", write, pages::create),
            get("/clients/{id}", read, pages::show),
            post("/clients/{id}", write, pages::update),
            post("/clients/{id}/archive", write, pages::archive),
            post("/clients/{id}/agent-settings", write, pages::update_agent_settings),
            post("/clients/{id}/sites", write, pages::create_site),
            get("/clients/{id}/sites/{site_id}", write, pages::site_form),
            post("/clients/{id}/sites/{site_id}", write, pages::update_site),
            post("/clients/{id}/contacts", write, pages::create_contact),
            get("/clients/{id}/contacts/{contact_id}", write, pages::contact_form),
            post("/clients/{id}/contacts/{contact_id}", write, pages::update_contact),
        ])
        .nav(NavItem { group: NavGroup::Psa, order: 10, id: "clients", label: "Clients", href: "/clients", key: 'c', need: read })
        .search(panels::SEARCH)
        .panel(panels::CLIENT_COUNT)
}
