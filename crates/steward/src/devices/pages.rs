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
