//! The vault's pure rules: what an entry's secrets are and how they are
//! checked ([`Secrets`]), the associated data that binds a sealed value to
//! its entry, client and version ([`context`]), the password generator
//! ([`generate`]) and the reveal rule ([`may_reveal`]). No I/O;
//! property-tested.

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Custom fields per entry, at most.
pub const MAX_FIELDS: usize = 20;
/// A custom field's length, at most (a 4096-bit private key in PEM fits).
pub const MAX_SECRET: usize = 4_000;
/// A password's length, at most.
pub const MAX_PASSWORD: usize = 1_000;

/// An entry's secrets, sealed together as one JSON document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets {
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl Secrets {
    /// The secrets, checked: a password of at most [`MAX_PASSWORD`]
    /// characters (it may be empty: some entries are a TOTP seed or a key
    /// alone), a TOTP seed in base32 (spaces and case forgiven, as
    /// authenticator apps show it), at most [`MAX_FIELDS`] fields with
    /// short names. Returns the field the error is about.
    pub fn checked(self) -> Result<Secrets, (&'static str, String)> {
        if self.password.chars().count() > MAX_PASSWORD {
            return Err(("password", format!("at most {MAX_PASSWORD} characters")));
        }
        let totp_secret = match self.totp_secret.as_deref().map(normalize_seed) {
            None => None,
            Some(s) if s.is_empty() => None,
            Some(s) if s.len() < 16 || s.len() > 128 || !s.chars().all(|c| matches!(c, 'A'..='Z' | '2'..='7')) => {
                return Err(("totp_secret", "a base32 seed (A–Z, 2–7) of 16 to 128 characters, as the service showed it".into()))
            }
            Some(s) => Some(s),
        };
        if self.fields.len() > MAX_FIELDS {
            return Err(("fields", format!("at most {MAX_FIELDS} fields")));
        }
        for (k, v) in &self.fields {
            let name = k.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(("fields", "each field needs a name of 1–100 characters".into()));
            }
            if v.chars().count() > MAX_SECRET {
                return Err(("fields", format!("{name}: at most {MAX_SECRET} characters")));
            }
        }
        Ok(Secrets { totp_secret, ..self })
    }
}

/// A TOTP seed as stored: upper case, without spaces, dashes or padding.
pub fn normalize_seed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '=').map(|c| c.to_ascii_uppercase()).collect()
}

/// The associated data a version of an entry is sealed with: a sealed
/// value opens only on the row, client and version it was made for.
pub fn context(entry_id: i64, client_id: i64, version: i64) -> String {
    format!("vault_entries:{entry_id}:client:{client_id}:v{version}")
}

/// The character classes of a generated password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct Classes {
    pub lower: bool,
    pub upper: bool,
    pub digits: bool,
    pub symbols: bool,
}

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#$%&*+-=?@^_~";

/// Generated password lengths.
pub const GENERATED_LENGTH: std::ops::RangeInclusive<usize> = 8..=128;

/// A random password of `length` characters with at least one of each
/// class asked for (look-alikes `l`, `I`, `O`, `0`, `1` left out); `None`
/// when no class is asked for or the length is outside
/// [`GENERATED_LENGTH`].
pub fn generate(rng: &mut impl Rng, length: usize, c: Classes) -> Option<String> {
    let sets: Vec<&[u8]> = [(c.lower, LOWER), (c.upper, UPPER), (c.digits, DIGITS), (c.symbols, SYMBOLS)]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| s)
        .collect();
    if sets.is_empty() || !GENERATED_LENGTH.contains(&length) {
        return None;
    }
    let all: Vec<u8> = sets.concat();
    let mut out: Vec<u8> = sets.iter().map(|s| s[rng.gen_range(0..s.len())]).collect();
    while out.len() < length {
        out.push(all[rng.gen_range(0..all.len())]);
    }
    out.shuffle(rng);
    Some(String::from_utf8(out).expect("ASCII"))
}

/// Words for passphrases: short, common, unambiguous.
const WORDS: &[&str] = &[
    "amber", "anchor", "apple", "arrow", "atlas", "badge", "bamboo", "banjo", "basil", "beacon", "birch", "bison", "blaze", "bloom",
    "bolt", "brick", "brook", "cabin", "cactus", "camel", "candle", "canyon", "cedar", "chalk", "cherry", "cider", "clover", "cobalt",
    "comet", "coral", "crane", "crystal", "daisy", "delta", "denim", "dingo", "dove", "dragon", "dune", "eagle", "ember", "falcon", "fern",
    "fig", "flint", "forest", "fossil", "galaxy", "garnet", "gecko", "ginger", "glacier", "granite", "grape", "harbor", "hazel", "heron",
    "honey", "island", "ivory", "jade", "jasmine", "jungle", "kayak", "kettle", "kiwi", "lagoon", "lantern", "lemon", "lilac", "llama",
    "lotus", "maple", "marble", "meadow", "melon", "mint", "monsoon", "moss", "nectar", "nickel", "nova", "oasis", "olive", "onyx",
    "orbit", "otter", "panda", "papaya", "pebble", "pepper", "pine", "planet", "plum", "polar", "pond", "quartz", "quill", "rabbit",
    "raven", "reef", "river", "robin", "saffron", "sage", "salmon", "sand", "sapphire", "sierra", "silver", "sparrow", "spruce", "storm",
    "summit", "tango", "thistle", "tiger", "topaz", "tulip", "tundra", "velvet", "violet", "walnut", "willow", "zebra", "zephyr",
];

