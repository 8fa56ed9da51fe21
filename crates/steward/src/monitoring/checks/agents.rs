//! The checks agents run: each connected agent that runs checks is sent
//! its set (signed like a command) when it connects with another version,
//! whenever a policy or an assignment changes, and again when its results
//! say it still runs another one (a set lost on the way); the results agents
//! report are graded, kept, and go through the check state machine to
//! `alerts::transition`.
//!
//! One worker per node does both, so what it remembers (the policies read
//! once, each device's resolved checks, the version each agent runs) needs
//! no lock. Devices assigned the same policies share one resolution. The
//! worker is not a bus listener itself: it publishes (alerts, tickets), and
//! a listener that publishes while its own queue is full waits for itself.
//! A light listener forwards `MonitoringChanged` to it instead.

use super::model::{step, State, Status};
use super::runtime::Reported;
use super::store::{self as checks, ResultRow, StateWrite};
use crate::app::domain::{BoxFut, Listener};
use crate::app::App;
use crate::events::Event;
use crate::monitoring::alerts::transition::{apply, CheckRef, Found, Target};
use crate::monitoring::policies::model::{agent_set, label, resolve, Assigned, Effective, Kind, Level};
use crate::monitoring::policies::ops::{self as policies, Catalogue};
use crate::monitoring::policies::store as assignments;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward_protocol::checks::{CheckKind, CheckSet};
use steward_protocol::command::CommandBody;
use steward_protocol::messages::ServerMsg;

pub const LISTENER: Listener = Listener { name: "monitoring checks", run: listen };

/// Messages ingested together at most.
const BATCH: usize = 256;
/// A check whose state and output stay the same has its state written
/// again only this often (its "last result" time on the device page).
const REWRITE_AFTER_US: i64 = 5 * 60 * 1_000_000;
/// How long a sent set stays valid for the agent to accept it.
const SET_TTL_SECS: i64 = 600;
/// An agent still reporting another set this long after it was sent one
/// lost it (the connection dropped, the command was refused): sent again.
const RESEND_AFTER: Duration = Duration::from_secs(10);
/// How often sets that could not be sent (a database error, a full
/// mailbox) are tried again.
const RETRY_EVERY: Duration = Duration::from_secs(5);

/// A resolution shared by devices assigned the same policies.
struct Resolved {
    by_key: HashMap<String, Effective>,
    set: CheckSet,
}

/// What the task knows of one device.
struct Device {
    client: i64,
    site: i64,
    hostname: String,
    checks: Arc<Resolved>,
}

/// What the levels above a device assign: devices with the same shape
/// run the same checks.
type Shape = Vec<((Level, i64), Vec<i64>, Vec<String>)>;

#[derive(Default)]
struct Memory {
    catalogue: Option<Arc<Catalogue>>,
    resolved: HashMap<Shape, Arc<Resolved>>,
    devices: HashMap<i64, Device>,
    /// The set version each agent connected here runs.
    sent: HashMap<i64, String>,
    /// When each was last sent a set.
    pushed_at: HashMap<i64, Instant>,
    /// Agents whose set could not be sent.
    retry: HashSet<i64>,
}

impl Memory {
    fn forget(&mut self) {
        self.catalogue = None;
        self.resolved.clear();
        self.devices.clear();
    }

    async fn device(&mut self, app: &App, id: i64) -> anyhow::Result<Option<&Device>> {
        if !self.devices.contains_key(&id) {
            let mut db = app.store.clone();
            let Some(d) = crate::devices::store::by_id(&mut db, id).await?.filter(|d| d.revoked_at.is_none()) else {
                return Ok(None);
            };
            let cat = match &self.catalogue {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(policies::catalogue(&mut db).await?);
                    self.catalogue = Some(c.clone());
                    c
                }
            };
            let assigned = assignments::assigned(&mut db, &policies::levels_of(d.client_id, d.site_id, id)).await?;
            let shape: Shape = assigned.iter().map(|(k, a)| (*k, a.policy_ids.clone(), a.excluded.clone())).collect();
            let checks = match self.resolved.get(&shape) {
                Some(r) => r.clone(),
                None => {
                    let named: Vec<(Level, &Assigned)> = assigned.iter().map(|((l, _), a)| (*l, a)).collect();
                    let eff = resolve(&named, &cat.policies);
                    let set = agent_set(&eff, &cat.scripts);
                    let r = Arc::new(Resolved { by_key: eff.into_iter().map(|e| (e.check.key.clone(), e)).collect(), set });
                    self.resolved.insert(shape, r.clone());
                    r
                }
            };
            self.devices.insert(id, Device { client: d.client_id, site: d.site_id, hostname: d.hostname, checks });
        }
        Ok(self.devices.get(&id))
    }
}

