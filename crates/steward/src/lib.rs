//! The Steward server: one process that is the MSP's RMM, PSA and
//! documentation system on one database.
//!
//! Start reading at [`http::router`] (every route), [`auth::guard`] (access
//! control for every request) and [`store`] (the only door to the database).
//! Each domain folder (`tenancy`, `users`, `auth`, `audit`, `settings`) holds
//! its storage queries, API handlers, web pages and pure logic together.
//! `ARCHITECTURE.md` at the repository root is the map.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod devices;
pub mod http;
pub mod jobs;
pub mod monitoring;
pub mod scripts;
pub mod settings;
pub mod store;
pub mod tenancy;
pub mod users;
pub mod web;
