//! Alerts: what a failing check opens, technicians acknowledge, snooze or
//! resolve, and a recovered check resolves. `evaluate` runs the server-side
//! checks (offline so far), `store` the tables, `ops` the steps, `api` and
//! `pages` the edges. Agent-reported checks, policies, notifications and
//! alert-to-ticket join here (issue 15).

pub mod api;
pub mod evaluate;
pub mod ops;
pub mod pages;
pub mod store;
pub mod tickets;
