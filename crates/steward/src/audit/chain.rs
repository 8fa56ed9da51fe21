//! The audit hash chain, as pure functions.
//!
//! Each entry's hash covers every stored field and the previous entry's hash.
//! Fields are length-prefixed before hashing, so no value can be shifted into
//! its neighbour to forge a collision. [`verify`] walks entries in sequence
//! order and names the first one that does not fit.
//!
//! The hash is keyed (HMAC-SHA256 under a key derived from the master key,
//! which is not in the database): someone with only the database cannot
//! rewrite the chain from a changed entry on, nor rewind its head, and have
//! it verify. Every entry must be keyed: nothing in the database can say
//! "these entries are from before keys" (a database-only attacker could
//! say it of all of them), so an entry with a plain SHA-256 hash is refused
//! as such ([`ChainError::Unkeyed`]), whatever `audit_head.keyed_from` holds.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The chain's key.
#[derive(Clone, Copy)]
pub struct ChainKey {
    pub key: [u8; 32],
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub source_ip: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub client_id: Option<i64>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of `e` given the hash before it (ignores `e.prev_hash`/`e.hash`):
/// keyed with `key`, plain SHA-256 without one (chains from before keys,
/// which a keyed verifier refuses).
pub fn entry_hash(key: Option<&ChainKey>, prev: &str, e: &Entry) -> String {
    match key {
        Some(k) => {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&k.key).expect("any key length");
            fields(e, prev, b"steward-audit-v2", |b| m.update(b));
            hex::encode(m.finalize().into_bytes())
        }
        None => {
            let mut h = Sha256::new();
            fields(e, prev, b"steward-audit-v1", |b| h.update(b));
            hex::encode(h.finalize())
        }
    }
}

/// Feeds every field of `e`, length-prefixed, to `update`.
fn fields(e: &Entry, prev: &str, version: &[u8], mut update: impl FnMut(&[u8])) {
    let mut field = |b: &[u8]| {
        update(&(b.len() as u64).to_be_bytes());
        update(b);
    };
    field(version);
    field(&e.seq.to_be_bytes());
    field(&e.at.to_be_bytes());
    field(e.actor_user_id.map(|v| v.to_string()).unwrap_or_default().as_bytes());
    field(e.actor.as_bytes());
    field(e.source_ip.as_bytes());
    field(e.action.as_bytes());
    field(e.target_type.as_bytes());
    field(e.target_id.as_bytes());
    field(e.client_id.map(|v| v.to_string()).unwrap_or_default().as_bytes());
    field(e.details.as_bytes());
    field(prev.as_bytes());
}

/// Why the chain does not verify, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("entry {seq}: sequence gap or reorder (expected {expected})")]
    Sequence { seq: i64, expected: i64 },
    #[error("entry {seq}: previous-hash link broken (an entry before it was removed, reordered or rewritten)")]
    Link { seq: i64 },
    #[error("entry {seq}: contents changed (hash does not match)")]
    Content { seq: i64 },
    #[error("chain ends at entry {last} but the head records entry {head_seq}: entries were removed from the end")]
    Truncated { last: i64, head_seq: i64 },
    #[error("the head hash does not match the last entry {last}")]
    Head { last: i64 },
    #[error("entry {seq}: hashed without the chain's key (plain SHA-256): rewritten by someone without the key, or from before keys")]
    Unkeyed { seq: i64 },
}

impl ChainError {
    /// The sequence number of the first bad entry.
    pub fn seq(&self) -> i64 {
        match self {
            ChainError::Sequence { seq, .. } | ChainError::Link { seq } | ChainError::Content { seq } | ChainError::Unkeyed { seq } => *seq,
            ChainError::Truncated { last, .. } | ChainError::Head { last } => *last,
        }
    }
}

/// Incremental verifier: feed entries in `seq` order, then call [`Verifier::finish`].
#[derive(Debug, Clone)]
pub struct Verifier {
    prev: String,
    next_seq: i64,
    key: Option<ChainKey>,
}

impl Verifier {
    /// A verifier for a chain keyed with `key` (`None`: a chain from
    /// before keys, all plain SHA-256).
    pub fn new(key: Option<ChainKey>) -> Self {
        Verifier { prev: GENESIS.to_string(), next_seq: 1, key }
    }

    pub fn push(&mut self, e: &Entry) -> Result<(), ChainError> {
        if e.seq != self.next_seq {
            return Err(ChainError::Sequence { seq: e.seq, expected: self.next_seq });
        }
        if e.prev_hash != self.prev {
            return Err(ChainError::Link { seq: e.seq });
        }
        if entry_hash(self.key.as_ref(), &self.prev, e) != e.hash {
            if self.key.is_some() && entry_hash(None, &self.prev, e) == e.hash {
                return Err(ChainError::Unkeyed { seq: e.seq });
            }
            return Err(ChainError::Content { seq: e.seq });
        }
        self.prev = e.hash.clone();
        self.next_seq += 1;
        Ok(())
    }

    /// Checks the walked chain against the stored head (seq, hash).
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), ChainError> {
        let last = self.next_seq - 1;
        if last != head_seq {
            return Err(ChainError::Truncated { last, head_seq });
        }
        if head_hash != self.prev {
            return Err(ChainError::Head { last });
        }
        Ok(())
    }

    /// Hash of the last entry pushed (the head, once the walk is complete).
    pub fn head(&self) -> &str {
        &self.prev
    }
}

