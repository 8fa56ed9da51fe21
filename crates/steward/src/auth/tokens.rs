//! API tokens for scripts and integrations.
//!
//! A token is `stw_` + 256 random bits, shown once at creation; the database
//! keeps its SHA-256 (a fast hash is right for high-entropy secrets) and its
//! first characters to help people tell tokens apart. What a token may do is
//! its scopes cut down to its creator's current role (see `roles`), and it
//! stops working when it expires, is revoked, or its creator is disabled.

use crate::crypto::{random_token, sha256_hex};
use crate::store::{Db, Result};
use crate::time::now_us;
use sea_query::{Expr, Iden, Order, Query};

pub const PREFIX: &str = "stw_";

#[derive(Iden, Clone, Copy)]
pub(crate) enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    Prefix,
    Scopes,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

/// A token row (never the secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Token {
    pub fn scope_list(&self) -> Vec<String> {
        serde_json::from_str(&self.scopes).unwrap_or_default()
    }
    pub fn live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

const COLS: [ApiTokens; 9] = [
    ApiTokens::Id,
    ApiTokens::UserId,
    ApiTokens::Name,
    ApiTokens::Prefix,
    ApiTokens::Scopes,
    ApiTokens::CreatedAt,
    ApiTokens::ExpiresAt,
    ApiTokens::LastUsedAt,
    ApiTokens::RevokedAt,
];

/// Creates a token; returns (id, the secret to show once).
pub async fn create(db: &mut impl Db, user_id: i64, name: &str, scopes: &[String], expires_at: i64) -> Result<(i64, String)> {
    let secret = format!("{PREFIX}{}", random_token());
    let r: crate::store::IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(ApiTokens::Table)
                .columns([
                    ApiTokens::UserId,
                    ApiTokens::Name,
                    ApiTokens::TokenHash,
                    ApiTokens::Prefix,
                    ApiTokens::Scopes,
                    ApiTokens::CreatedAt,
                    ApiTokens::ExpiresAt,
                ])
                .values_panic([
                    user_id.into(),
                    name.into(),
                    sha256_hex(&secret).into(),
                    secret[..PREFIX.len() + 6].to_string().into(),
                    serde_json::to_string(scopes).expect("strings serialise").into(),
                    now_us().into(),
                    expires_at.into(),
                ])
                .returning_col(ApiTokens::Id),
        )
        .await?;
    Ok((r.id, secret))
}

pub async fn by_secret(db: &mut impl Db, secret: &str) -> Result<Option<Token>> {
    db.fetch_optional(
        Query::select().columns(COLS).from(ApiTokens::Table).and_where(Expr::col(ApiTokens::TokenHash).eq(sha256_hex(secret))),
    )
    .await
}

pub async fn by_id(db: &mut impl Db, id: i64) -> Result<Option<Token>> {
    db.fetch_optional(Query::select().columns(COLS).from(ApiTokens::Table).and_where(Expr::col(ApiTokens::Id).eq(id))).await
}

/// Tokens of one user (or of everyone, for `None`), newest first.
pub async fn list(db: &mut impl Db, user_id: Option<i64>) -> Result<Vec<Token>> {
    let mut q = Query::select();
    q.columns(COLS).from(ApiTokens::Table).order_by(ApiTokens::Id, Order::Desc);
    if let Some(u) = user_id {
        q.and_where(Expr::col(ApiTokens::UserId).eq(u));
    }
    db.fetch_all(&q).await
}

pub async fn touch(db: &mut impl Db, t: &Token, now: i64) -> Result<()> {
    if t.last_used_at.is_none_or(|at| now - at > 60_000_000) {
        db.execute(Query::update().table(ApiTokens::Table).value(ApiTokens::LastUsedAt, now).and_where(Expr::col(ApiTokens::Id).eq(t.id)))
            .await?;
    }
    Ok(())
}

pub async fn revoke(db: &mut impl Db, id: i64) -> Result<bool> {
    Ok(db
        .execute(
            Query::update()
                .table(ApiTokens::Table)
                .value(ApiTokens::RevokedAt, now_us())
                .and_where(Expr::col(ApiTokens::Id).eq(id))
                .and_where(Expr::col(ApiTokens::RevokedAt).is_null()),
        )
        .await?
        > 0)
}

/// Revokes every live token a user created (when the user is disabled).
pub async fn revoke_all(db: &mut impl Db, user_id: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(ApiTokens::Table)
            .value(ApiTokens::RevokedAt, now_us())
            .and_where(Expr::col(ApiTokens::UserId).eq(user_id))
            .and_where(Expr::col(ApiTokens::RevokedAt).is_null()),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_until_it_expires_or_is_revoked() {
        let t = Token {
            id: 1,
            user_id: 1,
            name: "n".into(),
            prefix: "stw_abcdef".into(),
            scopes: "[\"clients:read\"]".into(),
            created_at: 0,
            expires_at: 100,
            last_used_at: None,
            revoked_at: None,
        };
        assert!(t.live(99));
        assert!(!t.live(100));
        assert!(!Token { revoked_at: Some(5), ..t.clone() }.live(10));
        assert_eq!(t.scope_list(), vec!["clients:read".to_string()]);
        assert!(Token { scopes: "garbage".into(), ..t }.scope_list().is_empty(), "unreadable scopes grant nothing");
    }
}
