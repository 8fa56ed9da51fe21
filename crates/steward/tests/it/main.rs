//! The server's integration tests, as one test binary (one link of the
//! whole server instead of one per file): each module starts the real
//! `steward` binary on port 0 with a fresh database (SQLite, or PostgreSQL
//! with `STEWARD_TEST_DATABASE_URL`) and talks to it like a client; agent
//! tests run the real `steward-agent`.

mod agent;
mod agent_settings;
mod alerts;
mod api_errors;
mod assets;
mod attachments;
mod audit;
mod auth;
mod billing;
mod browser;
mod canned;
mod checks;
mod common;
mod demo;
mod device_list;
mod device_overview;
mod docs;
mod enrollment;
mod hardening;
mod imports;
mod jobs;
mod layering;
mod live;
mod mail;
mod mail_desk;
mod ops;
mod recurring;
mod reports;
mod saved_filters;
mod scoping;
mod scripts;
mod search;
mod sla;
mod sla_report;
mod storage;
mod tenancy;
mod tickets;
mod time;
mod vault;
mod webhooks;
mod windows_agent;
