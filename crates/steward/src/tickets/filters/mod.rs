//! Saved filters: each user's named views of the ticket queue (the
//! queue's own query string, checked and normalized), shown as tabs on
//! the queue page. `store` the table, `ops` the checks and audited
//! changes, `api` the user's own list.

pub mod api;
pub mod ops;
pub mod store;
