//! The server-side checks, run by the `monitoring.evaluate` job (one node
//! at a time, under its lease): offline (an enrolled device silent past
//! `alert_offline_after_secs` is critical) and the built-in metric checks
//! read from what agents already report (CPU and memory averaged over 15
//! minutes, the fullest disk's use). Each result
//! goes through the check state machine; a change of state opens,
//! re-grades or resolves the device's alert in one audited transaction,
//! so an alert never exists without its state or the other way round.
//! Snoozed alerts whose time is up open again.

use super::store::{self as alerts, NewAlert, Watched};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::monitoring::checks::model::{grade, step, Builtin, Hysteresis, State, Status, CPU, DISK, MEMORY};
use crate::monitoring::store as metrics;
use crate::time::now_us;
use serde_json::json;
use std::collections::HashMap;

/// The offline check's key and type.
pub const OFFLINE: &str = "offline";
/// Devices read per batch.
const BATCH: u64 = 1000;
/// The window the CPU and memory checks average over.
const AVERAGE_OVER_US: i64 = 15 * 60 * 1_000_000;

/// A check's identity as its alert shows it.
struct Check<'a> {
    key: &'a str,
    /// After the host name in the alert's title.
    label: &'a str,
}

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
fn metric_result(b: &Builtin, value: Option<f64>, what: &str) -> (Status, String) {
    match value {
        Some(v) => (grade(v, b.threshold), format!("{what} {v:.0} %")),
        None => (Status::Pass, String::new()),
    }
}

/// One evaluation of every device.
pub async fn run(app: &App) -> anyhow::Result<()> {
    reopen_snoozed(app).await?;
    let tickets_on = super::tickets::threshold(&crate::settings::store::alert_tickets(&app.store).await?);
    let after_secs = app.cfg.alert_offline_after_secs;
    let offline_h = Hysteresis { fail_after: 1, recover_after: 1 };
    let mut after_id = 0;
    loop {
        let now = now_us();
        let mut db = app.store.clone();
        let devices = alerts::watched(&mut db, after_id, BATCH).await?;
        let Some(last) = devices.last() else { break };
        after_id = last.id;
        let ids: Vec<i64> = devices.iter().map(|d| d.id).collect();
        let mut averages: HashMap<(i64, String), f64> = HashMap::new();
        for a in metrics::averages(&mut db, &ids, &["cpu", "mem"], now - AVERAGE_OVER_US).await? {
            averages.insert((a.device_id, a.series), a.avg);
        }
        let disks: HashMap<i64, (f64, String)> =
            metrics::fullest_disks(&mut db, &ids).await?.into_iter().map(|f| (f.device_id, (f.disk, f.disk_mount))).collect();
        let mut stored: HashMap<(i64, String), State> = HashMap::new();
        for key in [OFFLINE, CPU.key, MEMORY.key, DISK.key] {
            for r in alerts::states(&mut db, key, &ids).await? {
                if let Ok(s) = serde_json::from_str(&r.state) {
                    stored.insert((r.device_id, key.to_string()), s);
                }
            }
        }
        for d in &devices {
            let offline = offline_result(d, now, after_secs);
            // While it is offline its last figures are old news: the
            // metric checks keep their state until it reports again.
            let mut results = vec![(Check { key: OFFLINE, label: "is offline" }, offline_h, offline.clone())];
            if offline.0 == Status::Pass {
                let avg = |s: &str| averages.get(&(d.id, s.to_string())).copied();
                let disk = disks.get(&d.id);
                let disk_what = disk.map(|(_, m)| format!("{m} used")).unwrap_or_default();
                results.push((Check { key: CPU.key, label: CPU.label }, CPU.hysteresis, metric_result(&CPU, avg("cpu"), "CPU averaged")));
                results.push((
                    Check { key: MEMORY.key, label: MEMORY.label },
                    MEMORY.hysteresis,
                    metric_result(&MEMORY, avg("mem"), "memory averaged"),
                ));
                results.push((
                    Check { key: DISK.key, label: DISK.label },
                    DISK.hysteresis,
                    metric_result(&DISK, disk.map(|(v, _)| *v), &disk_what),
                ));
            }
            for (check, h, (result, output)) in results {
                let before = stored.get(&(d.id, check.key.to_string())).cloned().unwrap_or_default();
                let (next, changed) = step(&before, result, h, now / 1_000_000);
                if next == before {
                    continue;
                }
                apply(app, d, &check, &next, changed, &output, tickets_on, now).await?;
            }
        }
    }
    Ok(())
}

