//! Pagination for list endpoints: `?limit=&offset=` in, `{items,total,limit,offset}` out.
//! Out-of-range values are refused (400 naming the parameter), not clamped:
//! a script that asks for 1,000 items learns it gets at most 500.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;
/// The largest offset the database can take (a signed 64-bit integer).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Items per page: 1–500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u64);

/// Items to skip: 0–2⁶³−1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset(u64);

fn int_schema(min: u64, max: u64, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
        .description(Some(description))
        .into()
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if (1..=MAX_LIMIT).contains(&n) {
            Ok(Limit(n))
        } else {
            Err(serde::de::Error::custom(format!("must be between 1 and {MAX_LIMIT}")))
        }
    }
}

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if n <= MAX_OFFSET {
            Ok(Offset(n))
        } else {
            Err(serde::de::Error::custom(format!("must be at most {MAX_OFFSET}")))
        }
    }
}

impl utoipa::PartialSchema for Limit {
    fn schema() -> RefOr<Schema> {
        int_schema(1, MAX_LIMIT, "Items per page (default 50)")
    }
}
impl utoipa::ToSchema for Limit {}

impl utoipa::PartialSchema for Offset {
    fn schema() -> RefOr<Schema> {
        int_schema(0, MAX_OFFSET, "Items to skip (default 0)")
    }
}
impl utoipa::ToSchema for Offset {}

/// Query parameters of a list request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    #[param(inline)]
    pub limit: Option<Limit>,
    #[param(inline)]
    pub offset: Option<Offset>,
}

impl PageParams {
    /// A page the server chooses (pages of the web UI).
    pub fn new(limit: u64, offset: u64) -> PageParams {
        PageParams { limit: Some(Limit(limit.clamp(1, MAX_LIMIT))), offset: Some(Offset(offset.min(MAX_OFFSET))) }
    }
    pub fn limit(&self) -> u64 {
        self.limit.map_or(DEFAULT_LIMIT, |l| l.0)
    }
    pub fn offset(&self) -> u64 {
        self.offset.map_or(0, |o| o.0)
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// How many items match in all; at least this many when
    /// `total_capped`.
    pub total: i64,
    /// The count stopped at `total` (a list that can grow huge, such as the
    /// ticket queue, counts up to 10,000 or past the page asked for): more
    /// items match.
    pub total_capped: bool,
    pub limit: u64,
    pub offset: u64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: i64, p: &PageParams) -> Self {
        Paged { items, total, total_capped: false, limit: p.limit(), offset: p.offset() }
    }

    /// A page whose total was counted up to a cap.
    pub fn counted(items: Vec<T>, total: crate::store::Total, p: &PageParams) -> Self {
        Paged { total_capped: total.capped, ..Paged::new(items, total.n, p) }
    }

    /// Pages a list that is small by nature (one client's sites, one user's
    /// tokens) and was read whole.
    pub fn from_all(all: Vec<T>, p: &PageParams) -> Self {
        let total = all.len() as i64;
        let items = all.into_iter().skip(p.offset() as usize).take(p.limit() as usize).collect();
        Paged::new(items, total, p)
    }
}
