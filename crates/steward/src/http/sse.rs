//! Server-sent events for open pages: the bus's events a user may see
//! (those of their clients), each turned into a named event by the page's
//! domain, and `resync` when the stream fell behind (the page reloads what
//! it shows). Kept alive every 15 s through proxies.

use crate::events::{Event as Happened, Watch, Watched};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use std::convert::Infallible;
use std::time::Duration;

/// What a page is told of an event, if anything: the client it concerns,
/// the event's name and its JSON data.
pub type Pick = fn(&Happened) -> Option<(i64, &'static str, String)>;

/// The stream of `watch`'s events that `pick` names, for a user who sees
/// `scope`'s clients (`None`: all).
pub fn stream(watch: Watch, scope: Option<Vec<i64>>, pick: Pick) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold((watch, scope), move |(mut watch, scope)| async move {
        loop {
            match watch.next().await {
                Watched::Event(e) => match pick(&e) {
                    Some((client, name, data)) if scope.as_ref().is_none_or(|s| s.contains(&client)) => {
                        return Some((Ok(Event::default().event(name).data(data)), (watch, scope)));
                    }
                    _ => continue,
                },
                Watched::Lagged => return Some((Ok(Event::default().event("resync").data("{}")), (watch, scope))),
                Watched::Closed => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
