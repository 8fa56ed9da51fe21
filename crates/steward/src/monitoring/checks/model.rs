//! A check's state as pure rules: each result (pass, warning, critical)
//! moves the state only after enough consecutive results agree
//! (hysteresis: `fail_after` to fail or change severity, `recover_after`
//! to recover), so one odd sample does not raise or clear an alert; and a
//! check that changes state more than [`FLAP_CHANGES`] times an hour is
//! flapping. No I/O; property-tested.

use serde::{Deserialize, Serialize};

/// A check's result or state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warning,
    Critical,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warning => "warning",
            Status::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pass" => Status::Pass,
            "warning" => Status::Warning,
            "critical" => Status::Critical,
            _ => return None,
        })
    }
}

impl From<steward_protocol::checks::Verdict> for Status {
    fn from(v: steward_protocol::checks::Verdict) -> Status {
        use steward_protocol::checks::Verdict;
        match v {
            Verdict::Pass => Status::Pass,
            Verdict::Warning => Status::Warning,
            Verdict::Critical => Status::Critical,
        }
    }
}

impl From<Status> for steward_protocol::checks::Verdict {
    fn from(s: Status) -> Self {
        use steward_protocol::checks::Verdict;
        match s {
            Status::Pass => Verdict::Pass,
            Status::Warning => Verdict::Warning,
            Status::Critical => Verdict::Critical,
        }
    }
}

/// How many agreeing results a change needs (each at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hysteresis {
    pub fail_after: u32,
    pub recover_after: u32,
}

/// State changes within an hour past which a check is flapping.
pub const FLAP_CHANGES: usize = 6;
const HOUR_S: i64 = 3600;

/// What is kept of a check between results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// The result seen last when it differs from `status`, and how many
    /// times in a row.
    pub candidate: Status,
    pub streak: u32,
    /// When the state changed within the last hour (Unix seconds).
    pub changes: Vec<i64>,
}

impl Default for State {
    fn default() -> State {
        State { status: Status::Pass, candidate: Status::Pass, streak: 0, changes: vec![] }
    }
}

impl State {
    /// More than [`FLAP_CHANGES`] changes in the hour before `now_s`.
    pub fn flapping(&self, now_s: i64) -> bool {
        self.changes.iter().filter(|t| now_s - **t < HOUR_S).count() > FLAP_CHANGES
    }
}

/// The state after `result` at `now_s`, and whether its status changed.
pub fn step(s: &State, result: Status, h: Hysteresis, now_s: i64) -> (State, bool) {
    let mut next = s.clone();
    next.changes.retain(|t| now_s - *t < HOUR_S);
    if result == s.status {
        next.candidate = s.status;
        next.streak = 0;
        return (next, false);
    }
    next.streak = if result == s.candidate { s.streak.saturating_add(1) } else { 1 };
    next.candidate = result;
    let needed = if result == Status::Pass { h.recover_after } else { h.fail_after }.max(1);
    if next.streak < needed {
        return (next, false);
    }
    next.status = result;
    next.streak = 0;
    next.changes.push(now_s);
    (next, true)
}

/// A stretch of a check's strip: from `x`, `w` wide, in one status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub x: f64,
    pub w: f64,
    pub status: Status,
}

