//! The device list as the database answers it: filtered (client, site, OS,
//! state, host name), sorted and paged in SQL, with the client's and site's
//! names joined in, so a page of 50 out of 100,000 devices reads 50 rows
//! and one count.

use super::Devices;
use crate::store::{like_contains, Count, Db, Result};
use crate::tenancy::store::{Clients, Sites};
use sea_query::{Alias, Expr, Func, Order, Query, SelectStatement};
use serde::Deserialize;

/// How a device list is narrowed and ordered.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeviceFilter {
    /// Only this client's devices.
    pub client_id: Option<i64>,
    /// Only this site's devices.
    pub site_id: Option<i64>,
    /// OS name contains this (case-insensitive), e.g. `windows 11`.
    pub os: Option<String>,
    /// `online`, `offline` (enrolled, not connected) or `revoked`.
    #[param(inline, value_type = Option<StateParam>)]
    pub state: Option<String>,
    /// Host name contains this (case-insensitive).
    pub q: Option<String>,
    /// `hostname` (default), `client`, `site`, `os`, `last_seen` or `state`.
    #[param(inline, value_type = Option<SortParam>)]
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(inline, value_type = Option<OrderParam>)]
    pub order: Option<String>,
}

// The values the filters take, for the API's schema; empty means "any"
// (or the default), as the device list's form sends it.
crate::choice!(
    /// A device's state, as a filter.
    StateParam: "", "online", "offline", "revoked"
);
crate::choice!(
    /// What the device list sorts by.
    SortParam: "", "hostname", "client", "site", "os", "last_seen", "state"
);
crate::choice!(
    /// A sort order.
    OrderParam: "", "asc", "desc"
);

impl DeviceFilter {
    /// Checks the values that have a fixed vocabulary.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !matches!(self.state.as_deref(), None | Some("" | "online" | "offline" | "revoked")) {
            return Err(("state", "use online, offline or revoked"));
        }
        if !matches!(self.sort.as_deref(), None | Some("" | "hostname" | "client" | "site" | "os" | "last_seen" | "state")) {
            return Err(("sort", "use hostname, client, site, os, last_seen or state"));
        }
        if !matches!(self.order.as_deref(), None | Some("" | "asc" | "desc")) {
            return Err(("order", "use asc or desc"));
        }
        Ok(())
    }
}

/// A device with the names of its client and site.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    #[sqlx(flatten)]
    pub device: super::Device,
    pub client_name: String,
    pub site_name: String,
}

fn d(c: Devices) -> (Devices, Devices) {
    (Devices::Table, c)
}

fn filtered(q: &mut SelectStatement, scope: Option<&[i64]>, f: &DeviceFilter) {
    q.from(Devices::Table)
        .inner_join(Clients::Table, Expr::col((Clients::Table, Clients::Id)).equals(d(Devices::ClientId)))
        .inner_join(Sites::Table, Expr::col((Sites::Table, Sites::Id)).equals(d(Devices::SiteId)));
    if let Some(ids) = scope {
        q.and_where(Expr::col(d(Devices::ClientId)).is_in(ids.to_vec()));
    }
    if let Some(c) = f.client_id {
        q.and_where(Expr::col(d(Devices::ClientId)).eq(c));
    }
    if let Some(s) = f.site_id {
        q.and_where(Expr::col(d(Devices::SiteId)).eq(s));
    }
    if let Some(os) = f.os.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.and_where(Expr::expr(Func::lower(Expr::col(d(Devices::Os)))).like(like_contains(&os.to_lowercase())));
    }
    if let Some(h) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.and_where(Expr::expr(Func::lower(Expr::col(d(Devices::Hostname)))).like(like_contains(&h.to_lowercase())));
    }
    match f.state.as_deref() {
        Some("online") => {
            q.and_where(Expr::col(d(Devices::RevokedAt)).is_null()).and_where(Expr::col(d(Devices::Online)).eq(true));
        }
        Some("offline") => {
            q.and_where(Expr::col(d(Devices::RevokedAt)).is_null()).and_where(Expr::col(d(Devices::Online)).eq(false));
        }
        Some("revoked") => {
            q.and_where(Expr::col(d(Devices::RevokedAt)).is_not_null());
        }
        _ => {}
    }
}

/// One page of devices matching `f` among the clients in `scope` (`None`:
/// all), and how many match in all.
pub async fn search(db: &mut impl Db, scope: Option<&[i64]>, f: &DeviceFilter, limit: u64, offset: u64) -> Result<(Vec<DeviceRow>, i64)> {
    let mut q = Query::select();
    q.columns(super::COLS.map(d))
        .expr_as(Expr::col((Clients::Table, Clients::Name)), Alias::new("client_name"))
        .expr_as(Expr::col((Sites::Table, Sites::Name)), Alias::new("site_name"));
    filtered(&mut q, scope, f);
    let order = if f.order.as_deref() == Some("desc") { Order::Desc } else { Order::Asc };
    match f.sort.as_deref().unwrap_or("hostname") {
        "client" => q.order_by((Clients::Table, Clients::Name), order.clone()),
        "site" => q.order_by((Sites::Table, Sites::Name), order.clone()),
        "os" => q.order_by(d(Devices::Os), order.clone()),
        "last_seen" => q.order_by(d(Devices::LastSeenAt), order.clone()),
        "state" => q.order_by(d(Devices::Online), order.clone()),
        _ => &mut q,
    };
    // Host name, then id: a stable order, so paging never repeats or skips.
    q.order_by(d(Devices::Hostname), order.clone()).order_by(d(Devices::Id), order).limit(limit).offset(offset);
    // Callers pass a `Store::snapshot` so that both statements see one
    // moment; outside one, counting first at least keeps the total from
    // promising a row the page does not hold (a device enrolled between
    // the two did, and tests tripped on it).
    let mut c = Query::select();
    c.expr_as(Expr::col(d(Devices::Id)).count(), crate::store::n());
    filtered(&mut c, scope, f);
    let n: Count = db.fetch_one(&c).await?;
    let rows = db.fetch_all(&q).await?;
    Ok((rows, n.n))
}

/// Distinct OS names among the devices in `scope`, for the filter's suggestions.
pub async fn os_names(db: &mut impl Db, scope: Option<&[i64]>) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct Os {
        os: String,
    }
    let mut q = Query::select();
    q.distinct().column(Devices::Os).from(Devices::Table).order_by(Devices::Os, Order::Asc).limit(200);
    if let Some(ids) = scope {
        q.and_where(Expr::col(Devices::ClientId).is_in(ids.to_vec()));
    }
    Ok(db.fetch_all::<Os, _>(&q).await?.into_iter().map(|o| o.os).collect())
}
