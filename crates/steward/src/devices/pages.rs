//! Device pages: the fleet list and the per-client device actions
//! (revoke, ping). Everything an agent reported is shown escaped.

use super::agent_settings::model::Levels;
use super::ops::DeviceInfo;
use super::store::query::DeviceFilter;
use crate::app::panels::{self, Fragment, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery, PageQuery};
use crate::http::page::{html, html_status};
use crate::web::{
    error::{field, form_error, see_other, PageResult, WebForm},
    layout::Layout,
};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    l: Layout,
    rows: Vec<ListRow>,
    f: DeviceFilter,
    clients: Vec<(i64, String)>,
    sites: Vec<(i64, String)>,
    os_names: Vec<String>,
    total: i64,
    offset: u64,
    limit: u64,
    /// The columns shown after the host name: key and header.
    columns: Vec<(&'static str, &'static str)>,
    all_columns: [(&'static str, &'static str); 12],
    views: Vec<super::views::model::View>,
    /// This list's query as a view would save it.
    view_query: String,
    /// Scripts a bulk run may choose (id, name); empty without the permission.
    scripts: Vec<(i64, String)>,
    can_write: bool,
}

/// A device in the list with what it is doing now.
struct ListRow {
    d: DeviceInfo,
    client: String,
    site: String,
    now: super::ops::DeviceNow,
}

/// The device list's URL for a filter and an offset.
fn list_url(f: &DeviceFilter, offset: u64) -> String {
    format!("/devices?{}", list_query(f, offset))
}

fn list_query(f: &DeviceFilter, offset: u64) -> String {
    let pairs = [
        ("client_id", f.client_id.map(|v| v.to_string())),
        ("site_id", f.site_id.map(|v| v.to_string())),
        ("os", f.os.clone()),
        ("state", f.state.clone()),
        ("q", f.q.clone()),
        ("sort", f.sort.clone()),
        ("order", f.order.clone()),
        ("offset", (offset > 0).then(|| offset.to_string())),
    ];
    let set: Vec<(&str, &str)> = pairs.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))).collect();
    serde_urlencoded::to_string(set).unwrap_or_default()
}

impl DevicesPage {
    /// A column header's link: sorts by it, flipping the order when it already does.
    fn sort_link(&self, key: &str) -> String {
        let flip = self.f.sort.as_deref().unwrap_or("hostname") == key && self.f.order.as_deref() != Some("desc");
        let f = DeviceFilter { sort: Some(key.to_string()), order: Some(if flip { "desc" } else { "asc" }.to_string()), ..self.f.clone() };
        list_url(&f, 0)
    }

    fn sortable(&self, key: &str) -> bool {
        super::store::query::SORTS.contains(&key)
    }

    fn shows(&self, key: &str) -> bool {
        self.columns.iter().any(|(k, _)| *k == key)
    }

    /// Any filter narrows the list (so "no devices" means "none match").
    fn filtered(&self) -> bool {
        let f = &self.f;
        f.client_id.is_some() || f.site_id.is_some() || [&f.os, &f.state, &f.q].iter().any(|v| v.as_deref().is_some_and(|v| !v.is_empty()))
    }

    fn sort_mark(&self, key: &str) -> &'static str {
        match (self.f.sort.as_deref().unwrap_or("hostname") == key, self.f.order.as_deref() == Some("desc")) {
            (false, _) => "",
            (true, true) => " ↓",
            (true, false) => " ↑",
        }
    }

    fn prev(&self) -> Option<String> {
        (self.offset > 0).then(|| list_url(&self.f, self.offset.saturating_sub(self.limit)))
    }

    fn next(&self) -> Option<String> {
        (self.offset + self.limit < self.total as u64).then(|| list_url(&self.f, self.offset + self.limit))
    }

    fn shown_to(&self) -> u64 {
        (self.offset + self.rows.len() as u64).min(self.total as u64)
    }

    fn pct(&self, v: &Option<f64>) -> String {
        percent(*v, "")
    }

    fn level(&self, v: &Option<f64>) -> &'static str {
        level(*v)
    }

    fn uptime(&self, secs: &Option<i64>) -> String {
        secs.map(human_duration).unwrap_or_default()
    }
}

