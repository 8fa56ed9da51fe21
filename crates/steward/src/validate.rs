//! Field validation for clients, sites and contacts: pure functions that
//! return the cleaned value or a message naming what is wrong.

/// A required single-line name: trimmed, 1–200 characters, no control characters.
pub fn name(v: &str) -> Result<String, String> {
    let t = v.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > 200 {
        return Err("must be at most 200 characters".into());
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

/// Optional free text up to `max` characters (newlines allowed).
pub fn text(v: &str, max: usize) -> Result<String, String> {
    let t = v.trim();
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

/// An email address (empty allowed when `optional`): one `@`, a dotted
/// domain, no spaces, at most 254 characters. Lower-cased.
pub fn email(v: &str, optional: bool) -> Result<String, String> {
    let t = v.trim();
    if t.is_empty() {
        return if optional { Ok(String::new()) } else { Err("must not be empty".into()) };
    }
    let ok = t.len() <= 254
        && !t.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"'(),;:[]\\".contains(c))
        && match t.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            }
            None => false,
        };
    if ok {
        Ok(t.to_lowercase())
    } else {
        Err("is not a valid email address".into())
    }
}

/// A phone number: digits with optional `+`, spaces, dashes, dots, brackets
/// and an extension (`x123`); 0–40 characters.
pub fn phone(v: &str) -> Result<String, String> {
    let t = v.trim();
    if t.chars().count() > 40 {
        return Err("must be at most 40 characters".into());
    }
    if !t.chars().all(|c| c.is_ascii_digit() || " +-.()xX".contains(c)) {
        return Err("may contain only digits, spaces, + - . ( ) and x for an extension".into());
    }
    if !t.is_empty() && t.chars().filter(char::is_ascii_digit).count() < 3 {
        return Err("must contain at least 3 digits".into());
    }
    Ok(t.to_string())
}

/// An IANA time zone name (`Europe/Berlin`).
pub fn timezone(v: &str) -> Result<String, String> {
    let t = v.trim();
    t.parse::<chrono_tz::Tz>().map(|tz| tz.name().to_string()).map_err(|_| format!("{t:?} is not an IANA time zone such as Europe/London"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(name("  Acme Ltd "), Ok("Acme Ltd".into()));
        assert!(name("   ").is_err());
        assert!(name("a\u{0}b").is_err());
        assert_eq!(email("Ops@Example.COM", false), Ok("ops@example.com".into()));
        for bad in ["a@b", "@x.com", "a b@x.com", "a@@x.com", "a@x..com", "<script>@x.com"] {
            assert!(email(bad, false).is_err(), "{bad}");
        }
        assert_eq!(email("", true), Ok(String::new()));
        assert!(phone("+44 (0)20 7946 0000 x12").is_ok());
        assert!(phone("call me").is_err());
        assert_eq!(timezone("America/New_York"), Ok("America/New_York".into()));
        assert!(timezone("Mars/Olympus").is_err());
    }

    proptest! {
        #[test]
        fn validated_names_are_trimmed_bounded_and_clean(s in "\\PC{0,300}") {
            if let Ok(n) = name(&s) {
                prop_assert!(!n.is_empty() && n.chars().count() <= 200);
                prop_assert_eq!(n.trim(), n.as_str());
                prop_assert!(!n.chars().any(char::is_control));
            }
        }

        #[test]
        fn validated_emails_have_one_at_and_no_markup(s in "\\PC{0,80}") {
            if let Ok(e) = email(&s, false) {
                prop_assert_eq!(e.matches('@').count(), 1);
                prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains(' '));
            }
        }
    }
}
