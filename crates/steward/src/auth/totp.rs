//! TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps) and recovery codes.
//!
//! Verification returns the time step that matched, so the caller can store
//! it and refuse any code from that step or earlier: a code works once only.

use totp_rs::{Algorithm, TOTP};

pub const STEP_SECS: u64 = 30;

fn totp(secret: &[u8]) -> TOTP {
    // `new_unchecked` because the RFC test vectors use 160-bit secrets too;
    // we always generate 160-bit secrets ourselves.
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECS, secret.to_vec())
}

/// A new random secret (160 bits, as RFC 4226 recommends).
pub fn new_secret() -> Vec<u8> {
    crate::crypto::random_bytes::<20>().to_vec()
}

/// The secret as base32 for manual entry in an authenticator app.
pub fn secret_base32(secret: &[u8]) -> String {
    totp_rs::Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// A base32 seed (as a service shows it) as bytes; `None` if it is not one.
pub fn seed_bytes(base32: &str) -> Option<Vec<u8>> {
    totp_rs::Secret::Encoded(base32.to_string()).to_bytes().ok().filter(|b| !b.is_empty())
}

/// The `otpauth://` URI authenticator apps scan.
pub fn otpauth_uri(secret: &[u8], account: &str, issuer: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        secret_base32(secret),
        enc(issuer)
    )
}

/// The code for a Unix time.
pub fn code_at(secret: &[u8], unix: u64) -> String {
    totp(secret).generate(unix)
}

/// Checks `code` at `unix` time, allowing one step of clock skew either way,
/// and refusing steps at or before `last_used_step`. Returns the matched step.
pub fn verify(secret: &[u8], code: &str, unix: u64, last_used_step: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = (unix / STEP_SECS) as i64;
    let t = totp(secret);
    [now - 1, now, now + 1]
        .into_iter()
        .filter(|s| *s > last_used_step && *s >= 0)
        .find(|s| crate::auth::principal::ct_eq(&t.generate(*s as u64 * STEP_SECS), &code))
}

/// Ten one-time recovery codes of 16 characters from a 32-letter alphabet
/// (80 bits each), shown grouped for reading.
pub fn new_recovery_codes() -> Vec<String> {
    (0..10).map(|_| recovery_code(crate::crypto::random_bytes::<10>())).collect()
}

/// Lower-case letters and digits a person reads without mixing them up
/// (no l, 0, 1, 2): 32 of them, five bits a character.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnopqrstuvwxyz3456789";

/// 80 random bits as sixteen characters in four groups: `abcd-efgh-jkmn-pqrs`.
fn recovery_code(bits: [u8; 10]) -> String {
    let n = bits.iter().fold(0u128, |acc, b| acc << 8 | *b as u128);
    let chars: Vec<char> = (0..16).map(|i| ALPHABET[((n >> (75 - 5 * i)) & 31) as usize] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Normalises a typed recovery code before hashing.
pub fn normalise_recovery_code(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '-'], "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, truncated to 6 digits.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(code_at(secret, 1111111109), "081804");
        assert_eq!(code_at(secret, 1234567890), "005924");
        assert_eq!(code_at(secret, 2000000000), "279037");
    }

    proptest! {
        #[test]
        fn a_code_is_accepted_once_and_never_again(t in 1_000_000u64..4_000_000_000u64) {
            let secret = new_secret();
            let code = code_at(&secret, t);
            let step = verify(&secret, &code, t, 0).expect("current code verifies");
            prop_assert_eq!(step, (t / STEP_SECS) as i64);
            prop_assert_eq!(verify(&secret, &code, t, step), None);
            prop_assert_eq!(verify(&secret, &code, t + STEP_SECS, step), None);
        }

        #[test]
        fn codes_from_far_away_in_time_fail(t in 1_000_000u64..4_000_000_000u64, off in 3u64..1000) {
            let secret = new_secret();
            let code = code_at(&secret, t);
            let later = t + off * STEP_SECS;
            // A 6-digit code can collide by chance; only assert it did not match its own step.
            if let Some(s) = verify(&secret, &code, later, 0) {
                prop_assert!(s != (t / STEP_SECS) as i64);
            }
        }
    }

    #[test]
    fn recovery_codes_are_distinct_and_well_formed() {
        let c = new_recovery_codes();
        assert_eq!(c.len(), 10);
        let set: std::collections::HashSet<_> = c.iter().collect();
        assert_eq!(set.len(), 10);
        assert_eq!(normalise_recovery_code(" ABCDE-fghi "), "abcdefghi");
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 19, "{c}: sixteen characters in four groups");
            assert!(normalise_recovery_code(c).bytes().all(|b| ALPHABET.contains(&b)), "{c}");
        }
        assert_eq!(recovery_code([0; 10]), "aaaa-aaaa-aaaa-aaaa");
        assert_eq!(recovery_code([0xff; 10]), "9999-9999-9999-9999");
    }
}
