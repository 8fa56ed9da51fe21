//! Invoices: drafts made by invoice runs from the contracts, edited with
//! reasons, finalized with gapless numbers, credited by credit notes.

pub mod api;
pub mod build;
pub mod export;
pub mod ops;
pub mod pdf;
pub mod run;
pub mod store;
