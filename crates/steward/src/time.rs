//! Time as Steward keeps it: UTC microseconds since the epoch in the
//! database (identical and sortable on both engines), RFC 3339 strings at
//! the API, a short UTC form on pages. [`Timestamp`] is the stored value
//! that serialises as RFC 3339, so an answer cannot show the raw integer.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Now, as UTC microseconds since the epoch.
pub fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Stored microseconds for people: `2026-12-03 08:30:00 UTC`.
pub fn fmt_time(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default()
}

/// Stored microseconds as RFC 3339 UTC with microseconds:
/// `2026-12-03T08:30:00.123456Z`.
pub fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)).unwrap_or_default()
}

/// An RFC 3339 time (any offset) as UTC microseconds.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_micros())
        .map_err(|_| format!("{:?} is not an RFC 3339 time such as 2026-12-03T08:30:00Z", s.trim()))
}

/// A stored time (UTC microseconds) that the API shows as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(now_us())
    }
    pub fn micros(self) -> i64 {
        self.0
    }
}

impl From<Timestamp> for sea_query::Value {
    fn from(t: Timestamp) -> Self {
        t.0.into()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&rfc3339(self.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(self.0))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_rfc3339(&s).map(Timestamp).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples([serde_json::json!("2026-12-03T08:30:00.123456Z")])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_api_form_is_rfc3339_utc_with_microseconds() {
        assert_eq!(rfc3339(1_796_286_865_909_607), "2026-12-03T08:34:25.909607Z");
        assert_eq!(serde_json::to_string(&Timestamp(0)).unwrap(), "\"1970-01-01T00:00:00.000000Z\"");
        assert_eq!(parse_rfc3339("2026-12-03T09:34:25.909607+01:00"), Ok(1_796_286_865_909_607));
        assert!(parse_rfc3339("yesterday").is_err());
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_same_microsecond(us in 0i64..253_402_300_799_000_000) {
            prop_assert_eq!(parse_rfc3339(&rfc3339(us)), Ok(us));
        }
    }
}
