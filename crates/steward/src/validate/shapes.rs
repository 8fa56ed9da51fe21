//! Schema-only shapes: how a request field kept as `String` looks in the
//! OpenAPI document (`#[schema(value_type = …)]`), so the document states
//! every rule of shape the server checks. A request that breaks one is
//! answered 400; one of the right shape that cannot be used (a week 53 in a
//! year without one, a priority code nobody configured) is answered 422.
//! Patterns use literal spaces, never `\s`: Python's `\s` (the fuzzer's)
//! takes characters such as U+001C that Rust's `trim` keeps.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};

/// A string that is one of a fixed list, e.g.
/// `choice!(EntryKindInput: "reply", "note")`.
#[macro_export]
macro_rules! choice {
    ($(#[$m:meta])* $t:ident: $($v:literal),+ $(,)?) => {
        $(#[$m])*
        pub struct $t;
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::validate::shapes::one_of(&[$($v),+])
            }
        }
        impl utoipa::ToSchema for $t {}
    };
}

/// The schema of a string that is one of `values`.
pub fn one_of(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).into()
}

fn pattern(p: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(p)).description(Some(description)).into()
}

/// Required free text (line breaks allowed), at most `MAX` characters.
/// Text that is only white space has the right shape and is refused for
/// what it means (422): a pattern that says "not only spaces" is one the
/// fuzzer cannot generate for in time.
pub struct Body<const MAX: usize>;
impl<const MAX: usize> utoipa::PartialSchema for Body<MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX))
            .pattern(Some(r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\u061C]*$"))
            .description(Some("Text, not empty nor only spaces; line breaks allowed, no other control or text-direction characters"))
            .into()
    }
}
impl<const MAX: usize> utoipa::ToSchema for Body<MAX> {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(format!("Body{MAX}"))
    }
}

/// A calendar day, `2026-12-25`.
pub struct CalendarDay;
impl utoipa::PartialSchema for CalendarDay {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(Some("A day, e.g. 2026-12-25"))
            .into()
    }
}
impl utoipa::ToSchema for CalendarDay {}

/// A list of days.
pub struct CalendarDays;
impl utoipa::PartialSchema for CalendarDays {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new().items(<CalendarDay as utoipa::PartialSchema>::schema()).into()
    }
}
impl utoipa::ToSchema for CalendarDays {}

/// A wall-clock time `HH:MM`; `24:00` ends a day.
pub struct HhMm;
impl utoipa::PartialSchema for HhMm {
    fn schema() -> RefOr<Schema> {
        pattern(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", "A time of day, HH:MM; 24:00 ends the day")
    }
}
impl utoipa::ToSchema for HhMm {}

/// How an ISO week is written: `2026-W49` (also `2026-w49`, `2026W49`).
pub const WEEK_SHAPE: &str = r"^[0-9]{4}-?[Ww][0-9]{1,2}$";

/// An ISO week, `2026-W49`.
pub struct IsoWeek;
impl utoipa::PartialSchema for IsoWeek {
    fn schema() -> RefOr<Schema> {
        pattern(WEEK_SHAPE, "An ISO week, e.g. 2026-W49")
    }
}
impl utoipa::ToSchema for IsoWeek {}

/// A priority code as written: 1–8 letters and digits (`P1`).
pub struct PriorityCode;
impl utoipa::PartialSchema for PriorityCode {
    fn schema() -> RefOr<Schema> {
        pattern(r"^[A-Za-z0-9]{1,8}$", "A priority code, e.g. P1: 1–8 letters and digits")
    }
}
impl utoipa::ToSchema for PriorityCode {}

/// Named strings: at most `KEYS` names, each value at most `LEN` characters.
pub struct StringMap<const KEYS: usize, const LEN: usize>;
impl<const KEYS: usize, const LEN: usize> utoipa::PartialSchema for StringMap<KEYS, LEN> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .max_properties(Some(KEYS))
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(LEN))))
            .into()
    }
}
impl<const KEYS: usize, const LEN: usize> utoipa::ToSchema for StringMap<KEYS, LEN> {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(format!("StringMap{KEYS}x{LEN}"))
    }
}
