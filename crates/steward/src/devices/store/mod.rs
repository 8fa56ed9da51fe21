//! Device rows: enrolment, lookups with the settings each inherits,
//! revocation. The device list's filtered query is `query`.

pub mod query;
pub mod software;

use super::agent_settings::model::{self as agent_settings, Effective, Levels, Overrides};
use crate::config::AgentDefaults as Defaults;
use crate::store::{Db, Result};
use crate::time::now_us;
use sea_query::{Alias, Expr, Iden, Order, Query};
use serde::Serialize;

#[derive(Iden, Clone, Copy)]
pub(crate) enum Devices {
    Table,
    Id,
    ClientId,
    SiteId,
    EnrollmentTokenId,
    Hostname,
    Os,
    AgentVersion,
    PublicKey,
    EnrolledAt,
    LastSeenAt,
    Online,
    RevokedAt,
    AgentHeartbeatSecs,
    AgentMetricsSecs,
}

/// An enrolled device.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Device {
    pub id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub hostname: String,
    pub os: String,
    pub agent_version: String,
    /// Base64 Ed25519 public key the agent proves on every connection.
    pub public_key: String,
    pub enrolled_at: i64,
    pub last_seen_at: Option<i64>,
    pub online: bool,
    pub revoked_at: Option<i64>,
}

pub(crate) const COLS: [Devices; 11] = [
    Devices::Id,
    Devices::ClientId,
    Devices::SiteId,
    Devices::Hostname,
    Devices::Os,
    Devices::AgentVersion,
    Devices::PublicKey,
    Devices::EnrolledAt,
    Devices::LastSeenAt,
    Devices::Online,
    Devices::RevokedAt,
];

/// A device to add.
pub struct NewDevice<'a> {
    pub client_id: i64,
    pub site_id: i64,
    pub token_id: i64,
    pub hostname: &'a str,
    pub os: &'a str,
    pub agent_version: &'a str,
    pub public_key: &'a str,
}

pub async fn insert(db: &mut impl Db, d: NewDevice<'_>) -> Result<Device> {
    db.fetch_one(
        Query::insert()
            .into_table(Devices::Table)
            .columns([
                Devices::ClientId,
                Devices::SiteId,
                Devices::EnrollmentTokenId,
                Devices::Hostname,
                Devices::Os,
                Devices::AgentVersion,
                Devices::PublicKey,
                Devices::EnrolledAt,
            ])
            .values_panic([
                d.client_id.into(),
                d.site_id.into(),
                d.token_id.into(),
                d.hostname.into(),
                d.os.into(),
                d.agent_version.into(),
                d.public_key.into(),
                now_us().into(),
            ])
            .returning(Query::returning().columns(COLS)),
    )
    .await
}

pub async fn by_id(db: &mut impl Db, id: i64) -> Result<Option<Device>> {
    db.fetch_optional(Query::select().columns(COLS).from(Devices::Table).and_where(Expr::col(Devices::Id).eq(id))).await
}

/// A device with the agent settings it, its site and its client set.
#[derive(Debug, sqlx::FromRow)]
pub struct WithSettings {
    #[sqlx(flatten)]
    pub device: Device,
    pub client_heartbeat_secs: Option<i64>,
    pub client_metrics_secs: Option<i64>,
    pub site_heartbeat_secs: Option<i64>,
    pub site_metrics_secs: Option<i64>,
    pub device_heartbeat_secs: Option<i64>,
    pub device_metrics_secs: Option<i64>,
    /// The hash of the last inventory its agent sent, if any.
    pub inventory_hash: Option<String>,
}

impl WithSettings {
    /// What this device's agent runs with.
    pub fn effective(&self, server: Defaults) -> Effective {
        agent_settings::resolve(server, self.levels())
    }

    /// What the device, its site and its client each set.
    pub fn levels(&self) -> Levels {
        Levels {
            device: self.own(),
            site: Overrides { heartbeat_secs: self.site_heartbeat_secs, metrics_secs: self.site_metrics_secs },
            client: Overrides { heartbeat_secs: self.client_heartbeat_secs, metrics_secs: self.client_metrics_secs },
        }
    }

    /// What the device itself sets (`None`: inherits).
    pub fn own(&self) -> Overrides {
        Overrides { heartbeat_secs: self.device_heartbeat_secs, metrics_secs: self.device_metrics_secs }
    }
}

