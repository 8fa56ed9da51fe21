//! Who is asking, and may they: sign-in, sessions, MFA, API tokens, roles,
//! throttling, and the one middleware every request passes through.
//!
//! [`guard::guard`] is where access control starts, so that no route can
//! forget it: it refuses everything before the first administrator exists,
//! checks the `Origin` of state-changing requests, resolves the caller
//! (bearer token or session cookie) into a [`principal::Principal`],
//! enforces the CSRF token for cookie-authenticated writes, hides every
//! `/clients/{id}/…` route of a client outside a limited technician's set
//! (404), and holds users who must enrol MFA to the profile page. Each route
//! then enforces its own declared need (`app::domain::Need`), and handlers
//! check a [`roles::Permission`] again where they act.

pub mod api;
pub mod guard;
pub mod login;
pub mod mfa;
pub mod pages;
pub mod password;
pub mod principal;
pub mod roles;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod totp;

use crate::app::domain::{get, post, BoxFut, Domain, Job, NavGroup, NavItem, Need};
use crate::app::App;
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    Domain::new("auth")
        .api(Need::Anyone, routes!(api::login))
        .api(Need::SignedIn, routes!(api::logout))
        .api(Need::SignedIn, routes!(api::me))
        .api(Need::Session, routes!(api::password))
        .api(Need::Session, routes!(api::mfa_start))
        .api(Need::Session, routes!(api::mfa_confirm))
        .api(Need::Session, routes!(api::mfa_verify))
        .api(Need::Session, routes!(api::list_sessions))
        .api(Need::Session, routes!(api::revoke_session))
        .api(Need::Session, routes!(api::list_tokens))
        .api(Need::Session, routes!(api::create_token))
        .api(Need::Session, routes!(api::revoke_token))
        .pages([
            get("/login", Need::Anyone, pages::login_form),
            post("/login", Need::Anyone, pages::login_submit),
            get("/login/mfa", Need::Anyone, pages::mfa_form),
            post("/login/mfa", Need::Anyone, pages::mfa_submit),
            post("/logout", Need::SignedIn, pages::logout),
            get("/profile", Need::SignedIn, pages::profile),
            post("/profile/password", Need::Session, pages::password),
            post("/profile/mfa/start", Need::Session, pages::mfa_start),
            post("/profile/mfa/confirm", Need::Session, pages::mfa_confirm),
            post("/profile/sessions/{id}/revoke", Need::Session, pages::revoke_session),
            get("/tokens", Need::Session, pages::tokens),
            post("/tokens", Need::Session, pages::create_token),
            post("/tokens/{id}/revoke", Need::Session, pages::revoke_token),
        ])
        .nav(NavItem {
            group: NavGroup::Admin,
            order: 20,
            id: "tokens",
            label: "API tokens",
            href: "/tokens",
            key: 'o',
            need: Need::Session,
        })
        .nav(NavItem {
            group: NavGroup::Admin,
            order: 50,
            id: "profile",
            label: "Profile",
            href: "/profile",
            key: 'p',
            need: Need::SignedIn,
        })
        .job(Job { name: "auth.prune", every: |_| Some(Duration::from_secs(3600)), run: prune })
}

/// Forgets expired sessions and old sign-in attempts.
fn prune(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let mut db = app.store.clone();
        sessions::prune(&mut db).await?;
        throttle::prune(&mut db).await?;
        Ok(())
    })
}
