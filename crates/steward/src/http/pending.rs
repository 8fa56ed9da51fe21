//! A cap on connections per source address that have finished TLS but not
//! yet authenticated. A connection counts from the end of its TLS handshake
//! until a request on it carries a valid session or token, or its agent
//! completes the protocol's handshake; then, or when it closes, it stops
//! counting. Past the cap, a new connection from that address is closed at
//! once, so one address holding idle connections cannot use up the
//! process's file descriptors and shut everyone else out; authenticated
//! users and agents behind the same address are not counted.
//!
//! Each connection's requests carry its [`Pending`] (an extension), which
//! the guard and the agent gateway mark authenticated.

use super::handshake_gate::source_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The per-address counts (cheap to clone: shared).
#[derive(Clone)]
pub struct Unauthenticated {
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
    per_address: usize,
}

impl Unauthenticated {
    pub fn new(per_address: usize) -> Self {
        Unauthenticated { counts: Default::default(), per_address }
    }

    /// As configured (`unauthenticated_per_address`).
    pub fn configured(cfg: &crate::config::Config) -> Self {
        Unauthenticated::new(cfg.unauthenticated_per_address)
    }

    /// Counts a new connection from `ip`; `None` when the address already
    /// has its share of unauthenticated connections.
    pub fn admit(&self, ip: IpAddr) -> Option<Pending> {
        let key = source_key(ip);
        let mut counts = self.counts.lock().expect("pending lock");
        let n = counts.entry(key).or_insert(0);
        if *n >= self.per_address {
            return None;
        }
        *n += 1;
        Some(Pending(Arc::new(Slot { key, done: AtomicBool::new(false), counts: self.counts.clone() })))
    }

    /// Addresses with at least one unauthenticated connection (tests).
    pub fn addresses(&self) -> usize {
        self.counts.lock().expect("pending lock").len()
    }
}

/// One connection's place in the count, until it authenticates or closes.
#[derive(Clone)]
pub struct Pending(Arc<Slot>);

struct Slot {
    key: IpAddr,
    done: AtomicBool,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Slot {
    fn release(&self) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut counts = self.counts.lock().expect("pending lock");
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

impl Pending {
    /// The connection proved who is on it: it no longer counts.
    pub fn authenticated(&self) {
        self.0.release();
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

/// A connection's service, handing its [`Pending`] to every request on it.
#[derive(Clone)]
pub struct WithPending<S> {
    inner: S,
    pending: Pending,
}

impl<S> WithPending<S> {
    pub fn new(inner: S, pending: Pending) -> Self {
        WithPending { inner, pending }
    }
}

impl<S, B> tower::Service<axum::http::Request<B>> for WithPending<S>
where
    S: tower::Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: axum::http::Request<B>) -> Self::Future {
        req.extensions_mut().insert(self.pending.clone());
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_gets_its_share_and_authenticating_or_closing_frees_it() {
        let u = Unauthenticated::new(2);
        let a = u.admit(ip("10.0.0.1")).unwrap();
        let b = u.admit(ip("10.0.0.1")).unwrap();
        assert!(u.admit(ip("10.0.0.1")).is_none(), "the third waits for one of the two");
        assert!(u.admit(ip("10.0.0.2")).is_some(), "another address is not held up");
        a.authenticated();
        a.authenticated();
        let c = u.admit(ip("10.0.0.1")).expect("an authenticated connection no longer counts");
        assert!(u.admit(ip("10.0.0.1")).is_none(), "authenticating twice frees one place, not two");
        drop(b);
        drop(c);
        drop(a);
        assert_eq!(u.addresses(), 0, "nothing kept once every connection is gone");
    }

    #[test]
    fn an_ipv6_slash_64_is_one_address() {
        let u = Unauthenticated::new(1);
        let _a = u.admit(ip("2001:db8::1")).unwrap();
        assert!(u.admit(ip("2001:db8::ffff")).is_none());
    }
}
