//! Everything that runs out, on one list: the date fields marked
//! `expires` of every live asset (domains, certificates, warranties,
//! licences, circuits) and the end dates of billing contracts, soonest
//! first, scoped to the clients the caller sees. The `docs.expiry` job
//! warns ahead (30, 14 and 7 days by default, `expiry_warn_days` in the
//! settings) and on the day, once per threshold, as a notification to
//! everyone who may read that client's documentation; the home page shows
//! what runs out within the first threshold.

use super::store::{self, ExpiryRow};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::notifications::store::NewNotification;
use crate::time::now_us;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The settings key, and its default.
pub const WARN_DAYS_KEY: &str = "expiry_warn_days";
pub const DEFAULT_WARN_DAYS: [u32; 3] = [30, 14, 7];

/// Most entries one list answers.
pub const MAX_LIST: u64 = 2_000;

/// Which warning is due for a date `days_left` away, when the last one sent
/// was `warned` days ahead: the tightest threshold it has reached and not
/// yet been warned at, or 0 once the day has come. `None`: nothing new.
pub fn warning_due(days_left: i64, thresholds: &[u32], warned: Option<i64>) -> Option<i64> {
    let reached = if days_left <= 0 { 0 } else { thresholds.iter().map(|t| *t as i64).filter(|t| days_left <= *t).min()? };
    match warned {
        Some(w) if w <= reached => None,
        _ => Some(reached),
    }
}

/// The thresholds as stored (`"30,14,7"`): distinct, 1–365, largest first.
pub fn parse_thresholds(s: &str) -> Result<Vec<u32>, String> {
    let mut out = vec![];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<u32>() {
            Ok(n) if (1..=365).contains(&n) => out.push(n),
            _ => return Err(format!("{part:?} is not a number of days from 1 to 365")),
        }
    }
    check_thresholds(out)
}

pub fn check_thresholds(mut days: Vec<u32>) -> Result<Vec<u32>, String> {
    if days.len() > 5 || days.iter().any(|d| !(1..=365).contains(d)) {
        return Err("up to 5 numbers of days, each from 1 to 365".into());
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    Ok(days)
}

/// The installation's thresholds.
pub async fn thresholds(app: &App) -> Result<Vec<u32>, ApiError> {
    let stored = crate::settings::store::get(&app.store, WARN_DAYS_KEY).await?;
    Ok(stored.and_then(|s| parse_thresholds(&s).ok()).unwrap_or_else(|| DEFAULT_WARN_DAYS.to_vec()))
}

/// One thing that runs out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Expiry {
    /// `asset` or `contract`.
    pub kind: String,
    /// The asset's or the contract's id.
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub name: String,
    /// The asset's type, or `Contract`.
    pub type_name: String,
    /// The field that expires (`end_date` for a contract).
    pub field: String,
    /// `YYYY-MM-DD`.
    pub expires_on: String,
    /// Negative once past.
    pub days_left: i64,
}

/// Which expiries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpiryFilter {
    /// Up to this many days ahead (default 90; past dates are always in).
    #[param(minimum = 0, maximum = 3650)]
    pub within_days: Option<u32>,
    /// Only this client.
    pub client_id: Option<i64>,
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn days_left(day: &str, today: NaiveDate) -> i64 {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map(|d| (d - today).num_days()).unwrap_or(0)
}

/// The list, soonest first (at most [`MAX_LIST`]).
pub async fn list(app: &App, p: &Principal, f: &ExpiryFilter) -> Result<Vec<Expiry>, ApiError> {
    p.require(Permission::DocsRead)?;
    let within = f.within_days.unwrap_or(90);
    if within > 3650 {
        return Err(ApiError::invalid("within_days", "at most 3650"));
    }
    let scope: Option<Vec<i64>> = match f.client_id {
        Some(c) => Some(vec![p.client(c)?.id()]),
        None => p.clients.clone(),
    };
    let today = today();
    let until = (today + chrono::Duration::days(within as i64)).format("%Y-%m-%d").to_string();
    let mut db = app.store.snapshot().await?;
    let rows = store::expiries(&mut db, scope.as_deref(), &until, MAX_LIST).await?;
    let mut out: Vec<Expiry> = rows.iter().map(|r| from_row(r, today)).collect();
    if p.can(Permission::BillingRead) {
        let contracts: Vec<_> = crate::billing::contracts::store::active(&mut db)
            .await?
            .into_iter()
            .filter(|c| c.end_date.as_deref().is_some_and(|e| *e <= *until))
            .filter(|c| scope.as_ref().is_none_or(|ids| ids.contains(&c.client_id)))
            .collect();
        let ids: Vec<i64> = contracts.iter().map(|c| c.client_id).collect();
        let names: std::collections::HashMap<i64, String> =
            crate::tenancy::store::client_names(&mut db, &ids).await?.into_iter().map(|c| (c.id, c.name)).collect();
        for c in contracts {
            let end = c.end_date.as_deref().unwrap_or_default();
            out.push(Expiry {
                kind: "contract".into(),
                id: c.id,
                client_id: c.client_id,
                client_name: names.get(&c.client_id).cloned().unwrap_or_default(),
                name: c.name.clone(),
                type_name: "Contract".into(),
                field: "end_date".into(),
                expires_on: end.to_string(),
                days_left: days_left(end, today),
            });
        }
    }
    out.sort_by(|a, b| a.expires_on.cmp(&b.expires_on).then(a.kind.cmp(&b.kind)).then(a.id.cmp(&b.id)));
    out.truncate(MAX_LIST as usize);
    Ok(out)
}

