//! Contracts: what a client has agreed to pay for, line by line.

pub mod api;
pub mod model;
pub mod ops;
pub mod store;
