//! Monitoring policies: created, changed and removed by administrators
//! (audited; every connected agent concerned gets its new checks at once,
//! through `MonitoringChanged`), assigned at a level (shared by the
//! installation settings', a client's, a site's and a device's `PATCH`),
//! and what a device ends up running ([`device_checks`]).

use super::model::{self, Assigned, Effective, Level, LibraryScript, Policy};
use super::store::{self, PolicyRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::monitoring::checks::model::Status;
use crate::store::Db;
use crate::time::{now_us, rfc3339};
use crate::validate::Name;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A policy to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewMonitoringPolicy)]
pub struct NewPolicy {
    #[schema(value_type = Name)]
    pub name: String,
    /// Checks: objects with a `type` (`disk_free`, `cpu`, `memory`,
    /// `service`, `process`, `ping`, `tcp_port`, `http`, `event_log`,
    /// `script`, `pending_reboot`, `time_drift`, `antivirus`, `firewall`,
    /// `disk_encryption`, `offline`, `metric`), the type's own fields, and
    /// optionally `key`, `interval_secs` (10–86400), `severity` (`warning`
    /// or `critical`), `fail_after` and `recover_after` (1–20, default 2).
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<Value>,
    /// Open a ticket for this policy's alerts of at least this severity
    /// (`warning` or `critical`); absent or null: the installation's
    /// `alert_tickets` setting decides.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ticket_on: Option<String>,
}

/// Changes to a policy; absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MonitoringPolicyPatch)]
pub struct PolicyPatch {
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub checks: Option<Vec<Value>>,
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub ticket_on: Option<Option<String>>,
}

/// Where a policy is assigned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Assignment {
    pub level: Level,
    /// The client, site or device (0 for the installation).
    pub id: i64,
}

/// A policy as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MonitoringPolicy {
    pub id: i64,
    pub name: String,
    /// Its checks, each with every field filled in.
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<Value>,
    pub ticket_on: Option<String>,
    pub assigned_to: Vec<Assignment>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

fn ticket_on(v: Option<&str>) -> Result<Option<&str>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) if s == "warning" || s == "critical" => Ok(Some(s)),
        Some(_) => Err(ApiError::refused("ticket_on", "must be warning, critical or null")),
    }
}

/// Reads a stored policy (a check that no longer reads is left out, and
/// logged: it was valid when stored).
pub fn parsed(r: &PolicyRow) -> Policy {
    let list: Vec<Value> = serde_json::from_str(&r.checks).unwrap_or_default();
    let checks = list
        .iter()
        .filter_map(|v| match model::parse_check(v) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(policy = r.id, error = %e, "a stored check does not read; skipped");
                None
            }
        })
        .collect();
    Policy { id: r.id, name: r.name.clone(), checks, ticket_on: r.ticket_on.as_deref().and_then(Status::parse) }
}

fn shown(r: PolicyRow, links: &[store::LinkRow]) -> MonitoringPolicy {
    let checks = parsed(&r).checks.iter().map(|c| serde_json::to_value(c).expect("checks serialise")).collect();
    let assigned_to = links
        .iter()
        .filter(|l| l.policy_id == r.id)
        .filter_map(|l| Some(Assignment { level: Level::parse(&l.level)?, id: l.target_id }))
        .collect();
    MonitoringPolicy {
        id: r.id,
        name: r.name,
        checks,
        ticket_on: r.ticket_on,
        assigned_to,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    }
}

pub async fn list(app: &App, p: &Principal) -> Result<Vec<MonitoringPolicy>, ApiError> {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    let links = store::links(&mut db).await?;
    Ok(store::list(&mut db).await?.into_iter().map(|r| shown(r, &links)).collect())
}

pub async fn get(app: &App, p: &Principal, id: i64) -> Result<MonitoringPolicy, ApiError> {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    let r = store::get(&mut db, id).await?.ok_or(ApiError::NotFound)?;
    Ok(shown(r, &store::links(&mut db).await?))
}

/// Checks the checks, including that each script check names a library
/// script in use; returns them as stored.
async fn checked(db: &mut impl Db, list: &[Value]) -> Result<String, ApiError> {
    let checks = model::parse_checks(list).map_err(|(field, e)| ApiError::refused(&field, &e))?;
    for (i, c) in checks.iter().enumerate() {
        if let model::Kind::Server(model::ServerKind::Script { script_id, .. }) = c.kind {
            let usable = crate::scripts::store::get_script(db, script_id).await?.is_some_and(|s| !s.archived);
            if !usable {
                return Err(ApiError::refused(&format!("checks[{i}]"), "script_id is not a script of the library"));
            }
        }
    }
    Ok(serde_json::to_string(&checks).expect("checks serialise"))
}