fn from_row(r: &ExpiryRow, today: NaiveDate) -> Expiry {
    Expiry {
        kind: "asset".into(),
        id: r.asset_id,
        client_id: r.client_id,
        client_name: r.client_name.clone(),
        name: r.asset_name.clone(),
        type_name: r.type_name.clone(),
        field: r.field_key.clone(),
        expires_on: r.expires_on.clone(),
        days_left: days_left(&r.expires_on, today),
    }
}

/// The job: a notification for every date that reached a threshold since
/// the last run, to everyone who may read its client's documentation.
pub async fn warn(app: &App) -> anyhow::Result<usize> {
    let thresholds = thresholds(app).await?;
    let furthest = thresholds.first().copied().unwrap_or(0) as i64;
    let today = today();
    let until = (today + chrono::Duration::days(furthest)).format("%Y-%m-%d").to_string();
    let rows = store::expiries(&mut app.store.clone(), None, &until, 100_000).await?;
    let mut sent = 0;
    for r in rows {
        let left = days_left(&r.expires_on, today);
        let Some(at) = warning_due(left, &thresholds, r.warned_days) else { continue };
        let text = match left {
            l if l < 0 => format!("{} ({}) of {} expired on {}", r.asset_name, r.type_name, r.client_name, r.expires_on),
            0 => format!("{} ({}) of {} expires today", r.asset_name, r.type_name, r.client_name),
            l => format!("{} ({}) of {} expires in {l} days, on {}", r.asset_name, r.type_name, r.client_name, r.expires_on),
        };
        let mut tx = app.store.begin().await?;
        let now = now_us();
        for (user, _) in crate::users::store::with_permission(&mut tx, Permission::DocsRead, Some(r.client_id)).await? {
            let n = NewNotification { user_id: user, client_id: Some(r.client_id), ticket_id: None, kind: "expiry", text: &text, at: now };
            crate::notifications::store::insert(&mut tx, n).await?;
        }
        store::mark_warned(&mut tx, r.asset_id, &r.field_key, at).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_threshold_warns_once_and_the_day_itself_too() {
        let t = [30, 14, 7];
        assert_eq!(warning_due(45, &t, None), None);
        assert_eq!(warning_due(30, &t, None), Some(30));
        assert_eq!(warning_due(20, &t, Some(30)), None);
        assert_eq!(warning_due(10, &t, Some(30)), Some(14));
        assert_eq!(warning_due(3, &t, None), Some(7), "a date entered late gets the nearest warning only");
        assert_eq!(warning_due(0, &t, Some(7)), Some(0));
        assert_eq!(warning_due(-5, &t, Some(0)), None);
        assert_eq!(parse_thresholds("7, 30,14,30"), Ok(vec![30, 14, 7]));
        assert!(parse_thresholds("0").is_err() && parse_thresholds("x").is_err());
    }

    proptest! {
        /// Day by day towards and past a date: warnings come in shrinking
        /// steps, at most one per threshold and one on the day.
        #[test]
        fn warnings_never_repeat(start in -10i64..400, thresholds in proptest::collection::vec(1u32..=365, 0..5)) {
            let t = check_thresholds(thresholds).unwrap();
            let (mut warned, mut sent) = (None, vec![]);
            for left in (-10..=start).rev() {
                if let Some(w) = warning_due(left, &t, warned) {
                    prop_assert!(warned.is_none_or(|p| w < p));
                    prop_assert!(w == 0 || left <= w);
                    warned = Some(w);
                    sent.push(w);
                }
            }
            prop_assert!(sent.len() <= t.len() + 1);
            prop_assert!(start < 0 || sent.last() == Some(&0), "the day itself is always told");
        }
    }
}
