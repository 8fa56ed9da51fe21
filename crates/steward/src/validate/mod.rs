//! Validated values: newtypes that can only be made by parsing, so a value
//! of one of these types is valid by construction, and the OpenAPI schema
//! of each (its lengths, its pattern) comes from the same constants the
//! parser checks. Request structs keep `String` fields (so a form and a JSON
//! body share them) and name the schema with `#[schema(value_type = Name)]`;
//! operations parse them into these types before anything is stored.
//!
//! Names and text refuse control characters and the Unicode bidirectional
//! controls (a right-to-left override makes `exe.txt` read as `txt.exe`);
//! email addresses refuse letters from more than one alphabet (`аdmin` with
//! a Cyrillic `а` looks like `admin`).

use std::borrow::Cow;
use unicode_script::{Script, UnicodeScript};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

pub mod cidr;
pub mod shapes;
pub mod tags;

/// Characters no name or text may hold: C0/C1 controls (tab and line
/// breaks only in multi-line text) and the bidirectional controls.
pub(crate) fn forbidden(c: char, multiline: bool) -> bool {
    let bidi = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}');
    bidi || (c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
}

/// The same rule as a JSON Schema pattern (ECMA and Python regexes).
const SINGLE_LINE_CLASS: &str = r"[^\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\u061C]";

fn string_schema(min: usize, max: usize, pattern: Option<String>, description: &str) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new().schema_type(Type::String).max_length(Some(max)).description(Some(description));
    if min > 0 {
        b = b.min_length(Some(min));
    }
    if let Some(p) = pattern {
        b = b.pattern(Some(p));
    }
    b.into()
}

macro_rules! newtype {
    ($t:ident) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<$t> for sea_query::Value {
            fn from(v: $t) -> Self {
                v.0.into()
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> Self {
                v.0
            }
        }
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

/// A required single-line name: trimmed, 1–200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);
newtype!(Name);

impl Name {
    pub const MAX: usize = 200;

    pub fn parse(v: &str) -> Result<Name, String> {
        let t = v.trim();
        if t.is_empty() {
            return Err("must not be empty".into());
        }
        if t.chars().count() > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        if t.chars().any(|c| forbidden(c, false)) {
            return Err("must not contain control or text-direction characters".into());
        }
        Ok(Name(t.to_string()))
    }
}

impl utoipa::PartialSchema for Name {
    fn schema() -> RefOr<Schema> {
        // At least one character that is not white space, none forbidden.
        let p = format!(r"^{c}*[^\s\u0000-\u001F\u007F-\u009F]{c}*$", c = SINGLE_LINE_CLASS);
        string_schema(1, Self::MAX, Some(p), "A name: 1–200 characters, no control or text-direction characters")
    }
}
impl utoipa::ToSchema for Name {}

/// Optional free text of at most `MAX` characters (line breaks allowed);
/// trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(v: &str) -> Result<Text<MAX>, String> {
        let t = v.trim();
        if t.chars().count() > MAX {
            return Err(format!("must be at most {MAX} characters"));
        }
        if t.chars().any(|c| forbidden(c, true)) {
            return Err("must not contain control or text-direction characters".into());
        }
        Ok(Text(t.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> From<Text<MAX>> for sea_query::Value {
    fn from(v: Text<MAX>) -> Self {
        v.0.into()
    }
}
impl<const MAX: usize> std::ops::Deref for Text<MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> serde::Serialize for Text<MAX> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(v: Text<MAX>) -> Self {
        v.0
    }
}

impl<const MAX: usize> utoipa::PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        let p = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\u061C]*$".to_string();
        string_schema(0, MAX, Some(p), "Free text; line breaks allowed, no other control or text-direction characters")
    }
}
impl<const MAX: usize> utoipa::ToSchema for Text<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Text{MAX}"))
    }
}

/// Short text: a title, a label (200 characters).
pub type Short = Text<200>;
/// A description or an address (2,000 characters).
pub type Medium = Text<2000>;
/// Notes (20,000 characters).
pub type Long = Text<20_000>;
/// A message: a ticket reply or note (100,000 characters).
pub type Message = Text<100_000>;

/// An email address: one `@`, a dotted domain, no spaces or markup, at
/// most 254 characters, letters from one alphabet per part. Lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);
newtype!(Email);

/// Whether the letters of `s` come from more than one alphabet (digits and
/// punctuation belong to all).
fn mixed_scripts(s: &str) -> bool {
    let mut seen: Option<Script> = None;
    for c in s.chars().filter(|c| c.is_alphabetic()) {
        let sc = c.script();
        if matches!(sc, Script::Common | Script::Inherited | Script::Unknown) {
            continue;
        }
        match seen {
            None => seen = Some(sc),
            Some(s) if s != sc => return true,
            _ => {}
        }
    }
    false
}

/// Why an address of the documented shape is still refused.
pub const LOOK_ALIKE: &str = "mixes letters of different alphabets (a look-alike address?)";

/// The API error for an address `Email::parse` refused: one that does not
/// have the documented shape is 400; one that has it but is refused for
/// what it is (a look-alike) is 422.
pub fn email_error(field: &str, message: String) -> crate::error::ApiError {
    if message == LOOK_ALIKE {
        crate::error::ApiError::refused(field, message)
    } else {
        crate::error::ApiError::invalid(field, message)
    }
}

