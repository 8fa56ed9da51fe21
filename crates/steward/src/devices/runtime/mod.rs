//! The devices domain's running services, held by the application state:
//! who is connected (`registry`) and the batched last-seen writer
//! (`heartbeats`).

pub mod heartbeats;
pub mod registry;
