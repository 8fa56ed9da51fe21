//! Live device state for the pages: `GET /devices/events` streams the
//! presence changes a user may see (their clients only) as server-sent
//! events (`presence`: `{"device_id":…,"state":…}`, `resync` when the
//! stream fell behind). The pages' script updates the state badges in
//! place, so a device list left open stays true.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::events::Event as Happened;
use axum::extract::State;
use axum::response::IntoResponse;

fn pick(e: &Happened) -> Option<(i64, &'static str, String)> {
    let Happened::DevicePresence { device, client, state } = e else { return None };
    Some((*client, "presence", serde_json::json!({"device_id": device, "state": state.as_str()}).to_string()))
}

pub async fn events(State(app): State<App>, p: Principal) -> Result<impl IntoResponse, ApiError> {
    Ok(crate::http::sse::stream(app.bus.watch(), p.clients.clone(), pick))
}
