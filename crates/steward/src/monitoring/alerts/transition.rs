//! What a check's new state does, for every check whoever runs it (the
//! server's own, or an agent's): the state is kept; a change of status
//! opens, re-grades or resolves the device's alert for that check (and its
//! ticket and webhooks) in one audited transaction, so an alert never
//! exists without its state or the other way round; while it keeps
//! failing, the open alert shows the latest output. An alert that opens
//! while a maintenance window is open for its device is `suppressed`: kept
//! and shown, but no ticket and no notification unless it still fails
//! when the window ends ([`release_suppressed`]).

use super::store::{self as alerts, NewAlert};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::monitoring::checks::model::{State, Status};
use crate::monitoring::checks::store::{self as checks, StateWrite};
use serde_json::json;

/// The device a check ran for.
pub struct Target<'a> {
    pub device_id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub hostname: &'a str,
}

/// The check, as its alert names it.
pub struct CheckRef<'a> {
    pub key: &'a str,
    pub check_type: &'a str,
    /// After the host name in the alert's title.
    pub label: &'a str,
    /// Alerts of at least this severity open a ticket (`None`: none).
    pub tickets_on: Option<Status>,
    /// The policy the check came from (webhooks may route by it).
    pub policy_id: i64,
}

/// What the check found this time.
pub struct Found<'a> {
    pub output: &'a str,
    pub value: Option<f64>,
}

