//! Live device state for the pages: every online/offline/removed change is
//! published here, and `GET /devices/events` streams the changes a user may
//! see (their clients only) as server-sent events. The pages' script
//! updates the state badges in place, so a device list left open stays true.

use crate::auth::roles::Permission;
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::App;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Serialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast;

/// A device's state changed.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub device_id: i64,
    #[serde(skip)]
    pub client_id: i64,
    /// `online`, `offline` or `removed`.
    pub state: &'static str,
}

/// The publishing side, in the application state.
pub struct Live(broadcast::Sender<Change>);

impl Default for Live {
    fn default() -> Self {
        Live(broadcast::channel(4096).0)
    }
}

impl Live {
    pub fn publish(&self, device_id: i64, client_id: i64, state: &'static str) {
        // No subscribers is fine: nobody is looking.
        let _ = self.0.send(Change { device_id, client_id, state });
    }
}

/// `GET /devices/events`: `presence` events (`{"device_id":…,"state":…}`)
/// for the user's clients; `resync` when this stream fell behind (the page
/// reloads its list).
pub async fn events(State(app): State<App>, p: Principal) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    p.require(Permission::ClientsRead)?;
    let scope = p.clients.clone();
    let rx = app.live.0.subscribe();
    let stream = futures_util::stream::unfold((rx, scope), |(mut rx, scope)| async move {
        loop {
            match rx.recv().await {
                Ok(c) if scope.as_ref().is_none_or(|s| s.contains(&c.client_id)) => {
                    let data = serde_json::to_string(&c).expect("serialises");
                    return Some((Ok(Event::default().event("presence").data(data)), (rx, scope)));
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => return Some((Ok(Event::default().event("resync").data("{}")), (rx, scope))),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
