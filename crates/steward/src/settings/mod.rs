//! Installation-wide settings (key/value), their API and page.
//!
//! Today: `require_mfa`, which makes every staff user enrol TOTP before they
//! can do anything else, and `script_approval_threshold`, past which a
//! script run needs a second person's approval. Every change is audited
//! with before and after.

pub mod api;
pub mod pages;
pub mod store;

use crate::app::domain::{get, post, Domain, NavGroup, NavItem, Need};
use crate::auth::roles::Permission::SettingsWrite;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let admin = Need::Perm(SettingsWrite);
    Domain::new("settings")
        .api(admin, routes!(api::get))
        .api(admin, routes!(api::update))
        .pages([get("/settings", admin, pages::show), post("/settings", admin, pages::update)])
        .nav(NavItem { group: NavGroup::Admin, order: 40, id: "settings", label: "Settings", href: "/settings", key: 's', need: admin })
}
