//! Installed software by name (`software_names`, `device_software`): kept
//! from each changed inventory, so "which devices have X installed" reads
//! a few thousand distinct names and an index instead of every device's
//! inventory.

use super::Devices;
use crate::store::{like_contains, Db, Result};
use sea_query::{Alias, Expr, Func, Iden, OnConflict, Order, Query};
use std::collections::BTreeMap;
use steward_protocol::report::Software;

#[derive(Iden, Clone, Copy)]
enum SoftwareNames {
    Table,
    Id,
    Name,
}

#[derive(Iden, Clone, Copy)]
enum DeviceSoftware {
    Table,
    DeviceId,
    SoftwareId,
    Version,
}

/// Rows per statement: well under either engine's limit on bound values.
const CHUNK: usize = 400;

#[derive(sqlx::FromRow)]
struct NameRow {
    id: i64,
    name: String,
}

/// Makes `software` the device's installed list (one row per name: the
/// first version listed when a name appears twice).
pub async fn replace(db: &mut impl Db, device_id: i64, software: &[Software]) -> Result<()> {
    db.execute(Query::delete().from_table(DeviceSoftware::Table).and_where(Expr::col(DeviceSoftware::DeviceId).eq(device_id))).await?;
    let mut by_name: BTreeMap<&str, &str> = BTreeMap::new();
    for s in software {
        by_name.entry(s.name.as_str()).or_insert(s.version.as_str());
    }
    let names: Vec<&str> = by_name.keys().copied().collect();
    for chunk in names.chunks(CHUNK) {
        let mut ins = Query::insert();
        ins.into_table(SoftwareNames::Table)
            .columns([SoftwareNames::Name])
            .on_conflict(OnConflict::column(SoftwareNames::Name).do_nothing().to_owned());
        for n in chunk {
            ins.values_panic([(*n).into()]);
        }
        db.execute(&ins).await?;
        let ids: Vec<NameRow> = db
            .fetch_all(
                Query::select()
                    .columns([SoftwareNames::Id, SoftwareNames::Name])
                    .from(SoftwareNames::Table)
                    .and_where(Expr::col(SoftwareNames::Name).is_in(chunk.iter().copied())),
            )
            .await?;
        let mut links = Query::insert();
        links.into_table(DeviceSoftware::Table).columns([DeviceSoftware::DeviceId, DeviceSoftware::SoftwareId, DeviceSoftware::Version]);
        for r in &ids {
            links.values_panic([device_id.into(), r.id.into(), by_name.get(r.name.as_str()).copied().unwrap_or_default().into()]);
        }
        if !ids.is_empty() {
            db.execute(&links).await?;
        }
    }
    Ok(())
}

/// A device that has a piece of software whose name matched.
#[derive(Debug, sqlx::FromRow)]
pub struct Installed {
    pub device_id: i64,
    pub name: String,
    pub version: String,
}

/// Devices (not removed, among the clients in `scope`; `None`: all) with
/// software whose name contains `text` (case-insensitive), by name.
pub async fn devices_with(db: &mut impl Db, scope: Option<&[i64]>, text: &str, limit: u64) -> Result<Vec<Installed>> {
    let mut q = Query::select();
    q.expr_as(Expr::col((DeviceSoftware::Table, DeviceSoftware::DeviceId)), Alias::new("device_id"))
        .expr_as(Expr::col((SoftwareNames::Table, SoftwareNames::Name)), Alias::new("name"))
        .expr_as(Expr::col((DeviceSoftware::Table, DeviceSoftware::Version)), Alias::new("version"))
        .from(SoftwareNames::Table)
        .inner_join(
            DeviceSoftware::Table,
            Expr::col((DeviceSoftware::Table, DeviceSoftware::SoftwareId)).equals((SoftwareNames::Table, SoftwareNames::Id)),
        )
        .inner_join(Devices::Table, Expr::col((Devices::Table, Devices::Id)).equals((DeviceSoftware::Table, DeviceSoftware::DeviceId)))
        .and_where(
            Expr::expr(Func::lower(Expr::col((SoftwareNames::Table, SoftwareNames::Name)))).like(like_contains(&text.to_lowercase())),
        )
        .and_where(Expr::col((Devices::Table, Devices::RevokedAt)).is_null())
        .order_by((SoftwareNames::Table, SoftwareNames::Name), Order::Asc)
        .order_by((DeviceSoftware::Table, DeviceSoftware::DeviceId), Order::Asc)
        .limit(limit);
    if let Some(ids) = scope {
        q.and_where(Expr::col((Devices::Table, Devices::ClientId)).is_in(ids.to_vec()));
    }
    db.fetch_all(&q).await
}
