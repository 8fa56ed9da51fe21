//! Device pages: the fleet list and the per-client device actions
//! (revoke, ping). Everything an agent reported is shown escaped.

use super::api::DeviceInfo;
use crate::auth::roles::Permission;
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::page::html;
use crate::http::App;
use crate::web::{see_other, Layout, PageResult};
use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use std::collections::HashMap;

pub struct Row {
    pub d: DeviceInfo,
    pub client: String,
    pub site: String,
}

#[derive(Deserialize)]
pub struct DevicesQuery {
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    l: Layout,
    rows: Vec<Row>,
    state: String,
    online: usize,
    total: usize,
}

/// Devices with their client and site names, for the given clients.
pub async fn rows(app: &App, clients: Option<&[i64]>) -> Result<Vec<Row>, ApiError> {
    let mut db = app.store.clone();
    let devices = super::store::list(&mut db, clients).await?;
    let (all, _) = crate::tenancy::list_clients(
        &mut db,
        &crate::tenancy::ClientQuery { scope: clients.map(<[i64]>::to_vec), include_archived: true, search: None },
        10_000,
        0,
    )
    .await?;
    let names: HashMap<i64, String> = all.into_iter().map(|c| (c.id, c.name)).collect();
    let mut site_names: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(devices.len());
    for d in devices {
        if let std::collections::hash_map::Entry::Vacant(e) = site_names.entry(d.site_id) {
            let s = crate::tenancy::get_site(&mut db, d.client_id, d.site_id).await?;
            e.insert(s.map(|s| s.name).unwrap_or_default());
        }
        let (client, site) = (names.get(&d.client_id).cloned().unwrap_or_default(), site_names[&d.site_id].clone());
        out.push(Row { d: DeviceInfo::of(d, app), client, site });
    }
    Ok(out)
}

pub async fn list(State(app): State<App>, p: Principal, Query(q): Query<DevicesQuery>) -> PageResult {
    p.require(Permission::ClientsRead)?;
    let all = rows(&app, p.clients.as_deref()).await?;
    let total = all.len();
    let online = all.iter().filter(|r| r.d.online).count();
    let rows = all
        .into_iter()
        .filter(|r| match q.state.as_str() {
            "online" => r.d.online,
            "offline" => !r.d.online && !r.d.revoked,
            _ => true,
        })
        .collect();
    Ok(html(&DevicesPage { l: Layout::new(&p, "Devices", "devices"), rows, state: q.state, online, total }))
}

pub async fn revoke(State(app): State<App>, p: Principal, Path((id, device_id)): Path<(i64, i64)>) -> PageResult {
    super::api::revoke_device_for(&app, &p, id, device_id).await?;
    Ok(see_other(&format!("/clients/{id}#devices")))
}

pub async fn ping(State(app): State<App>, p: Principal, Path((id, device_id)): Path<(i64, i64)>) -> PageResult {
    let notice = match super::api::ping_for(&app, &p, id, device_id).await {
        Ok(r) => format!("Device answered “{}” in {:.1} ms.", r.output, r.round_trip_ms),
        Err(ApiError::Conflict(m)) => format!("No answer: {m}."),
        Err(e) => return Err(e.into()),
    };
    crate::tenancy::pages::client_page_with_notice(&app, &p, id, notice).await
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    range: String,
}

/// Ranges the device page offers for its charts.
pub const RANGES: [&str; 7] = ["1h", "6h", "24h", "7d", "30d", "90d", "365d"];

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    l: Layout,
    d: DeviceInfo,
    client: String,
    site: String,
    inv: super::inventory_api::InventoryInfo,
    uptime: String,
    changes: Vec<super::inventory_api::ChangeSetInfo>,
    presence: Vec<super::store::Transition>,
    range: String,
    ranges: [&'static str; 7],
}

fn human_duration(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

/// The device page: summary, inventory and its history, metric charts, presence.
pub async fn show(State(app): State<App>, p: Principal, Path((id, device_id)): Path<(i64, i64)>, Query(q): Query<ShowQuery>) -> PageResult {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    let d = super::store::by_id(&mut db, device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    let client = crate::tenancy::get_client(&mut db, id).await?.map(|c| c.name).unwrap_or_default();
    let site = crate::tenancy::get_site(&mut db, id, d.site_id).await?.map(|s| s.name).unwrap_or_default();
    let inv = super::inventory_api::inventory_for(&app, &p, id, device_id).await?;
    let page = crate::http::list::PageParams { limit: Some(50), offset: None };
    let changes = super::inventory_api::changes_for(&app, &p, id, device_id, &page).await?.items;
    let presence = super::store::transitions(&mut db, device_id, 20, 0).await?;
    let range = if RANGES.contains(&q.range.as_str()) { q.range } else { "24h".into() };
    let uptime = inv.uptime_secs.map(human_duration).unwrap_or_default();
    let title = d.hostname.clone();
    Ok(html(&DevicePage {
        l: Layout::new(&p, &title, "devices"),
        d: DeviceInfo::of(d, &app),
        client,
        site,
        inv,
        uptime,
        changes,
        presence,
        range,
        ranges: RANGES,
    }))
}

impl DevicePage {
    fn bytes(&self, n: &u64) -> String {
        super::inventory::human_bytes(*n)
    }
    fn when(&self, us: &i64) -> String {
        crate::store::fmt_time(*us)
    }
    fn metrics_url(&self) -> String {
        format!("/api/v1/clients/{}/devices/{}/metrics", self.d.client_id, self.d.id)
    }
}
