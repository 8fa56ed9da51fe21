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

/// A device's newest CPU, memory and fullest-disk figures (percent).
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    pub device_id: i64,
    /// The newest sample's time, µs.
    pub at: i64,
    pub cpu: Option<f64>,
    pub mem: Option<f64>,
    pub disk: Option<f64>,
    pub disk_mount: String,
}

/// The newest figures per device among `points`: the values of each
/// device's newest sample time (a batch may hold several samples of one
/// device, and resent old ones).
pub fn latest(points: &[Point]) -> Vec<Latest> {
    let mut newest: BTreeMap<i64, i64> = BTreeMap::new();
    for p in points {
        let at = newest.entry(p.device_id).or_insert(p.at);
        *at = (*at).max(p.at);
    }
    let mut out: BTreeMap<i64, Latest> = newest
        .iter()
        .map(|(&device_id, &at)| (device_id, Latest { device_id, at, cpu: None, mem: None, disk: None, disk_mount: String::new() }))
        .collect();
    for p in points.iter().filter(|p| newest.get(&p.device_id) == Some(&p.at)) {
        let l = out.get_mut(&p.device_id).expect("every device has an entry");
        match p.series.as_str() {
            "cpu" => l.cpu = Some(p.value),
            "mem" => l.mem = Some(p.value),
            s => {
                if let Some(mount) = s.strip_prefix("disk:") {
                    // The fullest disk; on a tie the first mount by name, so
                    // the answer does not depend on the order points came in.
                    let fuller = l.disk.is_none_or(|d| p.value > d || (p.value == d && mount < l.disk_mount.as_str()));
                    if fuller {
                        l.disk = Some(p.value);
                        l.disk_mount = mount.to_string();
                    }
                }
            }
        }
    }
    out.into_values().collect()
}

/// An SVG path drawing `points` (time µs, percent 0–100) across a
/// `width` × `height` box between `from_us` and `to_us`: higher values
/// higher up; a gap of more than `gap_us` between two points lifts the pen
/// (an offline night is not drawn as a straight line). Empty for no points.
pub fn spark_path(points: &[(i64, f64)], from_us: i64, to_us: i64, width: f64, height: f64, gap_us: i64) -> String {
    let span = (to_us - from_us).max(1) as f64;
    let mut out = String::new();
    let mut last: Option<i64> = None;
    for &(at, v) in points.iter().filter(|(at, v)| (from_us..=to_us).contains(at) && v.is_finite()) {
        let x = (at - from_us) as f64 / span * width;
        let y = height - v.clamp(0.0, 100.0) / 100.0 * height;
        let pen = if last.is_some_and(|l| at - l <= gap_us) { 'L' } else { 'M' };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{pen}{x:.1},{y:.1}"));
        last = Some(at);
    }
    out
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

    fn pt(device_id: i64, series: &str, at: i64, value: f64) -> Point {
        Point { device_id, series: series.into(), at, value }
    }

    #[test]
    fn the_latest_figures_are_the_newest_samples_and_the_fullest_disk() {
        let points = [
            pt(1, "cpu", 20, 50.0),
            pt(1, "cpu", 10, 99.0),
            pt(1, "disk:/", 20, 40.0),
            pt(1, "disk:/data", 20, 80.0),
            pt(1, "mem", 10, 70.0),
            pt(2, "mem", 5, 10.0),
        ];
        let l = latest(&points);
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].at, l[0].cpu, l[0].mem, l[0].disk, l[0].disk_mount.as_str()), (20, Some(50.0), None, Some(80.0), "/data"));
        assert_eq!((l[1].device_id, l[1].mem, l[1].cpu), (2, Some(10.0), None));
    }

    #[test]
    fn a_sparkline_lifts_the_pen_over_gaps() {
        let p = spark_path(&[(0, 0.0), (10, 100.0), (100, 50.0)], 0, 100, 100.0, 20.0, 20);
        assert_eq!(p, "M0.0,20.0 L10.0,0.0 M100.0,10.0");
        assert_eq!(spark_path(&[], 0, 100, 100.0, 20.0, 20), "");
    }

    proptest! {
        #[test]
        fn a_sparkline_stays_inside_its_box(points in prop::collection::vec((-50i64..150, -1e3f64..1e3), 0..50)) {
            let mut points = points;
            points.sort_by_key(|p| p.0);
            let path = spark_path(&points, 0, 100, 120.0, 24.0, 10);
            for step in path.split(' ').filter(|s| !s.is_empty()) {
                prop_assert!(step.starts_with('M') || step.starts_with('L'));
                let (x, y) = step[1..].split_once(',').unwrap();
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                prop_assert!((0.0..=120.0).contains(&x) && (0.0..=24.0).contains(&y), "{step}");
            }
            prop_assert!(path.is_empty() || path.starts_with('M'));
        }

        #[test]
        fn the_latest_figures_do_not_depend_on_the_order_of_points(
            raw in prop::collection::vec((1i64..4, prop::sample::select(vec!["cpu", "mem", "disk:/", "disk:/d", "net_rx"]), 0i64..5, 0u8..100), 0..40),
            seed in any::<u64>(),
        ) {
            // One value per (device, series, time), as the table's key keeps them.
            let mut uniq = BTreeMap::new();
            for (d, s, at, v) in raw {
                uniq.insert((d, s, at), v);
            }
            let points: Vec<Point> = uniq.into_iter().map(|((d, s, at), v)| pt(d, s, at, f64::from(v))).collect();
            let mut shuffled = points.clone();
            let n = shuffled.len();
            for i in 0..n {
                shuffled.swap(i, (seed as usize).wrapping_add(i * 7) % n.max(1));
            }
            let l = latest(&points);
            prop_assert_eq!(&l, &latest(&shuffled));
            for x in &l {
                let newest = points.iter().filter(|p| p.device_id == x.device_id).map(|p| p.at).max();
                prop_assert_eq!(Some(x.at), newest);
            }
        }

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
