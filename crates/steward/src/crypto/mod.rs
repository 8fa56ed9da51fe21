//! Secrets at rest: envelope encryption with a master key kept outside the
//! database.
//!
//! Each sealed value gets its own random data key (XChaCha20-Poly1305); the
//! data key is wrapped by the master key. The record's identity is bound in as
//! associated data, so a ciphertext copied onto another row does not open.
//! The master key lives in a file (default `DATA_DIR/master.key`, mode 0600,
//! or `--master-key-file`) and never in the database or its backups.

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::path::Path;

pub mod command_key;

const VERSION: &str = "v1";

/// The key that wraps every data key.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this master key and record")]
    Open,
}

impl MasterKey {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        MasterKey(b)
    }

    /// Reads the key file, creating it (0600) with a fresh random key if absent.
    pub fn load_or_create(path: &Path) -> anyhow::Result<MasterKey> {
        if path.exists() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path)?.permissions().mode();
                anyhow::ensure!(
                    mode & 0o077 == 0,
                    "{p}: the master key is readable by other users (mode {mode:o}); make it owner-only: chmod 600 {p}",
                    p = path.display(),
                    mode = mode & 0o777
                );
            }
            let text = std::fs::read_to_string(path)?;
            let raw = hex::decode(text.trim()).map_err(|_| anyhow::anyhow!("{}: master key must be 64 hex digits", path.display()))?;
            let key: [u8; 32] = raw.try_into().map_err(|_| anyhow::anyhow!("{}: master key must be 32 bytes", path.display()))?;
            return Ok(MasterKey(key));
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        use std::io::Write;
        let mut f = opts.open(path)?;
        writeln!(f, "{}", hex::encode(key))?;
        f.sync_all()?;
        Ok(MasterKey(key))
    }

    /// A key for one purpose, derived from the master key (HMAC-SHA256 of
    /// the purpose's name): the audit chain's key, the recovery codes' key.
    /// Like the master key, it is never in the database.
    pub fn subkey(&self, purpose: &str) -> [u8; 32] {
        keyed(&self.0, format!("steward subkey: {purpose}").as_bytes())
    }

    /// A keyed hash (hex HMAC-SHA256) of `data` for `purpose`: what the
    /// database keeps of a secret it only needs to recognise, so a copy of
    /// the database alone is no help in guessing it.
    pub fn keyed_hash(&self, purpose: &str, data: &[u8]) -> String {
        hex::encode(keyed(&self.subkey(purpose), data))
    }

    /// Encrypts `plaintext` for the record named by `context`
    /// (e.g. `"users.totp_secret:42"`).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut dek = [0u8; 32];
        let mut n1 = [0u8; 24];
        let mut n2 = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut dek);
        rand::rngs::OsRng.fill_bytes(&mut n1);
        rand::rngs::OsRng.fill_bytes(&mut n2);
        let wrap = XChaCha20Poly1305::new((&self.0).into());
        let wrapped = wrap
            .encrypt(XNonce::from_slice(&n1), Payload { msg: &dek, aad: context.as_bytes() })
            .expect("encryption of 32 bytes cannot fail");
        let data = XChaCha20Poly1305::new((&dek).into());
        let ct =
            data.encrypt(XNonce::from_slice(&n2), Payload { msg: plaintext, aad: context.as_bytes() }).expect("encryption cannot fail");
        format!("{VERSION}.{}.{}.{}.{}", B64.encode(n1), B64.encode(wrapped), B64.encode(n2), B64.encode(ct))
    }

    /// Decrypts a value made by [`MasterKey::seal`] with the same context.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let parts: Vec<&str> = sealed.split('.').collect();
        let [v, n1, wrapped, n2, ct] = parts[..] else { return Err(CryptoError::Malformed) };
        if v != VERSION {
            return Err(CryptoError::Malformed);
        }
        let d = |s: &str| B64.decode(s).map_err(|_| CryptoError::Malformed);
        let (n1, wrapped, n2, ct) = (d(n1)?, d(wrapped)?, d(n2)?, d(ct)?);
        if n1.len() != 24 || n2.len() != 24 {
            return Err(CryptoError::Malformed);
        }
        let dek = XChaCha20Poly1305::new((&self.0).into())
            .decrypt(XNonce::from_slice(&n1), Payload { msg: &wrapped, aad: context.as_bytes() })
            .map_err(|_| CryptoError::Open)?;
        let dek: [u8; 32] = dek.try_into().map_err(|_| CryptoError::Malformed)?;
        XChaCha20Poly1305::new((&dek).into())
            .decrypt(XNonce::from_slice(&n2), Payload { msg: &ct, aad: context.as_bytes() })
            .map_err(|_| CryptoError::Open)
    }
}

/// `n` random bytes from the OS.
/// HMAC-SHA256 of `data` under `key`.
pub fn keyed(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A random URL-safe token with 256 bits of entropy.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// SHA-256 hex digest (for high-entropy tokens; passwords use argon2).
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn seal_then_open_round_trips_and_binds_the_context(msg in proptest::collection::vec(any::<u8>(), 0..256), id in 0u32..1000) {
            let k = MasterKey([9; 32]);
            let ctx = format!("users.totp_secret:{id}");
            let sealed = k.seal(&ctx, &msg);
            prop_assert_eq!(k.open(&ctx, &sealed).unwrap(), msg);
            prop_assert_eq!(k.open(&format!("users.totp_secret:{}", id + 1), &sealed), Err(CryptoError::Open));
            prop_assert_eq!(MasterKey([8; 32]).open(&ctx, &sealed), Err(CryptoError::Open));
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let k = MasterKey([1; 32]);
        assert_eq!(k.open("x", "nonsense"), Err(CryptoError::Malformed));
        assert_eq!(k.open("x", "v1.a.b.c.d"), Err(CryptoError::Malformed));
    }
}
