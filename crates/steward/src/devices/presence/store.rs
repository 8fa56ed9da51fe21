//! Presence storage: each device's online flag and its history of
//! connects and disconnects.

use super::model::{Change, Standing};
use crate::devices::store::Devices;
use crate::store::{Db, Result, Store};
use crate::time::now_us;
use sea_query::{Expr, Iden, Order, Query};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Iden)]
enum DevicePresence {
    Table,
    Id,
    DeviceId,
    Online,
    At,
    Reason,
}

/// One online/offline transition.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Transition {
    pub online: bool,
    pub at: i64,
    pub reason: String,
}

/// A device's transitions, newest first.
pub async fn transitions(db: &mut impl Db, device_id: i64, limit: u64, offset: u64) -> Result<Vec<Transition>> {
    db.fetch_all(
        Query::select()
            .columns([DevicePresence::Online, DevicePresence::At, DevicePresence::Reason])
            .from(DevicePresence::Table)
            .and_where(Expr::col(DevicePresence::DeviceId).eq(device_id))
            .order_by(DevicePresence::Id, Order::Desc)
            .limit(limit)
            .offset(offset),
    )
    .await
}

pub async fn count_transitions(db: &mut impl Db, device_id: i64) -> Result<i64> {
    let n: crate::store::Count = db
        .fetch_one(
            Query::select()
                .expr_as(Expr::col(DevicePresence::DeviceId).count(), crate::store::n())
                .from(DevicePresence::Table)
                .and_where(Expr::col(DevicePresence::DeviceId).eq(device_id)),
        )
        .await?;
    Ok(n.n)
}

/// Writes a batch of presence changes (see `devices::presence::runtime`) in one
/// transaction: every change into the history, then each device's flag,
/// last-seen time and reported agent version. The caller holds the write
/// turn.
pub async fn apply(store: &Store, changes: &[Change], standings: &[Standing]) -> Result<()> {
    let mut tx = store.begin().await?;
    // A few hundred rows per statement keeps well under either engine's
    // limit on bound values.
    for chunk in changes.chunks(500) {
        let mut q = Query::insert();
        q.into_table(DevicePresence::Table).columns([
            DevicePresence::DeviceId,
            DevicePresence::Online,
            DevicePresence::At,
            DevicePresence::Reason,
        ]);
        for c in chunk {
            q.values_panic([c.device.into(), c.online.into(), c.at.into(), c.reason.clone().into()]);
        }
        tx.execute(&q).await?;
    }
    let now = now_us();
    // Grouped by what is written, so a fleet on one agent version costs
    // two statements however many devices moved.
    let mut groups: BTreeMap<(bool, Option<&str>), Vec<i64>> = BTreeMap::new();
    for s in standings {
        groups.entry((s.online, s.version.as_deref())).or_default().push(s.device);
    }
    for ((online, version), ids) in groups {
        for chunk in ids.chunks(500) {
            let mut q = Query::update();
            q.table(Devices::Table)
                .value(Devices::Online, online)
                .value(Devices::LastSeenAt, now)
                .and_where(Expr::col(Devices::Id).is_in(chunk.to_vec()));
            if let Some(v) = version {
                q.value(Devices::AgentVersion, v);
            }
            if online {
                // A revocation that committed meanwhile stays offline.
                q.and_where(Expr::col(Devices::RevokedAt).is_null());
            }
            tx.execute(&q).await?;
        }
    }
    tx.commit().await
}

/// Marks every device flagged online offline, each with a history entry
/// giving `reason`: at a clean stop (`SERVER_STOPPED`, once the presence
/// queue is flushed) and at start (`SERVER_RESTARTED`: what a crash left
/// behind, since no agent is connected to a process that just started).
/// One node per database today; with several nodes this must become
/// per-node.
pub async fn reset(store: &Store, reason: &str) -> Result<u64> {
    // In turn with the batched writers still running at a stop, like every
    // writer (on SQLite, waiting in the busy handler instead could starve).
    let _turn = store.ingest_turn().await;
    let mut tx = store.begin().await?;
    let was_online = Query::select()
        .column(Devices::Id)
        .expr(Expr::val(false))
        .expr(Expr::val(now_us()))
        .expr(Expr::val(reason))
        .from(Devices::Table)
        .and_where(Expr::col(Devices::Online).eq(true))
        .to_owned();
    tx.execute(
        Query::insert()
            .into_table(DevicePresence::Table)
            .columns([DevicePresence::DeviceId, DevicePresence::Online, DevicePresence::At, DevicePresence::Reason])
            .select_from(was_online)
            .expect("four columns for four"),
    )
    .await?;
    let n = tx
        .execute(Query::update().table(Devices::Table).value(Devices::Online, false).and_where(Expr::col(Devices::Online).eq(true)))
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// The history's reason for the connections a clean stop ended.
pub const SERVER_STOPPED: &str = "server stopped";
/// The history's reason for the connections a crash ended, written at the
/// next start.
pub const SERVER_RESTARTED: &str = "server restarted";