pub async fn create(app: &App, p: &Principal, input: NewPolicy) -> Result<MonitoringPolicy, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let name = Name::parse(&input.name).map_err(|e| ApiError::refused("name", &e))?.into_string();
    let ticket = ticket_on(input.ticket_on.as_deref())?;
    let mut tx = app.store.begin_audited().await?;
    let checks = checked(tx.tx(), &input.checks).await?;
    if store::name_taken(tx.tx(), &name, None).await? {
        return Err(ApiError::Conflict("a policy has this name already".into()));
    }
    let id = store::insert(tx.tx(), &name, &checks, ticket, now_us()).await?;
    let after = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let event =
        Event::new("monitoring_policy.create", "monitoring_policy", id).details(json!({"name": name, "checks": input.checks.len()}));
    tx.commit(&p.actor(), event).await?;
    app.bus.publish(Happened::MonitoringChanged).await;
    Ok(shown(after, &[]))
}

pub async fn update(app: &App, p: &Principal, id: i64, patch: PolicyPatch) -> Result<MonitoringPolicy, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let before = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let name = match &patch.name {
        Some(n) => Name::parse(n).map_err(|e| ApiError::refused("name", &e))?.into_string(),
        None => before.name.clone(),
    };
    let checks = match &patch.checks {
        Some(list) => checked(tx.tx(), list).await?,
        None => before.checks.clone(),
    };
    let ticket = match &patch.ticket_on {
        Some(t) => ticket_on(t.as_deref())?.map(str::to_string),
        None => before.ticket_on.clone(),
    };
    if store::name_taken(tx.tx(), &name, Some(id)).await? {
        return Err(ApiError::Conflict("a policy has this name already".into()));
    }
    store::update(tx.tx(), id, &name, &checks, ticket.as_deref(), now_us()).await?;
    let after = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let links = store::links(tx.tx()).await?;
    let old = json!({"name": before.name, "checks": serde_json::from_str::<Value>(&before.checks).unwrap_or_default(), "ticket_on": before.ticket_on});
    let new = json!({"name": after.name, "checks": serde_json::from_str::<Value>(&after.checks).unwrap_or_default(), "ticket_on": after.ticket_on});
    tx.commit_change(&p.actor(), Event::new("monitoring_policy.update", "monitoring_policy", id), &old, &new).await?;
    app.bus.publish(Happened::MonitoringChanged).await;
    Ok(shown(after, &links))
}

