//! `/api/v1/scripts[/{id}[/runs]]`, `/api/v1/script-runs[/{id}[/approve|/reject]]`
//! and a device's results under `/api/v1/clients/{id}/devices/{device_id}`.
//!
//! The library is global (one MSP, one set of scripts); runs are scoped:
//! a technician limited to some clients can target only their devices, sees
//! only runs that touch them and only their devices' results, and cannot
//! approve a run that reaches beyond them.

use super::model::Target;
use super::model::{self, ParamSpec};
use super::store::{self as runs, Run, Script, ScriptFields};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::time::{now_us, rfc3339};
use crate::validate::{Medium, Name};
use serde::{Deserialize, Serialize};
use serde_json::json as j;
use std::collections::{BTreeMap, BTreeSet};

/// A library script.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScriptInfo {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// `bash`, `sh`, `python`, `powershell` or `cmd`.
    pub shell: String,
    pub body: String,
    #[schema(max_items = 32)]
    pub parameters: Vec<ParamSpec>,
    pub timeout_secs: i64,
    /// `system` or a user name.
    pub run_as: String,
    /// SHA-256 of the shell and the text.
    pub hash: String,
    pub archived: bool,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Script> for ScriptInfo {
    fn from(s: Script) -> Self {
        ScriptInfo {
            parameters: serde_json::from_str(&s.parameters).unwrap_or_default(),
            id: s.id,
            name: s.name,
            description: s.description,
            shell: s.shell,
            body: s.body,
            timeout_secs: s.timeout_secs,
            run_as: s.run_as,
            hash: s.hash,
            archived: s.archived,
            updated_at: rfc3339(s.updated_at),
        }
    }
}

/// A script to add, or the whole of a changed one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptRequest {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Medium)]
    pub description: String,
    #[schema(value_type = super::model::Shell)]
    pub shell: String,
    /// The script's text (at most 256 KiB).
    #[schema(min_length = 1, max_length = 262144, pattern = r"\S")]
    pub body: String,
    #[serde(default)]
    #[schema(max_items = 32)]
    pub parameters: Vec<ParamSpec>,
    /// Seconds (1–14400, default 300).
    #[schema(minimum = 1, maximum = 14400)]
    pub timeout_secs: Option<u32>,
    /// `system` (default) or a user name.
    #[schema(pattern = r"^(system|[a-z_][a-z0-9_-]{0,31})$")]
    pub run_as: Option<String>,
    #[serde(default)]
    pub archived: bool,
}

fn library_editor(p: &Principal) -> Result<(), ApiError> {
    p.require(Permission::ScriptsWrite)?;
    if p.clients.is_some() {
        // The library serves every client: someone limited to some may not change it.
        return Err(ApiError::Forbidden("the script library is for users not limited to some clients".into()));
    }
    Ok(())
}

/// A script request's fields, checked and normalised.
struct Checked {
    name: Name,
    description: Medium,
    timeout: u32,
    run_as: String,
    params: String,
}

impl Checked {
    fn fields<'a>(&'a self, r: &'a ScriptRequest) -> ScriptFields<'a> {
        ScriptFields {
            name: &self.name,
            description: &self.description,
            shell: &r.shell,
            body: &r.body,
            parameters: &self.params,
            timeout_secs: self.timeout as i64,
            run_as: &self.run_as,
            archived: r.archived,
        }
    }
}

fn checked(r: &ScriptRequest) -> Result<Checked, ApiError> {
    let name = Name::parse(&r.name).map_err(|m| ApiError::invalid("name", m))?;
    let description = Medium::parse(&r.description).map_err(|m| ApiError::invalid("description", m))?;
    let timeout = r.timeout_secs.unwrap_or(300);
    let run_as = r.run_as.clone().unwrap_or_else(|| "system".into());
    model::check_script(&r.shell, &r.body, &r.parameters, timeout, &run_as).map_err(|(f, m)| ApiError::invalid(f, m))?;
    if let Some(name) = model::duplicate_param(&r.parameters) {
        return Err(ApiError::refused("parameters", format!("{name} appears twice")));
    }
    Ok(Checked { name, description, timeout, run_as, params: serde_json::to_string(&r.parameters).expect("serialises") })
}

/// Adds a script (shared with the pages).
pub async fn create_for(app: &App, p: &Principal, r: ScriptRequest) -> Result<ScriptInfo, ApiError> {
    library_editor(p)?;
    let c = checked(&r)?;
    let mut tx = app.store.begin_audited().await?;
    let s = runs::insert_script(tx.tx(), &c.fields(&r), p.user.id).await?;
    tx.commit(
        &p.actor(),
        Event::new("script.create", "script", s.id).details(j!({"name": c.name, "shell": r.shell, "hash": s.hash, "run_as": c.run_as})),
    )
    .await?;
    Ok(s.into())
}

