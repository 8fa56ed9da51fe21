//! Actions on the devices ticked in the device list: ping them all, move
//! them to a site, or open a script's run form for them. Each device is
//! checked against the caller's clients and each action audited as if
//! done one by one; the answer goes back to the list the user came from.

use super::agent_settings::device::{self as device_settings, DevicePatch};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::web::error::{field, see_other, PageResult, WebForm};
use axum::extract::State;
use futures_util::stream::{self, StreamExt};

/// The most devices one bulk action takes (a script run past the approval
/// threshold still waits for a second person).
pub const MAX_DEVICES: usize = 500;

/// Pings in flight at once.
const PARALLEL_PINGS: usize = 32;

pub async fn bulk(State(app): State<App>, p: Principal, WebForm(form): WebForm<Vec<(String, String)>>) -> PageResult {
    p.require(Permission::ClientsRead)?;
    let field = |k: &str| field(&form, k).map(str::to_string);
    let mut ids: Vec<i64> = vec![];
    for (_, v) in form.iter().filter(|(n, _)| n == "device_id") {
        ids.push(v.parse().map_err(|_| ApiError::invalid("device_id", "a device id is a number"))?);
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(ApiError::invalid("device_id", "tick at least one device").into());
    }
    if ids.len() > MAX_DEVICES {
        return Err(ApiError::invalid("device_id", format!("at most {MAX_DEVICES} devices at once")).into());
    }
    // Back to the same list: only the list's own parameters survive.
    let came_from = field("back").unwrap_or_default();
    let back = |extra: String| super::views::model::list_path(&came_from, &extra);
    let devices = visible(&app, &p, &ids).await?;
    match field("action").as_deref() {
        Some("ping") => {
            p.require(Permission::ClientsWrite)?;
            let targets: Vec<(i64, i64)> = devices.iter().filter(|d| d.revoked_at.is_none()).map(|d| (d.client_id, d.id)).collect();
            let (app, p) = (&app, &p);
            let results: Vec<bool> = stream::iter(targets)
                .map(|(client_id, id)| async move { super::ops::ping_for(app, p, client_id, id).await.is_ok_and(|r| r.ok) })
                .buffer_unordered(PARALLEL_PINGS)
                .collect()
                .await;
            let answered = results.iter().filter(|ok| **ok).count();
            Ok(see_other(&back(format!("pinged={}&answered={answered}", results.len()))))
        }
        Some("move") => {
            p.require(Permission::ClientsWrite)?;
            let site_id: i64 =
                field("site_id").and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("site_id", "choose the site to move to"))?;
            // Removed devices stay where they were; the rest must be one client's.
            let live: Vec<_> = devices.iter().filter(|d| d.revoked_at.is_none()).collect();
            let Some(client_id) = live.first().map(|d| d.client_id) else {
                return Err(ApiError::refused("device_id", "every ticked device was removed").into());
            };
            if live.iter().any(|d| d.client_id != client_id) {
                return Err(ApiError::refused("site_id", "the ticked devices belong to several clients; a site is one client's").into());
            }
            // The site is checked once, before anything moves, so a wrong
            // site moves nothing.
            let site = crate::tenancy::store::get_site(&mut app.store.clone(), p.client(client_id)?, site_id).await?;
            if site.is_none_or(|s| s.archived) {
                return Err(ApiError::refused("site_id", "no such site at this client").into());
            }
            for d in &live {
                let patch = DevicePatch { site_id: Some(site_id), ..Default::default() };
                device_settings::update(&app, &p, client_id, d.id, patch).await?;
            }
            Ok(see_other(&back(format!("moved={}", live.len()))))
        }
        Some("script") => {
            p.require(Permission::ScriptsRun)?;
            let script: i64 =
                field("script_id").and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("script_id", "choose a script"))?;
            let list: Vec<String> = devices.iter().filter(|d| d.revoked_at.is_none()).map(|d| d.id.to_string()).collect();
            if list.is_empty() {
                return Err(ApiError::refused("device_id", "every ticked device was removed").into());
            }
            Ok(see_other(&format!("/scripts/{script}?devices={}#run", list.join(","))))
        }
        _ => Err(ApiError::invalid("action", "use ping, move or script").into()),
    }
}

/// The devices asked for, each one the caller may see; one they may not is
/// "not found", like a device of another client anywhere else.
async fn visible(app: &App, p: &Principal, ids: &[i64]) -> Result<Vec<super::store::Device>, ApiError> {
    let mut db = app.store.snapshot().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let d = super::store::by_id(&mut db, *id).await?.ok_or(ApiError::NotFound)?;
        p.client(d.client_id).map_err(|_| ApiError::NotFound)?;
        out.push(d);
    }
    Ok(out)
}
