//! Alert to ticket: an alert of at least the severity the settings name
//! (`alert_tickets`) opens a ticket on the device's client, linked to the
//! device, with the check's output and a link to the alert, its priority
//! from the severity. A new alert of a check whose previous alert's ticket
//! is still being worked on adds to that ticket instead of opening another;
//! a resolved alert writes an entry on its ticket. Always inside the
//! alert's own transaction: no ticket without its alert, no alert marked
//! with a ticket that was not made.

use super::store::{self as alerts, AlertRow};
use crate::auth::principal::ScopedClient;
use crate::monitoring::checks::model::Status;
use crate::store::Db;
use crate::tickets::ops::create::{insert, NewTicket};
use crate::tickets::store::thread::{add_entry, NewEntry};

/// The settings' threshold as a severity (`None`: off).
pub fn threshold(setting: &str) -> Option<Status> {
    Status::parse(setting).filter(|s| *s != Status::Pass)
}

fn priority(severity: &str) -> &'static str {
    if severity == "critical" {
        "P1"
    } else {
        "P3"
    }
}

/// Opens (or adds to) the alert's ticket when its severity reaches the
/// threshold and it has none; returns the ticket when one was opened.
pub async fn on_alert(db: &mut impl Db, a: &AlertRow, threshold: Option<Status>, now: i64) -> anyhow::Result<Option<i64>> {
    let reaches = threshold.is_some_and(|t| Status::parse(&a.severity).is_some_and(|s| s >= t));
    if !reaches || a.ticket_id.is_some() {
        return Ok(None);
    }
    let client = ScopedClient::system(a.client_id);
    let link = format!("/alerts?state=unresolved (alert {})", a.id);
    // The same check's earlier alert still has a ticket being worked on: add to it.
    if let Some(t) = alerts::open_ticket_of_check(db, a.device_id, &a.check_key, a.id).await? {
        let still_worked = crate::tickets::store::tickets::get(db, client, t)
            .await?
            .is_some_and(|t| matches!(t.status_kind.as_str(), "new" | "open" | "waiting" | "scheduled") && t.merged_into.is_none());
        if still_worked {
            let body = format!("The alert came back: {} ({}). {}\n{link}", a.title, a.severity, a.output);
            add_entry(db, NewEntry { ticket_id: t, kind: "note", author_id: None, body: &body, details: None, created_at: now }).await?;
            alerts::set_ticket(db, a.id, t).await?;
            return Ok(None);
        }
    }
    let body = format!("{}\n\nSeverity: {}. {}\n{link}", a.title, a.severity, a.output);
    let new = NewTicket {
        subject: a.title.clone(),
        priority: Some(priority(&a.severity).into()),
        device_ids: vec![a.device_id],
        tags: vec!["alert".into()],
        body: Some(body),
        ..Default::default()
    };
    let t =
        insert(db, None, client, new, None).await.map_err(|e| anyhow::anyhow!("alert ticket not opened: {}", e.body().error.message))?;
    alerts::set_ticket(db, a.id, t.id).await?;
    Ok(Some(t.id))
}

/// Writes on the alert's ticket that the alert was resolved, and how.
pub async fn on_resolved(db: &mut impl Db, a: &AlertRow, how: &str, now: i64) -> anyhow::Result<()> {
    if let Some(t) = a.ticket_id {
        let body = format!("Alert resolved ({how}): {}", a.title);
        add_entry(db, NewEntry { ticket_id: t, kind: "note", author_id: None, body: &body, details: None, created_at: now }).await?;
    }
    Ok(())
}
