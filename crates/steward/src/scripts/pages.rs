//! Script pages: the library (`/scripts`, `/scripts/{id}`), a run with its
//! per-device output and the approve/reject buttons (`/script-runs/{id}`),
//! and running a script from a device's page.

use super::model::{self, ParamSpec};
use super::ops::{self as api, RunRequest, ScriptInfo, ScriptRequest};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::{ApiPath, PageQuery};
use crate::http::page::html;
use crate::web::{
    error::{see_other, PageResult, WebForm},
    layout::Layout,
};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "scripts.html")]
struct ScriptsPage {
    l: Layout,
    scripts: Vec<ScriptInfo>,
    runs: Vec<api::RunInfo>,
    can_edit: bool,
}

pub async fn list(State(app): State<App>, p: Principal) -> PageResult {
    p.require(Permission::ScriptsRun)?;
    let mut db = app.store.clone();
    let scripts = super::store::list_scripts(&mut db, true).await?.into_iter().map(ScriptInfo::from).collect();
    let (runs, _) = super::store::list_runs(&mut db, p.clients.as_deref(), 25, 0).await?;
    let can_edit = p.can(Permission::ScriptsWrite) && p.clients.is_none();
    Ok(html(&ScriptsPage {
        l: Layout::new(&app, &p, "Scripts", "scripts"),
        scripts,
        runs: {
            let mut seen = Vec::with_capacity(runs.len());
            for r in &runs {
                seen.push(api::RunInfo::seen_by(&mut db, r, &p).await?);
            }
            seen
        },
        can_edit,
    }))
}

/// The script form as posted.
#[derive(Deserialize)]
pub struct ScriptForm {
    name: String,
    #[serde(default)]
    description: String,
    shell: String,
    body: String,
    /// One per line: `name`, `name*` (required) or `name=default`.
    #[serde(default)]
    parameters: String,
    timeout_secs: Option<String>,
    run_as: Option<String>,
    archived: Option<String>,
}

fn parse_params(text: &str) -> Vec<ParamSpec> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (head, default) = l.split_once('=').map(|(h, d)| (h.trim(), d.trim())).unwrap_or((l, ""));
            let (name, required) = head.strip_suffix('*').map(|n| (n.trim(), true)).unwrap_or((head, false));
            ParamSpec { name: name.to_string(), label: String::new(), default: default.to_string(), required }
        })
        .collect()
}

/// Shows parameters the way the form takes them.
pub fn params_text(ps: &[ParamSpec]) -> String {
    ps.iter()
        .map(|p| match (p.required, p.default.is_empty()) {
            (true, _) => format!("{}*", p.name),
            (false, true) => p.name.clone(),
            (false, false) => format!("{}={}", p.name, p.default),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl ScriptForm {
    fn request(self) -> Result<ScriptRequest, ApiError> {
        let timeout_secs = match self.timeout_secs.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) => Some(t.parse().map_err(|_| ApiError::invalid("timeout_secs", "a whole number of seconds"))?),
        };
        Ok(ScriptRequest {
            name: self.name,
            description: self.description,
            shell: self.shell,
            // Browsers send CRLF line ends; scripts want LF.
            body: self.body.replace("\r\n", "\n"),
            parameters: parse_params(&self.parameters),
            timeout_secs,
            run_as: self.run_as.filter(|r| !r.trim().is_empty()),
            archived: crate::web::error::checkbox("archived", self.archived.as_deref())?,
        })
    }
}

pub async fn create(State(app): State<App>, p: Principal, WebForm(f): WebForm<ScriptForm>) -> PageResult {
    let s = api::create_for(&app, &p, f.request()?).await?;
    Ok(see_other(&format!("/scripts/{}", s.id)))
}

#[derive(Template)]
#[template(path = "script.html")]
struct ScriptPage {
    l: Layout,
    s: ScriptInfo,
    params: String,
    /// Each client with its sites, for the run form's target.
    targets: Vec<Target>,
    /// Devices ticked in the device list (`?devices=1,2,3`), offered as the
    /// target.
    devices: Vec<i64>,
    can_edit: bool,
}

impl ScriptPage {
    fn devices_target(&self) -> String {
        let ids: Vec<String> = self.devices.iter().map(i64::to_string).collect();
        format!("devices:{}", ids.join(","))
    }
}

/// A list of device ids as `1,2,3` (anything else yields none).
fn device_ids(s: &str) -> Option<Vec<i64>> {
    let ids: Option<Vec<i64>> = s.split(',').map(|x| x.trim().parse().ok()).collect();
    ids.filter(|v| !v.is_empty() && v.len() <= model::MAX_TARGETS)
}

/// What the script page is opened with.
#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    devices: String,
}

