//! Stored inventories: the latest per device and the history of changes.
//!
//! An agent sends its inventory when it changes, and on connecting unless
//! the hash the server holds (`sent_hash`, given in `Welcome`) says it has
//! it; an unchanged (hash-equal) inventory costs one read. A
//! changed one replaces the latest and adds one history row listing the
//! changes (the first inventory adds an empty row: "history starts here").

use super::model::{self as inventory, Change};
use crate::devices::store::software;
use crate::devices::store::Devices;
use crate::store::{Db, Result, Store};
use crate::time::now_us;
use sea_query::{Expr, Iden, OnConflict, Order, Query};
use steward_protocol::report::Inventory;

#[derive(Iden, Clone, Copy)]
pub(crate) enum DeviceInventory {
    Table,
    DeviceId,
    Hash,
    CollectedAt,
    ReceivedAt,
    Body,
    /// The hash of the inventory as the agent sent it, told back in `Welcome`.
    SentHash,
    Addresses,
    Users,
    Serial,
    BootTime,
    /// When the facts were last written; NULL for an inventory stored
    /// before they existed.
    FactsAt,
}

#[derive(Iden, Clone, Copy)]
enum DeviceInventoryChanges {
    Table,
    Id,
    DeviceId,
    At,
    Changes,
}

#[derive(sqlx::FromRow)]
struct Latest {
    hash: String,
    collected_at: i64,
    received_at: i64,
    body: String,
    facts_at: Option<i64>,
}

/// The latest inventory of a device.
pub struct Current {
    /// When the agent read it, µs.
    pub collected_at: i64,
    /// When the server last heard it (unchanged reports refresh this), µs.
    pub received_at: i64,
    pub inventory: Inventory,
}

async fn latest(db: &mut impl Db, device_id: i64) -> Result<Option<Latest>> {
    db.fetch_optional(
        Query::select()
            .columns([
                DeviceInventory::Hash,
                DeviceInventory::CollectedAt,
                DeviceInventory::ReceivedAt,
                DeviceInventory::Body,
                DeviceInventory::FactsAt,
            ])
            .from(DeviceInventory::Table)
            .and_where(Expr::col(DeviceInventory::DeviceId).eq(device_id)),
    )
    .await
}

pub async fn current(db: &mut impl Db, device_id: i64) -> Result<Option<Current>> {
    Ok(latest(db, device_id).await?.map(|l| Current {
        collected_at: l.collected_at,
        received_at: l.received_at,
        inventory: serde_json::from_str(&l.body).unwrap_or_default(),
    }))
}

/// Changes this close to the last history entry join it.
pub const COALESCE_US: i64 = 10 * 60 * 1_000_000;

#[derive(sqlx::FromRow)]
struct RecentChange {
    id: i64,
    at: i64,
    changes: String,
}

/// The device's newest history entry, if it is a change (not the first
/// inventory's entry) made after `since`.
async fn latest_change(db: &mut impl Db, device_id: i64, since: i64) -> Result<Option<RecentChange>> {
    let r: Option<RecentChange> = db
        .fetch_optional(
            Query::select()
                .columns([DeviceInventoryChanges::Id, DeviceInventoryChanges::At, DeviceInventoryChanges::Changes])
                .from(DeviceInventoryChanges::Table)
                .and_where(Expr::col(DeviceInventoryChanges::DeviceId).eq(device_id))
                .order_by(DeviceInventoryChanges::Id, Order::Desc)
                .limit(1),
        )
        .await?;
    Ok(r.filter(|r| r.changes != "[]" && r.at >= since))
}

/// Stores a reported inventory in its own transaction (see [`record_in`]).
pub async fn record(store: &Store, device_id: i64, collected_at_us: i64, inv: &Inventory, sent_hash: &str) -> Result<Option<usize>> {
    let _turn = store.ingest_turn().await;
    let mut tx = store.begin().await?;
    let n = record_in(&mut tx, device_id, collected_at_us, inv, sent_hash).await?;
    tx.commit().await?;
    Ok(n)
}