/// Replaces a script's fields (shared with the pages).
pub async fn update_for(app: &App, p: &Principal, id: i64, r: ScriptRequest) -> Result<ScriptInfo, ApiError> {
    library_editor(p)?;
    let c = checked(&r)?;
    let mut tx = app.store.begin_audited().await?;
    let before = runs::get_script(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    runs::update_script(tx.tx(), id, &c.fields(&r)).await?;
    let after = runs::get_script(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(
        &p.actor(),
        Event::new("script.update", "script", id).details(j!({
            "name": c.name,
            "before": {"hash": before.hash, "run_as": before.run_as, "archived": before.archived},
            "after": {"hash": after.hash, "run_as": after.run_as, "archived": after.archived},
        })),
    )
    .await?;
    Ok(after.into())
}

/// Where and how to run a script: either `device_ids`, or a `client_id`
/// (with an optional `site_id`) for all of its devices.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The devices to run on (or give `client_id` instead).
    #[schema(min_items = 1, max_items = 100000)]
    pub device_ids: Option<Vec<i64>>,
    pub client_id: Option<i64>,
    pub site_id: Option<i64>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// RFC 3339 time to run at (absent: now).
    #[schema(value_type = Option<crate::time::Timestamp>)]
    pub at: Option<String>,
    /// `hourly`, `daily` or `weekly`: run again at that interval from `at`
    /// (each time on the devices the target then has), until cancelled.
    #[schema(value_type = Option<super::model::Repeat>)]
    pub repeat: Option<String>,
}

/// A run as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunInfo {
    pub id: i64,
    pub script_id: i64,
    pub script_name: String,
    pub script_hash: String,
    /// `awaiting_approval`, `scheduled`, `running`, `done`, `rejected` or `cancelled`.
    pub state: String,
    pub requested_by: i64,
    #[schema(format = DateTime)]
    pub requested_at: String,
    pub approved_by: Option<i64>,
    pub scheduled_for: Option<String>,
    pub device_count: i64,
    pub client_ids: Vec<i64>,
    pub params: BTreeMap<String, String>,
    /// `hourly`, `daily` or `weekly` for a recurring run.
    pub repeat: Option<String>,
    /// True when the run also reaches clients the caller may not see: what
    /// is shown is their part (their clients, their devices), and the
    /// parameters, which were given for every client, are withheld.
    pub partial: bool,
}

impl RunInfo {
    /// The run as `p` may see it: all of it, or their clients' part.
    pub async fn seen_by(db: &mut impl crate::store::Db, r: &Run, p: &Principal) -> Result<RunInfo, ApiError> {
        let mut info = RunInfo::from(r);
        if let Some(mine) = &p.clients {
            let all = std::mem::take(&mut info.client_ids);
            info.partial = all.iter().any(|c| !mine.contains(c));
            info.client_ids = all.into_iter().filter(|c| mine.contains(c)).collect();
            if info.partial {
                info.params.clear();
                info.device_count = runs::count_results_in(db, r.id, Some(mine)).await?;
            }
        }
        Ok(info)
    }
}

impl From<&Run> for RunInfo {
    fn from(r: &Run) -> Self {
        RunInfo {
            id: r.id,
            script_id: r.script_id,
            script_name: r.script_name.clone(),
            script_hash: r.script_hash.clone(),
            state: r.state.clone(),
            requested_by: r.requested_by,
            requested_at: rfc3339(r.requested_at),
            approved_by: r.approved_by,
            scheduled_for: r.scheduled_for.map(rfc3339),
            device_count: r.device_count,
            client_ids: serde_json::from_str(&r.client_ids).unwrap_or_default(),
            params: serde_json::from_str(&r.params).unwrap_or_default(),
            repeat: r.repeat_every.clone(),
            partial: false,
        }
    }
}

