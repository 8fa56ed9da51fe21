//! Metric samples as the server keeps them (pure logic, no I/O): checking
//! what an agent sent, rolling points up into min/avg/max buckets, and
//! choosing the resolution a chart of a time range reads.

use std::collections::BTreeMap;
use steward_protocol::report::Sample;

/// One value of one series of one device; `at` in µs.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub device_id: i64,
    pub series: String,
    pub at: i64,
    pub value: f64,
}

/// Rollup resolutions, in seconds.
pub const FIVE_MINUTES: i64 = 300;
pub const HOUR: i64 = 3600;

/// Most series one sample may carry (a machine with many disks still fits).
pub const MAX_SERIES: usize = 64;
/// How far in the future (by the agent's clock) a sample may claim to be.
const FUTURE_SLACK_S: i64 = 300;

/// The range a series' values must fall in; `None` for unknown names.
fn bounds(series: &str) -> Option<(f64, f64)> {
    match series {
        "cpu" | "mem" => Some((0.0, 100.0)),
        "net_rx" | "net_tx" => Some((0.0, 1e12)),
        s => {
            let mount = s.strip_prefix("disk:")?;
            let ok = !mount.is_empty() && mount.chars().count() <= 200 && !mount.chars().any(char::is_control);
            ok.then_some((0.0, 100.0))
        }
    }
}

/// Turns reported samples into points, keeping only what is well-formed:
/// a known series, a finite value in its range, a time within
/// `[oldest_s, now_s + 5 min]`. Returns the points and how many values
/// were refused.
pub fn check(device_id: i64, samples: &[Sample], now_s: i64, oldest_s: i64) -> (Vec<Point>, usize) {
    let mut points = Vec::with_capacity(samples.len() * 5);
    let mut refused = 0;
    for s in samples {
        if s.at < oldest_s || s.at > now_s + FUTURE_SLACK_S || s.values.len() > MAX_SERIES {
            refused += s.values.len().max(1);
            continue;
        }
        for (name, &v) in &s.values {
            match bounds(name) {
                Some((lo, hi)) if v.is_finite() && v >= lo && v <= hi => {
                    points.push(Point { device_id, series: name.clone(), at: s.at * 1_000_000, value: v })
                }
                _ => refused += 1,
            }
        }
    }
    (points, refused)
}

/// Minimum, maximum, sum and count: merges exactly, in any order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agg {
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub n: i64,
}

impl Agg {
    pub fn of(v: f64) -> Agg {
        Agg { min: v, max: v, sum: v, n: 1 }
    }

    pub fn merge(self, o: Agg) -> Agg {
        Agg { min: self.min.min(o.min), max: self.max.max(o.max), sum: self.sum + o.sum, n: self.n + o.n }
    }

    pub fn avg(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }
}

/// Start (µs) of the bucket of `resolution_s` seconds that holds `at_us`.
pub fn bucket(at_us: i64, resolution_s: i64) -> i64 {
    let width = resolution_s * 1_000_000;
    at_us.div_euclid(width) * width
}

/// Key of one rollup bucket: (device, series, bucket start µs).
pub type BucketKey = (i64, String, i64);

/// Rolls points up into buckets of `resolution_s` seconds.
pub fn rollup(points: &[Point], resolution_s: i64) -> BTreeMap<BucketKey, Agg> {
    let mut out: BTreeMap<BucketKey, Agg> = BTreeMap::new();
    for p in points {
        let k = (p.device_id, p.series.clone(), bucket(p.at, resolution_s));
        let a = Agg::of(p.value);
        out.entry(k).and_modify(|e| *e = e.merge(a)).or_insert(a);
    }
    out
}