/// A passphrase of `words` words (3–12) joined by `-`, one of them with a
/// digit, so sites that want a digit take it.
pub fn passphrase(rng: &mut impl Rng, words: usize) -> Option<String> {
    if !(3..=12).contains(&words) {
        return None;
    }
    let mut w: Vec<String> = (0..words).map(|_| WORDS[rng.gen_range(0..WORDS.len())].to_string()).collect();
    let i = rng.gen_range(0..words);
    w[i].push(char::from(b'0' + rng.gen_range(2..10u8)));
    Some(w.join("-"))
}

/// Whether a reveal may go ahead: a session (never an API token) whose
/// second factor was proven at `mfa_at`, no longer ago than `window_us`.
pub fn may_reveal(via_session: bool, mfa_at: Option<i64>, now: i64, window_us: i64) -> Result<(), RevealRefused> {
    if !via_session {
        return Err(RevealRefused::NotASession);
    }
    match mfa_at {
        Some(at) if at <= now && now - at <= window_us => Ok(()),
        _ => Err(RevealRefused::MfaNotRecent),
    }
}

/// Why a reveal was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevealRefused {
    /// Secrets are revealed to people, in a browser, never to a token.
    NotASession,
    /// The second factor was not proven recently enough (or never).
    MfaNotRecent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn secrets_are_checked() {
        let s = |password: &str, totp: Option<&str>| Secrets {
            password: password.into(),
            totp_secret: totp.map(String::from),
            fields: BTreeMap::new(),
        };
        assert_eq!(s("x", Some("jbsw y3dp ehpk 3pxp")).checked().unwrap().totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
        assert_eq!(s("", Some("  ")).checked().unwrap().totp_secret, None);
        assert_eq!(s("x", Some("not base32 at all!")).checked().unwrap_err().0, "totp_secret");
        assert_eq!(s(&"a".repeat(MAX_PASSWORD + 1), None).checked().unwrap_err().0, "password");
        let mut many = s("x", None);
        many.fields = (0..=MAX_FIELDS).map(|i| (format!("f{i}"), "v".into())).collect();
        assert_eq!(many.checked().unwrap_err().0, "fields");
        let mut blank = s("x", None);
        blank.fields.insert("  ".into(), "v".into());
        assert_eq!(blank.checked().unwrap_err().0, "fields");
    }

    #[test]
    fn a_reveal_needs_a_session_with_a_recent_second_factor() {
        let min = 60_000_000;
        assert_eq!(may_reveal(true, Some(1_000 * min), 1_010 * min, 15 * min), Ok(()));
        assert_eq!(may_reveal(true, Some(1_000 * min), 1_016 * min, 15 * min), Err(RevealRefused::MfaNotRecent));
        assert_eq!(may_reveal(true, None, 1_000 * min, 15 * min), Err(RevealRefused::MfaNotRecent));
        assert_eq!(may_reveal(false, Some(1_000 * min), 1_000 * min, 15 * min), Err(RevealRefused::NotASession));
        // A proof from the future (clock trouble) is no proof.
        assert_eq!(may_reveal(true, Some(2_000 * min), 1_000 * min, 15 * min), Err(RevealRefused::MfaNotRecent));
    }

    #[test]
    fn contexts_differ_by_entry_client_and_version() {
        let all = [context(1, 2, 3), context(2, 1, 3), context(1, 2, 4), context(12, 3, 4), context(1, 23, 4)];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    fn classes() -> impl Strategy<Value = Classes> {
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(lower, upper, digits, symbols)| Classes {
            lower,
            upper,
            digits,
            symbols,
        })
    }

    proptest! {
        #[test]
        fn generated_passwords_have_the_length_and_every_class_asked_for(seed in any::<u64>(), length in 0usize..200, c in classes()) {
            let mut rng = StdRng::seed_from_u64(seed);
            match generate(&mut rng, length, c) {
                None => prop_assert!(!GENERATED_LENGTH.contains(&length) || !(c.lower || c.upper || c.digits || c.symbols)),
                Some(p) => {
                    prop_assert_eq!(p.len(), length);
                    for (on, set) in [(c.lower, LOWER), (c.upper, UPPER), (c.digits, DIGITS), (c.symbols, SYMBOLS)] {
                        let has = p.bytes().any(|b| set.contains(&b));
                        prop_assert_eq!(has, on, "{} {:?}", p, c);
                    }
                    prop_assert!(!p.contains(['l', 'I', 'O', '0', '1']));
                }
            }
        }

        #[test]
        fn passphrases_have_their_words_and_a_digit(seed in any::<u64>(), words in 0usize..20) {
            let mut rng = StdRng::seed_from_u64(seed);
            match passphrase(&mut rng, words) {
                None => prop_assert!(!(3..=12).contains(&words)),
                Some(p) => {
                    prop_assert_eq!(p.split('-').count(), words);
                    prop_assert!(p.chars().any(|c| c.is_ascii_digit()));
                }
            }
        }

        #[test]
        fn seeds_normalize_idempotently(s in "[a-zA-Z2-7 =-]{0,40}") {
            let n = normalize_seed(&s);
            prop_assert_eq!(normalize_seed(&n), n.clone());
            prop_assert!(!n.contains([' ', '-', '=']));
        }
    }
}