/// A client a script can run on: its id, name, and its sites (id, name).
type Target = (i64, String, Vec<(i64, String)>);

pub async fn show(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, PageQuery(q): PageQuery<ShowQuery>) -> PageResult {
    p.require(Permission::ScriptsRun)?;
    let mut db = app.store.clone();
    let s: ScriptInfo = super::store::get_script(&mut db, id).await?.ok_or(ApiError::NotFound)?.into();
    let query = crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: false, search: None };
    let (clients, _) = crate::tenancy::store::list_clients(&mut db, &query, 10_000, 0).await?;
    let sites = crate::tenancy::store::sites_in_scope(&mut db, p.clients.as_deref()).await?;
    let targets = clients
        .into_iter()
        .map(|c| {
            let own = sites.iter().filter(|s| s.client_id == c.id).map(|s| (s.id, s.name.clone())).collect();
            (c.id, c.name, own)
        })
        .collect();
    let can_edit = p.can(Permission::ScriptsWrite) && p.clients.is_none();
    let devices = device_ids(&q.devices).unwrap_or_default();
    Ok(html(&ScriptPage {
        l: Layout::new(&app, &p, &s.name, "scripts"),
        params: params_text(&s.parameters),
        s,
        targets,
        devices,
        can_edit,
    }))
}

pub async fn update(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<ScriptForm>) -> PageResult {
    api::update_for(&app, &p, id, f.request()?).await?;
    Ok(see_other(&format!("/scripts/{id}")))
}

/// Running a script from its page (a client's devices) or a device's page.
#[derive(Deserialize)]
pub struct RunForm {
    /// `client:ID` (every device of the client) or `site:CLIENT:SITE` (of a
    /// site).
    target: Option<String>,
    client_id: Option<String>,
    /// One per line: `name=value`.
    #[serde(default)]
    params: String,
    /// `datetime-local`, taken as UTC.
    #[serde(default)]
    at: String,
    /// Empty, `hourly`, `daily` or `weekly`.
    #[serde(default)]
    repeat: String,
    script_id: Option<String>,
}

fn parse_values(text: &str) -> BTreeMap<String, String> {
    text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

fn at_utc(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| if s.len() == 16 { format!("{s}:00Z") } else { format!("{s}Z") })
}

pub async fn run(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<RunForm>) -> PageResult {
    let target = f.target.as_deref().or(f.client_id.as_deref().map(|_| "")).unwrap_or_default();
    let devices = target.strip_prefix("devices:").and_then(device_ids);
    let (client_id, site_id) = match target.split_once(':') {
        Some(("client", id)) => (id.parse().ok(), None),
        Some(("site", ids)) => match ids.split_once(':').map(|(c, s)| (c.parse().ok(), s.parse().ok())) {
            Some((Some(c), Some(s))) => (Some(c), Some(s)),
            _ => (None, None),
        },
        _ => (f.client_id.as_deref().and_then(|c| c.parse().ok()), None),
    };
    if client_id.is_none() && site_id.is_none() && devices.is_none() {
        return Err(ApiError::invalid("target", "choose a client or a site").into());
    }
    let req = RunRequest {
        device_ids: devices,
        client_id,
        site_id,
        params: parse_values(&f.params),
        at: at_utc(&f.at),
        repeat: Some(f.repeat).filter(|r| !r.is_empty()),
    };
    let r = api::run_for(&app, &p, id, req).await?;
    Ok(see_other(&format!("/script-runs/{}", r.id)))
}