/// Stores a reported inventory (already cleaned) and the hash of what the
/// agent sent, inside the caller's transaction; returns how many changes
/// it brought (`None` when it was the first).
pub async fn record_in(tx: &mut impl Db, device_id: i64, collected_at_us: i64, inv: &Inventory, sent_hash: &str) -> Result<Option<usize>> {
    // Of the cleaned inventory: equal exactly when nothing changed.
    let hash = inv.sent_hash();
    let now = now_us();
    let old = latest(tx, device_id).await?;
    if let Some(o) = old.as_ref().filter(|o| o.hash == hash) {
        let mut q = Query::update();
        q.table(DeviceInventory::Table)
            .value(DeviceInventory::ReceivedAt, now)
            .value(DeviceInventory::SentHash, sent_hash)
            .and_where(Expr::col(DeviceInventory::DeviceId).eq(device_id));
        // Stored before the facts existed: fill them in now, once.
        if o.facts_at.is_none() {
            set_facts(&mut q, &inventory::facts(inv), now);
            software::replace(tx, device_id, &inv.software).await?;
        }
        tx.execute(&q).await?;
        return Ok(Some(0));
    }
    let body = serde_json::to_string(inv).expect("inventory serialises");
    let f = inventory::facts(inv);
    let cols = [
        DeviceInventory::Hash,
        DeviceInventory::CollectedAt,
        DeviceInventory::ReceivedAt,
        DeviceInventory::Body,
        DeviceInventory::SentHash,
        DeviceInventory::Addresses,
        DeviceInventory::Users,
        DeviceInventory::Serial,
        DeviceInventory::BootTime,
        DeviceInventory::FactsAt,
    ];
    tx.execute(
        Query::insert()
            .into_table(DeviceInventory::Table)
            .columns(std::iter::once(DeviceInventory::DeviceId).chain(cols))
            .values_panic([
                device_id.into(),
                hash.into(),
                collected_at_us.into(),
                now.into(),
                body.into(),
                sent_hash.into(),
                f.addresses.into(),
                f.users.into(),
                f.serial.into(),
                f.boot_time.into(),
                now.into(),
            ])
            .on_conflict(OnConflict::column(DeviceInventory::DeviceId).update_columns(cols).to_owned()),
    )
    .await?;
    let before: Option<Inventory> = old.as_ref().map(|o| serde_json::from_str(&o.body).unwrap_or_default());
    let software_changed = before.as_ref().is_none_or(|b| b.software != inv.software);
    if software_changed || old.as_ref().is_some_and(|o| o.facts_at.is_none()) {
        software::replace(tx, device_id, &inv.software).await?;
    }
    let changes = before.map(|b| inventory::diff(&b, inv)).unwrap_or_default();
    // Changes within a window of the last entry join it (each item's first
    // before and last after), so a flapping or hostile agent makes one entry
    // a window, not one per report. The first inventory's entry stays.
    let recent = if old.is_some() && !changes.is_empty() { latest_change(tx, device_id, now - COALESCE_US).await? } else { None };
    match recent {
        Some(r) => {
            let earlier: Vec<Change> = serde_json::from_str(&r.changes).unwrap_or_default();
            let merged = inventory::merge(earlier, changes.clone());
            tx.execute(
                Query::update()
                    .table(DeviceInventoryChanges::Table)
                    .value(DeviceInventoryChanges::At, now)
                    .value(DeviceInventoryChanges::Changes, serde_json::to_string(&merged).expect("serialises"))
                    .and_where(Expr::col(DeviceInventoryChanges::Id).eq(r.id)),
            )
            .await?;
        }
        None if old.is_none() || !changes.is_empty() => {
            tx.execute(
                Query::insert()
                    .into_table(DeviceInventoryChanges::Table)
                    .columns([DeviceInventoryChanges::DeviceId, DeviceInventoryChanges::At, DeviceInventoryChanges::Changes])
                    .values_panic([device_id.into(), now.into(), serde_json::to_string(&changes).expect("serialises").into()]),
            )
            .await?;
        }
        None => {}
    }
    // The device list shows the OS and host name: keep them current.
    let os = &inv.os;
    let os_label =
        if os.version.is_empty() || os.name.contains(&os.version) { os.name.clone() } else { format!("{} {}", os.name, os.version) };
    let mut q = Query::update();
    q.table(Devices::Table).and_where(Expr::col(Devices::Id).eq(device_id));
    if !os_label.is_empty() {
        q.value(Devices::Os, os_label);
    }
    if !inv.hostname.is_empty() {
        q.value(Devices::Hostname, inv.hostname.clone());
    }
    if !os.name.is_empty() || !inv.hostname.is_empty() {
        tx.execute(&q).await?;
    }
    Ok(old.map(|_| changes.len()))
}

