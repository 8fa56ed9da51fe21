//! Bounds how many TLS handshakes run at once: overall, and per source
//! address, so that one address cannot take every turn.
//!
//! When a node restarts, its whole fleet reconnects within seconds. Started
//! all at once, tens of thousands of handshakes all advance slowly together
//! and each holds its state until the CPU reaches it; taken a bounded
//! number at a time, they finish in turn, and the rest wait as a socket and
//! a small future (their bytes stay in the kernel's receive buffer). Its
//! effect on memory (none on the peak) is measured in `bench/RESULTS.md`.
//!
//! A bound is also something an attacker can try to fill. So a turn is
//! taken only once the peer has sent its first bytes (a silent connection
//! holds none), a peer that stalls mid-handshake holds its turn only until
//! the handshake timeout, and each source address (an IPv6 /64, since one
//! host may own all of it) has a share of the turns: a stalling address
//! queues behind itself, the others go on. Many agents behind one NAT share
//! an address; they queue (up to 30 s, then they retry with backoff).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// The turns; cheap to clone (shared).
#[derive(Clone)]
pub struct HandshakeGate {
    inner: Arc<Inner>,
}

struct Inner {
    all: Semaphore,
    per_address: usize,
    /// One semaphore per address with a handshake running or waiting;
    /// removed when the last of them is done.
    addresses: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
}

/// What a source address counts as: an IPv4 address, or an IPv6 /64.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// A turn at a handshake (or the wait for one): given back when dropped,
/// including when the wait is abandoned.
pub struct Turn {
    inner: Arc<Inner>,
    key: IpAddr,
    mine: Arc<Semaphore>,
    holds_mine: bool,
    holds_all: bool,
}

impl HandshakeGate {
    /// `in_flight` handshakes at once, at most `per_address` of them from
    /// one source address (both at least 1).
    pub fn new(in_flight: usize, per_address: usize) -> Self {
        HandshakeGate {
            inner: Arc::new(Inner {
                all: Semaphore::new(in_flight.max(1)),
                per_address: per_address.max(1),
                addresses: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Waits for a turn for a peer at `ip`: first its address's share, then
    /// one of the overall turns (so a waiting address holds none of those).
    pub async fn enter(&self, ip: IpAddr) -> Turn {
        let key = source_key(ip);
        let mine = {
            let mut addresses = self.inner.addresses.lock().expect("gate lock");
            addresses.entry(key).or_insert_with(|| Arc::new(Semaphore::new(self.inner.per_address))).clone()
        };
        let mut turn = Turn { inner: self.inner.clone(), key, mine, holds_mine: false, holds_all: false };
        // Permits are forgotten and given back by `Turn::drop`, which
        // therefore also covers a wait that is cancelled half-way.
        turn.mine.acquire().await.expect("never closed").forget();
        turn.holds_mine = true;
        self.inner.all.acquire().await.expect("never closed").forget();
        turn.holds_all = true;
        turn
    }

    /// The bounds the server's configuration sets.
    pub fn configured(cfg: &crate::config::Config) -> Self {
        HandshakeGate::new(cfg.tls_handshakes_in_flight, cfg.tls_handshakes_per_address)
    }

    /// Source addresses with a handshake running or waiting.
    pub fn addresses_tracked(&self) -> usize {
        self.inner.addresses.lock().expect("gate lock").len()
    }

    /// Overall turns free right now.
    pub fn free(&self) -> usize {
        self.inner.all.available_permits()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.holds_all {
            self.inner.all.add_permits(1);
        }
        if self.holds_mine {
            self.mine.add_permits(1);
        }
        let mut addresses = self.inner.addresses.lock().expect("gate lock");
        // The map's reference and ours: nobody else runs or waits here.
        if addresses.get(&self.key).is_some_and(|s| Arc::ptr_eq(s, &self.mine) && Arc::strong_count(s) == 2) {
            addresses.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Whether `enter` gets a turn within a short while.
    async fn gets_turn(gate: &HandshakeGate, addr: &str) -> Option<Turn> {
        tokio::time::timeout(Duration::from_millis(50), gate.enter(ip(addr))).await.ok()
    }

    #[tokio::test]
    async fn one_address_gets_its_share_and_the_others_go_on() {
        let gate = HandshakeGate::new(8, 2);
        let a1 = gets_turn(&gate, "10.0.0.1").await.expect("first");
        let _a2 = gets_turn(&gate, "10.0.0.1").await.expect("second");
        assert!(gets_turn(&gate, "10.0.0.1").await.is_none(), "a third from the same address waits");
        let _b = gets_turn(&gate, "10.0.0.2").await.expect("another address is not held up");
        drop(a1);
        assert!(gets_turn(&gate, "10.0.0.1").await.is_some(), "a turn given back is taken again");
    }

    #[tokio::test]
    async fn the_overall_bound_holds_across_addresses() {
        let gate = HandshakeGate::new(3, 2);
        let turns: Vec<Turn> = futures_util::future::join_all(["10.0.0.1", "10.0.0.2", "10.0.0.3"].map(|a| gate.enter(ip(a)))).await;
        assert_eq!(gate.free(), 0);
        assert!(gets_turn(&gate, "10.0.0.4").await.is_none(), "a fourth waits");
        drop(turns);
        assert_eq!(gate.free(), 3);
        assert!(gets_turn(&gate, "10.0.0.4").await.is_some());
    }

    #[tokio::test]
    async fn an_ipv6_slash_64_is_one_address_and_mapped_ipv4_is_ipv4() {
        let gate = HandshakeGate::new(8, 1);
        let _t = gets_turn(&gate, "2001:db8:1:2::1").await.expect("first");
        assert!(gets_turn(&gate, "2001:db8:1:2:ffff::9").await.is_none(), "same /64");
        assert!(gets_turn(&gate, "2001:db8:1:3::1").await.is_some(), "another /64");
        assert_eq!(source_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    proptest::proptest! {
        #[test]
        // (A non-zero upper half: never an IPv4-mapped address.)
        fn an_ipv6_address_counts_as_its_slash_64(hi in 1..=u64::MAX, lo: u64, v4: u32) {
            let v6 = |lo: u64| IpAddr::V6(std::net::Ipv6Addr::from(((hi as u128) << 64) | lo as u128));
            proptest::prop_assert_eq!(source_key(v6(lo)), v6(0));
            let v4 = IpAddr::V4(std::net::Ipv4Addr::from(v4));
            proptest::prop_assert_eq!(source_key(v4), v4);
        }
    }

    #[tokio::test]
    async fn nothing_is_kept_once_every_turn_and_wait_is_over() {
        let gate = HandshakeGate::new(1, 1);
        let held = gate.enter(ip("10.0.0.1")).await;
        // Waits abandoned half-way: one for its address's share, one for an overall turn.
        assert!(gets_turn(&gate, "10.0.0.1").await.is_none());
        assert!(gets_turn(&gate, "10.0.0.2").await.is_none());
        assert_eq!(gate.addresses_tracked(), 1, "only the address that holds a turn");
        drop(held);
        assert_eq!((gate.addresses_tracked(), gate.free()), (0, 1));
        let t = gets_turn(&gate, "10.0.0.2").await.expect("free again");
        drop(t);
        assert_eq!((gate.addresses_tracked(), gate.free()), (0, 1));
    }
}
