//! What can be done to devices, shared by the API and the pages: list
//! them (scoped, filtered, with what each does now), remove one (its
//! connection closed at once), ping one through the signed command
//! channel. Each checks the permission and the caller's clients.

use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::list::{PageParams, Paged};
use crate::time::rfc3339;
use serde::Serialize;
use serde_json::json;

/// A device as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceInfo {
    pub id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub hostname: String,
    pub os: String,
    pub agent_version: String,
    #[schema(format = DateTime)]
    pub enrolled_at: String,
    #[schema(format = DateTime)]
    pub last_seen_at: Option<String>,
    /// Connected to this server right now.
    pub online: bool,
    pub revoked: bool,
}

impl DeviceInfo {
    pub fn of(d: super::store::Device, app: &App) -> Self {
        DeviceInfo {
            online: d.revoked_at.is_none() && app.agents.is_online(d.id),
            revoked: d.revoked_at.is_some(),
            id: d.id,
            client_id: d.client_id,
            site_id: d.site_id,
            hostname: d.hostname,
            os: d.os,
            agent_version: d.agent_version,
            enrolled_at: rfc3339(d.enrolled_at),
            last_seen_at: d.last_seen_at.map(rfc3339),
        }
    }
}

/// A device with its client's and site's names, as lists show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceListItem {
    #[serde(flatten)]
    pub device: DeviceInfo,
    pub client_name: String,
    pub site_name: String,
    pub now: DeviceNow,
}

/// What a device is doing now: its newest metrics sample and what its
/// latest inventory says (empty or null until its agent reported).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DeviceNow {
    /// Percent, from the newest sample.
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    /// The fullest disk's use, percent, and its mount point.
    pub disk_percent: Option<f64>,
    pub disk_mount: Option<String>,
    #[schema(format = DateTime)]
    pub metrics_at: Option<String>,
    /// IPv4 first; loopback and link-local left out.
    pub ip_addresses: Vec<String>,
    /// Users signed in when the inventory was read.
    pub users: Vec<String>,
    pub serial: String,
    #[schema(format = DateTime)]
    pub booted_at: Option<String>,
    /// Seconds since `booted_at`.
    pub uptime_secs: Option<i64>,
}

impl DeviceNow {
    pub fn of(r: super::store::query::NowRow) -> Self {
        let boot = r.boot_time.filter(|b| *b > 0);
        let now_s = crate::time::now_us() / 1_000_000;
        DeviceNow {
            cpu_percent: r.cpu,
            memory_percent: r.mem,
            disk_percent: r.disk,
            disk_mount: r.disk_mount.filter(|m| !m.is_empty()),
            metrics_at: r.metrics_at.map(rfc3339),
            ip_addresses: r.addresses.unwrap_or_default().split_whitespace().map(str::to_string).collect(),
            users: r.users.unwrap_or_default().split(", ").filter(|u| !u.is_empty()).map(str::to_string).collect(),
            serial: r.serial.unwrap_or_default(),
            booted_at: boot.map(|b| rfc3339(b * 1_000_000)),
            uptime_secs: boot.map(|b| (now_s - b).max(0)),
        }
    }
}

/// One page of devices (shared by the API and the pages).
pub async fn search_for(
    app: &App,
    p: &Principal,
    filter: &super::store::query::DeviceFilter,
    page: &PageParams,
) -> Result<Paged<DeviceListItem>, ApiError> {
    p.require(Permission::ClientsRead)?;
    filter.validate().map_err(|(field, m)| ApiError::invalid(field, m))?;
    if let Some(c) = filter.client_id {
        p.client(c)?;
    }
    let (rows, total) =
        super::store::query::search(&mut app.store.snapshot().await?, p.clients.as_deref(), filter, page.limit(), page.offset()).await?;
    let items = rows
        .into_iter()
        .map(|r| DeviceListItem {
            device: DeviceInfo::of(r.device, app),
            client_name: r.client_name,
            site_name: r.site_name,
            now: DeviceNow::of(r.now),
        })
        .collect();
    Ok(Paged::new(items, total, page))
}

/// Revokes a device and closes its connection (shared with the pages).
pub async fn revoke_device_for(app: &App, p: &Principal, id: i64, device_id: i64) -> Result<(), ApiError> {
    p.require(Permission::ClientsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let d = super::store::by_id(tx.tx(), device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    super::store::revoke(tx.tx(), device_id).await?;
    tx.commit(&p.actor(), Event::new("device.revoke", "device", device_id).client(id).details(json!({"hostname": d.hostname}))).await?;
    app.agents.revoke(device_id);
    app.bus
        .publish(crate::events::Event::DevicePresence { device: device_id, client: id, state: super::presence::model::Presence::Removed })
        .await;
    Ok(())
}

/// The result of a ping.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PingResult {
    pub ok: bool,
    pub output: String,
    /// Server → agent → server, including signature checks on the agent.
    pub round_trip_ms: f64,
}

/// Pings a device through the signed command channel (shared with the pages).
pub async fn ping_for(app: &App, p: &Principal, id: i64, device_id: i64) -> Result<PingResult, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let d = super::store::by_id(&mut app.store.clone(), device_id)
        .await?
        .filter(|d| d.client_id == id && d.revoked_at.is_none())
        .ok_or(ApiError::NotFound)?;
    let (ok, output, rtt) =
        super::commands::run(app, p, id, d.id, steward_protocol::command::CommandBody::Ping, std::time::Duration::from_secs(10)).await?;
    Ok(PingResult { ok, output, round_trip_ms: rtt.as_secs_f64() * 1000.0 })
}
