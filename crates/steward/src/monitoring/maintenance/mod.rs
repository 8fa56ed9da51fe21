//! Maintenance windows: when a client's, site's or device's machines are
//! being worked on (`model` the pure occurrence rules, `store`, `ops`,
//! `api`). A reboot during an open window needs `force`; alert
//! suppression joins when alerts arrive (issue 15).

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;
