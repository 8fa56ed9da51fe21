//! A month of metric history for every simulated device, written as it
//! enrols, so each range of the device page's charts has data at once.
//!
//! The values are the simulator's own past for the machine
//! (`report::simulated::past`: the series, levels and rhythm its agent then
//! sends live, so the history carries on into live data), checked as the
//! gateway checks an agent's samples. The last day goes as raw samples
//! through the batched writer, as an agent's would (rollups and all); what
//! is older is stored as the rollups that charts read for long ranges
//! (`monitoring::model::resolution_for`): 5-minute ones for the last week,
//! hourly ones for the month, as raw retention would have left them.

use crate::app::App;
use crate::monitoring::model::{check, rollup, Agg, BucketKey, Point, FIVE_MINUTES, HOUR};
use std::collections::BTreeMap;
use steward_agent::report::simulated::past;
use steward_agent::simulate::Enrolled;
use steward_protocol::report::Sample;
use tokio::sync::mpsc::UnboundedReceiver;

/// Raw samples cover the last day: what the 1 h to 24 h charts read.
const RAW_SECS: i64 = 86_400;
/// 5-minute rollups cover the last week: what the 7 d chart reads.
const FIVE_MINUTE_SECS: i64 = 7 * 86_400;
/// Hourly rollups cover the month (longer ranges show the month).
const MONTH_SECS: i64 = 30 * 86_400;

/// A device's history, ready to store.
#[derive(Debug, Default)]
pub struct Plan {
    /// The last day's samples, for the batched writer.
    pub raw: Vec<Point>,
    /// Rollups of what is older than a day (the writer rolls up `raw`).
    pub five_minutes: BTreeMap<BucketKey, Agg>,
    pub hours: BTreeMap<BucketKey, Agg>,
}

/// How far apart a history's samples are at `age` seconds before its end.
/// Every chart range gets points, but not all an agent would have sent:
/// rows are what costs (a minute's samples for a month would be 43,200
/// rows per series), and a chart only needs about a point per pixel. One a
/// minute for the last hour, as agents sample by default; one every five
/// minutes for the rest of the day (the raw samples the 6 h and 24 h
/// charts read); every quarter hour for the week (the 7 d chart's
/// 5-minute buckets); every other hour for the month (the 30 d chart's
/// hourly buckets).
fn step(age: i64) -> i64 {
    if age <= 3_600 {
        60
    } else if age <= RAW_SECS {
        300
    } else if age <= FIVE_MINUTE_SECS {
        900
    } else {
        7_200
    }
}

/// The sample times of a month ending before `until` (Unix seconds),
/// counted back from it so each span is covered at its own step from its
/// very start (a chart of the last hour has a point a minute from its
/// left edge on).
pub fn times(until: i64) -> Vec<i64> {
    let mut at = (until - 1).div_euclid(60) * 60;
    let mut out = Vec::with_capacity(1_500);
    while at >= until - MONTH_SECS {
        out.push(at);
        at -= step(until - at);
    }
    out.reverse();
    out
}

/// A device's history before `until` (pure: the same device, seed and
/// time give the same plan).
pub fn plan(device_id: i64, seed: u64, until: i64) -> Plan {
    let samples: Vec<Sample> = times(until).into_iter().map(|at| Sample { at, values: past(seed, at, until) }).collect();
    let (points, _refused) = check(device_id, &samples, until, until - MONTH_SECS - 300);
    let raw_from = (until - RAW_SECS) * 1_000_000;
    let (raw, older): (Vec<Point>, Vec<Point>) = points.into_iter().partition(|p| p.at >= raw_from);
    let week_from = (until - FIVE_MINUTE_SECS) * 1_000_000;
    let in_week: Vec<Point> = older.iter().filter(|p| p.at >= week_from).cloned().collect();
    Plan { raw, five_minutes: rollup(&in_week, FIVE_MINUTES), hours: rollup(&older, HOUR) }
}

/// Gives each device that enrols its month of history, one device at a
/// time (a writer among the others), until the fleet stops telling.
pub async fn backfill_each(app: App, mut enrolled: UnboundedReceiver<Enrolled>) {
    while let Some(e) = enrolled.recv().await {
        let until = crate::time::now_us().div_euclid(1_000_000);
        let made = tokio::task::spawn_blocking(move || plan(e.device_id, e.seed, until)).await;
        let result = match made {
            Ok(p) => store(&app, p, until).await,
            Err(err) => Err(anyhow::anyhow!("{err}")),
        };
        if let Err(err) = result {
            tracing::warn!(device = e.device_id, error = %err, "demo metric history not written");
        }
    }
}

/// Stores a plan: the rollups in one transaction, in turn with the other
/// writers; the raw samples through the batched writer.
async fn store(app: &App, p: Plan, until: i64) -> anyhow::Result<()> {
    {
        let mut tx = app.store.begin().await?;
        crate::monitoring::store::merge_rollups(&mut tx, FIVE_MINUTES, &p.five_minutes).await?;
        crate::monitoring::store::merge_rollups(&mut tx, HOUR, &p.hours).await?;
        tx.commit().await?;
    }
    app.metrics.submit(p.raw, until, Box::new(|_| {}));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Raw samples for the last day only; 5-minute rollups for the
        /// week before it, hourly ones for the month before it; each with
        /// the series the live agent sends; nothing from `until` on.
        #[test]
        fn a_plan_covers_what_each_chart_range_reads(device in 1i64..1_000, seed in any::<u64>(), until in 1_700_000_000i64..1_900_000_000) {
            let p = plan(device, seed, until);
            let us = |s: i64| s * 1_000_000;
            prop_assert!((330 * 5..=340 * 5).contains(&p.raw.len()), "{} raw points", p.raw.len());
            prop_assert!(p.raw.iter().all(|x| x.device_id == device && x.at >= us(until - RAW_SECS) && x.at < us(until)));
            let live: Vec<String> = steward_agent::report::simulated::Walk::new(seed).sample_at(until).into_keys().collect();
            let mut series: Vec<String> = p.raw.iter().map(|x| x.series.clone()).collect();
            series.sort();
            series.dedup();
            prop_assert_eq!(&series, &live);
            for ((d, s, bucket), a) in &p.five_minutes {
                prop_assert!(*d == device && live.contains(s) && a.n >= 1);
                prop_assert!(*bucket >= us(until - FIVE_MINUTE_SECS - 300) && *bucket < us(until - RAW_SECS));
            }
            // A point per quarter hour; one every other hour beyond the week.
            prop_assert!(p.five_minutes.len() >= 6 * 96 * 5 - 5);
            let hours: std::collections::BTreeSet<i64> = p.hours.keys().map(|k| k.2).collect();
            prop_assert!(hours.len() >= 6 * 24 + 23 * 12 && hours.iter().all(|b| *b >= us(until - MONTH_SECS - 3_600) && *b < us(until - RAW_SECS)));
        }
    }

    #[test]
    fn samples_thin_out_with_age() {
        let until = 1_764_000_123;
        let t = times(until);
        assert!(t.windows(2).all(|w| w[1] - w[0] == step(until - w[1])));
        assert!(t[0] >= until - MONTH_SECS && t[0] - 7_200 < until - MONTH_SECS);
        assert!(*t.last().unwrap() < until && until - t.last().unwrap() <= 60);
        assert_eq!(t.iter().filter(|a| until - **a <= 3_600).count(), 60);
        assert!(t.iter().filter(|a| until - **a <= 3_600).min().unwrap() - (until - 3_600) < 60, "the last hour from its start");
    }
}
