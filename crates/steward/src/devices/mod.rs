//! Devices and the agents on them (the RMM half): enrollment tokens a
//! site's technician creates for `steward-agent install`, the enrolled
//! devices, the gateway agents hold a WebSocket to, and each device's
//! inventory with its history of changes. Metrics live in `monitoring`;
//! scripts come with the rest of the agent issue.

pub mod agent_settings;
pub mod api;
pub mod commands;
pub mod enrollment;
pub mod gateway;
pub mod heartbeats;
pub mod inventory;
pub mod inventory_api;
pub mod inventory_ingest;
pub mod inventory_store;
pub mod live;
pub mod own_settings;
pub mod pages;
pub mod presence;
pub mod query;
pub mod registry;
pub mod settings_push;
pub mod store;
