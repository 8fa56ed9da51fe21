//! Monitoring policies: sets of checks (`model`: what a check may say, and
//! how the policies assigned at the installation, a client, a site and a
//! device resolve into the checks it runs), their tables (`store`), the
//! audited steps and assignment (`ops`), the API (`api`) and the page
//! (`pages`).

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;
