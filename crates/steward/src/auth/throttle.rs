//! Sign-in throttling, so that guessing is slow and strangers cannot lock
//! anyone out.
//!
//! Within [`WINDOW_US`]: [`PER_PAIR`] failures for one account from one
//! address, or [`PER_ADDRESS`] from one address for any accounts, refuse
//! that address (429) until the oldest counted failure ages out. An account
//! that [`PER_ACCOUNT`] failures from anywhere have hit is throttled too, but
//! never for an address with no failures that then gives the right password
//! (and second factor): a crowd of addresses guessing cannot lock its owner
//! out. Attempts are stored, so the limits hold across restarts and nodes.

use crate::store::{Db, Result};
use crate::time::now_us;
use sea_query::{Expr, Iden, Order, Query};

/// Failures for one account from one address.
pub const PER_PAIR: usize = 10;
/// Failures from one address, for any accounts.
pub const PER_ADDRESS: usize = 30;
/// Failures for one account, from any addresses.
pub const PER_ACCOUNT: usize = 100;
pub const WINDOW_US: i64 = 15 * 60 * 1_000_000;

#[derive(Iden)]
enum LoginAttempts {
    Table,
    At,
    Email,
    Ip,
    Success,
}

#[derive(sqlx::FromRow)]
struct At {
    at: i64,
}

/// Pure rule: given failure times (any order) within the window, how many
/// seconds until another attempt is allowed past `max`, or `None` if now.
pub fn retry_after(failures: &[i64], now: i64, max: usize) -> Option<u64> {
    let mut recent: Vec<i64> = failures.iter().copied().filter(|t| now - t < WINDOW_US).collect();
    if recent.len() < max {
        return None;
    }
    recent.sort_unstable();
    // Allowed again once enough failures age out to drop below the limit.
    let unblock_at = recent[recent.len() - max] + WINDOW_US;
    Some((((unblock_at - now).max(1) + 999_999) / 1_000_000) as u64)
}

/// What an attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Allow,
    /// Refused until then (seconds).
    Blocked(u64),
    /// The account is throttled but this address has no failures: only a
    /// fully right answer gets through; a wrong one is refused for this long.
    RightAnswerOnly(u64),
}

/// Pure rule over the three kinds of failures.
pub fn decide(pair: &[i64], address: &[i64], account: &[i64], now: i64) -> Throttle {
    let blocked = retry_after(pair, now, PER_PAIR).max(retry_after(address, now, PER_ADDRESS));
    if let Some(s) = blocked {
        return Throttle::Blocked(s);
    }
    match retry_after(account, now, PER_ACCOUNT) {
        Some(s) if address.iter().all(|t| now - t >= WINDOW_US) => Throttle::RightAnswerOnly(s),
        Some(s) => Throttle::Blocked(s),
        None => Throttle::Allow,
    }
}

async fn failures(db: &mut impl Db, email: Option<&str>, ip: Option<&str>, now: i64, max: usize) -> Result<Vec<i64>> {
    let mut q = Query::select();
    q.column(LoginAttempts::At)
        .from(LoginAttempts::Table)
        .and_where(Expr::col(LoginAttempts::Success).eq(false))
        .and_where(Expr::col(LoginAttempts::At).gt(now - WINDOW_US))
        .order_by(LoginAttempts::At, Order::Desc)
        .limit(max as u64);
    if let Some(e) = email {
        q.and_where(Expr::col(LoginAttempts::Email).eq(e));
    }
    if let Some(i) = ip {
        q.and_where(Expr::col(LoginAttempts::Ip).eq(i));
    }
    let rows: Vec<At> = db.fetch_all(&q).await?;
    Ok(rows.into_iter().map(|r| r.at).collect())
}

/// What an attempt for `email` from `ip` may do now.
pub async fn check(db: &mut impl Db, email: &str, ip: &str) -> Result<Throttle> {
    let now = now_us();
    let pair = failures(db, Some(email), Some(ip), now, PER_PAIR).await?;
    let address = failures(db, None, Some(ip), now, PER_ADDRESS).await?;
    let account = failures(db, Some(email), None, now, PER_ACCOUNT).await?;
    Ok(decide(&pair, &address, &account, now))
}

pub async fn record(db: &mut impl Db, email: &str, ip: &str, success: bool) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(LoginAttempts::Table)
            .columns([LoginAttempts::At, LoginAttempts::Email, LoginAttempts::Ip, LoginAttempts::Success])
            .values_panic([now_us().into(), email.into(), ip.into(), success.into()]),
    )
    .await?;
    Ok(())
}

/// Forgets attempts older than a day.
pub async fn prune(db: &mut impl Db) -> Result<u64> {
    db.execute(Query::delete().from_table(LoginAttempts::Table).and_where(Expr::col(LoginAttempts::At).lt(now_us() - 86_400_000_000))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strangers_cannot_lock_out_an_account_from_a_clean_address() {
        let now = 10 * WINDOW_US;
        let many: Vec<i64> = (0..PER_ACCOUNT as i64).map(|i| now - i).collect();
        // A hundred failures from elsewhere: this clean address may still
        // sign in with the right answer; one with failures may not.
        assert!(matches!(decide(&[], &[], &many, now), Throttle::RightAnswerOnly(_)));
        assert!(matches!(decide(&[now - 1], &[now - 1], &many, now), Throttle::Blocked(_)));
        // Ten failures for the account from one address block that address only.
        let ten: Vec<i64> = (0..PER_PAIR as i64).map(|i| now - i).collect();
        assert!(matches!(decide(&ten, &ten, &ten, now), Throttle::Blocked(_)));
        assert_eq!(decide(&[], &[], &ten, now), Throttle::Allow, "another address is not held up");
    }

    proptest! {
        #[test]
        fn fewer_than_the_limit_never_blocks(ts in proptest::collection::vec(0i64..WINDOW_US, 0..PER_PAIR)) {
            let now = WINDOW_US;
            let fails: Vec<i64> = ts.iter().map(|t| now - t).collect();
            prop_assert_eq!(retry_after(&fails, now, PER_PAIR), None);
        }

        #[test]
        fn at_the_limit_blocks_until_the_oldest_counted_failure_ages_out(ts in proptest::collection::vec(0i64..WINDOW_US, PER_PAIR..30)) {
            let now = 10 * WINDOW_US;
            let fails: Vec<i64> = ts.iter().map(|t| now - t).collect();
            let wait = retry_after(&fails, now, PER_PAIR).expect("blocked");
            prop_assert!(wait >= 1 && wait <= (WINDOW_US / 1_000_000) as u64);
            // Once that wait has passed, it is allowed again (absent new failures).
            prop_assert_eq!(retry_after(&fails, now + wait as i64 * 1_000_000, PER_PAIR), None);
        }
    }
}