/// The devices a request names, as (device, client), within the user's scope.
async fn targets(app: &App, p: &Principal, r: &RunRequest) -> Result<Vec<(i64, i64)>, ApiError> {
    let mut db = app.store.clone();
    let visible = |client: i64| p.clients.as_ref().is_none_or(|c| c.contains(&client));
    match (&r.device_ids, r.client_id) {
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > model::MAX_TARGETS {
                return Err(ApiError::invalid("device_ids", format!("name 1 to {} devices", model::MAX_TARGETS)));
            }
            let mut out = vec![];
            for id in ids.iter().collect::<BTreeSet<_>>() {
                // Unknown, removed and out-of-scope devices all read as not found.
                let d = crate::devices::store::by_id(&mut db, *id)
                    .await?
                    .filter(|d| d.revoked_at.is_none() && visible(d.client_id))
                    .ok_or(ApiError::NotFound)?;
                out.push((d.id, d.client_id));
            }
            Ok(out)
        }
        (None, Some(client)) => {
            if crate::tenancy::store::get_client(&mut db, p.client(client)?).await?.is_none() {
                return Err(ApiError::NotFound);
            }
            let f = crate::devices::store::query::DeviceFilter { client_id: Some(client), site_id: r.site_id, ..Default::default() };
            let (rows, _) = crate::devices::store::query::search(&mut db, p.clients.as_deref(), &f, model::MAX_TARGETS as u64, 0).await?;
            let out: Vec<(i64, i64)> =
                rows.into_iter().filter(|r| r.device.revoked_at.is_none()).map(|r| (r.device.id, r.device.client_id)).collect();
            if out.is_empty() {
                return Err(ApiError::refused("client_id", "no devices to run on there"));
            }
            Ok(out)
        }
        _ => Err(ApiError::refused("device_ids", "give either device_ids, or client_id (and optionally site_id)")),
    }
}

/// Requests a run (shared with the pages).
pub async fn run_for(app: &App, p: &Principal, script_id: i64, r: RunRequest) -> Result<RunInfo, ApiError> {
    p.require(Permission::ScriptsRun)?;
    let script = runs::get_script(&mut app.store.clone(), script_id).await?.ok_or(ApiError::NotFound)?;
    if script.archived {
        return Err(ApiError::refused("script_id", "the script is archived"));
    }
    let spec: Vec<ParamSpec> = serde_json::from_str(&script.parameters).unwrap_or_default();
    let params = model::resolve_params(&spec, &r.params).map_err(|m| ApiError::refused("params", m))?;
    let at = match r.at.as_deref() {
        None | Some("") => None,
        Some(t) => Some(
            chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|_| ApiError::invalid("at", "an RFC 3339 time, e.g. 2026-12-01T02:00:00Z"))?
                .timestamp_micros(),
        ),
    };
    if let Some(every) = r.repeat.as_deref().filter(|e| !e.is_empty()) {
        model::period_secs(every).ok_or_else(|| ApiError::invalid("repeat", "hourly, daily or weekly"))?;
    }
    let repeat = r.repeat.clone().filter(|e| !e.is_empty());
    let target = Target { device_ids: r.device_ids.clone(), client_id: r.client_id, site_id: r.site_id };
    let targets = targets(app, p, &r).await?;
    let clients: BTreeSet<i64> = targets.iter().map(|t| t.1).collect();
    let threshold = crate::settings::store::script_approval_threshold(&app.store).await? as usize;
    let approval = model::needs_approval(targets.len(), clients.len(), threshold);
    // A recurring run without a start time starts now and repeats from now.
    let future = at.filter(|t| *t > now_us()).or(repeat.as_ref().map(|_| now_us()));
    let state = if approval {
        "awaiting_approval"
    } else if future.is_some_and(|t| t > now_us()) || repeat.is_some() {
        "scheduled"
    } else {
        "running"
    };
    let run = Run {
        id: 0,
        script_id,
        script_name: script.name.clone(),
        script_hash: script.hash.clone(),
        shell: script.shell.clone(),
        body: script.body.clone(),
        params: serde_json::to_string(&params).expect("serialises"),
        timeout_secs: script.timeout_secs,
        run_as: script.run_as.clone(),
        state: state.into(),
        requested_by: p.user.id,
        requested_at: now_us(),
        approved_by: None,
        decided_at: None,
        scheduled_for: future,
        device_count: targets.len() as i64,
        client_ids: serde_json::to_string(&clients).expect("serialises"),
        repeat_every: repeat.clone(),
        target: serde_json::to_string(&target).expect("serialises"),
    };
    let mut tx = app.store.begin_audited().await?;
    let id = runs::insert_run(tx.tx(), &run, &targets).await?;
    let devices: Vec<i64> = targets.iter().map(|t| t.0).take(1000).collect();
    let mut event = Event::new("script.run", "script_run", id).details(j!({
        "script_id": script_id, "script_name": script.name, "script_hash": script.hash, "run_as": script.run_as,
        "params": params, "device_count": targets.len(), "devices": devices, "clients": clients,
        "needs_approval": approval, "scheduled_for": future.map(rfc3339), "repeat": repeat,
    }));
    if clients.len() == 1 {
        event = event.client(*clients.iter().next().expect("one"));
    }
    tx.commit(&p.actor(), event).await?;
    if state == "running" {
        super::dispatch::start(app, id).await?;
    } else if state == "scheduled" {
        // A recurring run due now starts at once rather than at the next tick.
        super::dispatch::start_due(app).await?;
    }
    let stored = runs::get_run(&mut app.store.clone(), id).await?.ok_or_else(|| ApiError::internal("run vanished"))?;
    RunInfo::seen_by(&mut app.store.clone(), &stored, p).await
}

