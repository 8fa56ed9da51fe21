//! Enrollment tokens: per site, expiring, single- or multi-use, revocable.
//!
//! The token is `ste_` + 256 random bits, shown once; the database keeps its
//! SHA-256 and a short prefix. [`refusal`] is the pure rule for whether a
//! token may enrol another device; [`consume`] applies it atomically in one
//! conditional UPDATE, so two agents racing for the last use cannot both win.

use crate::crypto::{random_token, sha256_hex};
use crate::store::{Db, Result};
use crate::time::now_us;
use sea_query::{Cond, Expr, Iden, Order, Query};
use serde::Serialize;

pub const PREFIX: &str = "ste_";

#[derive(Iden, Clone, Copy)]
pub(crate) enum EnrollmentTokens {
    Table,
    Id,
    ClientId,
    SiteId,
    Name,
    TokenHash,
    Prefix,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    MaxUses,
    Uses,
    RevokedAt,
}

/// A stored enrollment token (never the secret).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EnrollmentToken {
    pub id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub revoked_at: Option<i64>,
}

const COLS: [EnrollmentTokens; 11] = [
    EnrollmentTokens::Id,
    EnrollmentTokens::ClientId,
    EnrollmentTokens::SiteId,
    EnrollmentTokens::Name,
    EnrollmentTokens::Prefix,
    EnrollmentTokens::CreatedBy,
    EnrollmentTokens::CreatedAt,
    EnrollmentTokens::ExpiresAt,
    EnrollmentTokens::MaxUses,
    EnrollmentTokens::Uses,
    EnrollmentTokens::RevokedAt,
];

/// Why a token cannot enrol a device (the agent is told which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the enrollment token was revoked")]
    Revoked,
    #[error("the enrollment token has expired")]
    Expired,
    #[error("the enrollment token has been used up")]
    UsedUp,
    #[error("the enrollment token is not known")]
    Unknown,
}

/// The pure rule: may `t` enrol one more device at `now`?
pub fn refusal(t: &EnrollmentToken, now: i64) -> Option<Refusal> {
    if t.revoked_at.is_some() {
        Some(Refusal::Revoked)
    } else if now >= t.expires_at {
        Some(Refusal::Expired)
    } else if t.max_uses.is_some_and(|m| t.uses >= m) {
        Some(Refusal::UsedUp)
    } else {
        None
    }
}

impl EnrollmentToken {
    /// `active`, `revoked`, `expired` or `used up`, for people.
    pub fn state(&self, now: i64) -> &'static str {
        match refusal(self, now) {
            None => "active",
            Some(Refusal::Revoked) => "revoked",
            Some(Refusal::Expired) => "expired",
            Some(Refusal::UsedUp) => "used up",
            Some(Refusal::Unknown) => "unknown",
        }
    }
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: i64,
}

/// What a new token is for.
pub struct NewToken<'a> {
    pub client_id: i64,
    pub site_id: i64,
    pub name: &'a str,
    pub created_by: Option<i64>,
    pub expires_at: i64,
    pub max_uses: Option<i64>,
}

/// Stores a new token; returns (id, secret shown once).
pub async fn create(db: &mut impl Db, t: NewToken<'_>) -> Result<(i64, String)> {
    let secret = format!("{PREFIX}{}", random_token());
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(EnrollmentTokens::Table)
                .columns([
                    EnrollmentTokens::ClientId,
                    EnrollmentTokens::SiteId,
                    EnrollmentTokens::Name,
                    EnrollmentTokens::TokenHash,
                    EnrollmentTokens::Prefix,
                    EnrollmentTokens::CreatedBy,
                    EnrollmentTokens::CreatedAt,
                    EnrollmentTokens::ExpiresAt,
                    EnrollmentTokens::MaxUses,
                ])
                .values_panic([
                    t.client_id.into(),
                    t.site_id.into(),
                    t.name.into(),
                    sha256_hex(&secret).into(),
                    secret[..PREFIX.len() + 6].to_string().into(),
                    t.created_by.into(),
                    now_us().into(),
                    t.expires_at.into(),
                    t.max_uses.into(),
                ])
                .returning_col(EnrollmentTokens::Id),
        )
        .await?;
    Ok((r.id, secret))
}

