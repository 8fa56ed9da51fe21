//! Signed envelopes: a payload plus one or more Ed25519 signatures, each naming
//! the key that made it.
//!
//! The payload is carried as the exact bytes that were signed (base64), never
//! re-serialised before verification, so there is no canonicalisation step to
//! get wrong. A verifier holds a [`TrustedKeys`] set and a policy of how many
//! distinct trusted keys must have signed ([`Envelope::verify`]).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature as DalekSignature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One signature over an envelope's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Identifier of the signing key (see [`key_id`]).
    pub key_id: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub sig: String,
}

/// A payload and the signatures over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Base64 of the exact signed bytes (a JSON document in practice).
    pub payload: String,
    pub signatures: Vec<Signature>,
}

/// Why an envelope was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("payload is not valid base64")]
    BadPayload,
    #[error("signature by key {0} is malformed")]
    MalformedSignature(String),
    #[error("signature by key {0} does not verify")]
    BadSignature(String),
    #[error("only {have} distinct trusted signatures, {need} required")]
    NotEnoughSignatures { have: usize, need: usize },
}

/// A stable identifier for a public key: the first 16 hex digits of the
/// SHA-512 of the key bytes is overkill here, so we use the key itself,
/// base64-encoded (32 bytes → 44 chars). Short, unique, and self-describing.
pub fn key_id(key: &VerifyingKey) -> String {
    B64.encode(key.as_bytes())
}

/// The public keys a verifier trusts, by [`key_id`].
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: BTreeMap<String, VerifyingKey>,
}

impl TrustedKeys {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, key: VerifyingKey) {
        self.keys.insert(key_id(&key), key);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl Envelope {
    /// Wraps `payload` and signs it with `key`.
    pub fn sign(payload: &[u8], key: &SigningKey) -> Self {
        let mut env = Envelope { payload: B64.encode(payload), signatures: Vec::new() };
        env.add_signature(key);
        env
    }

    /// Adds another signature over the same payload (co-signing).
    pub fn add_signature(&mut self, key: &SigningKey) {
        let bytes = B64.decode(&self.payload).expect("payload we encoded is base64");
        let sig = key.sign(&bytes);
        self.signatures.push(Signature { key_id: key_id(&key.verifying_key()), sig: B64.encode(sig.to_bytes()) });
    }

    /// Returns the payload bytes when at least `required` distinct keys from
    /// `trusted` signed it. Signatures by unknown keys are ignored (they may
    /// belong to a newer key set); a signature by a trusted key that does not
    /// verify refuses the whole envelope, because it means tampering.
    pub fn verify(&self, trusted: &TrustedKeys, required: usize) -> Result<Vec<u8>, EnvelopeError> {
        let bytes = B64.decode(&self.payload).map_err(|_| EnvelopeError::BadPayload)?;
        let mut good = BTreeSet::new();
        for s in &self.signatures {
            let Some(key) = trusted.keys.get(&s.key_id) else { continue };
            let raw = B64.decode(&s.sig).map_err(|_| EnvelopeError::MalformedSignature(s.key_id.clone()))?;
            let raw: [u8; 64] = raw.try_into().map_err(|_| EnvelopeError::MalformedSignature(s.key_id.clone()))?;
            key.verify(&bytes, &DalekSignature::from_bytes(&raw)).map_err(|_| EnvelopeError::BadSignature(s.key_id.clone()))?;
            good.insert(s.key_id.clone());
        }
        let need = required.max(1);
        if good.len() < need {
            return Err(EnvelopeError::NotEnoughSignatures { have: good.len(), need });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    proptest! {
        #[test]
        fn a_signed_payload_verifies_and_any_flipped_bit_is_refused(payload in proptest::collection::vec(any::<u8>(), 1..512), bit in 0usize..4096) {
            let k = key(7);
            let mut trusted = TrustedKeys::new();
            trusted.add(k.verifying_key());
            let env = Envelope::sign(&payload, &k);
            prop_assert_eq!(env.verify(&trusted, 1).unwrap(), payload.clone());

            let mut tampered = payload.clone();
            let i = bit % (tampered.len() * 8);
            tampered[i / 8] ^= 1 << (i % 8);
            let forged = Envelope { payload: B64.encode(&tampered), signatures: env.signatures.clone() };
            prop_assert_eq!(forged.verify(&trusted, 1), Err(EnvelopeError::BadSignature(key_id(&k.verifying_key()))));
        }
    }

    #[test]
    fn untrusted_signers_do_not_count() {
        let mut trusted = TrustedKeys::new();
        trusted.add(key(1).verifying_key());
        let env = Envelope::sign(b"{}", &key(2));
        assert_eq!(env.verify(&trusted, 1), Err(EnvelopeError::NotEnoughSignatures { have: 0, need: 1 }));
    }

    #[test]
    fn two_of_two_needs_both_keys_and_the_same_key_twice_counts_once() {
        let (a, b) = (key(1), key(2));
        let mut trusted = TrustedKeys::new();
        trusted.add(a.verifying_key());
        trusted.add(b.verifying_key());
        let mut env = Envelope::sign(b"fleet-wide", &a);
        env.add_signature(&a);
        assert!(matches!(env.verify(&trusted, 2), Err(EnvelopeError::NotEnoughSignatures { have: 1, need: 2 })));
        env.add_signature(&b);
        assert_eq!(env.verify(&trusted, 2).unwrap(), b"fleet-wide");
    }
}