/// The device list page: the caller's columns and saved views, filters in
/// the URL (applied as they type), bulk actions on the rows they tick.
pub async fn list(State(app): State<App>, p: Principal, PageQuery(q): PageQuery<Vec<(String, String)>>) -> PageResult {
    p.require(Permission::ClientsRead)?;
    let get = |k: &str| field(&q, k).map(str::to_string);
    let num = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
    let mut f = DeviceFilter {
        client_id: num("client_id"),
        site_id: num("site_id"),
        os: get("os"),
        state: get("state"),
        q: get("q"),
        sort: get("sort"),
        order: get("order"),
    };
    if f.client_id.is_none() {
        f.site_id = None;
    }
    let page = crate::http::list::PageParams::new(50, num("offset").map_or(0, |o| o.max(0) as u64));
    let found = super::ops::search_for(&app, &p, &f, &page).await?;
    let mut db = app.store.clone();
    let scope = p.clients.as_deref();
    let query = crate::tenancy::store::ClientQuery { scope: scope.map(<[i64]>::to_vec), include_archived: false, search: None };
    let (all, _) = crate::tenancy::store::list_clients(&mut db, &query, 10_000, 0).await?;
    let clients = all.into_iter().map(|c| (c.id, c.name)).collect();
    let sites = match f.client_id {
        Some(c) => crate::tenancy::store::list_sites(&mut db, p.client(c)?, false).await?.into_iter().map(|s| (s.id, s.name)).collect(),
        None => vec![],
    };
    let os_names = super::store::query::os_names(&mut db, scope).await?;
    let rows = found.items.into_iter().map(|i| ListRow { d: i.device, client: i.client_name, site: i.site_name, now: i.now }).collect();
    let chosen = super::views::ops::columns(&app, &p).await?;
    let all_columns = super::views::model::COLUMNS;
    let columns = all_columns.iter().filter(|(k, _)| chosen.contains(k)).copied().collect();
    let scripts = if p.can(Permission::ScriptsRun) {
        crate::scripts::store::list_scripts(&mut db, false).await?.into_iter().map(|s| (s.id, s.name)).collect()
    } else {
        vec![]
    };
    let notice = bulk_notice(&q);
    Ok(html(&DevicesPage {
        l: Layout::new(&app, &p, "Devices", "devices").with_notice(notice),
        rows,
        view_query: super::views::model::normalize(&list_query(&f, 0)).unwrap_or_default(),
        f,
        clients,
        sites,
        os_names,
        total: found.total,
        offset: found.offset,
        limit: found.limit,
        columns,
        all_columns,
        views: super::views::ops::views(&app, &p).await?,
        scripts,
        can_write: p.can(Permission::ClientsWrite),
    }))
}

/// What a bulk action reports back through the list's URL (counts only,
/// so a link cannot put words on the page).
fn bulk_notice(q: &[(String, String)]) -> Option<String> {
    let n = |k: &str| field(q, k).and_then(|v| v.parse::<u64>().ok());
    if let (Some(asked), Some(answered)) = (n("pinged"), n("answered")) {
        return Some(format!("Pinged {asked} devices: {answered} answered, {} did not.", asked.saturating_sub(answered)));
    }
    n("moved").map(|m| format!("Moved {m} devices."))
}

/// The column chooser's form: a `column` per ticked box.
pub async fn set_columns(State(app): State<App>, p: Principal, WebForm(form): WebForm<Vec<(String, String)>>) -> PageResult {
    let columns = form.iter().filter(|(k, _)| k == "column").map(|(_, v)| v.clone()).collect();
    super::views::ops::set_columns(&app, &p, super::views::ops::ColumnsRequest { columns }).await?;
    Ok(see_other(&back_to_list(&form)))
}

/// Saves the list as it is now under a name, then opens it.
pub async fn save_view(State(app): State<App>, p: Principal, WebForm(form): WebForm<Vec<(String, String)>>) -> PageResult {
    let get = |k: &str| field(&form, k).unwrap_or_default().to_string();
    let r = super::views::ops::ViewRequest { name: get("name"), query: get("query") };
    super::views::ops::save_view(&app, &p, r).await?;
    Ok(see_other(&back_to_list(&form)))
}

pub async fn delete_view(State(app): State<App>, p: Principal, WebForm(form): WebForm<Vec<(String, String)>>) -> PageResult {
    let name = field(&form, "name").unwrap_or_default().to_string();
    super::views::ops::delete_view(&app, &p, &name).await?;
    Ok(see_other(&back_to_list(&form)))
}

/// The list a form came from (its `back` field), with only the list's own
/// parameters kept.
fn back_to_list(form: &[(String, String)]) -> String {
    let back = field(form, "back").unwrap_or_default();
    super::views::model::list_path(back, "")
}

pub async fn revoke(State(app): State<App>, p: Principal, ApiPath((id, device_id)): ApiPath<(i64, i64)>) -> PageResult {
    super::ops::revoke_device_for(&app, &p, id, device_id).await?;
    Ok(see_other(&format!("/clients/{id}#devices")))
}

