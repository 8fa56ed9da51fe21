//! Who is online on this node: each connected device's mailbox, and the
//! commands that wait for a device's answer.
//!
//! A node holds up to 100,000 of these, so a mailbox is kept tiny: a lock,
//! an empty queue (which allocates nothing) and a wake-up. A tokio channel
//! would reserve a block of 32 slots per connection up front.

use crate::devices::agent_settings::model::Effective;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use steward_protocol::messages::ServerMsg;
use tokio::sync::{oneshot, Notify};

/// Messages queued for one connection at most; beyond that a send fails
/// (the caller reports the device as unreachable) rather than piling up.
pub const MAILBOX_CAP: usize = 16;

/// What the server can push down a connection (a message is boxed: the
/// queue's slots stay small).
#[derive(Debug)]
pub enum Outbound {
    Msg(Box<ServerMsg>),
    /// New agent settings: sent to the agent, and the connection's silence
    /// window follows them.
    Settings(Effective),
    /// Close, telling the agent why.
    Close(Closing),
}

/// Why the server closes a connection it had accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The device was removed from Steward.
    Revoked,
    /// Another connection for the same device took over.
    Replaced,
}

impl Closing {
    /// The refusal the agent is sent.
    pub fn refusal(self) -> ServerMsg {
        match self {
            Closing::Revoked => refused("device_revoked", "this device was removed from Steward"),
            Closing::Replaced => refused("replaced", "another connection for this device took over"),
        }
    }

    /// The reason kept in the device's presence history.
    pub fn reason(self) -> &'static str {
        match self {
            Closing::Revoked => crate::devices::presence::model::REVOKED,
            Closing::Replaced => "replaced by a newer connection",
        }
    }
}

/// One connection's queue of outbound messages.
#[derive(Default)]
pub struct Mailbox {
    queue: Mutex<VecDeque<Outbound>>,
    ready: Notify,
}

impl Mailbox {
    /// Queues a message; false when the mailbox is full.
    pub fn push(&self, m: ServerMsg) -> bool {
        self.queue_back(Outbound::Msg(Box::new(m)))
    }

    fn queue_back(&self, o: Outbound) -> bool {
        let mut q = self.queue.lock().expect("mailbox lock");
        if q.len() >= MAILBOX_CAP {
            return false;
        }
        q.push_back(o);
        drop(q);
        self.ready.notify_one();
        true
    }

    /// Asks the connection to close, telling the agent why; goes ahead of
    /// anything queued, so a revoked device is cut off at once.
    pub fn close(&self, why: Closing) {
        self.queue.lock().expect("mailbox lock").push_front(Outbound::Close(why));
        self.ready.notify_one();
    }

    /// The next message. Cancel-safe: a message is taken only in the poll
    /// that returns it.
    pub async fn next(&self) -> Outbound {
        loop {
            if let Some(m) = self.queue.lock().expect("mailbox lock").pop_front() {
                return m;
            }
            // A push after the check above leaves a permit: no lost wake-up.
            self.ready.notified().await;
        }
    }
}

/// Online devices → their connection's mailbox; commands awaiting results.
#[derive(Default)]
pub struct Registry {
    conns: Mutex<HashMap<i64, (u64, Arc<Mailbox>)>>,
    /// Devices revoked while this process runs: a connection whose
    /// handshake read the device just before its revocation must not
    /// register after it (the database refuses them at every later
    /// handshake).
    revoked: Mutex<std::collections::HashSet<i64>>,
    next: AtomicU64,
    pending: Mutex<HashMap<String, Waiter>>,
}

/// Who waits for a command's result: (the device it went to, the channel).
type Waiter = (i64, oneshot::Sender<(bool, String)>);

