//! `/api/v1/clients/{id}/devices/{device_id}/inventory[/changes]`: the
//! latest inventory a device reported, and the history of what changed.

use super::model::Change;
use super::store as inventory_store;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use crate::time::rfc3339;
use axum::extract::State;
use serde::Serialize;

/// The latest inventory.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InventoryInfo {
    /// When the agent read it (`null`: no inventory yet).
    #[schema(format = DateTime)]
    pub collected_at: Option<String>,
    /// When the server last heard it, changed or not.
    #[schema(format = DateTime)]
    pub received_at: Option<String>,
    /// Seconds since the last boot, as of now.
    pub uptime_secs: Option<i64>,
    /// OS, hardware, disks, interfaces, users, software, services, boot time
    /// (see `steward_protocol::report::Inventory`).
    #[schema(value_type = Object)]
    pub inventory: Option<steward_protocol::report::Inventory>,
}

/// One history entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeSetInfo {
    pub at: String,
    /// The first inventory received: the history starts here.
    pub first: bool,
    pub changes: Vec<Change>,
}

async fn device(app: &App, p: &Principal, id: i64, device_id: i64) -> Result<crate::devices::store::Device, ApiError> {
    p.require(Permission::ClientsRead)?;
    crate::devices::store::by_id(&mut app.store.clone(), device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)
}

/// The latest inventory (shared with the device page).
pub async fn inventory_for(app: &App, p: &Principal, id: i64, device_id: i64) -> Result<InventoryInfo, ApiError> {
    device(app, p, id, device_id).await?;
    let cur = inventory_store::current(&mut app.store.clone(), device_id).await?;
    let now = chrono::Utc::now().timestamp();
    Ok(match cur {
        None => InventoryInfo { collected_at: None, received_at: None, uptime_secs: None, inventory: None },
        Some(c) => InventoryInfo {
            collected_at: Some(rfc3339(c.collected_at)),
            received_at: Some(rfc3339(c.received_at)),
            uptime_secs: (c.inventory.boot_time > 0).then(|| (now - c.inventory.boot_time).max(0)),
            inventory: Some(c.inventory),
        },
    })
}

/// A page of the change history, newest first (shared with the device page).
pub async fn changes_for(app: &App, p: &Principal, id: i64, device_id: i64, page: &PageParams) -> Result<Paged<ChangeSetInfo>, ApiError> {
    device(app, p, id, device_id).await?;
    let mut db = app.store.snapshot().await?;
    let total = inventory_store::count_changes(&mut db, device_id).await?;
    let rows = inventory_store::changes(&mut db, device_id, page.limit(), page.offset()).await?;
    let items = rows.into_iter().map(|c| ChangeSetInfo { at: rfc3339(c.at), first: c.changes.is_empty(), changes: c.changes }).collect();
    Ok(Paged::new(items, total, page))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}/inventory", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path)),
    responses((status = 200, body = InventoryInfo), (status = 404, body = ErrorEnvelope)))]
pub async fn inventory(State(app): State<App>, p: Principal, ApiPath((id, device_id)): ApiPath<(i64, i64)>) -> ApiResult {
    Ok(json(inventory_for(&app, &p, id, device_id).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/devices/{device_id}/inventory/changes", tag = "devices",
    params(("id" = i64, Path), ("device_id" = i64, Path), PageParams),
    responses((status = 200, body = Paged<ChangeSetInfo>, description = "newest first"), (status = 404, body = ErrorEnvelope)))]
pub async fn changes(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult {
    Ok(json(changes_for(&app, &p, id, device_id, &page).await?))
}
