//! A user's device list settings, kept in their preferences: the columns
//! they chose (`devices.columns`) and their saved views (`devices.views`).
//! Shared by the API and the list page; only ever the caller's own.

use super::model::{self, View, DEFAULT_COLUMNS};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::devices::store::query::DeviceFilter;
use crate::error::ApiError;
use crate::time::now_us;
use crate::users::prefs::store as prefs;
use crate::validate::Name;
use serde::{Deserialize, Serialize};

const COLUMNS_KEY: &str = "devices.columns";
/// One preference per view, keyed by its name without case: saving or
/// removing one is one statement, so two at once never lose either.
const VIEW_PREFIX: &str = "devices.view:";

fn view_key(name: &str) -> String {
    format!("{VIEW_PREFIX}{}", name.trim().to_lowercase())
}

/// The caller's device list settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceViews {
    /// The columns shown after the host name, in order.
    pub columns: Vec<String>,
    /// Every column there is, for a chooser.
    pub available: Vec<String>,
    pub views: Vec<View>,
}

/// The caller's columns (the defaults until they choose).
pub async fn columns(app: &App, p: &Principal) -> Result<Vec<&'static str>, ApiError> {
    let stored = prefs::get(&mut app.store.clone(), p.user.id, COLUMNS_KEY).await?;
    let chosen: Option<Vec<String>> = stored.and_then(|s| serde_json::from_str(&s).ok());
    // A column that no longer exists is dropped, not an error, for what was stored.
    Ok(match chosen {
        Some(c) => {
            model::columns(&c.into_iter().filter(|c| model::COLUMNS.iter().any(|(k, _)| k == c)).collect::<Vec<_>>()).unwrap_or_default()
        }
        None => DEFAULT_COLUMNS.to_vec(),
    })
}

pub async fn views(app: &App, p: &Principal) -> Result<Vec<View>, ApiError> {
    let stored = prefs::with_prefix(&mut app.store.clone(), p.user.id, VIEW_PREFIX).await?;
    // Each is written whole by `save_view`; one that does not read is skipped, not fatal.
    Ok(stored.iter().filter_map(|s| serde_json::from_str(s).ok()).collect())
}

pub async fn get(app: &App, p: &Principal) -> Result<DeviceViews, ApiError> {
    p.require(Permission::ClientsRead)?;
    Ok(DeviceViews {
        columns: columns(app, p).await?.into_iter().map(String::from).collect(),
        available: model::COLUMNS.iter().map(|(k, _)| k.to_string()).collect(),
        views: views(app, p).await?,
    })
}

/// The columns to show.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnsRequest {
    /// Column keys (see `available`); shown in the list's own order.
    pub columns: Vec<String>,
}

pub async fn set_columns(app: &App, p: &Principal, r: ColumnsRequest) -> Result<DeviceViews, ApiError> {
    p.require(Permission::ClientsRead)?;
    let cols = model::columns(&r.columns).map_err(|bad| {
        let known: Vec<&str> = model::COLUMNS.iter().map(|(k, _)| *k).collect();
        ApiError::refused("columns", format!("{bad:?} is not a column ({})", known.join(", ")))
    })?;
    let value = serde_json::to_string(&cols).map_err(ApiError::internal)?;
    prefs::set(&mut app.store.clone(), p.user.id, COLUMNS_KEY, &value, now_us()).await?;
    get(app, p).await
}

/// A view to save; one of the same name is replaced.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewRequest {
    #[schema(value_type = Name)]
    pub name: String,
    /// The device list's query string (`client_id`, `site_id`, `os`,
    /// `state`, `q`, `sort`, `order`).
    pub query: String,
}

pub async fn save_view(app: &App, p: &Principal, r: ViewRequest) -> Result<DeviceViews, ApiError> {
    p.require(Permission::ClientsRead)?;
    if r.query.len() > model::MAX_QUERY {
        return Err(ApiError::refused("query", format!("at most {} characters", model::MAX_QUERY)));
    }
    let query = model::normalize(&r.query).map_err(|m| ApiError::refused("query", m))?;
    // Read as the list reads it, so a saved view always opens.
    let f: DeviceFilter = serde_urlencoded::from_str(&query).map_err(|e| ApiError::refused("query", e.to_string()))?;
    f.validate().map_err(|(field, m)| ApiError::refused("query", format!("{field}: {m}")))?;
    if let Some(c) = f.client_id {
        let no_such = || ApiError::refused("query", "client_id: no such client");
        let scoped = p.client(c).map_err(|_| no_such())?;
        crate::tenancy::store::get_client(&mut app.store.clone(), scoped).await?.ok_or_else(no_such)?;
    }
    let name = Name::parse(&r.name).map_err(|m| ApiError::invalid("name", m))?;
    let view = View { name: name.to_string(), query };
    let key = view_key(&view.name);
    let mut db = app.store.clone();
    let existing = views(app, p).await?;
    let replaces = existing.iter().any(|v| view_key(&v.name) == key);
    if !replaces && existing.len() >= model::MAX_VIEWS {
        return Err(ApiError::Conflict(format!("you have {} saved views, the most kept; delete one first", model::MAX_VIEWS)));
    }
    let value = serde_json::to_string(&view).map_err(ApiError::internal)?;
    prefs::set(&mut db, p.user.id, &key, &value, now_us()).await?;
    get(app, p).await
}

/// Removes the caller's view of that name (any case); not found if none.
pub async fn delete_view(app: &App, p: &Principal, name: &str) -> Result<(), ApiError> {
    p.require(Permission::ClientsRead)?;
    if !prefs::delete(&mut app.store.clone(), p.user.id, &view_key(name)).await? {
        return Err(ApiError::NotFound);
    }
    Ok(())
}