fn listen(app: App, mut bus: tokio::sync::mpsc::Receiver<Event>) -> BoxFut<'static, ()> {
    Box::pin(async move {
        let Some((results, wanted)) = app.checks.take_receivers() else { return };
        let (changed_tx, changed_rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(work(app.clone(), results, wanted, changed_rx));
        while let Some(e) = bus.recv().await {
            if matches!(e, Event::MonitoringChanged) {
                let _ = changed_tx.send(());
            }
        }
    })
}

async fn work(
    app: App,
    mut results: tokio::sync::mpsc::Receiver<Reported>,
    mut wanted: tokio::sync::mpsc::UnboundedReceiver<super::runtime::Wanted>,
    mut changed: tokio::sync::mpsc::UnboundedReceiver<()>,
) {
    let mut mem = Memory::default();
    let mut retry_tick = tokio::time::interval(RETRY_EVERY);
    loop {
        // In this order: a connection's news (what it runs) before the
        // results it sends after, so they are judged against it.
        tokio::select! {
                biased;
                c = changed.recv() => {
                    if c.is_none() {
                        return;
                    }
                    // Several changes at once need one pass.
                    while changed.try_recv().is_ok() {}
                    mem.forget();
                    push_all(&app, &mut mem).await;
                }
                Some(w) = wanted.recv() => {
                    // A new connection: what it says it runs is what counts.
                    mem.sent.insert(w.device, w.version);
                    mem.pushed_at.remove(&w.device);
                    push(&app, &mut mem, w.device).await;
                }
                r = results.recv() => {
                    let Some(first) = r else { return };
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match results.try_recv() {
                            Ok(more) => batch.push(more),
                            Err(_) => break,
                        }
                    }
                    if let Err(e) = ingest(&app, &mut mem, batch).await {
                        tracing::error!(error = %e, "check results not stored");
                    }
                }
                _ = retry_tick.tick(), if !mem.retry.is_empty() => {
                    for d in std::mem::take(&mut mem.retry) {
                        if app.agents.is_online(d) {
                            push(&app, &mut mem, d).await;
                        }
                    }
                }
        }
    }
}

/// Sends a device its set when the version it runs differs.
async fn push(app: &App, mem: &mut Memory, device: i64) {
    let set = match mem.device(app, device).await {
        Ok(Some(d)) => d.checks.set.clone(),
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(device, error = %e, "checks not sent yet; tried again shortly");
            mem.retry.insert(device);
            return;
        }
    };
    if mem.sent.get(&device) == Some(&set.version) {
        return;
    }
    let version = set.version.clone();
    let (_, envelope) = crate::devices::commands::sign(app, device, CommandBody::Checks(set), SET_TTL_SECS);
    if app.agents.send(device, ServerMsg::Command { envelope }) {
        mem.sent.insert(device, version);
        mem.pushed_at.insert(device, Instant::now());
    } else if app.agents.is_online(device) {
        mem.retry.insert(device);
    } else {
        mem.sent.remove(&device);
    }
}

/// After a change, every agent connected here that runs another version.
async fn push_all(app: &App, mem: &mut Memory) {
    mem.sent.retain(|d, _| app.agents.is_online(*d));
    mem.pushed_at.retain(|d, _| mem.sent.contains_key(d));
    let devices: Vec<i64> = mem.sent.keys().copied().collect();
    for d in devices {
        push(app, mem, d).await;
    }
}

/// The result's status: as the agent graded it, except a clock's drift,
/// which only the server can measure.
fn graded(e: &Effective, verdict: steward_protocol::checks::Verdict, output: String, drift_secs: i64) -> (Status, String, Option<f64>) {
    match &e.check.kind {
        Kind::Agent(CheckKind::TimeDrift { levels }) => {
            let status = levels.above(drift_secs.unsigned_abs() as f64).into();
            (status, format!("the clock is {drift_secs:+} s off the server's"), Some(drift_secs as f64))
        }
        _ => (verdict.into(), output, None),
    }
}

