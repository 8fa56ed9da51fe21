//! Metric storage: raw samples, 5-minute and hourly rollups, pruning.
//!
//! A batch of points is inserted with `ON CONFLICT DO NOTHING RETURNING`,
//! so only points not seen before (an agent resends what was not
//! acknowledged) are merged into the rollups, which keep min, max, sum and
//! count and so stay exact whatever order samples arrive in.

use super::model::{Agg, BucketKey, Point};
use crate::store::{Db, Result};
use sea_query::{Alias, Expr, Iden, OnConflict, Order, Query};
use std::collections::BTreeMap;

#[derive(Iden, Clone, Copy)]
enum MetricSamples {
    Table,
    DeviceId,
    Series,
    At,
    Value,
}

#[derive(Iden, Clone, Copy)]
enum MetricRollups {
    Table,
    DeviceId,
    Resolution,
    Series,
    Bucket,
    Vmin,
    Vmax,
    Vsum,
    N,
}

/// Rows per statement: far below either engine's bound-parameter limit.
const CHUNK: usize = 1000;

#[derive(sqlx::FromRow)]
struct PointRow {
    device_id: i64,
    series: String,
    at: i64,
    value: f64,
}

/// Inserts points; returns those that were new.
pub async fn insert(db: &mut impl Db, points: &[Point]) -> Result<Vec<Point>> {
    let mut fresh = Vec::with_capacity(points.len());
    for chunk in points.chunks(CHUNK) {
        let mut q = Query::insert();
        q.into_table(MetricSamples::Table)
            .columns([MetricSamples::DeviceId, MetricSamples::Series, MetricSamples::At, MetricSamples::Value])
            .on_conflict(OnConflict::columns([MetricSamples::DeviceId, MetricSamples::Series, MetricSamples::At]).do_nothing().to_owned())
            .returning(Query::returning().columns([
                MetricSamples::DeviceId,
                MetricSamples::Series,
                MetricSamples::At,
                MetricSamples::Value,
            ]));
        for p in chunk {
            q.values_panic([p.device_id.into(), p.series.clone().into(), p.at.into(), p.value.into()]);
        }
        let rows: Vec<PointRow> = db.fetch_all(&q).await?;
        fresh.extend(rows.into_iter().map(|r| Point { device_id: r.device_id, series: r.series, at: r.at, value: r.value }));
    }
    Ok(fresh)
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum MetricLatest {
    Table,
    DeviceId,
    At,
    Cpu,
    Mem,
    Disk,
    DiskMount,
}

/// Keeps each device's newest figures (a resent older sample changes nothing).
pub async fn set_latest(db: &mut impl Db, latest: &[super::model::Latest]) -> Result<()> {
    use MetricLatest as L;
    for chunk in latest.chunks(CHUNK / 6) {
        let mut q = Query::insert();
        q.into_table(L::Table).columns([L::DeviceId, L::At, L::Cpu, L::Mem, L::Disk, L::DiskMount]).on_conflict(
            OnConflict::column(L::DeviceId)
                .update_columns([L::At, L::Cpu, L::Mem, L::Disk, L::DiskMount])
                .action_and_where(Expr::col((L::Table, L::At)).lte(Expr::col((Alias::new("excluded"), L::At))))
                .to_owned(),
        );
        for l in chunk {
            q.values_panic([l.device_id.into(), l.at.into(), l.cpu.into(), l.mem.into(), l.disk.into(), l.disk_mount.clone().into()]);
        }
        db.execute(&q).await?;
    }
    Ok(())
}

/// Merges aggregates into the rollups of one resolution.
pub async fn merge_rollups(db: &mut impl Db, resolution_s: i64, aggs: &BTreeMap<BucketKey, Agg>) -> Result<()> {
    let rows: Vec<(&BucketKey, &Agg)> = aggs.iter().collect();
    for chunk in rows.chunks(CHUNK) {
        let mut q = Query::insert();
        q.into_table(MetricRollups::Table).columns([
            MetricRollups::DeviceId,
            MetricRollups::Resolution,
            MetricRollups::Series,
            MetricRollups::Bucket,
            MetricRollups::Vmin,
            MetricRollups::Vmax,
            MetricRollups::Vsum,
            MetricRollups::N,
        ]);
        for ((device, series, bucket), a) in chunk {
            q.values_panic([
                (*device).into(),
                resolution_s.into(),
                series.clone().into(),
                (*bucket).into(),
                a.min.into(),
                a.max.into(),
                a.sum.into(),
                a.n.into(),
            ]);
        }
        // CASE rather than LEAST/MIN(a, b): the same SQL on both engines.
        q.on_conflict(
            OnConflict::columns([MetricRollups::DeviceId, MetricRollups::Resolution, MetricRollups::Series, MetricRollups::Bucket])
                .values([
                    (
                        MetricRollups::Vmin,
                        Expr::cust("CASE WHEN excluded.vmin < metric_rollups.vmin THEN excluded.vmin ELSE metric_rollups.vmin END"),
                    ),
                    (
                        MetricRollups::Vmax,
                        Expr::cust("CASE WHEN excluded.vmax > metric_rollups.vmax THEN excluded.vmax ELSE metric_rollups.vmax END"),
                    ),
                    (MetricRollups::Vsum, Expr::cust("metric_rollups.vsum + excluded.vsum")),
                    (MetricRollups::N, Expr::cust("metric_rollups.n + excluded.n")),
                ])
                .to_owned(),
        );
        db.execute(&q).await?;
    }
    Ok(())
}

/// One charted value: raw samples have min = avg = max.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub series: String,
    /// µs: the sample's time, or the bucket's start.
    pub at: i64,
    pub vmin: f64,
    pub vmax: f64,
    pub vavg: f64,
}

