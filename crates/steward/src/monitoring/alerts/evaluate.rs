//! The server-side checks, run by the `monitoring.evaluate` job (one node
//! at a time, under its lease): today the offline check — an enrolled
//! device silent past `alert_offline_after_secs` is critical. Each result
//! goes through the check state machine; a change of state opens,
//! re-grades or resolves the device's alert in one audited transaction,
//! so an alert never exists without its state or the other way round.
//! Snoozed alerts whose time is up open again.

use super::store::{self as alerts, NewAlert, Watched};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::monitoring::checks::model::{step, Hysteresis, State, Status};
use crate::time::now_us;
use serde_json::json;
use std::collections::HashMap;

/// The offline check's key and type.
pub const OFFLINE: &str = "offline";
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

/// One evaluation of every device.
pub async fn run(app: &App) -> anyhow::Result<()> {
    reopen_snoozed(app).await?;
    let after_secs = app.cfg.alert_offline_after_secs;
    let h = Hysteresis { fail_after: 1, recover_after: 1 };
    let mut after_id = 0;
    loop {
        let now = now_us();
        let devices = alerts::watched(&mut app.store.clone(), after_id, BATCH).await?;
        let Some(last) = devices.last() else { break };
        after_id = last.id;
        let ids: Vec<i64> = devices.iter().map(|d| d.id).collect();
        let stored: HashMap<i64, State> = alerts::states(&mut app.store.clone(), OFFLINE, &ids)
            .await?
            .into_iter()
            .filter_map(|r| serde_json::from_str(&r.state).ok().map(|s| (r.device_id, s)))
            .collect();
        for d in &devices {
            let (result, output) = offline_result(d, now, after_secs);
            let before = stored.get(&d.id).cloned().unwrap_or_default();
            let (next, changed) = step(&before, result, h, now / 1_000_000);
            if next == before {
                continue;
            }
            apply(app, d, &next, changed, &output, now).await?;
        }
    }
    Ok(())
}

/// Stores a check's new state and, when its status changed, what that does
/// to the device's alert: all in one audited transaction.
async fn apply(app: &App, d: &Watched, next: &State, changed: bool, output: &str, now: i64) -> anyhow::Result<()> {
    let state = serde_json::to_string(next)?;
    if !changed {
        // Only the streak or the flap memory moved: nothing to audit.
        let _turn = app.store.write_turn().await;
        let mut tx = app.store.begin().await?;
        alerts::set_state(&mut tx, d.id, OFFLINE, &state, output, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    let mut tx = app.store.begin_audited().await?;
    alerts::set_state(tx.tx(), d.id, OFFLINE, &state, output, now).await?;
    let open = alerts::unresolved(tx.tx(), d.id, OFFLINE).await?;
    // A recovery with no alert left (resolved by hand) still records the
    // state change in the log.
    let event = match (next.status, open) {
        (Status::Pass, Some(a)) => {
            alerts::transition(tx.tx(), a.id, "resolved", None, now).await?;
            alerts::add_event(tx.tx(), a.id, "recovered", None, "the check passes again", now).await?;
            Event::new("alert.resolve", "alert", a.id)
                .client(d.client_id)
                .details(json!({"device_id": d.id, "check": OFFLINE, "by": "check"}))
        }
        (Status::Pass, None) => {
            Event::new("check.recover", "device", d.id).client(d.client_id).details(json!({"check": OFFLINE, "hostname": d.hostname}))
        }
        (severity, Some(a)) => {
            alerts::refresh(tx.tx(), a.id, severity.as_str(), output, now).await?;
            alerts::add_event(tx.tx(), a.id, "severity", None, severity.as_str(), now).await?;
            Event::new("alert.update", "alert", a.id).client(d.client_id).details(json!({"severity": severity.as_str()}))
        }
        (severity, None) => {
            let title = format!("{} is offline", d.hostname);
            let new = NewAlert {
                client_id: d.client_id,
                device_id: d.id,
                check_key: OFFLINE,
                check_type: OFFLINE,
                severity: severity.as_str(),
                title: &title,
                output,
                now,
            };
            let id = alerts::insert(tx.tx(), new).await?;
            alerts::add_event(tx.tx(), id, "opened", None, output, now).await?;
            Event::new("alert.open", "alert", id)
                .client(d.client_id)
                .details(json!({"device_id": d.id, "check": OFFLINE, "severity": severity.as_str(), "title": title}))
        }
    };
    tx.commit(&Actor::system(), event).await?;
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
