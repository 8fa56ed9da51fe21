//! The search index as a running service: opened at start, shared by the
//! indexer that feeds it and the searches that read it.

pub mod index;

pub use index::{Found, Index, Request};
