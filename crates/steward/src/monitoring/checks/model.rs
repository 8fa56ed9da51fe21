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

/// Levels of a percentage: at or above `warning` warns, at or above
/// `critical` (when set) is critical.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub warning: f64,
    pub critical: Option<f64>,
}

/// A value's result against its threshold.
pub fn grade(value: f64, t: Threshold) -> Status {
    match t.critical {
        Some(c) if value >= c => Status::Critical,
        _ if value >= t.warning => Status::Warning,
        _ => Status::Pass,
    }
}

/// A check every device has from the start, read from what its agent
/// already reports (issue 15's sensible defaults; policies will change
/// them per client, site and device).
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// The check's key and type.
    pub key: &'static str,
    /// What its alert is called after the host name.
    pub label: &'static str,
    pub threshold: Threshold,
    pub hysteresis: Hysteresis,
}

/// Two agreeing evaluations to fail or recover.
const TWO: Hysteresis = Hysteresis { fail_after: 2, recover_after: 2 };

/// CPU averaged over the last 15 minutes above 90 %.
pub const CPU: Builtin =
    Builtin { key: "cpu", label: "CPU above 90 % for 15 min", threshold: Threshold { warning: 90.0, critical: None }, hysteresis: TWO };
/// Memory averaged over the last 15 minutes above 95 %.
pub const MEMORY: Builtin = Builtin {
    key: "memory",
    label: "memory above 95 % for 15 min",
    threshold: Threshold { warning: 95.0, critical: None },
    hysteresis: TWO,
};
/// The fullest disk under 10 % free (warning) or 5 % free (critical).
pub const DISK: Builtin =
    Builtin { key: "disk_free", label: "disk nearly full", threshold: Threshold { warning: 90.0, critical: Some(95.0) }, hysteresis: TWO };

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
    fn the_disk_default_warns_under_ten_percent_free_and_is_critical_under_five() {
        assert_eq!(grade(89.9, DISK.threshold), Status::Pass);
        assert_eq!(grade(90.0, DISK.threshold), Status::Warning);
        assert_eq!(grade(96.0, DISK.threshold), Status::Critical);
        assert_eq!(grade(99.0, CPU.threshold), Status::Warning);
    }

    proptest! {
        #[test]
        fn a_higher_value_never_grades_lower(a in 0f64..100.0, b in 0f64..100.0, w in 50f64..99.0, gap in 0f64..10.0) {
            let t = Threshold { warning: w, critical: Some(w + gap) };
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(grade(lo, t) <= grade(hi, t));
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
