//! The server-side checks of each device's monitoring policies, run by the
//! `monitoring.evaluate` job (one node at a time, under its lease):
//! `offline` (an enrolled device silent past the check's `after_secs`, else
//! the server's `alert_offline_after_secs`, is critical) and `metric` (CPU
//! or memory averaged over the check's window, the fullest disk's use,
//! read from what agents already report). Each result goes through the
//! check state machine and `transition::apply`. Snoozed alerts whose time
//! is up open again, suppressed ones whose maintenance window ended too,
//! and alerts of checks a device no longer runs are resolved.

use super::store::{self as alerts, Watched};
use super::transition::{apply, release_suppressed, resolve_removed, CheckRef, Found, Target};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::monitoring::checks::model::{step, State, Status};
use crate::monitoring::checks::store as checks;
use crate::monitoring::policies::model::{label, resolve, Assigned, Check, Kind, Level, ServerKind};
use crate::monitoring::policies::{ops as policies, store as assignments};
use crate::monitoring::store as metrics;
use crate::time::now_us;
use std::collections::{HashMap, HashSet};
use steward_protocol::checks::Levels;

/// Devices read per batch.
const BATCH: u64 = 1000;

/// The offline check's result for a device at `now_us`.
fn offline_result(d: &Watched, now_us: i64, after_secs: u64) -> (Status, String) {
    let silent_since = d.last_seen_at.unwrap_or(d.enrolled_at);
    let silent_secs = (now_us - silent_since) / 1_000_000;
    if !d.online && silent_secs >= after_secs as i64 {
        (Status::Critical, format!("{} has not been heard from for {} min", d.hostname, silent_secs / 60))
    } else {
        (Status::Pass, String::new())
    }
}

/// A metric check's result: no figure is no failure (an agent that has
/// not reported yet is the offline check's business).
fn metric_result(levels: &Levels, value: Option<f64>, what: &str) -> (Status, String) {
    let Some(v) = value else { return (Status::Pass, String::new()) };
    (levels.above(v).into(), format!("{what} {v:.0} %"))
}

