//! Documented assets: types an admin defines (flexible fields, `model`),
//! each client's assets of those types, configurations matched to managed
//! devices, relationships between any two documented things, and the
//! expiry list with its warnings. Storage in `store`, rules in `types`,
//! `ops`, `relations` and `expiry`, the search in `search`.

pub mod api;
pub mod expiry;
pub mod model;
pub mod ops;
pub mod pages;
pub mod panels;
pub mod relations;
pub mod search;
pub mod store;
pub mod types;
