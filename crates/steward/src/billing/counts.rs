//! What per-device and per-user lines count: a client's managed devices
//! (enrolled, not removed, seen within the contract's days, of the line's
//! class) and its covered contacts; and the count of each counted line,
//! kept once a day (the `billing.counts` job) so an invoice in arrears
//! charges each day at that day's count.

use super::contracts::model::{DeviceClass, LineKind};
use super::contracts::store::{self as contracts, LineRow};
use crate::app::App;
use crate::store::{packed, Db, Result};
use chrono::NaiveDate;
use sea_query::{Expr, Iden, OnConflict, Order, Query};
use std::collections::HashMap;

#[derive(Iden, Clone, Copy)]
enum Devices {
    Table,
    ClientId,
    Os,
    DeviceClass,
    RevokedAt,
}

#[derive(Iden, Clone, Copy)]
enum Contacts {
    Table,
    Id,
    ClientId,
    Covered,
    Archived,
}

#[derive(Iden, Clone, Copy)]
enum BillingCounts {
    Table,
    ContractLineId,
    Day,
    Quantity,
    Ids,
}

/// A device as billing sees it.
#[derive(Debug, Clone)]
pub struct Managed {
    pub id: i64,
    pub client_id: i64,
    /// Set on the device, else derived from its operating system.
    pub class: DeviceClass,
    /// When it was last seen (enrolling is being seen); `i64::MAX` while online.
    pub seen_at: i64,
}

impl Managed {
    /// Counted by a line that wants devices seen within `days` of `now_us`.
    pub fn seen_within(&self, days: i64, now_us: i64) -> bool {
        self.seen_at >= now_us - days * 86_400_000_000
    }
}

/// The enrolled, not removed devices of these clients, each client's by
/// id. Read packed (see `store::packed`): one row per client and
/// operating system, the class derived once per row.
pub async fn devices(db: &mut impl Db, clients: &[i64]) -> Result<Vec<Managed>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        client_id: i64,
        os: String,
        device_class: Option<String>,
        packed: String,
    }
    if clients.is_empty() {
        return Ok(vec![]);
    }
    let seen = format!("CASE WHEN online THEN {} ELSE COALESCE(last_seen_at, enrolled_at) END", i64::MAX);
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .columns([Devices::ClientId, Devices::Os, Devices::DeviceClass])
                .expr_as(packed::aggregate(db.backend(), &["id", &seen], "id"), packed::alias())
                .from(Devices::Table)
                .and_where(Expr::col(Devices::ClientId).is_in(clients.iter().copied()))
                .and_where(Expr::col(Devices::RevokedAt).is_null())
                .group_by_columns([Devices::ClientId, Devices::Os, Devices::DeviceClass]),
        )
        .await?;
    let mut out: Vec<Managed> = vec![];
    for r in rows {
        let class = r.device_class.as_deref().and_then(DeviceClass::parse).unwrap_or_else(|| DeviceClass::derived(&r.os));
        out.extend(packed::unpack::<2>(&r.packed).map(|[id, seen_at]| Managed { id, client_id: r.client_id, class, seen_at }));
    }
    out.sort_by_key(|d| (d.client_id, d.id));
    Ok(out)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Covered {
    pub id: i64,
    pub client_id: i64,
}

/// The covered, not archived contacts of these clients.
pub async fn covered(db: &mut impl Db, clients: &[i64]) -> Result<Vec<Covered>> {
    if clients.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        Query::select()
            .columns([Contacts::Id, Contacts::ClientId])
            .from(Contacts::Table)
            .and_where(Expr::col(Contacts::ClientId).is_in(clients.iter().copied()))
            .and_where(Expr::col(Contacts::Covered).eq(true))
            .and_where(Expr::col(Contacts::Archived).eq(false))
            .order_by(Contacts::Id, Order::Asc),
    )
    .await
}

/// What clients have that lines count, read once and kept by client (a
/// line counts among its own client's devices, never the whole fleet's).
#[derive(Default)]
pub struct Fleet {
    devices: HashMap<i64, Vec<Managed>>,
    covered: HashMap<i64, Vec<i64>>,
}

impl Fleet {
    /// The devices and covered contacts of these clients.
    pub async fn load(db: &mut impl Db, clients: &[i64]) -> Result<Fleet> {
        let mut f = Fleet::default();
        for chunk in clients.chunks(500) {
            for d in devices(db, chunk).await? {
                f.devices.entry(d.client_id).or_default().push(d);
            }
            for c in covered(db, chunk).await? {
                f.covered.entry(c.client_id).or_default().push(c.id);
            }
        }
        Ok(f)
    }