/// A check's strip over `[from, to]` (any time unit) drawn `width` wide:
/// the status it had at `from` (`start`), then each change (time order).
/// The segments lie side by side and fill the width; a failure is at
/// least `min_fail` wide (taken from its passing neighbours), so a minute's
/// outage still shows on a day's strip.
pub fn strip(start: Status, changes: &[(i64, Status)], from: i64, to: i64, width: f64, min_fail: f64) -> Vec<Segment> {
    let span = (to - from).max(1) as f64;
    let x_of = |t: i64| ((t.clamp(from, to) - from) as f64 / span * width).clamp(0.0, width);
    // (width, status), zero widths kept for now: a failure may be brief.
    let mut parts: Vec<(f64, Status)> = vec![];
    let (mut at, mut status) = (0.0, start);
    for &(t, s) in changes.iter().filter(|(t, _)| *t <= to) {
        if t <= from {
            status = s;
            continue;
        }
        let x = x_of(t);
        parts.push((x - at, status));
        at = x;
        status = s;
    }
    parts.push((width - at, status));
    let min_fail = min_fail.min(width);
    for i in 0..parts.len() {
        if parts[i].1 == Status::Pass || parts[i].0 >= min_fail {
            continue;
        }
        let mut need = min_fail - parts[i].0;
        for j in [i + 1, i.wrapping_sub(1)] {
            if let Some(n) = parts.get_mut(j).filter(|n| n.1 == Status::Pass) {
                let take = need.min(n.0);
                n.0 -= take;
                need -= take;
            }
        }
        parts[i].0 = min_fail - need;
    }
    let mut out: Vec<Segment> = vec![];
    let mut x = 0.0;
    for (w, status) in parts.into_iter().filter(|(w, _)| *w > 0.0) {
        match out.last_mut() {
            Some(last) if last.status == status => last.w += w,
            _ => out.push(Segment { x, w, status }),
        }
        x += w;
    }
    if out.is_empty() {
        out.push(Segment { x: 0.0, w: width, status });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn status() -> impl Strategy<Value = Status> {
        prop::sample::select(vec![Status::Pass, Status::Warning, Status::Critical])
    }

    fn run(results: &[Status], h: Hysteresis) -> Vec<State> {
        let mut s = State::default();
        let mut out = vec![];
        for (i, r) in results.iter().enumerate() {
            s = step(&s, *r, h, i as i64 * 60).0;
            out.push(s.clone());
        }
        out
    }

    #[test]
    fn two_failures_fail_and_two_passes_recover() {
        let h = Hysteresis { fail_after: 2, recover_after: 2 };
        let st: Vec<Status> = run(&[Status::Critical, Status::Pass, Status::Critical, Status::Critical, Status::Pass, Status::Pass], h)
            .iter()
            .map(|s| s.status)
            .collect();
        assert_eq!(st, [Status::Pass, Status::Pass, Status::Pass, Status::Critical, Status::Critical, Status::Pass]);
    }

    #[test]
    fn a_strip_shows_when_a_check_failed() {
        let s = strip(Status::Pass, &[(25, Status::Critical), (75, Status::Pass)], 0, 100, 200.0, 2.0);
        let crit = Segment { x: 50.0, w: 100.0, status: Status::Critical };
        assert_eq!(s, vec![Segment { x: 0.0, w: 50.0, status: Status::Pass }, crit, Segment { x: 150.0, w: 50.0, status: Status::Pass }]);
        // A change before the window sets where it starts.
        assert_eq!(
            strip(Status::Pass, &[(-5, Status::Warning)], 0, 100, 10.0, 2.0),
            vec![Segment { x: 0.0, w: 10.0, status: Status::Warning }]
        );
        // A failure of no width still shows, 2 wide.
        let brief = strip(Status::Pass, &[(50, Status::Critical), (50, Status::Pass)], 0, 100, 100.0, 2.0);
        assert_eq!(
            brief.iter().map(|s| (s.w, s.status)).collect::<Vec<_>>(),
            [(50.0, Status::Pass), (2.0, Status::Critical), (48.0, Status::Pass)]
        );
    }

    proptest! {
        #[test]
        fn a_strip_fills_its_width_side_by_side(mut changes in prop::collection::vec((-50i64..150, status()), 0..30), width in 100f64..500.0) {
            changes.sort_by_key(|c| c.0);
            let s = strip(Status::Pass, &changes, 0, 100, width, 2.0);
            prop_assert!(!s.is_empty());
            let mut x = 0.0;
            for seg in &s {
                prop_assert!((seg.x - x).abs() < 1e-6 && seg.w > 0.0, "{s:?}");
                x += seg.w;
            }
            prop_assert!((x - width).abs() < 1e-6, "{s:?}");
            prop_assert!(s.windows(2).all(|w| w[0].status != w[1].status));
            // A failure inside the window never goes unseen, however brief.
            if changes.iter().any(|c| c.0 > 0 && c.0 <= 100 && c.1 != Status::Pass) {
                prop_assert!(s.iter().any(|seg| seg.status != Status::Pass && seg.w >= 2.0 - 1e-9), "{s:?}");
            }
        }

        #[test]
        fn the_status_is_always_a_result_that_came_enough_times_in_a_row(
            results in prop::collection::vec(status(), 1..60), fail in 1u32..4, recover in 1u32..4,
        ) {
            let h = Hysteresis { fail_after: fail, recover_after: recover };
            let states = run(&results, h);
            for (i, s) in states.iter().enumerate() {
                let before = if i == 0 { Status::Pass } else { states[i - 1].status };
                if s.status != before {
                    let needed = if s.status == Status::Pass { recover } else { fail } as usize;
                    prop_assert!(i + 1 >= needed);
                    prop_assert!(results[i + 1 - needed..=i].iter().all(|r| *r == s.status), "changed without {needed} agreeing results");
                }
            }
        }

        #[test]
        fn without_hysteresis_the_status_is_the_last_result(results in prop::collection::vec(status(), 1..40)) {
            let states = run(&results, Hysteresis { fail_after: 1, recover_after: 1 });
            prop_assert_eq!(states.last().unwrap().status, *results.last().unwrap());
        }

        #[test]
        fn alternating_results_never_fail_a_check_that_needs_two(n in 1usize..50) {
            let results: Vec<Status> = (0..n).map(|i| if i % 2 == 0 { Status::Critical } else { Status::Pass }).collect();
            let two = Hysteresis { fail_after: 2, recover_after: 2 };
            prop_assert!(run(&results, two).iter().all(|s| s.status == Status::Pass), "an alternation failed the check");
        }

        #[test]
        fn many_changes_within_the_hour_are_flapping(k in 0usize..12) {
            let mut s = State::default();
            let h = Hysteresis { fail_after: 1, recover_after: 1 };
            for i in 0..k {
                let r = if i % 2 == 0 { Status::Critical } else { Status::Pass };
                s = step(&s, r, h, i as i64 * 60).0;
            }
            prop_assert_eq!(s.flapping(k as i64 * 60), k > FLAP_CHANGES);
            // An hour later the old changes are forgotten.
            prop_assert!(!s.flapping(k as i64 * 60 + 2 * HOUR_S));
        }
    }
}