impl Email {
    pub fn parse(v: &str) -> Result<Email, String> {
        let t = v.trim();
        if t.is_empty() {
            return Err("must not be empty".into());
        }
        let ok = t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || forbidden(c, false) || "<>\"'(),;:[]\\".contains(c))
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
        if !ok {
            return Err("is not a valid email address".into());
        }
        let (local, domain) = t.split_once('@').expect("checked");
        if mixed_scripts(local) || domain.split('.').any(mixed_scripts) {
            return Err(LOOK_ALIKE.into());
        }
        Ok(Email(t.to_lowercase()))
    }

    /// An optional address: empty is `None`.
    pub fn optional(v: &str) -> Result<Option<Email>, String> {
        if v.trim().is_empty() {
            Ok(None)
        } else {
            Email::parse(v).map(Some)
        }
    }
}

impl utoipa::PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        let p = r#"^\s*[^\s@<>"'(),;:\[\]\\\u0000-\u001F\u007F-\u009F]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*$"#.to_string();
        string_schema(3, 254, Some(p), "An email address")
    }
}
impl utoipa::ToSchema for Email {}

/// An optional email address (`""` for none), for schemas.
pub struct OptionalEmail;

impl utoipa::PartialSchema for OptionalEmail {
    fn schema() -> RefOr<Schema> {
        let p = r#"^(\s*|\s*[^\s@<>"'(),;:\[\]\\\u0000-\u001F\u007F-\u009F]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*)$"#.to_string();
        string_schema(0, 254, Some(p), "An email address, or empty for none")
    }
}
impl utoipa::ToSchema for OptionalEmail {}

/// A phone number: digits with optional `+`, spaces, dashes, dots,
/// brackets and an extension (`x123`); up to 40 characters, empty allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);
newtype!(Phone);

impl Phone {
    pub fn parse(v: &str) -> Result<Phone, String> {
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
        Ok(Phone(t.to_string()))
    }
}

impl utoipa::PartialSchema for Phone {
    fn schema() -> RefOr<Schema> {
        string_schema(0, 40, Some(r"^( *|[ +().xX-]*[0-9]([ +().xX-]*[0-9]){2}[0-9 +().xX-]*)$".into()), "A phone number, or empty")
    }
}
impl utoipa::ToSchema for Phone {}

/// An IANA time zone name (`Europe/Berlin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone(String);
newtype!(TimeZone);

impl TimeZone {
    pub fn parse(v: &str) -> Result<TimeZone, String> {
        let t = v.trim();
        t.parse::<chrono_tz::Tz>()
            .map(|tz| TimeZone(tz.name().to_string()))
            .map_err(|_| format!("{t:?} is not an IANA time zone such as Europe/London"))
    }
}

impl utoipa::PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        let names: Vec<serde_json::Value> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name().into()).collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some("An IANA time zone, e.g. Europe/London"))
            .into()
    }
}
impl utoipa::ToSchema for TimeZone {}

/// For patch fields: tells a field sent as `null` (`Some(None)`: clear
/// it) from one left out (`None`: leave it). Use with `#[serde(default)]`.
pub mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(Name::parse("  Acme Ltd ").map(Name::into_string), Ok("Acme Ltd".into()));
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("a\u{0}b").is_err());
        assert!(Name::parse("invoice\u{202E}fdp.exe").is_err(), "right-to-left override");
        assert!(Short::parse("line\nbreak").is_ok() && Short::parse("bidi\u{2067}x").is_err());
        assert_eq!(Email::parse("Ops@Example.COM").map(Email::into_string), Ok("ops@example.com".into()));
        for bad in
            ["a@b", "@x.com", "a b@x.com", "a@@x.com", "a@x..com", "<script>@x.com", "\u{430}dmin@test.local", "admin@t\u{435}st.local"]
        {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse("петя@почта.рф").is_ok(), "one alphabet is fine, whichever it is");
        assert_eq!(Email::optional(" "), Ok(None));
        assert!(Phone::parse("+44 (0)20 7946 0000 x12").is_ok());
        assert!(Phone::parse("call me").is_err());
        assert_eq!(TimeZone::parse("America/New_York").map(TimeZone::into_string), Ok("America/New_York".into()));
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }

    proptest! {
        #[test]
        fn names_are_trimmed_bounded_and_clean(s in "\\PC{0,300}") {
            if let Ok(n) = Name::parse(&s) {
                let n = n.into_string();
                prop_assert!(!n.is_empty() && n.chars().count() <= Name::MAX);
                prop_assert_eq!(n.trim(), n.as_str());
                prop_assert!(!n.chars().any(|c| forbidden(c, false)));
            }
        }

        #[test]
        fn emails_have_one_at_and_no_markup(s in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                let e = e.into_string();
                prop_assert_eq!(e.matches('@').count(), 1);
                prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains(' '));
            }
        }

        #[test]
        fn text_never_exceeds_its_bound(s in "\\PC{0,300}") {
            if let Ok(t) = Text::<100>::parse(&s) {
                prop_assert!(t.as_str().chars().count() <= 100);
            }
        }
    }
}