    /// A client's enrolled, not removed devices.
    pub fn devices_of(&self, client: i64) -> &[Managed] {
        self.devices.get(&client).map(Vec::as_slice).unwrap_or_default()
    }

    /// The ids a counted line counts now (`seen_within_days` from its contract).
    pub fn count(&self, line: &LineRow, client: i64, seen_within_days: i64, now_us: i64) -> Vec<i64> {
        match LineKind::parse(&line.kind) {
            Some(LineKind::PerDevice) => {
                let class = line.device_class.as_deref().and_then(DeviceClass::parse);
                self.devices_of(client)
                    .iter()
                    .filter(|d| d.seen_within(seen_within_days, now_us) && class.is_none_or(|c| d.class == c))
                    .map(|d| d.id)
                    .collect()
            }
            Some(LineKind::PerUser) => self.covered.get(&client).cloned().unwrap_or_default(),
            _ => vec![],
        }
    }
}

/// The kept daily counts of a line between two days.
pub async fn daily(db: &mut impl Db, line: i64, from: NaiveDate, to: NaiveDate) -> Result<Vec<(NaiveDate, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        day: String,
        quantity: i64,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .columns([BillingCounts::Day, BillingCounts::Quantity])
                .from(BillingCounts::Table)
                .and_where(Expr::col(BillingCounts::ContractLineId).eq(line))
                .and_where(Expr::col(BillingCounts::Day).gte(from.to_string()))
                .and_where(Expr::col(BillingCounts::Day).lte(to.to_string()))
                .order_by(BillingCounts::Day, Order::Asc),
        )
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?, r.quantity))).collect())
}

/// Keeps a line's count for a day (the first one taken that day stays).
pub async fn keep(db: &mut impl Db, line: i64, day: NaiveDate, ids: &[i64]) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(BillingCounts::Table)
            .columns([BillingCounts::ContractLineId, BillingCounts::Day, BillingCounts::Quantity, BillingCounts::Ids])
            .values_panic([
                line.into(),
                day.to_string().into(),
                (ids.len() as i64).into(),
                serde_json::to_string(ids).unwrap_or_default().into(),
            ])
            .on_conflict(OnConflict::columns([BillingCounts::ContractLineId, BillingCounts::Day]).do_nothing().to_owned()),
    )
    .await?;
    Ok(())
}

/// Each day of `days` with a count: the kept one, else the nearest kept
/// before it, else after it, else `now` (what is counted today).
pub fn fill(days: impl Iterator<Item = NaiveDate>, kept: &[(NaiveDate, i64)], now: i64) -> Vec<(NaiveDate, i64)> {
    days.map(|d| {
        let before = kept.iter().rev().find(|(k, _)| *k <= d);
        let after = kept.iter().find(|(k, _)| *k > d);
        (d, before.or(after).map(|(_, c)| *c).unwrap_or(now))
    })
    .collect()
}

/// The `billing.counts` job: today's count of every counted line of the
/// contracts in force, kept once.
pub async fn keep_today(app: &App) -> anyhow::Result<()> {
    let mut db = app.store.clone();
    let all = contracts::active(&mut db).await?;
    let ids: Vec<i64> = all.iter().map(|c| c.id).collect();
    let lines: Vec<LineRow> = contracts::lines(&mut db, &ids).await?.into_iter().filter(|l| l.follow_count).collect();
    if lines.is_empty() {
        return Ok(());
    }
    let by_id: HashMap<i64, &contracts::ContractRow> = all.iter().map(|c| (c.id, c)).collect();
    let mut clients: Vec<i64> = all.iter().map(|c| c.client_id).collect();
    clients.sort();
    clients.dedup();
    let now = crate::time::now_us();
    let today = chrono::Utc::now().date_naive();
    for chunk in clients.chunks(500) {
        let fleet = Fleet::load(&mut db, chunk).await?;
        let mut tx = app.store.begin().await?;
        for l in &lines {
            let Some(c) = by_id.get(&l.contract_id).filter(|c| chunk.contains(&c.client_id)) else { continue };
            keep(&mut tx, l.id, today, &fleet.count(l, c.client_id, c.seen_within_days, now)).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_without_a_kept_count_take_the_nearest() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let kept = [(d("2026-06-10"), 5), (d("2026-06-17"), 7)];
        let days = d("2026-06-08").iter_days().take(12);
        let filled = fill(days, &kept, 9);
        let counts: Vec<i64> = filled.iter().map(|x| x.1).collect();
        assert_eq!(counts, [5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7]);
        assert_eq!(fill(d("2026-06-01").iter_days().take(2), &[], 3), [(d("2026-06-01"), 3), (d("2026-06-02"), 3)]);
    }
}
