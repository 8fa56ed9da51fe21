//! Sign-in throttling: per account and per source address.
//!
//! After [`MAX_FAILURES`] failures within [`WINDOW_US`], further attempts for
//! that email or from that address are refused (429) until the oldest failure
//! in the window ages out. Attempts are stored, so the limit holds across
//! restarts and across several server nodes.

use crate::store::{Db, Result};
use crate::time::now_us;
use sea_query::{Expr, Iden, Order, Query};

pub const MAX_FAILURES: usize = 10;
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
/// seconds until another attempt is allowed, or `None` if allowed now.
pub fn retry_after(failures: &[i64], now: i64) -> Option<u64> {
    let mut recent: Vec<i64> = failures.iter().copied().filter(|t| now - t < WINDOW_US).collect();
    if recent.len() < MAX_FAILURES {
        return None;
    }
    recent.sort_unstable();
    // Allowed again once enough failures age out to drop below the limit.
    let unblock_at = recent[recent.len() - MAX_FAILURES] + WINDOW_US;
    Some((((unblock_at - now).max(1) + 999_999) / 1_000_000) as u64)
}

async fn failures(db: &mut impl Db, col: LoginAttempts, value: &str, now: i64) -> Result<Vec<i64>> {
    let rows: Vec<At> = db
        .fetch_all(
            Query::select()
                .column(LoginAttempts::At)
                .from(LoginAttempts::Table)
                .and_where(Expr::col(col).eq(value))
                .and_where(Expr::col(LoginAttempts::Success).eq(false))
                .and_where(Expr::col(LoginAttempts::At).gt(now - WINDOW_US))
                .order_by(LoginAttempts::At, Order::Desc)
                .limit(MAX_FAILURES as u64),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.at).collect())
}

/// Seconds to wait, if this email or address is currently throttled.
pub async fn check(db: &mut impl Db, email: &str, ip: &str) -> Result<Option<u64>> {
    let now = now_us();
    let by_email = retry_after(&failures(db, LoginAttempts::Email, email, now).await?, now);
    let by_ip = retry_after(&failures(db, LoginAttempts::Ip, ip, now).await?, now);
    Ok(by_email.max(by_ip))
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

    proptest! {
        #[test]
        fn fewer_than_the_limit_never_blocks(ts in proptest::collection::vec(0i64..WINDOW_US, 0..MAX_FAILURES)) {
            let now = WINDOW_US;
            let fails: Vec<i64> = ts.iter().map(|t| now - t).collect();
            prop_assert_eq!(retry_after(&fails, now), None);
        }

        #[test]
        fn at_the_limit_blocks_until_the_oldest_counted_failure_ages_out(ts in proptest::collection::vec(0i64..WINDOW_US, MAX_FAILURES..30)) {
            let now = 10 * WINDOW_US;
            let fails: Vec<i64> = ts.iter().map(|t| now - t).collect();
            let wait = retry_after(&fails, now).expect("blocked");
            prop_assert!(wait >= 1 && wait <= (WINDOW_US / 1_000_000) as u64);
            // Once that wait has passed, it is allowed again (absent new failures).
            prop_assert_eq!(retry_after(&fails, now + wait as i64 * 1_000_000), None);
        }
    }
}
