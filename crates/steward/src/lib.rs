//! The Steward server: one process that is the MSP's RMM, PSA and
//! documentation system on one database.
//!
//! Dependencies run one way, bottom to top (kept by `tests/it/layering.rs`):
//! the foundation (`store`, `crypto`, `config`, `error`, `validate`, `time`)
//! → each domain's storage and pure logic (`*/store.rs`, `*/model.rs`)
//! → the running services (`http`, `events`, `web::error`, `*/runtime`)
//! → [`app`] (the state every handler is given) → the domains (`audit`,
//! `auth`, `users`, `settings`, `tenancy`, `devices`, `monitoring`,
//! `scripts`, `tickets`, `sla`, `timesheets`, `notifications`, `reports`,
//! `search`, `web`) → the composition root ([`routes`], [`jobs`],
//! [`server`], [`cli`], [`demo`]). A domain never imports `routes` or
//! another domain's pages; domains hear of each other through [`events`].
//!
//! Start reading at [`routes`] (every domain merged), [`auth::guard`]
//! (access control for every request), `tenancy/` (the shape every domain
//! copies) and [`store`] (the only door to the database). `ARCHITECTURE.md`
//! at the repository root is the map.

pub mod app;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod canned;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod devices;
pub mod docs;
pub mod error;
pub mod events;
pub mod files;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod monitoring;
pub mod notifications;
pub mod recurring;
pub mod reports;
pub mod routes;
pub mod scripts;
pub mod search;
pub mod server;
pub mod settings;
pub mod sla;
pub mod store;
pub mod tenancy;
pub mod tickets;
pub mod time;
pub mod timesheets;
pub mod users;
pub mod validate;
pub mod vault;
pub mod web;
pub mod webhooks;
