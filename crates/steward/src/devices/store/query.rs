//! The device list as the database answers it: filtered (client, site, OS,
//! state, host name), sorted and paged in SQL, with the client's and site's
//! names joined in, so a page of 50 out of 100,000 devices reads 50 rows
//! and one count.

use super::Devices;
use crate::devices::inventory::store::DeviceInventory;
use crate::monitoring::store::MetricLatest;
use crate::store::{like_contains, Count, Db, Result};
use crate::tenancy::store::{Clients, Sites};
use sea_query::{Alias, Cond, Expr, Func, Order, Query, SelectStatement, SimpleExpr};
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
    /// Host name, an IP address, a signed-in user or the serial number
    /// contains this (case-insensitive).
    pub q: Option<String>,
    /// `hostname` (default), `client`, `site`, `os`, `last_seen`, `state`,
    /// `cpu`, `memory`, `disk`, `ip`, `user` or `uptime`.
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
    SortParam: "", "hostname", "client", "site", "os", "last_seen", "state", "cpu", "memory", "disk", "ip", "user", "uptime"
);

/// What the list sorts by.
pub const SORTS: [&str; 12] = ["hostname", "client", "site", "os", "last_seen", "state", "cpu", "memory", "disk", "ip", "user", "uptime"];
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
        if self.sort.as_deref().is_some_and(|s| !s.is_empty() && !SORTS.contains(&s)) {
            return Err(("sort", "use hostname, client, site, os, last_seen, state, cpu, memory, disk, ip, user or uptime"));
        }
        if !matches!(self.order.as_deref(), None | Some("" | "asc" | "desc")) {
            return Err(("order", "use asc or desc"));
        }
        Ok(())
    }
}

/// A device with the names of its client and site, and what it is doing
/// now (empty until its agent reported).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    #[sqlx(flatten)]
    pub device: super::Device,
    pub client_name: String,
    pub site_name: String,
    #[sqlx(flatten)]
    pub now: NowRow,
}

/// A device's latest figures and inventory facts.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct NowRow {
    pub cpu: Option<f64>,
    pub mem: Option<f64>,
    pub disk: Option<f64>,
    pub disk_mount: Option<String>,
    /// When those figures were sampled, µs.
    pub metrics_at: Option<i64>,
    /// Space-separated, the first the main one.
    pub addresses: Option<String>,
    /// Comma-separated.
    pub users: Option<String>,
    pub serial: Option<String>,
    /// Unix seconds; 0 or none when unknown.
    pub boot_time: Option<i64>,
}

fn d(c: Devices) -> (Devices, Devices) {
    (Devices::Table, c)
}

fn inv(c: DeviceInventory) -> (DeviceInventory, DeviceInventory) {
    (DeviceInventory::Table, c)
}

fn ml(c: MetricLatest) -> (MetricLatest, MetricLatest) {
    (MetricLatest::Table, c)
}

/// The joins that bring in a device's "now" columns (one row each at most).
fn join_now(q: &mut SelectStatement) {
    q.left_join(DeviceInventory::Table, Expr::col(inv(DeviceInventory::DeviceId)).equals(d(Devices::Id)))
        .left_join(MetricLatest::Table, Expr::col(ml(MetricLatest::DeviceId)).equals(d(Devices::Id)));
}

/// The "now" columns, named as [`NowRow`] reads them.
pub(crate) fn now_columns(q: &mut SelectStatement) {
    q.expr_as(Expr::col(ml(MetricLatest::Cpu)), Alias::new("cpu"))
        .expr_as(Expr::col(ml(MetricLatest::Mem)), Alias::new("mem"))
        .expr_as(Expr::col(ml(MetricLatest::Disk)), Alias::new("disk"))
        .expr_as(Expr::col(ml(MetricLatest::DiskMount)), Alias::new("disk_mount"))
        .expr_as(Expr::col(ml(MetricLatest::At)), Alias::new("metrics_at"))
        .expr_as(Expr::col(inv(DeviceInventory::Addresses)), Alias::new("addresses"))
        .expr_as(Expr::col(inv(DeviceInventory::Users)), Alias::new("users"))
        .expr_as(Expr::col(inv(DeviceInventory::Serial)), Alias::new("serial"))
        .expr_as(Expr::col(inv(DeviceInventory::BootTime)), Alias::new("boot_time"));
}

