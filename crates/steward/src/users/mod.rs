//! Staff and portal accounts: storage, the users API and the users pages.
//!
//! A user has one role; a non-admin may be *client-limited*, in which case
//! `user_clients` lists the only clients that exist for them.

pub mod api;
pub mod ops;
pub mod pages;
pub mod prefs;
pub mod store;

use crate::app::domain::{get, post, BoxFut, Domain, NavGroup, NavItem, Need};
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot, Stat};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission::{UsersRead as Read, UsersWrite as Write};
use crate::error::ApiError;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write) = (Need::Perm(Read), Need::Perm(Write));
    Domain::new("users")
        .api(read, routes!(api::list))
        .api(write, routes!(api::create))
        .api(read, routes!(api::get))
        .api(write, routes!(api::update))
        .api(write, routes!(api::reset_mfa))
        .api(write, routes!(api::revoke_tokens))
        .pages([
            get("/users", read, pages::list),
            post("/users", write, pages::create),
            get("/users/{id}", read, pages::show),
            post("/users/{id}", write, pages::update),
            post("/users/{id}/reset-mfa", write, pages::reset_mfa),
            post("/users/{id}/revoke-tokens", write, pages::revoke_tokens),
        ])
        .nav(NavItem { group: NavGroup::Admin, order: 10, id: "users", label: "Users", href: "/users", key: 'u', need: read })
        .panel(Panel { slot: Slot::HomeStat, order: 90, render: user_count })
}

fn user_count<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Read) {
            return Ok(None);
        }
        let n = store::count(&mut app.store.clone()).await?;
        Fragment::render(&Stat { label: "Users", value: n.to_string(), href: "/users" }).map(Some)
    })
}
