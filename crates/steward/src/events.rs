//! The in-process event bus: how domains hear of each other without
//! calling each other's internals. A domain publishes what happened
//! (a device came online, a script finished, a client's agent settings
//! changed), after it is stored; any domain may listen.
//!
//! Two ways to listen:
//! - [`Bus::listen`]: every event, none lost. The publisher waits when a
//!   listener's queue is full, so a listener must keep up (domains' own
//!   reactions: send waiting scripts, store a result, push settings).
//! - [`Bus::watch`]: a lossy view for open pages (SSE); one that falls
//!   behind is told so ([`Watched::Lagged`]) and reloads.
//!
//! Events stay in this process: with several nodes, each node publishes
//! what happened on it (its agents' connections, its requests).

use crate::devices::presence::model::Presence;
use crate::scripts::store::Outcome;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// Something that happened, once it is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A device's online flag and history changed.
    DevicePresence { device: i64, client: i64, state: Presence },
    /// A device's stored inventory changed.
    InventoryChanged { device: i64, client: i64 },
    /// An agent reported a script's result for a command sent to it.
    ScriptFinished { device: i64, command_id: String, outcome: Box<Outcome> },
    /// A client's (or one of its sites') agent settings changed.
    AgentSettingsChanged { client: i64, site: Option<i64> },
    /// A ticket was opened or changed, or its thread grew.
    TicketChanged { ticket: i64, client: i64 },
    /// A ticket's SLA clock passed its warning point or its target
    /// (`sla.warning` / `sla.breached`), announced once per clock.
    Sla { ticket: i64, client: i64, clock: SlaClock, breached: bool },
    /// An alert opened or changed (state, severity, output of note).
    AlertChanged { alert: i64, client: i64 },
    /// A monitoring policy or an assignment of one changed: the checks of
    /// any device may have changed.
    MonitoringChanged,
    /// An invoice run made progress or ended.
    InvoiceRunChanged { run: i64 },
}

/// Which of a ticket's SLA clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaClock {
    FirstResponse,
    Resolution,
}

impl SlaClock {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaClock::FirstResponse => "first_response",
            SlaClock::Resolution => "resolution",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SlaClock::FirstResponse => "first response",
            SlaClock::Resolution => "resolution",
        }
    }
}

impl Event {
    /// The client the event is about, for scoping what a user is shown.
    pub fn client(&self) -> Option<i64> {
        match self {
            Event::DevicePresence { client, .. } | Event::InventoryChanged { client, .. } => Some(*client),
            Event::AgentSettingsChanged { client, .. } | Event::TicketChanged { client, .. } | Event::Sla { client, .. } => Some(*client),
            Event::AlertChanged { client, .. } => Some(*client),
            Event::ScriptFinished { .. } | Event::MonitoringChanged | Event::InvoiceRunChanged { .. } => None,
        }
    }
}

/// Events a listener's queue holds before publishers wait.
const LISTENER_QUEUE: usize = 4096;
/// Events a page's view holds before it lags.
const WATCH_QUEUE: usize = 4096;

/// The bus (cheap to clone; every clone is the same bus).
#[derive(Clone)]
pub struct Bus {
    listeners: Arc<Mutex<Vec<mpsc::Sender<Event>>>>,
    watchers: broadcast::Sender<Event>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus { listeners: Default::default(), watchers: broadcast::channel(WATCH_QUEUE).0 }
    }
}

impl Bus {
    /// Tells every listener and watcher. Waits while a listener's queue is
    /// full; a listener that has gone away is forgotten.
    pub async fn publish(&self, e: Event) {
        let listeners: Vec<mpsc::Sender<Event>> = self.listeners.lock().expect("bus lock").clone();
        let mut gone = false;
        for l in &listeners {
            gone |= l.send(e.clone()).await.is_err();
        }
        if gone {
            self.listeners.lock().expect("bus lock").retain(|l| !l.is_closed());
        }
        // Nobody watching is fine.
        let _ = self.watchers.send(e);
    }

    /// Every event from now on, none lost.
    pub fn listen(&self) -> mpsc::Receiver<Event> {
        let (tx, rx) = mpsc::channel(LISTENER_QUEUE);
        self.listeners.lock().expect("bus lock").push(tx);
        rx
    }

    /// A lossy view of the events from now on, for pages.
    pub fn watch(&self) -> Watch {
        Watch(self.watchers.subscribe())
    }
}

/// See [`Bus::watch`].
pub struct Watch(broadcast::Receiver<Event>);

/// What a page's view gets next.
pub enum Watched {
    Event(Event),
    /// It fell behind and missed events: reload what it shows.
    Lagged,
    /// The bus is gone (the server is stopping).
    Closed,
}

impl Watch {
    pub async fn next(&mut self) -> Watched {
        match self.0.recv().await {
            Ok(e) => Watched::Event(e),
            Err(broadcast::error::RecvError::Lagged(_)) => Watched::Lagged,
            Err(broadcast::error::RecvError::Closed) => Watched::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn online(device: i64) -> Event {
        Event::DevicePresence { device, client: 1, state: Presence::Online }
    }

    #[tokio::test]
    async fn listeners_get_every_event_in_order_and_watchers_are_told_when_they_lag() {
        let bus = Bus::default();
        let mut a = bus.listen();
        let mut w = bus.watch();
        for d in 0..(WATCH_QUEUE as i64 + 10) {
            if d == LISTENER_QUEUE as i64 {
                // The listener's queue is full: drain it so publishing goes on.
                for expect in 0..d {
                    assert_eq!(a.recv().await, Some(online(expect)));
                }
            }
            bus.publish(online(d)).await;
        }
        for expect in LISTENER_QUEUE as i64..(WATCH_QUEUE as i64 + 10) {
            assert_eq!(a.recv().await, Some(online(expect)));
        }
        assert!(matches!(w.next().await, Watched::Lagged), "a watcher that fell behind is told");
    }

    #[tokio::test]
    async fn a_dropped_listener_is_forgotten() {
        let bus = Bus::default();
        drop(bus.listen());
        let mut b = bus.listen();
        bus.publish(online(7)).await;
        assert_eq!(b.recv().await, Some(online(7)));
        assert_eq!(bus.listeners.lock().unwrap().len(), 1);
    }
}
