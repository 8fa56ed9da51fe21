//! Per-site enrollment tokens: the usability rule and install commands
//! (`model`), their storage (`store`), the API (`api`), the pages, and the
//! agent binaries handed out to install commands (`runtime`).

pub mod api;
pub mod pages;
pub mod runtime;
pub mod store;