/// One device with its "now" columns.
pub async fn now_of(db: &mut impl Db, device_id: i64) -> Result<NowRow> {
    let mut q = Query::select();
    now_columns(&mut q);
    q.from(Devices::Table).and_where(Expr::col(d(Devices::Id)).eq(device_id));
    join_now(&mut q);
    Ok(db.fetch_optional(&q).await?.unwrap_or_default())
}

fn has_text(f: &DeviceFilter) -> bool {
    f.q.as_deref().is_some_and(|s| !s.trim().is_empty())
}

fn filtered(q: &mut SelectStatement, scope: Option<&[i64]>, f: &DeviceFilter, now: bool) {
    q.from(Devices::Table)
        .inner_join(Clients::Table, Expr::col((Clients::Table, Clients::Id)).equals(d(Devices::ClientId)))
        .inner_join(Sites::Table, Expr::col((Sites::Table, Sites::Id)).equals(d(Devices::SiteId)));
    if now {
        join_now(q);
    }
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
        let pattern = like_contains(&h.to_lowercase());
        let lower = |c: SimpleExpr| Expr::expr(Func::lower(c)).like(pattern.clone());
        q.cond_where(
            Cond::any()
                .add(lower(Expr::col(d(Devices::Hostname)).into()))
                .add(lower(Expr::col(inv(DeviceInventory::Addresses)).into()))
                .add(lower(Expr::col(inv(DeviceInventory::Users)).into()))
                .add(lower(Expr::col(inv(DeviceInventory::Serial)).into())),
        );
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

fn flip(o: &Order) -> Order {
    if matches!(o, Order::Desc) {
        Order::Asc
    } else {
        Order::Desc
    }
}

/// One page of devices matching `f` among the clients in `scope` (`None`:
/// all), and how many match in all.
pub async fn search(db: &mut impl Db, scope: Option<&[i64]>, f: &DeviceFilter, limit: u64, offset: u64) -> Result<(Vec<DeviceRow>, i64)> {
    let mut q = Query::select();
    q.columns(super::COLS.map(d))
        .expr_as(Expr::col((Clients::Table, Clients::Name)), Alias::new("client_name"))
        .expr_as(Expr::col((Sites::Table, Sites::Name)), Alias::new("site_name"));
    now_columns(&mut q);
    filtered(&mut q, scope, f, true);
    let order = if f.order.as_deref() == Some("desc") { Order::Desc } else { Order::Asc };
    // Unknown figures last whichever way (a device that never reported is
    // neither the busiest nor the idlest).
    let last = || sea_query::NullOrdering::Last;
    match f.sort.as_deref().unwrap_or("hostname") {
        "client" => q.order_by((Clients::Table, Clients::Name), order.clone()),
        "site" => q.order_by((Sites::Table, Sites::Name), order.clone()),
        "os" => q.order_by(d(Devices::Os), order.clone()),
        "last_seen" => q.order_by(d(Devices::LastSeenAt), order.clone()),
        "state" => q.order_by(d(Devices::Online), order.clone()),
        "cpu" => q.order_by_with_nulls(ml(MetricLatest::Cpu), order.clone(), last()),
        "memory" => q.order_by_with_nulls(ml(MetricLatest::Mem), order.clone(), last()),
        "disk" => q.order_by_with_nulls(ml(MetricLatest::Disk), order.clone(), last()),
        "ip" => q.order_by_with_nulls(inv(DeviceInventory::Addresses), order.clone(), last()),
        "user" => q.order_by_with_nulls(inv(DeviceInventory::Users), order.clone(), last()),
        // Shortest uptime first is the latest boot first; 0 is "unknown".
        "uptime" => q.order_by_expr_with_nulls(
            Func::cust(Alias::new("NULLIF")).arg(Expr::col(inv(DeviceInventory::BootTime))).arg(0).into(),
            flip(&order),
            last(),
        ),
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
    filtered(&mut c, scope, f, has_text(f));
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