/// A device's values in `[from_us, to_us]` at one resolution (0: raw),
/// ordered by series then time.
pub async fn read(db: &mut impl Db, device_id: i64, resolution_s: i64, from_us: i64, to_us: i64) -> Result<Vec<Row>> {
    if resolution_s == 0 {
        return db
            .fetch_all(
                Query::select()
                    .column(MetricSamples::Series)
                    .column(MetricSamples::At)
                    .expr_as(Expr::col(MetricSamples::Value), sea_query::Alias::new("vmin"))
                    .expr_as(Expr::col(MetricSamples::Value), sea_query::Alias::new("vmax"))
                    .expr_as(Expr::col(MetricSamples::Value), sea_query::Alias::new("vavg"))
                    .from(MetricSamples::Table)
                    .and_where(Expr::col(MetricSamples::DeviceId).eq(device_id))
                    .and_where(Expr::col(MetricSamples::At).gte(from_us))
                    .and_where(Expr::col(MetricSamples::At).lte(to_us))
                    .order_by(MetricSamples::Series, Order::Asc)
                    .order_by(MetricSamples::At, Order::Asc),
            )
            .await;
    }
    db.fetch_all(
        Query::select()
            .column(MetricRollups::Series)
            .expr_as(Expr::col(MetricRollups::Bucket), sea_query::Alias::new("at"))
            .column(MetricRollups::Vmin)
            .column(MetricRollups::Vmax)
            .expr_as(Expr::cust("vsum / n"), sea_query::Alias::new("vavg"))
            .from(MetricRollups::Table)
            .and_where(Expr::col(MetricRollups::DeviceId).eq(device_id))
            .and_where(Expr::col(MetricRollups::Resolution).eq(resolution_s))
            .and_where(Expr::col(MetricRollups::Bucket).gte(from_us))
            .and_where(Expr::col(MetricRollups::Bucket).lte(to_us))
            .order_by(MetricRollups::Series, Order::Asc)
            .order_by(MetricRollups::Bucket, Order::Asc),
    )
    .await
}

/// Deletes what is past its retention; returns rows removed.
pub async fn prune(db: &mut impl Db, now_us: i64, raw_days: u32, five_minute_days: u32, hour_days: u32) -> Result<u64> {
    let cutoff = |days: u32| now_us - days as i64 * 86_400_000_000;
    let mut n =
        db.execute(Query::delete().from_table(MetricSamples::Table).and_where(Expr::col(MetricSamples::At).lt(cutoff(raw_days)))).await?;
    for (res, days) in [(super::model::FIVE_MINUTES, five_minute_days), (super::model::HOUR, hour_days)] {
        n += db
            .execute(
                Query::delete()
                    .from_table(MetricRollups::Table)
                    .and_where(Expr::col(MetricRollups::Resolution).eq(res))
                    .and_where(Expr::col(MetricRollups::Bucket).lt(cutoff(days))),
            )
            .await?;
    }
    Ok(n)
}

/// A series' average for a device over recent 5-minute buckets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Average {
    pub device_id: i64,
    pub series: String,
    pub avg: f64,
}

/// The averages of `series` since `from_us` for the devices in `ids` (from
/// the 5-minute rollups: exact, as they keep sums and counts).
pub async fn averages(db: &mut impl Db, ids: &[i64], series: &[&str], from_us: i64) -> Result<Vec<Average>> {
    use MetricRollups as R;
    db.fetch_all(
        Query::select()
            .column(R::DeviceId)
            .column(R::Series)
            .expr_as(Expr::cust("SUM(vsum) / SUM(n)"), Alias::new("avg"))
            .from(R::Table)
            .and_where(Expr::col(R::DeviceId).is_in(ids.iter().copied()))
            .and_where(Expr::col(R::Resolution).eq(super::model::FIVE_MINUTES))
            .and_where(Expr::col(R::Series).is_in(series.iter().copied()))
            .and_where(Expr::col(R::Bucket).gte(from_us))
            .group_by_columns([R::DeviceId, R::Series]),
    )
    .await
}

/// The fullest disk's use and mount of the devices in `ids`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FullestDisk {
    pub device_id: i64,
    pub disk: f64,
    pub disk_mount: String,
}

pub async fn fullest_disks(db: &mut impl Db, ids: &[i64]) -> Result<Vec<FullestDisk>> {
    use MetricLatest as L;
    db.fetch_all(
        Query::select()
            .columns([L::DeviceId, L::Disk, L::DiskMount])
            .from(L::Table)
            .and_where(Expr::col(L::DeviceId).is_in(ids.iter().copied()))
            .and_where(Expr::col(L::Disk).is_not_null()),
    )
    .await
}
