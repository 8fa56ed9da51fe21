//! Live device state for the pages: `GET /devices/events` streams the
//! presence changes a user may see (their clients only) as server-sent
//! events, from the event bus. The pages' script updates the state badges
//! in place, so a device list left open stays true.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::events::{Event as Happened, Watched};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Serialize;
use std::convert::Infallible;
use std::time::Duration;

/// What a page is told.
#[derive(Serialize)]
struct Change {
    device_id: i64,
    /// `online`, `offline` or `removed`.
    state: &'static str,
}

/// `GET /devices/events`: `presence` events (`{"device_id":…,"state":…}`)
/// for the user's clients; `resync` when this stream fell behind (the page
/// reloads its list).
pub async fn events(State(app): State<App>, p: Principal) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let scope = p.clients.clone();
    let watch = app.bus.watch();
    let stream = futures_util::stream::unfold((watch, scope), |(mut watch, scope)| async move {
        loop {
            match watch.next().await {
                Watched::Event(Happened::DevicePresence { device, client, state })
                    if scope.as_ref().is_none_or(|s| s.contains(&client)) =>
                {
                    let data = serde_json::to_string(&Change { device_id: device, state: state.as_str() }).expect("serialises");
                    return Some((Ok(Event::default().event("presence").data(data)), (watch, scope)));
                }
                Watched::Event(_) => continue,
                Watched::Lagged => return Some((Ok(Event::default().event("resync").data("{}")), (watch, scope))),
                Watched::Closed => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
