//! Maintenance windows of a client, a site or a device: checked, stored
//! and removed with an audit entry; and whether one is open for a device
//! now (a reboot during one needs `force`). Shared by the API and pages.

use super::model::{open_at, Repeat, Window};
use super::store::{self, NewWindow, WindowRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, rfc3339};
use crate::validate::Name;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A window to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMaintenanceWindow {
    #[schema(value_type = Name)]
    pub name: String,
    /// Local start of the first occurrence, `YYYY-MM-DDTHH:MM`.
    #[schema(example = "2026-12-12T22:00")]
    pub start_local: String,
    /// IANA time zone of `start_local`; default: the site's (the device's
    /// site's), else UTC.
    pub timezone: Option<String>,
    /// 1 to less than the repeat's period (14 days when once); wall-clock
    /// minutes from the local start.
    #[schema(minimum = 1)]
    pub duration_minutes: i64,
    /// `once` (default), `daily`, `weekly` or `monthly`.
    #[serde(default)]
    pub repeat: Option<String>,
    /// Last local date an occurrence may start, `YYYY-MM-DD`.
    pub until: Option<String>,
    /// Only this site's devices.
    pub site_id: Option<i64>,
    /// Only this device.
    pub device_id: Option<i64>,
}

/// A window as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MaintenanceWindow {
    pub id: i64,
    pub client_id: i64,
    pub site_id: Option<i64>,
    pub device_id: Option<i64>,
    pub name: String,
    pub start_local: String,
    pub timezone: String,
    pub duration_minutes: i64,
    pub repeat: String,
    pub until: Option<String>,
    /// The end of the occurrence open now, if one is.
    #[schema(format = DateTime)]
    pub open_until: Option<String>,
}

impl MaintenanceWindow {
    fn of(r: WindowRow, now: jiff::Timestamp) -> Self {
        let open_until = parsed(&r).and_then(|(w, tz)| open_at(&w, &tz, now)).map(|(_, end)| rfc3339(end.as_microsecond()));
        MaintenanceWindow {
            id: r.id,
            client_id: r.client_id,
            site_id: r.site_id,
            device_id: r.device_id,
            name: r.name,
            start_local: r.starts_local,
            timezone: r.timezone,
            duration_minutes: r.minutes,
            repeat: r.repeat,
            until: r.until_date,
            open_until,
        }
    }
}

