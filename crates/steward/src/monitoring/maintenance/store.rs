//! The maintenance_windows table: a client's windows, and those that apply
//! to one device (its client's, its site's and its own).

use crate::store::{Db, IdRow, Result};
use sea_query::{Cond, Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
enum MaintenanceWindows {
    Table,
    Id,
    ClientId,
    SiteId,
    DeviceId,
    Name,
    StartsLocal,
    Timezone,
    Minutes,
    Repeat,
    UntilDate,
    CreatedBy,
    CreatedAt,
}
use MaintenanceWindows as M;

/// A window as stored (`starts_local` `YYYY-MM-DDTHH:MM`, `until_date`
/// `YYYY-MM-DD`, `created_at` µs).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WindowRow {
    pub id: i64,
    pub client_id: i64,
    pub site_id: Option<i64>,
    pub device_id: Option<i64>,
    pub name: String,
    pub starts_local: String,
    pub timezone: String,
    pub minutes: i64,
    pub repeat: String,
    pub until_date: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

const COLS: [M; 12] = [
    M::Id,
    M::ClientId,
    M::SiteId,
    M::DeviceId,
    M::Name,
    M::StartsLocal,
    M::Timezone,
    M::Minutes,
    M::Repeat,
    M::UntilDate,
    M::CreatedBy,
    M::CreatedAt,
];

pub async fn of_client(db: &mut impl Db, client_id: i64) -> Result<Vec<WindowRow>> {
    db.fetch_all(Query::select().columns(COLS).from(M::Table).and_where(Expr::col(M::ClientId).eq(client_id)).order_by(M::Id, Order::Asc))
        .await
}

/// The windows that apply to a device: its client's, its site's, its own.
pub async fn for_device(db: &mut impl Db, client_id: i64, site_id: i64, device_id: i64) -> Result<Vec<WindowRow>> {
    let whole_client = Cond::all().add(Expr::col(M::SiteId).is_null()).add(Expr::col(M::DeviceId).is_null());
    db.fetch_all(
        Query::select().columns(COLS).from(M::Table).and_where(Expr::col(M::ClientId).eq(client_id)).cond_where(
            Cond::any()
                .add(whole_client)
                .add(Cond::all().add(Expr::col(M::SiteId).eq(site_id)).add(Expr::col(M::DeviceId).is_null()))
                .add(Expr::col(M::DeviceId).eq(device_id)),
        ),
    )
    .await
}

pub async fn get(db: &mut impl Db, client_id: i64, id: i64) -> Result<Option<WindowRow>> {
    db.fetch_optional(
        Query::select().columns(COLS).from(M::Table).and_where(Expr::col(M::Id).eq(id)).and_where(Expr::col(M::ClientId).eq(client_id)),
    )
    .await
}

pub struct NewWindow<'a> {
    pub client_id: i64,
    pub site_id: Option<i64>,
    pub device_id: Option<i64>,
    pub name: &'a str,
    pub starts_local: &'a str,
    pub timezone: &'a str,
    pub minutes: i64,
    pub repeat: &'a str,
    pub until_date: Option<&'a str>,
    pub created_by: i64,
    pub now: i64,
}

pub async fn insert(db: &mut impl Db, w: NewWindow<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(M::Table)
                .columns(COLS[1..].iter().copied())
                .values_panic([
                    w.client_id.into(),
                    w.site_id.into(),
                    w.device_id.into(),
                    w.name.into(),
                    w.starts_local.into(),
                    w.timezone.into(),
                    w.minutes.into(),
                    w.repeat.into(),
                    w.until_date.map(str::to_string).into(),
                    w.created_by.into(),
                    w.now.into(),
                ])
                .returning_col(M::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn delete(db: &mut impl Db, client_id: i64, id: i64) -> Result<u64> {
    db.execute(Query::delete().from_table(M::Table).and_where(Expr::col(M::Id).eq(id)).and_where(Expr::col(M::ClientId).eq(client_id)))
        .await
}