/// Pings from the device's page or the client's device list, then shows the
/// device page with the answer (post/redirect/get: a reload does not ping
/// again). The answer travels as a round-trip time, never as text, so a
/// link cannot put words on our page.
pub async fn ping(State(app): State<App>, p: Principal, ApiPath((id, device_id)): ApiPath<(i64, i64)>) -> PageResult {
    let outcome = match super::ops::ping_for(&app, &p, id, device_id).await {
        Ok(r) => format!("ping_ms={:.1}", r.round_trip_ms),
        Err(ApiError::Conflict(_)) => "ping=none".to_string(),
        Err(e) => return Err(e.into()),
    };
    Ok(see_other(&format!("/clients/{id}/devices/{device_id}?{outcome}")))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    range: String,
    /// A ping's round trip, after a ping from a page.
    ping_ms: Option<f64>,
    /// `none`: a ping got no answer.
    ping: Option<String>,
    /// After a restart from the page: `scheduled`, `failed` or `offline`.
    reboot: Option<String>,
    /// The restart's warning, seconds.
    #[serde(rename = "in")]
    reboot_in: Option<u32>,
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
    inv: super::inventory::api::InventoryInfo,
    uptime: String,
    changes: Vec<super::inventory::api::ChangeSetInfo>,
    presence: Vec<super::presence::store::Transition>,
    range: String,
    ranges: [&'static str; 7],
    /// What other domains show here (scripts run on it).
    panels: Vec<Fragment>,
    /// The settings its agent runs with, and where each comes from.
    agent: super::agent_settings::model::Effective,
    /// What the device sets itself, and what it would inherit without.
    own: super::agent_settings::model::Overrides,
    inherited: super::agent_settings::model::Effective,
    can_write: bool,
    /// What it is doing now (figures, addresses, users).
    now: super::ops::DeviceNow,
    /// CPU, memory and fullest disk with the last hours drawn.
    tiles: Vec<Tile>,
    /// The maintenance window open for it now.
    maintenance: Option<crate::monitoring::maintenance::ops::OpenWindow>,
}

/// A figure at the top of the device page.
struct Tile {
    label: &'static str,
    value: Option<f64>,
    /// What the figure is of (the disk's mount), or empty.
    detail: String,
    /// The SVG path of the last [`SPARK_HOURS`] (see `monitoring::model::spark_path`).
    path: String,
}

/// Hours the tiles' lines cover.
const SPARK_HOURS: i64 = 6;
const SPARK_W: f64 = 160.0;
const SPARK_H: f64 = 32.0;

/// The tiles for a device: its newest figures, each with its last hours.
async fn tiles(db: &mut impl crate::store::Db, device_id: i64, now: &super::ops::DeviceNow) -> Result<Vec<Tile>, ApiError> {
    use crate::monitoring::model::{spark_path, FIVE_MINUTES};
    let to = crate::time::now_us();
    let from = to - SPARK_HOURS * 3_600_000_000;
    let rows = crate::monitoring::store::read(db, device_id, FIVE_MINUTES, from, to).await?;
    let disk_series = now.disk_mount.as_ref().map(|m| format!("disk:{m}")).unwrap_or_default();
    let line = |series: &str| {
        let points: Vec<(i64, f64)> = rows.iter().filter(|r| r.series == series).map(|r| (r.at, r.vavg)).collect();
        // A gap of three buckets is the agent away, not a slow sample.
        spark_path(&points, from, to, SPARK_W, SPARK_H, 3 * FIVE_MINUTES * 1_000_000)
    };
    Ok(vec![
        Tile { label: "CPU", value: now.cpu_percent, detail: String::new(), path: line("cpu") },
        Tile { label: "Memory", value: now.memory_percent, detail: String::new(), path: line("mem") },
        Tile { label: "Disk", value: now.disk_percent, detail: now.disk_mount.clone().unwrap_or_default(), path: line(&disk_series) },
    ])
}

/// The charts' first range: the shortest that still shows the newest
/// samples (a device offline for a week opens on 30 days, not an empty day).
fn range_with_data(metrics_at_us: Option<i64>) -> &'static str {
    let Some(at) = metrics_at_us else { return "24h" };
    let age_h = (crate::time::now_us() - at) / 3_600_000_000;
    match age_h {
        ..20 => "24h",
        20..160 => "7d",
        160..700 => "30d",
        700..2100 => "90d",
        _ => "365d",
    }
}

/// A percentage as the pages show it, or `none` when unknown.
fn percent(v: Option<f64>, none: &str) -> String {
    v.map(|v| format!("{v:.0} %")).unwrap_or_else(|| none.to_string())
}

