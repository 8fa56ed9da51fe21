//! Server-side sessions.
//!
//! The cookie holds 256 random bits; the database holds only their SHA-256.
//! A session expires after an idle period and, regardless of use, after an
//! absolute lifetime. Sign-in always creates a new session (the id rotates),
//! and a session can be revoked from the UI, the API, or by disabling the user.

use crate::config::Lifetimes;
use crate::crypto::{random_token, sha256_hex};
use crate::store::{Db, Result};
use crate::time::now_us;
use sea_query::{Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CsrfToken,
    MfaPending,
    MfaAt,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    Ip,
    UserAgent,
    RevokedAt,
}

/// A session row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub csrf_token: String,
    pub mfa_pending: bool,
    /// When it last proved its second factor (sign-in with a code, or a
    /// fresh code since): a vault reveal needs a recent one.
    pub mfa_at: Option<i64>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    pub revoked_at: Option<i64>,
}

const COLS: [Sessions; 11] = [
    Sessions::Id,
    Sessions::UserId,
    Sessions::CsrfToken,
    Sessions::MfaPending,
    Sessions::MfaAt,
    Sessions::CreatedAt,
    Sessions::LastSeenAt,
    Sessions::ExpiresAt,
    Sessions::Ip,
    Sessions::UserAgent,
    Sessions::RevokedAt,
];

impl Session {
    /// Whether the session may still be used at `now`.
    pub fn live(&self, now: i64, l: Lifetimes) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now - self.last_seen_at < l.idle_us
    }
}

/// Creates a session; returns (row id, cookie token, csrf token).
pub async fn create(
    db: &mut impl Db,
    user_id: i64,
    mfa_pending: bool,
    lifetime_us: i64,
    ip: &str,
    user_agent: &str,
) -> Result<(i64, String, String)> {
    let token = random_token();
    let csrf = random_token();
    let now = now_us();
    let ua: String = user_agent.chars().take(300).collect();
    let r: crate::store::IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Sessions::Table)
                .columns([
                    Sessions::TokenHash,
                    Sessions::UserId,
                    Sessions::CsrfToken,
                    Sessions::MfaPending,
                    Sessions::CreatedAt,
                    Sessions::LastSeenAt,
                    Sessions::ExpiresAt,
                    Sessions::Ip,
                    Sessions::UserAgent,
                ])
                .values_panic([
                    sha256_hex(&token).into(),
                    user_id.into(),
                    csrf.clone().into(),
                    mfa_pending.into(),
                    now.into(),
                    now.into(),
                    (now + lifetime_us).into(),
                    ip.into(),
                    ua.into(),
                ])
                .returning_col(Sessions::Id),
        )
        .await?;
    Ok((r.id, token, csrf))
}

/// Records that a session proved its second factor at `at`.
pub async fn mark_mfa(db: &mut impl Db, id: i64, at: i64) -> Result<()> {
    db.execute(Query::update().table(Sessions::Table).value(Sessions::MfaAt, at).and_where(Expr::col(Sessions::Id).eq(id))).await?;
    Ok(())
}

pub async fn by_token(db: &mut impl Db, token: &str) -> Result<Option<Session>> {
    db.fetch_optional(Query::select().columns(COLS).from(Sessions::Table).and_where(Expr::col(Sessions::TokenHash).eq(sha256_hex(token))))
        .await
}

/// Records activity, at most once a minute per session (saves a write per request).
/// Records activity on a session, at most every minute (a write per
/// request would be a write per page view) and at least every quarter of
/// the idle timeout, so a short timeout still follows what a user does.
pub async fn touch(db: &mut impl Db, s: &Session, now: i64, l: Lifetimes) -> Result<()> {
    if now - s.last_seen_at > (l.idle_us / 4).min(60_000_000) {
        db.execute(Query::update().table(Sessions::Table).value(Sessions::LastSeenAt, now).and_where(Expr::col(Sessions::Id).eq(s.id)))
            .await?;
    }
    Ok(())
}

/// Live sessions of a user, newest first.
pub async fn list_for_user(db: &mut impl Db, user_id: i64) -> Result<Vec<Session>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(Sessions::Table)
            .and_where(Expr::col(Sessions::UserId).eq(user_id))
            .and_where(Expr::col(Sessions::RevokedAt).is_null())
            .and_where(Expr::col(Sessions::MfaPending).eq(false))
            .and_where(Expr::col(Sessions::ExpiresAt).gt(now_us()))
            .order_by(Sessions::LastSeenAt, Order::Desc),
    )
    .await
}

/// Revokes one session of a user; returns whether it existed.
pub async fn revoke(db: &mut impl Db, user_id: i64, session_id: i64) -> Result<bool> {
    Ok(db
        .execute(
            Query::update()
                .table(Sessions::Table)
                .value(Sessions::RevokedAt, now_us())
                .and_where(Expr::col(Sessions::Id).eq(session_id))
                .and_where(Expr::col(Sessions::UserId).eq(user_id))
                .and_where(Expr::col(Sessions::RevokedAt).is_null()),
        )
        .await?
        > 0)
}

/// Revokes every session of a user (password change, disable, MFA reset).
pub async fn revoke_all(db: &mut impl Db, user_id: i64, except: Option<i64>) -> Result<u64> {
    let mut q = Query::update();
    q.table(Sessions::Table)
        .value(Sessions::RevokedAt, now_us())
        .and_where(Expr::col(Sessions::UserId).eq(user_id))
        .and_where(Expr::col(Sessions::RevokedAt).is_null());
    if let Some(id) = except {
        q.and_where(Expr::col(Sessions::Id).ne(id));
    }
    db.execute(&q).await
}

/// Deletes sessions that ended more than a day ago.
pub async fn prune(db: &mut impl Db) -> Result<u64> {
    let cutoff = now_us() - 86_400_000_000;
    db.execute(
        Query::delete().from_table(Sessions::Table).cond_where(
            sea_query::Cond::any().add(Expr::col(Sessions::ExpiresAt).lt(cutoff)).add(Expr::col(Sessions::RevokedAt).lt(cutoff)),
        ),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn session(created: i64, last_seen: i64, expires: i64, revoked: Option<i64>) -> Session {
        Session {
            id: 1,
            user_id: 1,
            csrf_token: String::new(),
            mfa_pending: false,
            mfa_at: None,
            created_at: created,
            last_seen_at: last_seen,
            expires_at: expires,
            ip: String::new(),
            user_agent: String::new(),
            revoked_at: revoked,
        }
    }

    const L: Lifetimes = Lifetimes { idle_us: 1_000, absolute_us: 10_000 };

    proptest! {
        #[test]
        fn a_session_lives_only_before_its_idle_and_absolute_limits(seen in 0i64..10_000, now in 0i64..20_000) {
            prop_assume!(now >= seen);
            let s = session(0, seen, L.absolute_us, None);
            let expected = now - seen < L.idle_us && now < L.absolute_us;
            prop_assert_eq!(s.live(now, L), expected);
            // Revoked is dead whatever the clock says.
            prop_assert!(!session(0, seen, L.absolute_us, Some(seen)).live(now, L));
        }
    }
}
