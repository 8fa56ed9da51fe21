//! The device list as each user sets it up: the columns they chose and
//! their saved views (`model` pure rules, `ops` kept in the user's
//! preferences, `api`).

pub mod api;
pub mod model;
pub mod ops;