/// Devices joined to their client, site and inventory hash, for
/// [`WithSettings`]: one query at each handshake.
fn with_settings_query() -> sea_query::SelectStatement {
    use crate::tenancy::store::{Clients, Sites};
    // The inventory's table (its module builds on this one, so it is named
    // here rather than imported): only the hash of what the agent sent.
    let (inventory, device_id, sent_hash) = (Alias::new("device_inventory"), Alias::new("device_id"), Alias::new("sent_hash"));
    let mut q = Query::select();
    q.columns(COLS.map(|c| (Devices::Table, c)))
        .expr_as(Expr::col((Clients::Table, Clients::AgentHeartbeatSecs)), Alias::new("client_heartbeat_secs"))
        .expr_as(Expr::col((Clients::Table, Clients::AgentMetricsSecs)), Alias::new("client_metrics_secs"))
        .expr_as(Expr::col((Sites::Table, Sites::AgentHeartbeatSecs)), Alias::new("site_heartbeat_secs"))
        .expr_as(Expr::col((Sites::Table, Sites::AgentMetricsSecs)), Alias::new("site_metrics_secs"))
        .expr_as(Expr::col((Devices::Table, Devices::AgentHeartbeatSecs)), Alias::new("device_heartbeat_secs"))
        .expr_as(Expr::col((Devices::Table, Devices::AgentMetricsSecs)), Alias::new("device_metrics_secs"))
        .expr_as(Expr::col((inventory.clone(), sent_hash)), Alias::new("inventory_hash"))
        .from(Devices::Table)
        .inner_join(Clients::Table, Expr::col((Clients::Table, Clients::Id)).equals((Devices::Table, Devices::ClientId)))
        .inner_join(Sites::Table, Expr::col((Sites::Table, Sites::Id)).equals((Devices::Table, Devices::SiteId)))
        .left_join(inventory.clone(), Expr::col((inventory, device_id)).equals((Devices::Table, Devices::Id)));
    q
}

/// One device with its settings.
pub async fn with_settings(db: &mut impl Db, id: i64) -> Result<Option<WithSettings>> {
    db.fetch_optional(with_settings_query().and_where(Expr::col((Devices::Table, Devices::Id)).eq(id))).await
}

/// The enrolled (not revoked) devices of a client, or of one of its
/// sites, with their settings.
pub async fn with_settings_of(db: &mut impl Db, client_id: i64, site_id: Option<i64>) -> Result<Vec<WithSettings>> {
    let mut q = with_settings_query();
    q.and_where(Expr::col((Devices::Table, Devices::ClientId)).eq(client_id))
        .and_where(Expr::col((Devices::Table, Devices::RevokedAt)).is_null());
    if let Some(s) = site_id {
        q.and_where(Expr::col((Devices::Table, Devices::SiteId)).eq(s));
    }
    db.fetch_all(&q).await
}

/// Devices of some clients (`None`: all), by host name.
pub async fn list(db: &mut impl Db, clients: Option<&[i64]>) -> Result<Vec<Device>> {
    let mut q = Query::select();
    q.columns(COLS).from(Devices::Table).order_by(Devices::Hostname, Order::Asc).order_by(Devices::Id, Order::Asc);
    if let Some(ids) = clients {
        q.and_where(Expr::col(Devices::ClientId).is_in(ids.to_vec()));
    }
    db.fetch_all(&q).await
}

/// Devices enrolled and not connected, per client (of `scope`; `None`:
/// all), read through the `devices_offline` partial index.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfflineCount {
    pub client_id: i64,
    pub n: i64,
}

pub async fn offline_by_client(db: &mut impl Db, scope: Option<&[i64]>) -> Result<Vec<OfflineCount>> {
    let mut q = Query::select();
    q.column(Devices::ClientId)
        .expr_as(Expr::col(Devices::Id).count(), crate::store::n())
        .from(Devices::Table)
        .and_where(Expr::col(Devices::Online).eq(false))
        .and_where(Expr::col(Devices::RevokedAt).is_null())
        .group_by_col(Devices::ClientId);
    if let Some(ids) = scope {
        q.and_where(Expr::col(Devices::ClientId).is_in(ids.to_vec()));
    }
    db.fetch_all(&q).await
}

pub async fn revoke(db: &mut impl Db, id: i64) -> Result<bool> {
    Ok(db
        .execute(
            Query::update()
                .table(Devices::Table)
                .value(Devices::RevokedAt, now_us())
                .value(Devices::Online, false)
                .and_where(Expr::col(Devices::Id).eq(id))
                .and_where(Expr::col(Devices::RevokedAt).is_null()),
        )
        .await?
        > 0)
}