#[derive(sqlx::FromRow)]
struct NoFacts {
    device_id: i64,
    body: String,
}

/// Fills the facts of up to `limit` inventories stored before they existed
/// (an unchanged agent never sends its inventory again, so they cannot
/// wait for one); returns how many.
pub async fn backfill_facts(store: &Store, limit: u64) -> Result<usize> {
    let rows: Vec<NoFacts> = store
        .clone()
        .fetch_all(
            Query::select()
                .columns([DeviceInventory::DeviceId, DeviceInventory::Body])
                .from(DeviceInventory::Table)
                .and_where(Expr::col(DeviceInventory::FactsAt).is_null())
                .limit(limit),
        )
        .await?;
    for r in &rows {
        let inv: Inventory = serde_json::from_str(&r.body).unwrap_or_default();
        let mut tx = store.begin().await?;
        let mut q = Query::update();
        q.table(DeviceInventory::Table)
            .and_where(Expr::col(DeviceInventory::DeviceId).eq(r.device_id))
            .and_where(Expr::col(DeviceInventory::FactsAt).is_null());
        set_facts(&mut q, &inventory::facts(&inv), now_us());
        // Written meanwhile by the agent's own report: nothing to do.
        if tx.execute(&q).await? == 1 {
            software::replace(&mut tx, r.device_id, &inv.software).await?;
        }
        tx.commit().await?;
    }
    Ok(rows.len())
}

fn set_facts(q: &mut sea_query::UpdateStatement, f: &inventory::Facts, now: i64) {
    q.value(DeviceInventory::Addresses, f.addresses.clone())
        .value(DeviceInventory::Users, f.users.clone())
        .value(DeviceInventory::Serial, f.serial.clone())
        .value(DeviceInventory::BootTime, f.boot_time)
        .value(DeviceInventory::FactsAt, now);
}

/// One history entry: when, and what changed (empty: the first inventory).
pub struct ChangeSet {
    pub at: i64,
    pub changes: Vec<Change>,
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    at: i64,
    changes: String,
}

/// A device's inventory history, newest first.
pub async fn changes(db: &mut impl Db, device_id: i64, limit: u64, offset: u64) -> Result<Vec<ChangeSet>> {
    let rows: Vec<ChangeRow> = db
        .fetch_all(
            Query::select()
                .columns([DeviceInventoryChanges::At, DeviceInventoryChanges::Changes])
                .from(DeviceInventoryChanges::Table)
                .and_where(Expr::col(DeviceInventoryChanges::DeviceId).eq(device_id))
                .order_by(DeviceInventoryChanges::Id, Order::Desc)
                .limit(limit)
                .offset(offset),
        )
        .await?;
    Ok(rows.into_iter().map(|r| ChangeSet { at: r.at, changes: serde_json::from_str(&r.changes).unwrap_or_default() }).collect())
}

pub async fn count_changes(db: &mut impl Db, device_id: i64) -> Result<i64> {
    let n: crate::store::Count = db
        .fetch_one(
            Query::select()
                .expr_as(Expr::col(DeviceInventoryChanges::Id).count(), crate::store::n())
                .from(DeviceInventoryChanges::Table)
                .and_where(Expr::col(DeviceInventoryChanges::DeviceId).eq(device_id)),
        )
        .await?;
    Ok(n.n)
}
