//! The server's command signing key: made on first use, its private half
//! sealed in the database by the master key. Its public half is what every
//! agent trusts for commands.

use super::MasterKey;
use crate::store::{Db, Store};
use crate::time::now_us;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use sea_query::{Expr, Iden, Order, Query};

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
pub async fn load_or_create(store: &Store, master: &MasterKey) -> anyhow::Result<SigningKey> {
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
    let key = SigningKey::from_bytes(&super::random_bytes::<32>());
    let mut tx = store.begin().await?;
    let id: crate::store::IdRow = tx
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
