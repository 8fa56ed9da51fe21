//! `GET /tickets/events`: a `changed` server-sent event
//! (`{"ticket_id":…}`) whenever a ticket of the user's clients opens or
//! changes, `resync` when the stream fell behind. The queue and ticket
//! pages refresh themselves on it.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use axum::extract::State;
use axum::response::IntoResponse;

fn pick(e: &Happened) -> Option<(i64, &'static str, String)> {
    let Happened::TicketChanged { ticket, client } = e else { return None };
    Some((*client, "changed", serde_json::json!({ "ticket_id": ticket }).to_string()))
}

pub async fn events(State(app): State<App>, p: Principal) -> Result<impl IntoResponse, ApiError> {
    p.require(Permission::TicketsRead)?;
    Ok(crate::http::sse::stream(app.bus.watch(), p.clients.clone(), pick))
}