/// A stored window as the model reads it (a row that no longer parses,
/// e.g. a time zone dropped from the database, is never open).
fn parsed(r: &WindowRow) -> Option<(Window, TimeZone)> {
    let w = Window {
        start: r.starts_local.parse().ok()?,
        minutes: r.minutes,
        repeat: Repeat::parse(&r.repeat)?,
        until: r.until_date.as_deref().map(str::parse).transpose().ok()?,
    };
    Some((w, TimeZone::get(&r.timezone).ok()?))
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(now_us()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

pub async fn list(app: &App, p: &Principal, client_id: i64) -> Result<Vec<MaintenanceWindow>, ApiError> {
    p.require(Permission::ClientsRead)?;
    p.client(client_id)?;
    let t = now();
    Ok(store::of_client(&mut app.store.clone(), client_id).await?.into_iter().map(|r| MaintenanceWindow::of(r, t)).collect())
}

pub async fn create(app: &App, p: &Principal, client_id: i64, r: NewMaintenanceWindow) -> Result<MaintenanceWindow, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let scoped = p.client(client_id)?;
    let name = Name::parse(&r.name).map_err(|m| ApiError::invalid("name", m))?;
    let repeat = Repeat::parse(r.repeat.as_deref().unwrap_or("once"))
        .ok_or_else(|| ApiError::refused("repeat", "use once, daily, weekly or monthly"))?;
    let start: jiff::civil::DateTime =
        r.start_local.trim().parse().map_err(|_| ApiError::refused("start_local", "a local date and time, e.g. 2026-12-12T22:00"))?;
    if !(1..=repeat.max_minutes()).contains(&r.duration_minutes) {
        return Err(ApiError::refused(
            "duration_minutes",
            format!("1 to {} minutes for a {} window", repeat.max_minutes(), repeat.as_str()),
        ));
    }
    let until = match r.until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => Some(u.parse::<jiff::civil::Date>().map_err(|_| ApiError::refused("until", "a date, e.g. 2027-06-30"))?),
        None => None,
    };
    if until.is_some_and(|u| u < start.date()) {
        return Err(ApiError::refused("until", "before the first start"));
    }
    let mut tx = app.store.begin_audited().await?;
    let client = crate::tenancy::store::get_client(tx.tx(), scoped).await?.ok_or(ApiError::NotFound)?;
    // The device or site named must be this client's.
    let (site_id, device_id) = match (r.site_id, r.device_id) {
        (_, Some(d)) => {
            let dev = crate::devices::store::by_id(tx.tx(), d).await?.filter(|x| x.client_id == client.id);
            let dev = dev.ok_or_else(|| ApiError::refused("device_id", "no such device at this client"))?;
            (None, Some((dev.id, dev.site_id)))
        }
        (Some(s), None) => {
            crate::tenancy::store::get_site(tx.tx(), scoped, s)
                .await?
                .ok_or_else(|| ApiError::refused("site_id", "no such site at this client"))?;
            (Some(s), None)
        }
        (None, None) => (None, None),
    };
    let site_for_zone = site_id.or(device_id.map(|(_, s)| s));
    let timezone = match r.timezone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(z) => z.to_string(),
        None => match site_for_zone {
            Some(s) => crate::tenancy::store::get_site(tx.tx(), scoped, s).await?.map(|s| s.timezone).unwrap_or_else(|| "UTC".into()),
            None => "UTC".into(),
        },
    };
    TimeZone::get(&timezone).map_err(|_| ApiError::refused("timezone", "an IANA time zone, e.g. Europe/Berlin"))?;
    let starts_local = start.strftime("%Y-%m-%dT%H:%M").to_string();
    let until_text = until.map(|u| u.to_string());
    let id = store::insert(
        tx.tx(),
        NewWindow {
            client_id: client.id,
            site_id,
            device_id: device_id.map(|(d, _)| d),
            name: name.as_str(),
            starts_local: &starts_local,
            timezone: &timezone,
            minutes: r.duration_minutes,
            repeat: repeat.as_str(),
            until_date: until_text.as_deref(),
            created_by: p.user.id,
            now: now_us(),
        },
    )
    .await?;
    let row = store::get(tx.tx(), client.id, id).await?.ok_or_else(|| ApiError::internal("window vanished"))?;
    let shown = MaintenanceWindow::of(row, now());
    tx.commit(
        &p.actor(),
        Event::new("maintenance_window.create", "maintenance_window", id).client(client.id).details(json!({
            "name": shown.name, "start_local": shown.start_local, "timezone": shown.timezone, "duration_minutes": shown.duration_minutes,
            "repeat": shown.repeat, "until": shown.until, "site_id": shown.site_id, "device_id": shown.device_id,
        })),
    )
    .await?;
    Ok(shown)
}

pub async fn delete(app: &App, p: &Principal, client_id: i64, id: i64) -> Result<(), ApiError> {
    p.require(Permission::ClientsWrite)?;
    p.client(client_id)?;
    let mut tx = app.store.begin_audited().await?;
    let w = store::get(tx.tx(), client_id, id).await?.ok_or(ApiError::NotFound)?;
    store::delete(tx.tx(), client_id, id).await?;
    tx.commit(
        &p.actor(),
        Event::new("maintenance_window.delete", "maintenance_window", id).client(client_id).details(json!({"name": w.name})),
    )
    .await?;
    Ok(())
}

/// A window open for a device now: its name and when it ends.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenWindow {
    pub name: String,
    #[schema(format = DateTime)]
    pub until: String,
}

/// The window open for the device now, if any (the one ending last).
pub async fn open_for_device(db: &mut impl Db, client_id: i64, site_id: i64, device_id: i64) -> Result<Option<OpenWindow>, ApiError> {
    let t = now();
    let rows = store::for_device(db, client_id, site_id, device_id).await?;
    let open = rows.iter().filter_map(|r| parsed(r).and_then(|(w, tz)| open_at(&w, &tz, t)).map(|(_, end)| (end, r.name.clone()))).max();
    Ok(open.map(|(end, name)| OpenWindow { name, until: rfc3339(end.as_microsecond()) }))
}
