//! The `mail.poll` job (one node at a time, under its lease): each
//! enabled mailbox whose time has come is read from where it stands
//! (`uid_validity`, `last_uid`): every newer message handled, one
//! transaction each (`ingest`), then flagged `\Seen` (and moved to the
//! mailbox's `move_to` folder, if it has one; never deleted). A changed
//! UIDVALIDITY (the folder was rebuilt) starts reading the folder again:
//! what was handled is recognised by its UID within the old validity no
//! more, so the server's word is trusted and messages are handled anew.
//! The outcome (or exactly what failed) is kept on the mailbox.

use super::account::account;
use super::imap::{self, Failure};
use super::ingest;
use super::store::{self, MailboxRow};
use crate::app::App;
use crate::time::now_us;

/// Messages fetched per round trip.
const BATCH: usize = 50;

/// The job: every mailbox due.
pub async fn run(app: &App) -> anyhow::Result<()> {
    let due = store::due(&mut app.store.clone(), now_us()).await?;
    for mb in due {
        let outcome = poll(app, &mb).await;
        let now = now_us();
        let error = match &outcome {
            Ok(_) => String::new(),
            Err(e) => {
                tracing::warn!(mailbox = mb.id, error = %e, "mailbox not read");
                e.to_string()
            }
        };
        store::polled(&mut app.store.clone(), mb.id, now, &error, now + mb.poll_secs.max(5) * 1_000_000).await?;
    }
    Ok(())
}

/// Reads one mailbox; returns the messages handled.
pub async fn poll(app: &App, mb: &MailboxRow) -> Result<usize, PollError> {
    let (mut reader, folder) = imap::open(&account(app, mb)?).await?;
    let validity = folder.uid_validity as i64;
    let after = if mb.uid_validity == Some(validity) { mb.last_uid.clamp(0, u32::MAX as i64) as u32 } else { 0 };
    let uids = reader.uids_after(after).await?;
    let mut handled = 0;
    for batch in uids.chunks(BATCH) {
        let messages = reader.fetch(batch).await?;
        let mut seen = vec![];
        for (uid, raw) in messages {
            if ingest::handle(app, mb, validity, uid as i64, &raw).await.map_err(PollError::Store)?.is_some() {
                handled += 1;
            }
            seen.push(uid);
        }
        reader.mark_seen(&seen).await?;
        if let Some(folder) = mb.move_to.as_deref() {
            reader.move_to(&seen, folder).await?;
        }
    }
    reader.logout().await;
    Ok(handled)
}

/// Why a poll stopped.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("{0}")]
    Mail(#[from] Failure),
    #[error("storing a message: {0}")]
    Store(anyhow::Error),
}