/// Verifies a whole chain held in memory.
pub fn verify(key: Option<ChainKey>, entries: &[Entry], head_seq: i64, head_hash: &str) -> Result<(), ChainError> {
    let mut v = Verifier::new(key);
    for e in entries {
        v.push(e)?;
    }
    v.finish(head_seq, head_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: ChainKey = ChainKey { key: [7; 32] };

    fn chain(n: usize) -> Vec<Entry> {
        let mut prev = GENESIS.to_string();
        (1..=n as i64)
            .map(|seq| {
                let mut e = Entry {
                    seq,
                    at: 1_700_000_000_000_000 + seq,
                    actor_user_id: Some(seq % 3),
                    actor: format!("user{seq}@example.com"),
                    source_ip: "127.0.0.1".into(),
                    action: "client.create".into(),
                    target_type: "client".into(),
                    target_id: seq.to_string(),
                    client_id: Some(seq),
                    details: format!("{{\"n\":{seq}}}"),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = entry_hash(Some(&KEY), &prev, &e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn head(c: &[Entry]) -> (i64, String) {
        c.last().map(|e| (e.seq, e.hash.clone())).unwrap_or((0, GENESIS.into()))
    }

    #[test]
    fn without_the_key_a_rewritten_chain_does_not_verify() {
        let mut c = chain(10);
        // An attacker with the database only: changes entry 6, then
        // re-hashes from there on as plain SHA-256 (or with a guessed key).
        c[5].details = "{\"forged\":true}".into();
        for guess in [None, Some(ChainKey { key: [0; 32] })] {
            let mut forged = c.clone();
            let mut prev = forged[4].hash.clone();
            for e in forged.iter_mut().skip(5) {
                e.prev_hash = prev.clone();
                e.hash = entry_hash(guess.as_ref(), &prev, e);
                prev = e.hash.clone();
            }
            let (s, h) = head(&forged);
            assert_eq!(verify(Some(KEY), &forged, s, &h).unwrap_err().seq(), 6, "the forgery is caught at the changed entry");
        }
        // A whole chain re-hashed as plain SHA-256 (as if from before keys)
        // verifies only without the key; with it, its first entry is refused.
        let mut plain = chain(5);
        let mut prev = GENESIS.to_string();
        for e in plain.iter_mut() {
            e.prev_hash = prev.clone();
            e.hash = entry_hash(None, &prev, e);
            prev = e.hash.clone();
        }
        let (s, h) = head(&plain);
        assert_eq!(verify(None, &plain, s, &h), Ok(()));
        assert_eq!(verify(Some(KEY), &plain, s, &h), Err(ChainError::Unkeyed { seq: 1 }));
    }

    proptest! {
        #[test]
        fn an_untouched_chain_verifies(n in 0usize..40) {
            let c = chain(n);
            let (s, h) = head(&c);
            prop_assert_eq!(verify(Some(KEY), &c, s, &h), Ok(()));
        }

        #[test]
        fn any_edited_field_is_caught_at_that_entry(n in 1usize..30, pick in 0usize..30, which in 0usize..6) {
            let mut c = chain(n);
            let (s, h) = head(&c);
            let i = pick % n;
            match which {
                0 => c[i].actor.push('x'),
                1 => c[i].details = "{}".into(),
                2 => c[i].at += 1,
                3 => c[i].client_id = None,
                4 => c[i].action = "client.delete".into(),
                _ => c[i].source_ip = "10.0.0.1".into(),
            }
            prop_assert_eq!(verify(Some(KEY), &c, s, &h).unwrap_err().seq(), c[i].seq);
        }

        #[test]
        fn deleting_any_entry_is_caught(n in 1usize..30, pick in 0usize..30) {
            let mut c = chain(n);
            let (s, h) = head(&c);
            let i = pick % n;
            let removed = c.remove(i).seq;
            let err = verify(Some(KEY), &c, s, &h).unwrap_err();
            // A middle deletion shows at the entry after it; the last one at the end.
            prop_assert!(err.seq() == removed + 1 || err.seq() == removed - 1);
        }

        #[test]
        fn swapping_two_entries_is_caught(n in 2usize..30, a in 0usize..30, b in 0usize..30) {
            let mut c = chain(n);
            let (s, h) = head(&c);
            let (a, b) = (a % n, b % n);
            prop_assume!(a != b);
            // Swap contents but keep the seq numbers in order, as an attacker
            // rewriting rows in place would.
            let (sa, sb) = (c[a].seq, c[b].seq);
            c.swap(a, b);
            c[a].seq = sa;
            c[b].seq = sb;
            prop_assert_eq!(verify(Some(KEY), &c, s, &h).unwrap_err().seq(), sa.min(sb));
        }

        #[test]
        fn rehashing_after_an_edit_still_breaks_the_head(n in 1usize..20, pick in 0usize..20) {
            // An attacker who edits an entry and recomputes every later hash
            // still cannot match the stored head.
            let mut c = chain(n);
            let (s, h) = head(&c);
            let i = pick % n;
            c[i].actor = "mallory".into();
            let mut prev = if i == 0 { GENESIS.to_string() } else { c[i - 1].hash.clone() };
            for e in c.iter_mut().skip(i) {
                e.prev_hash = prev.clone();
                e.hash = entry_hash(Some(&KEY), &prev, e);
                prev = e.hash.clone();
            }
            prop_assert_eq!(verify(Some(KEY), &c, s, &h), Err(ChainError::Head { last: s }));
        }
    }
}
