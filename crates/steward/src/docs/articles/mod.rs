//! Knowledge-base articles: storage (`store`), the rules (`ops`), the API,
//! the pages, and their place in the global search (`search`).

pub mod api;
pub mod ops;
pub mod pages;
pub mod search;
pub mod store;