pub async fn run_on_device(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<RunForm>,
) -> PageResult {
    let script = f.script_id.as_deref().and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("script_id", "choose a script"))?;
    // The device must be this client's (the guard has checked the client).
    crate::devices::store::by_id(&mut app.store.clone(), device_id).await?.filter(|d| d.client_id == id).ok_or(ApiError::NotFound)?;
    let req = RunRequest { device_ids: Some(vec![device_id]), params: parse_values(&f.params), at: at_utc(&f.at), ..Default::default() };
    let r = api::run_for(&app, &p, script, req).await?;
    Ok(see_other(&format!("/script-runs/{}", r.id)))
}

#[derive(Template)]
#[template(path = "script_run.html")]
struct RunPage {
    l: Layout,
    d: api::RunDetail,
    can_decide: bool,
    can_cancel: bool,
}

impl RunPage {
    fn when(&self, t: &Option<crate::time::Timestamp>) -> String {
        t.map(|t| crate::time::fmt_time(t.0)).unwrap_or_default()
    }
}

pub async fn show_run(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    let d = api::detail_for(&app, &p, id).await?;
    let can_decide = d.run.state == "awaiting_approval" && d.run.requested_by != p.user.id;
    let can_cancel = matches!(d.run.state.as_str(), "scheduled" | "awaiting_approval");
    Ok(html(&RunPage { l: Layout::new(&app, &p, format!("Run #{id}"), "scripts"), d, can_decide, can_cancel }))
}

pub async fn approve(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    api::decide_for(&app, &p, id, true).await?;
    Ok(see_other(&format!("/script-runs/{id}")))
}

pub async fn cancel(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    api::cancel_for(&app, &p, id).await?;
    Ok(see_other(&format!("/script-runs/{id}")))
}

pub async fn reject(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    api::decide_for(&app, &p, id, false).await?;
    Ok(see_other(&format!("/script-runs/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_lines_read_as_people_write_them() {
        let ps = parse_params("who*\n  path = /tmp \n\nverbose");
        assert_eq!(params_text(&ps), "who*\npath=/tmp\nverbose");
        assert_eq!(parse_values("a=1\nb = two words\nnoise"), BTreeMap::from([("a".into(), "1".into()), ("b".into(), "two words".into())]));
        assert_eq!(at_utc("2026-12-01T02:30").as_deref(), Some("2026-12-01T02:30:00Z"));
        assert_eq!(at_utc(" "), None);
    }
}

#[derive(Template)]
#[template(path = "device_scripts.html")]
struct DeviceScripts {
    client_id: i64,
    device_id: i64,
    revoked: bool,
    csrf: String,
    /// Scripts this user may run here.
    scripts: Vec<(i64, String)>,
    results: Vec<super::store::ResultRow>,
}

impl DeviceScripts {
    fn when_opt(&self, t: &Option<crate::time::Timestamp>) -> String {
        t.map(|t| crate::time::fmt_time(t.0)).unwrap_or_default()
    }
}

/// The device page's panel: run a library script here, and what ran.
pub const DEVICE_PANEL: Panel = Panel { slot: Slot::Device, order: 10, render: device_panel };

fn device_panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client_id), Some(device_id)) = (ctx.client, ctx.device) else { return Ok(None) };
        if !p.can(Permission::ScriptsRun) {
            return Ok(None);
        }
        let mut db = app.store.clone();
        let Some(d) = crate::devices::store::by_id(&mut db, device_id).await?.filter(|d| d.client_id == client_id) else { return Ok(None) };
        let scripts: Vec<(i64, String)> = super::store::list_scripts(&mut db, false).await?.into_iter().map(|s| (s.id, s.name)).collect();
        let results = super::store::results_of_device(&mut db, device_id, 20).await?;
        if scripts.is_empty() && results.is_empty() {
            return Ok(None);
        }
        let panel = DeviceScripts { client_id, device_id, revoked: d.revoked_at.is_some(), csrf: p.csrf().to_string(), scripts, results };
        Fragment::render(&panel).map(Some)
    })
}

/// Template filters of the scripts' pages.
mod filters {
    /// A run's or result's state as people read it (`awaiting_approval`:
    /// "awaiting approval").
    pub fn state_label<T: std::fmt::Display>(state: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(state.to_string().replace('_', " "))
    }
}
