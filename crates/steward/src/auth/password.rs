//! Password hashing (argon2id, OWASP parameters) and the password policy.
//!
//! The policy is pure: at least 12 characters, at most 1024, and not a common
//! password. "Common" means the shipped list (Django's 19,640 passwords), also
//! after lower-casing and after stripping trailing digits and symbols
//! (`Password2024!`), and passwords made of one repeated short chunk
//! (`abcabcabcabc`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashSet;
use std::sync::OnceLock;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 1024;

static COMMON_TXT: &str = include_str!("../../assets/vendor/common-passwords-django-5.2.19/common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_TXT.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

fn argon() -> Argon2<'static> {
    // m=19456 KiB, t=2, p=1: the OWASP minimum for argon2id.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19456, 2, 1, None).expect("valid params"))
}

/// Why a password was refused (shown to the user as is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("must be at least {MIN_LEN} characters")]
    TooShort,
    #[error("must be at most {MAX_LEN} characters")]
    TooLong,
    #[error("is too common; choose a passphrase nobody else would")]
    Common,
}

/// Checks a new password against the policy.
pub fn check_policy(pw: &str) -> Result<(), PolicyError> {
    let n = pw.chars().count();
    if n < MIN_LEN {
        return Err(PolicyError::TooShort);
    }
    if n > MAX_LEN {
        return Err(PolicyError::TooLong);
    }
    let lower = pw.to_lowercase();
    let stem = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    let set = common();
    if set.contains(lower.as_str()) || (stem.chars().count() >= 4 && set.contains(stem)) || is_repetition(&lower) {
        return Err(PolicyError::Common);
    }
    Ok(())
}

/// True when the whole string is one chunk of up to 4 characters repeated.
fn is_repetition(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    (1..=4.min(c.len() / 2)).any(|k| c.len().is_multiple_of(k) && c.chunks(k).all(|ch| ch == &c[..k]))
}

/// Hashes a password for storage (PHC string).
pub fn hash(pw: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon().hash_password(pw.as_bytes(), &salt).expect("argon2 hashing cannot fail with valid params").to_string()
}

/// Verifies a password against a stored hash. Unparseable hashes never verify.
pub fn verify(pw: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => argon().verify_password(pw.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A fixed hash to verify against when the account does not exist, so a
/// missing account costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash("steward-no-such-user-placeholder"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn policy_examples() {
        assert_eq!(check_policy("short"), Err(PolicyError::TooShort));
        assert_eq!(check_policy("password1234"), Err(PolicyError::Common));
        assert_eq!(check_policy("Password2024!"), Err(PolicyError::Common));
        assert_eq!(check_policy("abcabcabcabc"), Err(PolicyError::Common));
        assert_eq!(check_policy("aaaaaaaaaaaaaaaa"), Err(PolicyError::Common));
        assert_eq!(check_policy("correct horse battery staple"), Ok(()));
        assert!(common().len() > 19_000);
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let h = hash("a long enough passphrase");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("a long enough passphrase", &h));
        assert!(!verify("a long enough passphrasE", &h));
        assert!(!verify("x", "not a hash"));
    }

    proptest! {
        #[test]
        fn anything_shorter_than_the_minimum_is_refused(pw in "\\PC{0,11}") {
            prop_assert_eq!(check_policy(&pw), Err(PolicyError::TooShort));
        }

        #[test]
        fn every_common_password_padded_with_digits_is_refused(i in 0usize..19_000, digits in "[0-9!]{0,12}") {
            let base = COMMON_TXT.lines().nth(i).unwrap();
            let pw = format!("{base}{digits}");
            prop_assume!(pw.chars().count() >= MIN_LEN && base.chars().filter(|c| c.is_alphabetic()).count() == base.chars().count() && base.len() >= 4);
            prop_assert_eq!(check_policy(&pw), Err(PolicyError::Common));
        }
    }
}