pub async fn delete(app: &App, p: &Principal, id: i64) -> Result<(), ApiError> {
    p.require(Permission::SettingsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let before = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    store::delete(tx.tx(), id).await?;
    tx.commit(&p.actor(), Event::new("monitoring_policy.delete", "monitoring_policy", id).details(json!({"name": before.name}))).await?;
    app.bus.publish(Happened::MonitoringChanged).await;
    Ok(())
}

/// Applies an assignment change inside the caller's audited transaction;
/// returns what to add to its audit entry (`None`: nothing asked). The
/// caller publishes `MonitoringChanged` after its commit.
pub async fn assign(
    db: &mut impl Db,
    level: Level,
    target: i64,
    policy_ids: Option<Vec<i64>>,
    excluded: Option<Vec<String>>,
) -> Result<Option<Value>, ApiError> {
    if policy_ids.is_none() && excluded.is_none() {
        return Ok(None);
    }
    let mut details = serde_json::Map::new();
    if let Some(ids) = &policy_ids {
        let mut unique = ids.clone();
        unique.dedup();
        if unique.len() != ids.len() || ids.len() > 20 {
            return Err(ApiError::refused("monitoring_policy_ids", "up to 20 policies, each once"));
        }
        let found = store::existing(db, ids).await?;
        if let Some(missing) = ids.iter().find(|i| !found.contains(i)) {
            return Err(ApiError::refused("monitoring_policy_ids", format!("{missing} is not a monitoring policy")));
        }
        store::set_policies(db, level, target, ids).await?;
        details.insert("monitoring_policy_ids".into(), json!(ids));
    }
    if let Some(keys) = &excluded {
        let mut keys: Vec<String> = keys.iter().map(|k| k.trim().to_string()).collect();
        keys.sort();
        keys.dedup();
        if keys.len() > 100 || keys.iter().any(|k| k.is_empty() || k.chars().count() > 200) {
            return Err(ApiError::refused("monitoring_excluded_checks", "up to 100 check keys of 1 to 200 characters"));
        }
        store::set_excluded(db, level, target, &keys).await?;
        details.insert("monitoring_excluded_checks".into(), json!(keys));
    }
    Ok(Some(Value::Object(details)))
}

/// An audit entry with the assignment `assign` made, if any.
pub fn with_assignment(e: Event, assigned: &Option<Value>) -> Event {
    match assigned {
        Some(m) => e.detail("monitoring", m.clone()),
        None => e,
    }
}

/// Everything resolution needs, read once: every policy, and the library
/// scripts script checks name.
pub struct Catalogue {
    pub policies: HashMap<i64, Policy>,
    pub scripts: HashMap<i64, LibraryScript>,
}

pub async fn catalogue(db: &mut impl Db) -> crate::store::Result<Catalogue> {
    let policies: HashMap<i64, Policy> = store::list(db).await?.iter().map(|r| (r.id, parsed(r))).collect();
    let mut scripts = HashMap::new();
    for p in policies.values() {
        for c in &p.checks {
            if let model::Kind::Server(model::ServerKind::Script { script_id, .. }) = c.kind {
                if let Some(s) = crate::scripts::store::get_script(db, script_id).await?.filter(|s| !s.archived) {
                    let timeout_secs = s.timeout_secs.clamp(1, 3600) as u32;
                    scripts.insert(script_id, LibraryScript { shell: s.shell, body: s.body, timeout_secs });
                }
            }
        }
    }
    Ok(Catalogue { policies, scripts })
}

/// The levels above a device, most general first.
pub fn levels_of(client: i64, site: i64, device: i64) -> [(Level, i64); 4] {
    [(Level::Installation, 0), (Level::Client, client), (Level::Site, site), (Level::Device, device)]
}

/// The checks a device runs, with where each came from.
pub async fn device_checks(db: &mut impl Db, cat: &Catalogue, client: i64, site: i64, device: i64) -> crate::store::Result<Vec<Effective>> {
    let assigned = store::assigned(db, &levels_of(client, site, device)).await?;
    let named: Vec<(Level, &Assigned)> = assigned.iter().map(|((l, _), a)| (*l, a)).collect();
    Ok(model::resolve(&named, &cat.policies))
}

/// A check as the device's checks list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceCheck {
    pub key: String,
    #[serde(rename = "type")]
    pub check_type: String,
    /// The check's definition, every field filled in.
    #[schema(value_type = Object)]
    pub check: Value,
    pub policy_id: i64,
    pub policy: String,
    /// The level the winning definition was assigned at.
    pub from: Level,
    /// `pass`, `warning` or `critical` (pass until a result came).
    pub status: String,
    pub output: String,
    pub value: Option<f64>,
    /// More than 6 state changes in the last hour.
    pub flapping: bool,
    /// When the state was last written: at each change of state or
    /// output, and at least every 5 minutes while results come.
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

/// What a device's checks are now: each effective check and its state.
pub async fn checks_of_device(app: &App, p: &Principal, client_id: i64, device_id: i64) -> Result<Vec<DeviceCheck>, ApiError> {
    p.require(Permission::ClientsRead)?;
    p.client(client_id)?;
    let mut db = app.store.clone();
    let d = crate::devices::store::by_id(&mut db, device_id).await?.filter(|d| d.client_id == client_id).ok_or(ApiError::NotFound)?;
    let cat = catalogue(&mut db).await?;
    let checks = device_checks(&mut db, &cat, client_id, d.site_id, device_id).await?;
    let states: HashMap<String, crate::monitoring::checks::store::StateView> =
        crate::monitoring::checks::store::of_device(&mut db, device_id).await?.into_iter().map(|s| (s.check_key.clone(), s)).collect();
    let now_s = now_us() / 1_000_000;
    Ok(checks
        .into_iter()
        .map(|e| {
            let s = states.get(&e.check.key);
            let state: Option<crate::monitoring::checks::model::State> = s.and_then(|s| serde_json::from_str(&s.state).ok());
            DeviceCheck {
                key: e.check.key.clone(),
                check_type: e.check.kind.type_name().into(),
                check: serde_json::to_value(&e.check).expect("checks serialise"),
                policy_id: e.policy_id,
                policy: e.policy,
                from: e.from,
                status: state.as_ref().map(|s| s.status.as_str()).unwrap_or("pass").into(),
                output: s.map(|s| s.output.clone()).unwrap_or_default(),
                value: s.and_then(|s| s.value),
                flapping: state.as_ref().is_some_and(|s| s.flapping(now_s)),
                updated_at: s.map(|s| rfc3339(s.updated_at)),
            }
        })
        .collect())
}