/// Stores a check's new state and, when its status changed, what that does
/// to the device's alert: all in one audited transaction.
#[allow(clippy::too_many_arguments)]
async fn apply(
    app: &App,
    d: &Watched,
    check: &Check<'_>,
    next: &State,
    changed: bool,
    output: &str,
    tickets_on: Option<Status>,
    now: i64,
) -> anyhow::Result<()> {
    let key = check.key;
    let state = serde_json::to_string(next)?;
    if !changed {
        // Only the streak or the flap memory moved: nothing to audit.
        let _turn = app.store.write_turn().await;
        let mut tx = app.store.begin().await?;
        alerts::set_state(&mut tx, d.id, key, &state, output, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    let mut tx = app.store.begin_audited().await?;
    alerts::set_state(tx.tx(), d.id, key, &state, output, now).await?;
    let open = alerts::unresolved(tx.tx(), d.id, key).await?;
    // A recovery with no alert left (resolved by hand) still records the
    // state change in the log.
    let mut ticket = None;
    let event = match (next.status, open) {
        (Status::Pass, Some(a)) => {
            alerts::transition(tx.tx(), a.id, "resolved", None, now).await?;
            super::tickets::on_resolved(tx.tx(), &a, "the check passes again", now).await?;
            alerts::add_event(tx.tx(), a.id, "recovered", None, "the check passes again", now).await?;
            Event::new("alert.resolve", "alert", a.id).client(d.client_id).details(json!({"device_id": d.id, "check": key, "by": "check"}))
        }
        (Status::Pass, None) => {
            Event::new("check.recover", "device", d.id).client(d.client_id).details(json!({"check": key, "hostname": d.hostname}))
        }
        (severity, Some(a)) => {
            alerts::refresh(tx.tx(), a.id, severity.as_str(), output, now).await?;
            alerts::add_event(tx.tx(), a.id, "severity", None, severity.as_str(), now).await?;
            // Graver now: it may reach the ticket threshold.
            if let Some(row) = alerts::unresolved(tx.tx(), d.id, key).await? {
                ticket = super::tickets::on_alert(tx.tx(), &row, tickets_on, now).await?;
            }
            Event::new("alert.update", "alert", a.id).client(d.client_id).details(json!({"severity": severity.as_str()}))
        }
        (severity, None) => {
            let title = format!("{} {}", d.hostname, check.label);
            let new = NewAlert {
                client_id: d.client_id,
                device_id: d.id,
                check_key: key,
                check_type: key,
                severity: severity.as_str(),
                title: &title,
                output,
                now,
            };
            let id = alerts::insert(tx.tx(), new).await?;
            alerts::add_event(tx.tx(), id, "opened", None, output, now).await?;
            if let Some(row) = alerts::unresolved(tx.tx(), d.id, key).await? {
                ticket = super::tickets::on_alert(tx.tx(), &row, tickets_on, now).await?;
            }
            Event::new("alert.open", "alert", id)
                .client(d.client_id)
                .details(json!({"device_id": d.id, "check": key, "severity": severity.as_str(), "title": title}))
        }
    };
    let event = match ticket {
        Some(t) => event.detail("ticket_id", json!(t)),
        None => event,
    };
    if event.target_type == "alert" {
        let id: i64 = event.target_id.parse().unwrap_or_default();
        super::ops::tell_webhooks(tx.tx(), &event.action, d.client_id, id).await?;
    }
    tx.commit(&Actor::system(), event).await?;
    if let Some(t) = ticket {
        app.bus.publish(crate::events::Event::TicketChanged { ticket: t, client: d.client_id }).await;
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
        }
    }
    Ok(())
}
