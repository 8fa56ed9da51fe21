//! Device rows and the server's command key.

use super::agent_settings::{self, Defaults, Effective, Levels, Overrides};
use super::presence::{Change, Standing};
use crate::crypto::MasterKey;
use crate::store::{now_us, Db, Result, Store};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use sea_query::{Alias, Expr, Iden, Order, Query};
use serde::Serialize;
use std::collections::BTreeMap;

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
    use super::inventory_store::DeviceInventory;
    use crate::tenancy::{Clients, Sites};
    let mut q = Query::select();
    q.columns(COLS.map(|c| (Devices::Table, c)))
        .expr_as(Expr::col((Clients::Table, Clients::AgentHeartbeatSecs)), Alias::new("client_heartbeat_secs"))
        .expr_as(Expr::col((Clients::Table, Clients::AgentMetricsSecs)), Alias::new("client_metrics_secs"))
        .expr_as(Expr::col((Sites::Table, Sites::AgentHeartbeatSecs)), Alias::new("site_heartbeat_secs"))
        .expr_as(Expr::col((Sites::Table, Sites::AgentMetricsSecs)), Alias::new("site_metrics_secs"))
        .expr_as(Expr::col((Devices::Table, Devices::AgentHeartbeatSecs)), Alias::new("device_heartbeat_secs"))
        .expr_as(Expr::col((Devices::Table, Devices::AgentMetricsSecs)), Alias::new("device_metrics_secs"))
        .expr_as(Expr::col((DeviceInventory::Table, DeviceInventory::SentHash)), Alias::new("inventory_hash"))
        .from(Devices::Table)
        .inner_join(Clients::Table, Expr::col((Clients::Table, Clients::Id)).equals((Devices::Table, Devices::ClientId)))
        .inner_join(Sites::Table, Expr::col((Sites::Table, Sites::Id)).equals((Devices::Table, Devices::SiteId)))
        .left_join(
            DeviceInventory::Table,
            Expr::col((DeviceInventory::Table, DeviceInventory::DeviceId)).equals((Devices::Table, Devices::Id)),
        );
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

/// Writes a batch of presence changes (see `devices::presence`) in one
/// transaction: every change into the history, then each device's flag,
/// last-seen time and reported agent version. The caller holds the write
/// turn.
pub async fn apply_presence(store: &Store, changes: &[Change], standings: &[Standing]) -> Result<()> {
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
pub async fn reset_presence(store: &Store, reason: &str) -> Result<u64> {
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

#[derive(Iden)]
enum ServerKeys {
    Table,
    Id,
    Purpose,
    PublicKey,
    PrivateKeyEnc,
    CreatedAt,
    RetiredAt,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    private_key_enc: String,
}

const COMMAND: &str = "command";

/// The server's command signing key, created (and sealed with the master
/// key) on first use. Its public half is what agents trust.
pub async fn command_key(store: &Store, master: &MasterKey) -> anyhow::Result<SigningKey> {
    let row: Option<KeyRow> = store
        .fetch_optional(
            Query::select()
                .columns([ServerKeys::Id, ServerKeys::PrivateKeyEnc])
                .from(ServerKeys::Table)
                .and_where(Expr::col(ServerKeys::Purpose).eq(COMMAND))
                .and_where(Expr::col(ServerKeys::RetiredAt).is_null())
                .order_by(ServerKeys::Id, Order::Desc)
                .limit(1),
        )
        .await?;
    if let Some(r) = row {
        let raw =
            master.open(&format!("server_keys.{COMMAND}:{}", r.id), &r.private_key_enc).map_err(|e| anyhow::anyhow!("command key: {e}"))?;
        let bytes: [u8; 32] = raw.try_into().map_err(|_| anyhow::anyhow!("command key has the wrong length"))?;
        return Ok(SigningKey::from_bytes(&bytes));
    }
    let key = SigningKey::from_bytes(&crate::crypto::random_bytes::<32>());
    let mut tx = store.begin().await?;
    #[derive(sqlx::FromRow)]
    struct Id {
        id: i64,
    }
    let id: Id = tx
        .fetch_one(
            Query::insert()
                .into_table(ServerKeys::Table)
                .columns([ServerKeys::Purpose, ServerKeys::PublicKey, ServerKeys::PrivateKeyEnc, ServerKeys::CreatedAt])
                .values_panic([COMMAND.into(), B64.encode(key.verifying_key().as_bytes()).into(), "".into(), now_us().into()])
                .returning_col(ServerKeys::Id),
        )
        .await?;
    let sealed = master.seal(&format!("server_keys.{COMMAND}:{}", id.id), &key.to_bytes());
    tx.execute(
        Query::update().table(ServerKeys::Table).value(ServerKeys::PrivateKeyEnc, sealed).and_where(Expr::col(ServerKeys::Id).eq(id.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

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
