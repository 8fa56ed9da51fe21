//! New mail within seconds: for each enabled mailbox whose server offers
//! IMAP IDLE, a watcher holds a connection in IDLE and, when the server
//! says the folder changed, makes the mailbox due and the `mail.poll` job
//! due now. The watcher only nudges: reading stays the leased job's, so a
//! message is still handled once however many nodes watch. Watchers run
//! on every node (a listener), are re-checked every [`SCAN`] (a mailbox
//! added, changed, turned off or removed), and IDLE is renewed well inside
//! the 29 minutes RFC 2177 allows. A server without IDLE is simply polled.

use super::account::account;
use super::imap;
use super::store;
use crate::app::domain::{BoxFut, Listener};
use crate::app::App;
use crate::events::Event;
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the watchers are matched to the mailboxes.
const SCAN: Duration = Duration::from_secs(5);
/// The longest one IDLE is held before it is renewed.
const RENEW: Duration = Duration::from_secs(20 * 60);
/// The pause after a watcher's connection fails, before it tries again.
const RETRY: Duration = Duration::from_secs(60);

pub const LISTENER: Listener = Listener { name: "mail.idle", run };

fn run(app: App, mut rx: tokio::sync::mpsc::Receiver<Event>) -> BoxFut<'static, ()> {
    Box::pin(async move {
        let supervisor = tokio::spawn(supervise(app));
        // Nothing on the bus is for us, but it must never wait on us.
        while rx.recv().await.is_some() {}
        supervisor.abort();
    })
}

/// A mailbox's watcher, and the settings it was started with.
struct Watcher {
    version: i64,
    task: JoinHandle<()>,
}

async fn supervise(app: App) {
    let mut watchers: HashMap<i64, Watcher> = HashMap::new();
    loop {
        match store::list(&mut app.store.clone()).await {
            Ok(boxes) => {
                let wanted: HashMap<i64, i64> = boxes.iter().filter(|m| m.enabled).map(|m| (m.id, m.updated_at)).collect();
                watchers.retain(|id, w| {
                    let keep = wanted.get(id) == Some(&w.version) && !w.task.is_finished();
                    if !keep {
                        w.task.abort();
                    }
                    keep
                });
                for (id, version) in wanted {
                    watchers.entry(id).or_insert_with(|| Watcher { version, task: tokio::spawn(watch(app.clone(), id)) });
                }
            }
            Err(e) => tracing::warn!(error = %e, "mail watchers: mailboxes not read"),
        }
        tokio::time::sleep(SCAN).await;
    }
}

/// Holds mailbox `id` in IDLE until the server has no IDLE (then returns:
/// polling covers it) or the task is stopped; a failure waits [`RETRY`].
async fn watch(app: App, id: i64) {
    loop {
        let Ok(Some(mb)) = store::get(&mut app.store.clone(), id).await else { return };
        let opened = match account(&app, &mb) {
            Ok(a) => imap::open(&a).await,
            Err(e) => Err(e),
        };
        let mut reader = match opened {
            Ok((r, _)) => r,
            Err(e) => {
                tracing::debug!(mailbox = id, error = %e, "mail watcher cannot connect");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        match reader.can_idle().await {
            Ok(true) => {}
            Ok(false) => {
                reader.logout().await;
                return;
            }
            Err(_) => {
                tokio::time::sleep(RETRY).await;
                continue;
            }
        }
        loop {
            match reader.idle(RENEW).await {
                Ok((r, news)) => {
                    reader = r;
                    if news {
                        nudge(&app, id).await;
                    }
                }
                Err(e) => {
                    tracing::debug!(mailbox = id, error = %e, "mail watcher lost its connection");
                    tokio::time::sleep(RETRY.min(Duration::from_secs(5))).await;
                    break;
                }
            }
        }
    }
}

/// The mailbox is read at the job's next tick.
async fn nudge(app: &App, id: i64) {
    let done = async {
        let mut tx = app.store.begin().await?;
        store::make_due(&mut tx, id).await?;
        crate::store::lease::due_now(&mut tx, super::POLL_JOB).await?;
        tx.commit().await?;
        Ok::<_, crate::store::StoreError>(())
    };
    if let Err(e) = done.await {
        tracing::warn!(mailbox = id, error = %e, "new mail not announced to the reader");
    }
}