/// A figure's level for its colour: high use is worth a look.
fn level(v: Option<f64>) -> &'static str {
    match v {
        Some(v) if v >= 95.0 => "crit",
        Some(v) if v >= 85.0 => "warn",
        Some(_) => "ok",
        None => "",
    }
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
pub async fn show(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> PageResult {
    let notice = match (q.ping_ms, q.ping.as_deref()) {
        (Some(ms), _) if ms.is_finite() && ms >= 0.0 => Some(format!("The device answered the ping in {ms:.1} ms.")),
        (_, Some("none")) => Some("No answer to the ping: the device is offline or did not answer in time.".to_string()),
        _ => match q.reboot.as_deref() {
            Some("scheduled") => Some(format!("The device restarts in {} s.", q.reboot_in.unwrap_or(0))),
            Some("unconfirmed") => Some(
                "The restart was sent but the agent did not confirm it in time: it may be restarting already. Check before sending another."
                    .to_string(),
            ),
            Some("failed") => Some("The agent could not schedule the restart: see the audit log and the device.".to_string()),
            Some("offline") => Some("The device is offline: no restart was sent.".to_string()),
            _ => None,
        },
    };
    device_page(&app, &p, id, device_id, q.range, None, notice).await
}

/// The device's own agent settings, from the form on its page.
pub async fn update_agent_settings(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<super::agent_settings::form::AgentSettingsForm>,
) -> PageResult {
    let updated = match f.parse() {
        Ok((h, m)) => {
            let patch = super::agent_settings::device::DevicePatch {
                agent_heartbeat_secs: Some(h),
                agent_metrics_secs: Some(m),
                ..Default::default()
            };
            super::agent_settings::device::update(&app, &p, id, device_id, patch).await
        }
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => Ok(see_other(&format!("/clients/{id}/devices/{device_id}#agent-settings"))),
        Err(e) => device_page(&app, &p, id, device_id, String::new(), Some(form_error(e)?), None).await,
    }
}

async fn device_page(
    app: &App,
    p: &Principal,
    id: i64,
    device_id: i64,
    range: String,
    error: Option<String>,
    notice: Option<String>,
) -> PageResult {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    let d = super::store::with_settings(&mut db, device_id).await?.filter(|d| d.device.client_id == id).ok_or(ApiError::NotFound)?;
    let agent = d.effective(app.cfg.agent_defaults());
    let own = d.own();
    let inherited = super::agent_settings::model::resolve(app.cfg.agent_defaults(), Levels { device: Default::default(), ..d.levels() });
    let d = d.device;
    let client = crate::tenancy::store::get_client(&mut db, p.client(id)?).await?.map(|c| c.name).unwrap_or_default();
    let site = crate::tenancy::store::get_site(&mut db, p.client(id)?, d.site_id).await?.map(|s| s.name).unwrap_or_default();
    let inv = super::inventory::api::inventory_for(app, p, id, device_id).await?;
    let page = crate::http::list::PageParams::new(50, 0);
    let changes = super::inventory::api::changes_for(app, p, id, device_id, &page).await?.items;
    let presence = super::presence::store::transitions(&mut db, device_id, 20, 0).await?;
    let now_row = super::store::query::now_of(&mut db, device_id).await?;
    let metrics_at = now_row.metrics_at;
    let now = super::ops::DeviceNow::of(now_row);
    let tiles = tiles(&mut db, device_id, &now).await?;
    let maintenance = crate::monitoring::maintenance::ops::open_for_device(&mut db, id, d.site_id, device_id).await?;
    let range = if RANGES.contains(&range.as_str()) { range } else { range_with_data(metrics_at).into() };
    let uptime = inv.uptime_secs.map(human_duration).unwrap_or_default();
    let panels = panels::render(app, p, Slot::Device, PanelCtx { client: Some(id), device: Some(device_id), ..Default::default() }).await?;
    let title = d.hostname.clone();
    let status = crate::web::error::status_for(&error);
    Ok(html_status(
        status,
        &DevicePage {
            l: Layout::new(app, p, &title, "devices").with_error(error).with_notice(notice),
            can_write: p.can(Permission::ClientsWrite),
            d: DeviceInfo::of(d, app),
            client,
            site,
            inv,
            uptime,
            changes,
            presence,
            range,
            ranges: RANGES,
            panels,
            agent,
            own,
            inherited,
            now,
            tiles,
            maintenance,
        },
    ))
}

impl DevicePage {
    fn bytes(&self, n: &u64) -> String {
        super::inventory::model::human_bytes(*n)
    }
    fn when(&self, us: &i64) -> String {
        crate::time::fmt_time(*us)
    }
    fn pct(&self, v: &Option<f64>) -> String {
        percent(*v, "–")
    }
    fn level(&self, v: &Option<f64>) -> &'static str {
        level(*v)
    }
    fn metrics_url(&self) -> String {
        format!("/api/v1/clients/{}/devices/{}/metrics", self.d.client_id, self.d.id)
    }
}
