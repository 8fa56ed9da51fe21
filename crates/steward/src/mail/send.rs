//! The `mail.send` job (one node at a time, under its lease): sends each
//! due outbox row through the configured SMTP server. A row is marked
//! sent only after the server accepted it (so a crash between the two
//! sends it again, with the same Message-ID, rather than never); a
//! temporary failure is tried again with backoff, a permanent one (or the
//! last try) marks it failed and says so on its ticket.

use super::outbox::{self, OutRow};
use super::smtp::{self, Outgoing, SendError};
use crate::app::App;
use crate::time::now_us;

/// Rows sent per round.
const BATCH: u64 = 50;
/// Tries before a temporary failure counts as final (about a day).
pub const MAX_ATTEMPTS: i64 = 12;

/// Seconds before try `attempt` + 1: `base` (a minute by default), then
/// doubling, at most 4 h.
pub fn backoff_secs(base: i64, attempt: i64) -> i64 {
    (base.max(1) << (attempt - 1).clamp(0, 12)).min(4 * 3600)
}

pub async fn run(app: &App) -> anyhow::Result<()> {
    let due = outbox::due(&mut app.store.clone(), now_us(), BATCH).await?;
    if due.is_empty() {
        return Ok(());
    }
    let Some((settings, password)) = smtp::load(app, &mut app.store.clone()).await? else {
        tracing::warn!(waiting = due.len(), "mail waits: no SMTP server is configured");
        return Ok(());
    };
    let sender = smtp::Sender::new(settings, &password);
    for row in due {
        let outcome = match &sender {
            Ok(sender) => {
                let from = match row.client_id {
                    Some(c) => super::clients::from_of(&mut app.store.clone(), c).await?,
                    None => None,
                };
                send_row(sender, &row, from).await
            }
            Err(e) => Err(SendError::Permanent(e.to_string())),
        };
        let now = now_us();
        let mut tx = app.store.begin().await?;
        match outcome {
            Ok(()) => outbox::attempted(&mut tx, row.id, "sent", "", now, now).await?,
            Err(e) => {
                let attempt = row.attempts + 1;
                let last = matches!(e, SendError::Permanent(_)) || attempt >= MAX_ATTEMPTS;
                tracing::warn!(mail = row.id, attempt, error = %e, "mail not sent");
                if last {
                    outbox::attempted(&mut tx, row.id, "failed", &e.to_string(), now, now).await?;
                    if let Some(t) = row.ticket_id {
                        let body = format!("The mail to {} was not delivered: {e}", addresses(&row.to_addresses).join(", "));
                        let details = serde_json::json!({"mail_failed": {"outbox_id": row.id, "error": e.to_string()}});
                        crate::tickets::store::thread::add_entry(
                            &mut tx,
                            crate::tickets::store::thread::NewEntry {
                                ticket_id: t,
                                kind: "event",
                                author_id: None,
                                body: &body,
                                details: Some(details),
                                created_at: now,
                            },
                        )
                        .await?;
                    }
                } else {
                    outbox::attempted(
                        &mut tx,
                        row.id,
                        "pending",
                        &e.to_string(),
                        now + backoff_secs(app.cfg.mail_retry_secs as i64, attempt) * 1_000_000,
                        now,
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

fn addresses(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

async fn send_row(sender: &smtp::Sender, row: &OutRow, from: Option<(String, String)>) -> Result<(), SendError> {
    let (to, cc) = (addresses(&row.to_addresses), addresses(&row.cc_addresses));
    let refs: Vec<String> = row.refs.split_whitespace().map(str::to_string).collect();
    let m = Outgoing {
        to: &to,
        cc: &cc,
        subject: &row.subject,
        message_id: &row.message_id,
        in_reply_to: &row.in_reply_to,
        references: &refs,
        text: &row.body_text,
        html: &row.body_html,
        from: from.as_ref().map(|(a, n)| (a.as_str(), n.as_str())),
        // Only a person's reply is a person's.
        automatic: row.kind != "reply",
    };
    sender.send(&m).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stops_at_four_hours() {
        assert_eq!(backoff_secs(60, 1), 60);
        assert_eq!(backoff_secs(60, 2), 120);
        assert!((2..40).all(|a| backoff_secs(60, a) >= backoff_secs(60, a - 1)));
        assert_eq!(backoff_secs(60, 40), 4 * 3600);
    }
}
