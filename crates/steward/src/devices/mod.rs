//! Devices and the agents on them (the RMM half): enrollment tokens a
//! site's technician creates for `steward-agent install`, the enrolled
//! devices, the gateway agents hold a WebSocket to, their inventory with its
//! history of changes, the settings each agent runs with, and signed
//! commands. Metrics live in `monitoring`, scripts in `scripts`.
//!
//! `gateway` (the agents' WebSocket), `commands` (sign, audit, send,
//! await), `enrollment/` (tokens, install commands, the agent binaries
//! handed out: `enrollment::runtime`), `agent_settings/` (inheritance
//! server → client → site → device, pushed to connected agents),
//! `inventory/` (clean and diff, store, batched writer), `presence/`
//! (settle a batch of connects and disconnects, store, batched writer),
//! `runtime/` (the registry of connections, the last-seen writer), `store/`
//! (device rows and the list query), `live` (SSE), `api`, `pages`,
//! `panels`.

pub mod agent_settings;
pub mod api;
pub mod bulk;
pub mod commands;
pub mod enrollment;
pub mod gateway;
pub mod inventory;
pub mod live;
pub mod ops;
pub mod pages;
pub mod panels;
pub mod presence;
pub mod rate;
pub mod reboot;
pub mod runtime;
pub mod store;
pub mod views;

use crate::app::domain::{get, post, BoxFut, Domain, Job, NavGroup, NavItem, Need};
use crate::app::App;
use crate::auth::roles::Permission::{ClientsRead as Read, ClientsWrite as Write};
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write) = (Need::Perm(Read), Need::Perm(Write));
    Domain::new("devices")
        .api(read, routes!(enrollment::api::list))
        .api(write, routes!(enrollment::api::create))
        .api(write, routes!(enrollment::api::revoke))
        .api(read, routes!(api::list_all))
        .api(read, routes!(api::list_for_client))
        .api(read, routes!(api::get_device))
        .api(write, routes!(api::revoke_device))
        .api(write, routes!(agent_settings::device::update_device))
        .api(write, routes!(api::ping))
        .api(write, routes!(reboot::reboot))
        .api(read, routes!(api::presence))
        .api(read, routes!(inventory::api::inventory))
        .api(read, routes!(inventory::api::changes))
        .api(read, routes!(views::api::get))
        .api(read, routes!(views::api::set_columns))
        .api(read, routes!(views::api::save_view))
        .api(read, routes!(views::api::delete_view))
        .pages([
            get("/devices", read, pages::list),
            get("/devices/events", read, live::events),
            post("/devices/bulk", read, bulk::bulk),
            post("/devices/columns", read, pages::set_columns),
            post("/devices/views", read, pages::save_view),
            post("/devices/views/delete", read, pages::delete_view),
            get("/clients/{id}/devices/{device_id}", read, pages::show),
            post("/clients/{id}/devices/{device_id}/revoke", write, pages::revoke),
            post("/clients/{id}/devices/{device_id}/ping", write, pages::ping),
            post("/clients/{id}/devices/{device_id}/reboot", write, reboot::reboot_page),
            post("/clients/{id}/devices/{device_id}/agent-settings", write, pages::update_agent_settings),
            post("/clients/{id}/sites/{site_id}/enrollment-tokens", write, enrollment::pages::create),
            post("/clients/{id}/sites/{site_id}/enrollment-tokens/{token_id}/revoke", write, enrollment::pages::revoke),
            // Agents prove who they are inside the protocol (`gateway`).
            get("/agent/v1/connect", Need::Anyone, gateway::connect),
            get("/agent/download/{platform}", Need::Anyone, enrollment::pages::download),
        ])
        .nav(NavItem { group: NavGroup::Rmm, order: 10, id: "devices", label: "Devices", href: "/devices", key: 'd', need: read })
        .panel(panels::CLIENT_PANEL)
        .panel(panels::DEVICE_COUNT)
        .panel(enrollment::pages::SITE_PANEL)
        .search(panels::SEARCH)
        .listener(agent_settings::push::LISTENER)
        // With the server-side checks' rhythm: inventories stored before
        // their facts existed get them (a few hundred a round).
        .job(Job { name: "inventory.facts", every: |c| Some(Duration::from_secs(c.monitoring_check_secs)), run: backfill_facts })
}

fn backfill_facts(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let n = inventory::store::backfill_facts(&app.store, 500).await?;
        if n > 0 {
            tracing::info!(inventories = n, "inventory facts filled in");
        }
        Ok(())
    })
}