/// Grades, keeps and applies a batch of agents' results.
async fn ingest(app: &App, mem: &mut Memory, batch: Vec<Reported>) -> anyhow::Result<()> {
    let installation = crate::monitoring::alerts::tickets::threshold(&crate::settings::store::alert_tickets(&app.store).await?);
    let ids: Vec<i64> = batch.iter().map(|r| r.device).collect();
    // Each check's state, the output it shows and when it was written.
    let mut stored: HashMap<(i64, String), (State, String, i64)> = HashMap::new();
    for r in checks::states(&mut app.store.clone(), &ids).await? {
        if let Ok(s) = serde_json::from_str(&r.state) {
            stored.insert((r.device_id, r.check_key), (s, r.output, r.updated_at));
        }
    }
    let mut rows = vec![];
    let mut plain = vec![];
    let mut changes = vec![];
    // Agents that say they run another set than theirs.
    let mut astray: Vec<(i64, String)> = vec![];
    for rep in batch {
        let Some(d) = mem.device(app, rep.device).await? else { continue };
        if d.client != rep.client {
            continue;
        }
        if let Some(runs) = rep.runs.filter(|v| *v != d.checks.set.version) {
            astray.push((rep.device, runs));
        }
        let now_s = rep.received_at / 1_000_000;
        for r in rep.results {
            // A result of a check the device no longer runs (an older set).
            let Some(e) = d.checks.by_key.get(&r.key) else { continue };
            let (status, output, value) = graded(e, r.verdict, r.output, rep.drift_secs);
            let value = value.or(r.value).filter(|v| v.is_finite());
            let at = r.at.clamp(now_s - 86_400, now_s) * 1_000_000;
            rows.push(ResultRow {
                device_id: rep.device,
                check_key: r.key.clone(),
                at,
                status: status.as_str(),
                output: output.clone(),
                value,
            });
            let (before, shown, written) =
                stored.get(&(rep.device, r.key.clone())).cloned().unwrap_or_else(|| (State::default(), String::new(), 0));
            let (next, changed) = step(&before, status, e.check.hysteresis(), now_s);
            // Nothing new to keep: the state, what it shows and a recent
            // enough time (most results of a healthy fleet) — the raw
            // result is still stored.
            let same = next == before && shown == output && rep.received_at - written < REWRITE_AFTER_US;
            stored.insert((rep.device, r.key.clone()), (next.clone(), output.clone(), if same { written } else { rep.received_at }));
            let item = (rep.device, (d.client, d.site), d.hostname.clone(), e.clone(), next, output, value, rep.received_at);
            if changed {
                changes.push(item);
            } else if !same {
                plain.push(item);
            }
        }
    }
    {
        let mut tx = app.store.begin().await?;
        checks::add_results(&mut tx, &rows).await?;
        for (device, _, _, e, next, output, value, now) in &plain {
            let state = serde_json::to_string(next)?;
            let w = StateWrite {
                device_id: *device,
                check_key: &e.check.key,
                check_type: e.check.kind.type_name(),
                state: &state,
                status: next.status.as_str(),
                output,
                value: *value,
                now: *now,
            };
            checks::set_state(&mut tx, &w).await?;
            if next.status != Status::Pass {
                crate::monitoring::alerts::store::refresh_output(&mut tx, *device, &e.check.key, output, *now).await?;
            }
        }
        tx.commit().await?;
    }
    for (device, (client, site), hostname, e, next, output, value, now) in changes {
        let target = Target { device_id: device, client_id: client, site_id: site, hostname: &hostname };
        let label = label(&e.check);
        let check = CheckRef {
            key: &e.check.key,
            check_type: e.check.kind.type_name(),
            label: &label,
            tickets_on: e.ticket_on.or(installation),
            policy_id: e.policy_id,
        };
        apply(app, &target, &check, &next, true, &Found { output: &output, value }, now).await?;
    }
    for (device, runs) in astray {
        // Just sent one: it may still be on its way.
        if mem.pushed_at.get(&device).is_some_and(|t| t.elapsed() < RESEND_AFTER) {
            continue;
        }
        mem.sent.insert(device, runs);
        push(app, mem, device).await;
    }
    Ok(())
}
