//! Per-site enrollment tokens: the usability rule and install commands
//! (`model`), their storage (`store`), and the API (`api`).

pub mod api;
pub mod pages;
pub mod store;
