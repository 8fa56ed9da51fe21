//! Monitoring policies: sets of checks (`model`: what a check may say, and
//! how the policies assigned at the installation, a client, a site and a
//! device resolve into the checks it runs), their tables (`store`), the
//! audited steps and assignment (`ops`) and the API (`api`).

pub mod api;
pub mod model;
pub mod ops;
pub mod store;
