//! The credentials vault: each client's passwords, TOTP seeds and secret
//! fields, sealed per entry and version with their own data key under the
//! master key (which is not in the database), bound to the entry, client
//! and version. Lists and entries never carry a secret; revealing one
//! needs a session with a recent second factor, is rate-limited per user
//! and audited with its fields. Every change keeps the previous version.

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

use crate::app::domain::{get, post, Domain, Need};
use crate::auth::roles::Permission::{VaultRead as Read, VaultReveal as Reveal, VaultWrite as Write};
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write, reveal) = (Need::Perm(Read), Need::Perm(Write), Need::Perm(Reveal));
    Domain::new("vault")
        .api(read, routes!(api::list))
        .api(write, routes!(api::create))
        .api(read, routes!(api::get))
        .api(write, routes!(api::update))
        .api(write, routes!(api::archive))
        .api(reveal, routes!(api::reveal))
        .api(read, routes!(api::versions))
        .api(write, routes!(api::restore))
        .api(read, routes!(api::report))
        .api(Need::SignedIn, routes!(api::password))
        .pages([
            get("/clients/{id}/vault", read, pages::list),
            get("/clients/{id}/vault-report", read, pages::report),
            post("/clients/{id}/vault", write, pages::create),
            get("/clients/{id}/vault/{entry_id}", read, pages::show),
            post("/clients/{id}/vault/{entry_id}", write, pages::update),
            post("/clients/{id}/vault/{entry_id}/archive", write, pages::archive),
            post("/clients/{id}/vault/{entry_id}/versions/{version}/restore", write, pages::restore),
        ])
        .panel(pages::CLIENT_PANEL)
}
