//! The service desk's storage: configuration lists ([`config`]), tickets
//! and the queue ([`tickets`]), and each ticket's thread, pauses, tags,
//! devices and links ([`thread`]).

pub mod attachments;
pub mod config;
pub mod search;
pub mod thread;
pub mod tickets;

pub use tickets::*;
