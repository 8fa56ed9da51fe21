//! When an MSP changes a client's or site's agent settings, the connected
//! agents it concerns get their new settings at once, instead of at their
//! next reconnect (which may be weeks away for a healthy fleet). Tenancy
//! says so on the event bus; [`LISTENER`] hears it.

use crate::app::domain::{BoxFut, Listener};
use crate::app::App;
use crate::devices::store as devices;
use crate::events::Event;

pub const LISTENER: Listener = Listener { name: "agent settings push", run: listen };

fn listen(app: App, mut rx: tokio::sync::mpsc::Receiver<Event>) -> BoxFut<'static, ()> {
    Box::pin(async move {
        while let Some(e) = rx.recv().await {
            if let Event::AgentSettingsChanged { client, site } = e {
                push(&app, client, site).await;
            }
        }
    })
}

/// Sends each connected device of the client (or of one of its sites) the
/// settings it now runs with; returns how many were told. Offline devices
/// get theirs in `Welcome` when they return.
pub async fn push(app: &App, client_id: i64, site_id: Option<i64>) -> usize {
    let rows = match devices::with_settings_of(&mut app.store.clone(), client_id, site_id).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(client_id, error = %e, "agent settings not pushed; agents get them when they reconnect");
            return 0;
        }
    };
    let server = app.cfg.agent_defaults();
    rows.iter().filter(|r| app.agents.apply_settings(r.device.id, r.effective(server))).count()
}