pub async fn get(db: &mut impl Db, client_id: i64, site_id: i64, id: i64) -> Result<Option<EnrollmentToken>> {
    db.fetch_optional(
        Query::select()
            .columns(COLS)
            .from(EnrollmentTokens::Table)
            .and_where(Expr::col(EnrollmentTokens::Id).eq(id))
            .and_where(Expr::col(EnrollmentTokens::ClientId).eq(client_id))
            .and_where(Expr::col(EnrollmentTokens::SiteId).eq(site_id)),
    )
    .await
}

/// A site's tokens, newest first.
pub async fn list(db: &mut impl Db, client_id: i64, site_id: i64) -> Result<Vec<EnrollmentToken>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(EnrollmentTokens::Table)
            .and_where(Expr::col(EnrollmentTokens::ClientId).eq(client_id))
            .and_where(Expr::col(EnrollmentTokens::SiteId).eq(site_id))
            .order_by(EnrollmentTokens::Id, Order::Desc),
    )
    .await
}

pub async fn revoke(db: &mut impl Db, id: i64) -> Result<bool> {
    Ok(db
        .execute(
            Query::update()
                .table(EnrollmentTokens::Table)
                .value(EnrollmentTokens::RevokedAt, now_us())
                .and_where(Expr::col(EnrollmentTokens::Id).eq(id))
                .and_where(Expr::col(EnrollmentTokens::RevokedAt).is_null()),
        )
        .await?
        > 0)
}

/// Uses the token once if it is still usable: returns the token (with the
/// use counted), or why it was refused. Atomic on both engines.
pub async fn consume(db: &mut impl Db, secret: &str) -> Result<std::result::Result<EnrollmentToken, Refusal>> {
    let now = now_us();
    let hash = sha256_hex(secret);
    let n = db
        .execute(
            Query::update()
                .table(EnrollmentTokens::Table)
                .value(EnrollmentTokens::Uses, Expr::col(EnrollmentTokens::Uses).add(1))
                .and_where(Expr::col(EnrollmentTokens::TokenHash).eq(hash.clone()))
                .and_where(Expr::col(EnrollmentTokens::RevokedAt).is_null())
                .and_where(Expr::col(EnrollmentTokens::ExpiresAt).gt(now))
                .cond_where(
                    Cond::any()
                        .add(Expr::col(EnrollmentTokens::MaxUses).is_null())
                        .add(Expr::col(EnrollmentTokens::Uses).lt(Expr::col(EnrollmentTokens::MaxUses))),
                ),
        )
        .await?;
    let t: Option<EnrollmentToken> = db
        .fetch_optional(
            Query::select().columns(COLS).from(EnrollmentTokens::Table).and_where(Expr::col(EnrollmentTokens::TokenHash).eq(hash)),
        )
        .await?;
    Ok(match (n, t) {
        (1, Some(t)) => Ok(t),
        (_, Some(t)) => Err(refusal(&t, now).unwrap_or(Refusal::UsedUp)),
        (_, None) => Err(Refusal::Unknown),
    })
}

/// The one-line install commands for a token.
pub fn install_commands(server_url: &str, token: &str, pin: &str) -> (String, String) {
    (
        format!("sudo steward-agent install --server {server_url} --token {token} --pin {pin}"),
        format!("steward-agent.exe install --server {server_url} --token {token} --pin {pin}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn token(expires_at: i64, max_uses: Option<i64>, uses: i64, revoked: bool) -> EnrollmentToken {
        EnrollmentToken {
            id: 1,
            client_id: 1,
            site_id: 1,
            name: String::new(),
            prefix: String::new(),
            created_by: None,
            created_at: 0,
            expires_at,
            max_uses,
            uses,
            revoked_at: revoked.then_some(1),
        }
    }

    proptest! {
        #[test]
        fn a_token_enrols_only_while_unrevoked_unexpired_and_not_used_up(
            expires in 0i64..1000, now in 0i64..1000, max in proptest::option::of(1i64..5), uses in 0i64..6, revoked: bool
        ) {
            let t = token(expires, max, uses, revoked);
            let ok = !revoked && now < expires && max.is_none_or(|m| uses < m);
            prop_assert_eq!(refusal(&t, now).is_none(), ok);
            // Revocation wins over every other reason.
            if revoked {
                prop_assert_eq!(refusal(&t, now), Some(Refusal::Revoked));
            }
        }
    }
}