/// A run with its results on the devices the user may see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunInfo,
    pub results: Vec<runs::ResultRow>,
}

/// A run the user may see: it touches at least one of their clients.
async fn visible_run(app: &App, p: &Principal, id: i64) -> Result<(Run, Vec<runs::ResultRow>), ApiError> {
    p.require(Permission::ScriptsRun)?;
    let mut db = app.store.clone();
    let run = runs::get_run(&mut db, id).await?.ok_or(ApiError::NotFound)?;
    let results = runs::results_of_run(&mut db, id, p.clients.as_deref()).await?;
    if results.is_empty() && p.clients.is_some() {
        return Err(ApiError::NotFound);
    }
    Ok((run, results))
}

/// A run and its results (shared with the pages).
pub async fn detail_for(app: &App, p: &Principal, id: i64) -> Result<RunDetail, ApiError> {
    let (run, results) = visible_run(app, p, id).await?;
    Ok(RunDetail { run: RunInfo::seen_by(&mut app.store.clone(), &run, p).await?, results })
}

/// Approves or rejects a run awaiting approval (shared with the pages).
pub async fn decide_for(app: &App, p: &Principal, id: i64, approve: bool) -> Result<RunInfo, ApiError> {
    let (run, _) = visible_run(app, p, id).await?;
    let clients: Vec<i64> = serde_json::from_str(&run.client_ids).unwrap_or_default();
    if p.clients.as_ref().is_some_and(|mine| clients.iter().any(|c| !mine.contains(c))) {
        return Err(ApiError::Forbidden("this run reaches clients you are not responsible for".into()));
    }
    if run.requested_by == p.user.id {
        return Err(ApiError::Forbidden("a second person must approve or reject a run".into()));
    }
    let later = run.scheduled_for.is_some_and(|t| t > now_us()) || run.repeat_every.is_some();
    let to = match (approve, later) {
        (false, _) => "rejected",
        (true, true) => "scheduled",
        (true, false) => "running",
    };
    let mut tx = app.store.begin_audited().await?;
    if !runs::transition(tx.tx(), id, "awaiting_approval", to, Some(p.user.id)).await? {
        return Err(ApiError::Conflict(format!("the run is {}, not awaiting approval", run.state)));
    }
    let action = if approve { "script.approve" } else { "script.reject" };
    tx.commit(
        &p.actor(),
        Event::new(action, "script_run", id).details(j!({
            "script_id": run.script_id, "script_hash": run.script_hash, "requested_by": run.requested_by,
            "device_count": run.device_count, "clients": clients,
        })),
    )
    .await?;
    match to {
        "running" => drop(super::dispatch::start(app, id).await?),
        "scheduled" => super::dispatch::start_due(app).await?,
        _ => {}
    }
    let stored = runs::get_run(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?;
    RunInfo::seen_by(&mut app.store.clone(), &stored, p).await
}

/// Cancels a run that has not started (scheduled, recurring, or awaiting
/// approval); shared with the pages.
pub async fn cancel_for(app: &App, p: &Principal, id: i64) -> Result<RunInfo, ApiError> {
    let (run, _) = visible_run(app, p, id).await?;
    let clients: Vec<i64> = serde_json::from_str(&run.client_ids).unwrap_or_default();
    if p.clients.as_ref().is_some_and(|mine| clients.iter().any(|c| !mine.contains(c))) {
        return Err(ApiError::Forbidden("this run reaches clients you are not responsible for".into()));
    }
    let mut tx = app.store.begin_audited().await?;
    let mut done = false;
    for from in ["scheduled", "awaiting_approval"] {
        done = done || runs::transition(tx.tx(), id, from, "cancelled", None).await?;
    }
    if !done {
        return Err(ApiError::Conflict(format!("the run is {}: only a run that has not started can be cancelled", run.state)));
    }
    tx.commit(
        &p.actor(),
        Event::new("script.cancel", "script_run", id)
            .details(j!({"script_id": run.script_id, "script_hash": run.script_hash, "repeat": run.repeat_every})),
    )
    .await?;
    let stored = runs::get_run(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?;
    RunInfo::seen_by(&mut app.store.clone(), &stored, p).await
}
