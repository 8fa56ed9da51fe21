//! Devices and the agents on them (the RMM half). So far: enrollment
//! tokens, which a site's technician creates and an installer hands to
//! `steward-agent install`. The agent gateway, inventory and metrics come
//! with the rest of the agent issue.

pub mod api;
pub mod enrollment;
