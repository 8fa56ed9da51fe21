//! Devices and the agents on them (the RMM half): enrollment tokens a
//! site's technician creates for `steward-agent install`, the enrolled
//! devices, and the gateway agents hold a WebSocket to. Inventory, metrics
//! and scripts come with the rest of the agent issue.

pub mod api;
pub mod commands;
pub mod enrollment;
pub mod gateway;
pub mod ingest;
pub mod pages;
pub mod store;
