//! Alerts: what a failing check opens, technicians acknowledge, snooze or
//! resolve, and a recovered check resolves. `transition` is what a check's
//! new state does to its alert (shared by every check, whoever runs it),
//! `evaluate` runs the server-side checks of the policies, `tickets` opens
//! and writes on an alert's ticket, `store` the tables, `ops` the steps,
//! `api` and `pages` the edges.

pub mod api;
pub mod evaluate;
pub mod ops;
pub mod pages;
pub mod store;
pub mod tickets;
pub mod transition;
