//! What an agent reports about its machine: cleaning and diffing reports
//! (`model`, pure), the latest inventory and its history (`store`), the
//! batched writer (`runtime`) and the API (`api`).

pub mod api;
pub mod model;
pub mod runtime;
pub mod store;