/// Which data a chart of `[from_s, to_s]` reads: raw samples (0) for up to
/// a day, 5-minute buckets up to a week, hourly beyond; and never a level
/// whose retention has already pruned the start of the range.
pub fn resolution_for(from_s: i64, to_s: i64, now_s: i64, raw_days: u32, five_minute_days: u32) -> i64 {
    let span = to_s - from_s;
    let kept = |days: u32| from_s >= now_s - days as i64 * 86_400;
    if span <= 86_400 && kept(raw_days) {
        0
    } else if span <= 7 * 86_400 && kept(five_minute_days) {
        FIVE_MINUTES
    } else {
        HOUR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
    }

    fn arb_points() -> impl Strategy<Value = Vec<Point>> {
        prop::collection::vec(
            (1i64..4, prop::sample::select(vec!["cpu", "mem", "disk:/"]), 0i64..20_000, 0.0f64..100.0).prop_map(|(d, s, t, v)| Point {
                device_id: d,
                series: s.into(),
                at: t * 1_000_000,
                value: v,
            }),
            0..200,
        )
    }

    proptest! {
        #[test]
        fn rolling_up_in_batches_and_merging_equals_rolling_up_at_once(points in arb_points(), cut in 0usize..200) {
            let cut = cut.min(points.len());
            let whole = rollup(&points, FIVE_MINUTES);
            let mut merged = rollup(&points[..cut], FIVE_MINUTES);
            for (k, a) in rollup(&points[cut..], FIVE_MINUTES) {
                merged.entry(k).and_modify(|e| *e = e.merge(a)).or_insert(a);
            }
            prop_assert_eq!(whole.len(), merged.len());
            for (k, a) in &whole {
                let m = merged[k];
                prop_assert!(a.min == m.min && a.max == m.max && a.n == m.n && close(a.sum, m.sum));
                prop_assert!(a.min <= a.avg() + 1e-9 && a.avg() <= a.max + 1e-9);
            }
        }

        #[test]
        fn every_point_lands_in_the_bucket_that_holds_it(at in any::<i32>(), res in prop::sample::select(vec![FIVE_MINUTES, HOUR])) {
            let at = at as i64 * 1_000;
            let b = bucket(at, res);
            prop_assert!(b <= at && at < b + res * 1_000_000);
        }

        #[test]
        fn checked_points_are_finite_in_range_and_known(values in prop::collection::btree_map("[a-z:/]{0,8}", any::<f64>(), 0..10), at in 0i64..4_000) {
            let s = Sample { at, values };
            let (points, refused) = check(1, std::slice::from_ref(&s), 3_000, 1_000);
            if (1_000..=3_300).contains(&at) {
                prop_assert_eq!(points.len() + refused, s.values.len(), "every value is either kept or counted");
            } else {
                prop_assert_eq!((points.len(), refused), (0, s.values.len().max(1)));
            }
            for p in points {
                let (lo, hi) = bounds(&p.series).unwrap();
                prop_assert!(p.value.is_finite() && p.value >= lo && p.value <= hi);
                prop_assert!((1_000..=3_300).contains(&(p.at / 1_000_000)));
            }
        }
    }

    #[test]
    fn hostile_samples_are_refused_and_counted() {
        let mut values = BTreeMap::new();
        values.insert("cpu".to_string(), 250.0);
        values.insert("mem".to_string(), f64::NAN);
        values.insert("net_rx".to_string(), -5.0);
        values.insert("disk:/".to_string(), 42.0);
        values.insert("disk:\u{7}".to_string(), 1.0);
        values.insert("<script>".to_string(), 1.0);
        let (points, refused) = check(9, &[Sample { at: 1_000, values: values.clone() }], 1_000, 0);
        assert_eq!(points, vec![Point { device_id: 9, series: "disk:/".into(), at: 1_000_000_000, value: 42.0 }]);
        assert_eq!(refused, 5);
        // From the far future or past: all refused.
        assert_eq!(check(9, &[Sample { at: 99_999, values: values.clone() }], 1_000, 0).0.len(), 0);
        assert_eq!(check(9, &[Sample { at: -1, values }], 1_000, 0).0.len(), 0);
    }

    #[test]
    fn charts_read_raw_for_a_day_rollups_beyond_and_respect_retention() {
        let now = 100 * 86_400;
        assert_eq!(resolution_for(now - 3_600, now, now, 14, 90), 0);
        assert_eq!(resolution_for(now - 3 * 86_400, now, now, 14, 90), FIVE_MINUTES);
        assert_eq!(resolution_for(now - 30 * 86_400, now, now, 14, 90), HOUR);
        // A day's range 20 days ago: raw samples are gone after 14 days.
        assert_eq!(resolution_for(now - 20 * 86_400, now - 19 * 86_400, now, 14, 90), FIVE_MINUTES);
    }
}
