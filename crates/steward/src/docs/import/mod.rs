//! CSV import of a client's assets and passwords, from the exports MSPs
//! migrate from (ITFlow, IT Glue, Hudu) or any file with a header row:
//! columns mapped by name (`model`, pure), a dry run row by row and an
//! all-or-nothing commit through the assets' and the vault's own
//! operations (`ops`), the API (`api`) and a page (`pages`).

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