impl Registry {
    /// Registers a device's new connection; returns its connection number,
    /// or `None` when the device was revoked meanwhile.
    pub(crate) fn insert(&self, device: i64, mailbox: Arc<Mailbox>) -> Option<u64> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut conns = self.conns.lock().expect("registry lock");
        if self.revoked.lock().expect("registry lock").contains(&device) {
            return None;
        }
        if let Some((_, old)) = conns.insert(device, (id, mailbox)) {
            // A second connection for one device replaces the first.
            old.close(Closing::Replaced);
        }
        Some(id)
    }

    /// A device was revoked: closes its connection, and refuses any
    /// connection that registers later in this process's life.
    pub fn revoke(&self, device: i64) {
        // First the mark, then the close: `insert` checks the mark while
        // holding `conns`, so a registration either sees it or is closed here.
        self.revoked.lock().expect("registry lock").insert(device);
        self.disconnect(device, Closing::Revoked);
    }

    /// Forgets connection `conn` of `device`, unless a newer one replaced it.
    pub(crate) fn remove(&self, device: i64, conn: u64) {
        let mut m = self.conns.lock().expect("registry lock");
        if m.get(&device).is_some_and(|(c, _)| *c == conn) {
            m.remove(&device);
        }
    }

    /// Closes a device's connection, if it has one.
    fn disconnect(&self, device: i64, why: Closing) {
        if let Some((_, mailbox)) = self.conns.lock().expect("registry lock").remove(&device) {
            mailbox.close(why);
        }
    }

    /// Queues a message for a connected device; false when it is offline
    /// or its mailbox is full.
    pub fn send(&self, device: i64, m: ServerMsg) -> bool {
        self.mailbox(device).is_some_and(|mb| mb.push(m))
    }

    /// Hands a connected device its new settings; false when it is
    /// offline (it gets them at its next handshake) or its mailbox is full.
    pub fn apply_settings(&self, device: i64, s: Effective) -> bool {
        self.mailbox(device).is_some_and(|mb| mb.queue_back(Outbound::Settings(s)))
    }

    fn mailbox(&self, device: i64) -> Option<Arc<Mailbox>> {
        self.conns.lock().expect("registry lock").get(&device).map(|(_, mb)| mb.clone())
    }

    /// Waits for the result of command `id` sent to `device`.
    pub fn expect_result(&self, device: i64, id: &str) -> oneshot::Receiver<(bool, String)> {
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("registry lock").insert(id.to_string(), (device, tx));
        rx
    }

    pub fn forget(&self, id: &str) {
        self.pending.lock().expect("registry lock").remove(id);
    }

    /// A device reported a result: only for a command sent to that device.
    pub(crate) fn resolve(&self, device: i64, id: &str, ok: bool, output: String) {
        let mut p = self.pending.lock().expect("registry lock");
        if p.get(id).is_some_and(|(d, _)| *d == device) {
            if let Some((_, tx)) = p.remove(id) {
                let _ = tx.send((ok, output));
            }
        }
    }

    pub fn is_online(&self, device: i64) -> bool {
        self.conns.lock().expect("registry lock").contains_key(&device)
    }

    pub fn len(&self) -> usize {
        self.conns.lock().expect("registry lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A refusal: the agent shows `message` and the connection closes.
pub fn refused(code: &str, message: &str) -> ServerMsg {
    ServerMsg::Refused { code: code.into(), message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(upto: i64) -> ServerMsg {
        ServerMsg::MetricsStored { upto }
    }

    #[tokio::test]
    async fn messages_come_out_in_order_and_a_close_goes_first() {
        let mb = Mailbox::default();
        assert!(mb.push(ack(1)) && mb.push(ack(2)));
        mb.close(Closing::Revoked);
        assert!(matches!(mb.next().await, Outbound::Close(Closing::Revoked)));
        assert!(matches!(mb.next().await, Outbound::Msg(m) if *m == ack(1)));
        assert!(matches!(mb.next().await, Outbound::Msg(m) if *m == ack(2)));
    }

    #[tokio::test]
    async fn a_revoked_device_is_closed_now_and_refused_later() {
        let r = Registry::default();
        let first = Arc::new(Mailbox::default());
        assert!(r.insert(7, first.clone()).is_some());
        assert!(r.insert(8, Arc::new(Mailbox::default())).is_some());
        r.revoke(7);
        assert!(matches!(first.next().await, Outbound::Close(Closing::Revoked)));
        assert!(!r.is_online(7) && r.is_online(8), "only the revoked device goes");
        // A connection whose handshake passed just before the revocation.
        assert!(r.insert(7, Arc::new(Mailbox::default())).is_none());
        assert!(!r.is_online(7));
    }

    #[tokio::test]
    async fn a_full_mailbox_refuses_more() {
        let mb = Mailbox::default();
        for i in 0..MAILBOX_CAP as i64 {
            assert!(mb.push(ack(i)));
        }
        assert!(!mb.push(ack(99)), "the 17th message is refused");
        mb.next().await;
        assert!(mb.push(ack(99)), "room again once one is taken");
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_on_a_push_from_another_task() {
        let mb = Arc::new(Mailbox::default());
        let reader = tokio::spawn({
            let mb = mb.clone();
            async move { mb.next().await }
        });
        tokio::task::yield_now().await;
        let sender = mb.clone();
        tokio::spawn(async move { sender.push(ack(5)) }).await.unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), reader).await.expect("woken").unwrap();
        assert!(matches!(got, Outbound::Msg(m) if *m == ack(5)));
    }

    #[test]
    fn a_newer_connection_replaces_the_older_and_closes_it() {
        let reg = Registry::default();
        let (old, new) = (Arc::new(Mailbox::default()), Arc::new(Mailbox::default()));
        let first = reg.insert(7, old.clone()).expect("not revoked");
        let _second = reg.insert(7, new.clone());
        assert!(matches!(old.queue.lock().unwrap().front(), Some(Outbound::Close(Closing::Replaced))));
        // The old connection's teardown does not unregister the new one.
        reg.remove(7, first);
        assert!(reg.is_online(7));
        assert!(reg.send(7, ack(1)));
        assert_eq!(new.queue.lock().unwrap().len(), 1);
    }
}
