//! `GET /tickets/events`: a `changed` server-sent event
//! (`{"ticket_id":…}`) whenever a ticket of the user's clients opens or
//! changes, `resync` when the stream fell behind. The queue and ticket
//! pages refresh themselves on it.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::{Event as Happened, Watched};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use std::convert::Infallible;
use std::time::Duration;

pub async fn events(State(app): State<App>, p: Principal) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    p.require(Permission::TicketsRead)?;
    let scope = p.clients.clone();
    let watch = app.bus.watch();
    let stream = futures_util::stream::unfold((watch, scope), |(mut watch, scope)| async move {
        loop {
            match watch.next().await {
                Watched::Event(Happened::TicketChanged { ticket, client }) if scope.as_ref().is_none_or(|s| s.contains(&client)) => {
                    let data = serde_json::json!({ "ticket_id": ticket }).to_string();
                    return Some((Ok(Event::default().event("changed").data(data)), (watch, scope)));
                }
                Watched::Event(_) => continue,
                Watched::Lagged => return Some((Ok(Event::default().event("resync").data("{}")), (watch, scope))),
                Watched::Closed => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