/// One evaluation of every device.
pub async fn run(app: &App) -> anyhow::Result<()> {
    reopen_snoozed(app).await?;
    let installation = super::tickets::threshold(&crate::settings::store::alert_tickets(&app.store).await?);
    let mut db = app.store.clone();
    let cat = policies::catalogue(&mut db).await?;
    let assigned = assignments::all_assigned(&mut db).await?;
    let none = Assigned::default();
    let effective = |client: i64, site: i64, device: i64| {
        let levels = policies::levels_of(client, site, device);
        let named: Vec<(Level, &Assigned)> = levels.iter().map(|k| (k.0, assigned.get(k).unwrap_or(&none))).collect();
        resolve(&named, &cat.policies)
    };
    let tickets_on = |client: i64, site: i64, device: i64, key: &str| {
        effective(client, site, device).into_iter().find(|e| e.check.key == key).and_then(|e| e.ticket_on).or(installation)
    };
    release_suppressed(app, tickets_on).await?;
    let mut after_id = 0;
    loop {
        let now = now_us();
        let devices = alerts::watched(&mut db, after_id, BATCH).await?;
        let Some(last) = devices.last() else { break };
        after_id = last.id;
        let ids: Vec<i64> = devices.iter().map(|d| d.id).collect();
        // Each device's server-side checks, and the keys of all its checks.
        let mut wanted: Vec<(usize, Check, Option<Status>, i64)> = vec![];
        let mut runs: HashSet<(i64, String)> = HashSet::new();
        for (i, d) in devices.iter().enumerate() {
            for e in effective(d.client_id, d.site_id, d.id) {
                runs.insert((d.id, e.check.key.clone()));
                if matches!(e.check.kind, Kind::Server(ServerKind::Offline { .. } | ServerKind::Metric { .. })) {
                    wanted.push((i, e.check, e.ticket_on.or(installation), e.policy_id));
                }
            }
        }
        for a in alerts::unresolved_of(&mut db, &ids).await? {
            if !runs.contains(&(a.device_id, a.check_key.clone())) {
                resolve_removed(app, &a).await?;
            }
        }
        // The averages each window needs, read once per window and series.
        let mut averages: HashMap<(i64, String, u32), f64> = HashMap::new();
        let mut windows: Vec<(String, u32)> = wanted
            .iter()
            .filter_map(|(_, c, _, _)| match &c.kind {
                Kind::Server(ServerKind::Metric { series, window_secs, .. }) if series != "disk" => Some((series.clone(), *window_secs)),
                _ => None,
            })
            .collect();
        windows.sort();
        windows.dedup();
        for (series, window) in &windows {
            for a in metrics::averages(&mut db, &ids, &[series.as_str()], now - *window as i64 * 1_000_000).await? {
                averages.insert((a.device_id, a.series, *window), a.avg);
            }
        }
        let disks: HashMap<i64, (f64, String)> =
            metrics::fullest_disks(&mut db, &ids).await?.into_iter().map(|f| (f.device_id, (f.disk, f.disk_mount))).collect();
        let mut stored: HashMap<(i64, String), State> = HashMap::new();
        for r in checks::states(&mut db, &ids).await? {
            if let Ok(s) = serde_json::from_str(&r.state) {
                stored.insert((r.device_id, r.check_key), s);
            }
        }
        let offline_now: HashMap<i64, bool> =
            devices.iter().map(|d| (d.id, offline_result(d, now, app.cfg.alert_offline_after_secs).0 != Status::Pass)).collect();
        for (i, c, tickets_on, policy_id) in wanted {
            let d = &devices[i];
            let (result, output) = match &c.kind {
                Kind::Server(ServerKind::Offline { after_secs }) => {
                    offline_result(d, now, after_secs.map(u64::from).unwrap_or(app.cfg.alert_offline_after_secs))
                }
                // While it is offline its last figures are old news: the
                // metric checks keep their state until it reports again.
                Kind::Server(ServerKind::Metric { .. }) if offline_now[&d.id] => continue,
                Kind::Server(ServerKind::Metric { series, levels, .. }) if series == "disk" => {
                    let disk = disks.get(&d.id);
                    let what = disk.map(|(_, m)| format!("{m} used")).unwrap_or_default();
                    metric_result(levels, disk.map(|(v, _)| *v), &what)
                }
                Kind::Server(ServerKind::Metric { series, window_secs, levels }) => {
                    let what = if series == "cpu" { "CPU averaged" } else { "memory averaged" };
                    metric_result(levels, averages.get(&(d.id, series.clone(), *window_secs)).copied(), what)
                }
                _ => continue,
            };
            let before = stored.get(&(d.id, c.key.clone())).cloned().unwrap_or_default();
            let (next, changed) = step(&before, result, c.hysteresis(), now / 1_000_000);
            if next == before {
                continue;
            }
            let target = Target { device_id: d.id, client_id: d.client_id, site_id: d.site_id, hostname: &d.hostname };
            let label = label(&c);
            let check = CheckRef { key: &c.key, check_type: c.kind.type_name(), label: &label, tickets_on, policy_id };
            apply(app, &target, &check, &next, changed, &Found { output: &output, value: None }, now).await?;
        }
    }
    Ok(())
}

/// Snoozed alerts whose time is up are open again.
async fn reopen_snoozed(app: &App) -> anyhow::Result<()> {
    let now = now_us();
    for a in alerts::snooze_over(&mut app.store.clone(), now, 500).await? {
        let mut tx = app.store.begin_audited().await?;
        // Resolved meanwhile: the dropped transaction writes nothing.
        if alerts::transition(tx.tx(), a.id, "open", None, now).await? {
            alerts::add_event(tx.tx(), a.id, "unsnoozed", None, "the snooze ended", now).await?;
            tx.commit(&Actor::system(), Event::new("alert.unsnooze", "alert", a.id).client(a.client_id)).await?;
            app.bus.publish(crate::events::Event::AlertChanged { alert: a.id, client: a.client_id }).await;
        }
    }
    Ok(())
}