/// Stores a check's new state and, when its status changed, what that does
/// to the device's alert.
pub async fn apply(
    app: &App,
    d: &Target<'_>,
    check: &CheckRef<'_>,
    next: &State,
    changed: bool,
    found: &Found<'_>,
    now: i64,
) -> anyhow::Result<()> {
    let key = check.key;
    let state = serde_json::to_string(next)?;
    let write = StateWrite {
        device_id: d.device_id,
        check_key: key,
        check_type: check.check_type,
        state: &state,
        status: next.status.as_str(),
        output: found.output,
        value: found.value,
        now,
    };
    if !changed {
        // Only the streak, the flap memory or the output moved: nothing to audit.
        let mut tx = app.store.begin().await?;
        checks::set_state(&mut tx, &write).await?;
        if next.status != Status::Pass {
            alerts::refresh_output(&mut tx, d.device_id, key, found.output, now).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    let mut tx = app.store.begin_audited().await?;
    // `now` is when the result arrived; the history says when it was recorded
    // (the difference is the ingest delay the checks benchmark measures).
    let recorded = crate::time::now_us();
    checks::set_state(tx.tx(), &write).await?;
    checks::add_change(tx.tx(), d.device_id, key, now, next.status.as_str()).await?;
    let open = alerts::unresolved(tx.tx(), d.device_id, key).await?;
    let output = found.output;
    // A recovery with no alert left (resolved by hand) still records the
    // state change in the log.
    let mut ticket = None;
    // Nobody was told of a suppressed alert: nobody is told it ended.
    let mut quiet = false;
    let event = match (next.status, open) {
        (Status::Pass, Some(a)) => {
            quiet = a.state == "suppressed";
            alerts::transition(tx.tx(), a.id, "resolved", None, now).await?;
            super::tickets::on_resolved(tx.tx(), &a, "the check passes again", now).await?;
            alerts::add_event(tx.tx(), a.id, "recovered", None, "the check passes again", now).await?;
            Event::new("alert.resolve", "alert", a.id)
                .client(d.client_id)
                .details(json!({"device_id": d.device_id, "check": key, "by": "check"}))
        }
        (Status::Pass, None) => {
            Event::new("check.recover", "device", d.device_id).client(d.client_id).details(json!({"check": key, "hostname": d.hostname}))
        }
        (severity, Some(a)) => {
            quiet = a.state == "suppressed";
            alerts::refresh(tx.tx(), a.id, severity.as_str(), output, now).await?;
            alerts::add_event(tx.tx(), a.id, "severity", None, severity.as_str(), now).await?;
            // Graver now: it may reach the ticket threshold.
            if let Some(row) = alerts::unresolved(tx.tx(), d.device_id, key).await?.filter(|_| !quiet) {
                ticket = super::tickets::on_alert(tx.tx(), &row, check.tickets_on, now).await?;
            }
            Event::new("alert.update", "alert", a.id).client(d.client_id).details(json!({"severity": severity.as_str()}))
        }
        (severity, None) => {
            let title = format!("{} {}", d.hostname, check.label);
            let new = NewAlert {
                client_id: d.client_id,
                device_id: d.device_id,
                check_key: key,
                check_type: check.check_type,
                severity: severity.as_str(),
                title: &title,
                output,
                policy_id: Some(check.policy_id),
                now,
            };
            let id = alerts::insert(tx.tx(), new).await?;
            alerts::add_event(tx.tx(), id, "opened", None, output, recorded).await?;
            let window = crate::monitoring::maintenance::ops::open_for_device(tx.tx(), d.client_id, d.site_id, d.device_id).await?;
            let details = json!({"device_id": d.device_id, "check": key, "severity": severity.as_str(), "title": title});
            match window {
                Some(w) => {
                    quiet = true;
                    alerts::transition(tx.tx(), id, "suppressed", None, now).await?;
                    let note = format!("maintenance window “{}” until {}", w.name, w.until);
                    alerts::add_event(tx.tx(), id, "suppressed", None, &note, now).await?;
                    Event::new("alert.suppress", "alert", id).client(d.client_id).details(details).detail("window", json!(w.name))
                }
                None => {
                    if let Some(row) = alerts::unresolved(tx.tx(), d.device_id, key).await? {
                        ticket = super::tickets::on_alert(tx.tx(), &row, check.tickets_on, now).await?;
                    }
                    Event::new("alert.open", "alert", id).client(d.client_id).details(details)
                }
            }
        }
    };
    let event = match ticket {
        Some(t) => event.detail("ticket_id", json!(t)),
        None => event,
    };
    let alert: Option<i64> = (event.target_type == "alert").then(|| event.target_id.parse().ok()).flatten();
    if let Some(id) = alert.filter(|_| !quiet) {
        super::ops::tell_webhooks(tx.tx(), &event.action, d.client_id, id, app.cfg.webhook_storm_limit).await?;
    }
    tx.commit(&Actor::system(), event).await?;
    if let Some(id) = alert {
        app.bus.publish(crate::events::Event::AlertChanged { alert: id, client: d.client_id }).await;
    }
    if let Some(t) = ticket {
        app.bus.publish(crate::events::Event::TicketChanged { ticket: t, client: d.client_id }).await;
    }
    Ok(())
}

/// Suppressed alerts whose device's maintenance window has ended are open
/// now, with their ticket and notifications, as if they had just opened.
/// (One whose check recovered during the window was resolved quietly.)
/// `tickets_on(client, site, device, check key)` says whose alerts open tickets.
pub async fn release_suppressed(app: &App, tickets_on: impl Fn(i64, i64, i64, &str) -> Option<Status>) -> anyhow::Result<()> {
    let now = crate::time::now_us();
    for a in alerts::in_state(&mut app.store.clone(), "suppressed", 500).await? {
        let Some(d) = crate::devices::store::by_id(&mut app.store.clone(), a.device_id).await? else { continue };
        let mut tx = app.store.begin_audited().await?;
        if crate::monitoring::maintenance::ops::open_for_device(tx.tx(), d.client_id, d.site_id, d.id).await?.is_some() {
            continue;
        }
        // Resolved meanwhile: the dropped transaction writes nothing.
        if !alerts::transition(tx.tx(), a.id, "open", None, now).await? {
            continue;
        }
        alerts::add_event(tx.tx(), a.id, "unsuppressed", None, "the maintenance window ended and the check still fails", now).await?;
        let mut event = Event::new("alert.open", "alert", a.id).client(a.client_id).details(
            json!({"device_id": a.device_id, "check": a.check_key, "severity": a.severity, "title": a.title, "after": "maintenance"}),
        );
        let ticket = match alerts::unresolved(tx.tx(), a.device_id, &a.check_key).await? {
            Some(row) => super::tickets::on_alert(tx.tx(), &row, tickets_on(d.client_id, d.site_id, d.id, &a.check_key), now).await?,
            None => None,
        };
        if let Some(t) = ticket {
            event = event.detail("ticket_id", json!(t));
        }
        super::ops::tell_webhooks(tx.tx(), "alert.open", a.client_id, a.id, app.cfg.webhook_storm_limit).await?;
        tx.commit(&Actor::system(), event).await?;
        app.bus.publish(crate::events::Event::AlertChanged { alert: a.id, client: a.client_id }).await;
        if let Some(t) = ticket {
            app.bus.publish(crate::events::Event::TicketChanged { ticket: t, client: a.client_id }).await;
        }
    }
    Ok(())
}

/// Resolves an alert whose check the device no longer runs (a policy or
/// an assignment changed), with a word on its ticket.
pub async fn resolve_removed(app: &App, a: &alerts::AlertRow) -> anyhow::Result<()> {
    let now = crate::time::now_us();
    let mut tx = app.store.begin_audited().await?;
    if !alerts::transition(tx.tx(), a.id, "resolved", None, now).await? {
        return Ok(());
    }
    let why = "the check is no longer in the device's monitoring policies";
    super::tickets::on_resolved(tx.tx(), a, why, now).await?;
    alerts::add_event(tx.tx(), a.id, "removed", None, why, now).await?;
    if a.state != "suppressed" {
        super::ops::tell_webhooks(tx.tx(), "alert.resolve", a.client_id, a.id, app.cfg.webhook_storm_limit).await?;
    }
    let event = Event::new("alert.resolve", "alert", a.id)
        .client(a.client_id)
        .details(json!({"device_id": a.device_id, "check": a.check_key, "by": "policy"}));
    tx.commit(&Actor::system(), event).await?;
    Ok(())
}
