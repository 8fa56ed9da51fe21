//! Pagination for list endpoints: `?limit=&offset=` in, `{items,total,limit,offset}` out.

use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

/// Query parameters of a list request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1–500, default 50).
    pub limit: Option<u64>,
    /// Items to skip.
    pub offset: Option<u64>,
}

impl PageParams {
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }
    pub fn offset(&self) -> u64 {
        self.offset.unwrap_or(0).min(i64::MAX as u64)
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: i64,
    pub limit: u64,
    pub offset: u64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: i64, p: &PageParams) -> Self {
        Paged { items, total, limit: p.limit(), offset: p.offset() }
    }

    /// Pages a list that is small by nature (one client's sites, one user's
    /// tokens) and was read whole.
    pub fn from_all(all: Vec<T>, p: &PageParams) -> Self {
        let total = all.len() as i64;
        let items = all.into_iter().skip(p.offset() as usize).take(p.limit() as usize).collect();
        Paged::new(items, total, p)
    }
}
