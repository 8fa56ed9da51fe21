//! SLA attainment, pure: what a ticket's clock came to ([`Measured`]),
//! the figures of a group of tickets ([`Figures`]: met, breached, still
//! pending, attainment, p50/p90 of the business time taken) and the
//! grouping itself ([`summarize`]). No I/O; property-tested.

use crate::sla::model::{Clock, ClockState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a report groups its tickets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SlaReportGroup)]
pub enum Group {
    /// The ticket's client.
    Client,
    /// The technician the ticket is assigned to (`Unassigned` for none).
    Technician,
    /// The ticket's priority.
    Priority,
    /// The month the ticket was opened in (in the report's time zone).
    #[default]
    Month,
}

impl Group {
    pub const ALL: [Group; 4] = [Group::Client, Group::Technician, Group::Priority, Group::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Client => "client",
            Group::Technician => "technician",
            Group::Priority => "priority",
            Group::Month => "month",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Group::Client => "Client",
            Group::Technician => "Technician",
            Group::Priority => "Priority",
            Group::Month => "Month",
        }
    }
}

/// What one clock of one ticket came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Stopped within its target.
    Met,
    /// Its target passed: stopped late, or still running past it.
    Breached,
    /// Still running (or paused) within its target: not judged yet.
    Pending,
}

/// A clock's verdict and, when it stopped, the business time it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    pub verdict: Verdict,
    pub took_secs: Option<i64>,
}

impl Measured {
    pub fn of(c: &Clock) -> Measured {
        let verdict = match c.state {
            ClockState::Met => Verdict::Met,
            ClockState::Breached => Verdict::Breached,
            ClockState::Running | ClockState::Warning | ClockState::Paused => Verdict::Pending,
        };
        Measured { verdict, took_secs: c.met_at.map(|_| c.elapsed_secs.max(0)) }
    }
}

/// One ticket as a report counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The group it falls in: what sorts the rows, the key the API names
    /// it by, and the label people read.
    pub sort: String,
    pub key: String,
    pub label: String,
    /// Its two clocks; `None` for a ticket without SLA targets.
    pub clocks: Option<(Measured, Measured)>,
}

/// One clock's figures over a group of tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClockFigures {
    pub met: u64,
    pub breached: u64,
    /// Still running or paused within the target.
    pub pending: u64,
    /// `met / (met + breached)` as a percentage, one decimal; `null` when
    /// nothing has been judged yet.
    pub attainment_percent: Option<f64>,
    /// Median business time to the stop, over the clocks that stopped.
    pub p50_business_seconds: Option<i64>,
    /// 90th percentile of the same.
    pub p90_business_seconds: Option<i64>,
}

/// A group's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// What the group is (a client id, a user id or `none`, a priority
    /// code, `2026-07`); `total` for the whole report.
    pub key: String,
    pub label: String,
    /// Tickets opened in the period (merged ones left out).
    pub tickets: u64,
    /// Of those, the ones with SLA targets, which the clocks count.
    pub with_sla: u64,
    pub first_response: ClockFigures,
    pub resolution: ClockFigures,
}

#[derive(Default)]
struct Tally {
    met: u64,
    breached: u64,
    pending: u64,
    took: Vec<i64>,
}

impl Tally {
    fn add(&mut self, m: Measured) {
        match m.verdict {
            Verdict::Met => self.met += 1,
            Verdict::Breached => self.breached += 1,
            Verdict::Pending => self.pending += 1,
        }
        self.took.extend(m.took_secs);
    }

    fn figures(mut self) -> ClockFigures {
        self.took.sort_unstable();
        ClockFigures {
            met: self.met,
            breached: self.breached,
            pending: self.pending,
            attainment_percent: attainment(self.met, self.breached),
            p50_business_seconds: percentile(&self.took, 50),
            p90_business_seconds: percentile(&self.took, 90),
        }
    }
}

#[derive(Default)]
struct GroupTally {
    key: String,
    label: String,
    tickets: u64,
    with_sla: u64,
    first_response: Tally,
    resolution: Tally,
}

impl GroupTally {
    fn add(&mut self, o: &Outcome) {
        self.tickets += 1;
        if let Some((fr, res)) = o.clocks {
            self.with_sla += 1;
            self.first_response.add(fr);
            self.resolution.add(res);
        }
    }

    fn figures(self) -> Figures {
        Figures {
            key: self.key,
            label: self.label,
            tickets: self.tickets,
            with_sla: self.with_sla,
            first_response: self.first_response.figures(),
            resolution: self.resolution.figures(),
        }
    }
}

/// `met` of `met + breached` in percent, rounded to one decimal.
pub fn attainment(met: u64, breached: u64) -> Option<f64> {
    let judged = met + breached;
    (judged > 0).then(|| ((met * 1000 + judged / 2) / judged) as f64 / 10.0)
}

/// The `p`th percentile of sorted values by nearest rank: the smallest
/// value with at least `p` % of the values at or below it.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * p.min(100) as usize).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// The rows, in their groups' order, and the whole report's figures.
pub fn summarize(outcomes: &[Outcome]) -> (Vec<Figures>, Figures) {
    let mut groups: BTreeMap<(&str, &str), GroupTally> = BTreeMap::new();
    let mut total = GroupTally { key: "total".into(), label: "All tickets".into(), ..Default::default() };
    for o in outcomes {
        groups
            .entry((&o.sort, &o.key))
            .or_insert_with(|| GroupTally { key: o.key.clone(), label: o.label.clone(), ..Default::default() })
            .add(o);
        total.add(o);
    }
    (groups.into_values().map(GroupTally::figures).collect(), total.figures())
}

/// Business seconds for people: `45 min`, `3 h 05 min`, `2 d 4 h`
/// (a day here is 24 hours of business time).
pub fn duration(secs: i64) -> String {
    let m = (secs.max(0) + 30) / 60;
    match m {
        0..=59 => format!("{m} min"),
        60..=1439 => format!("{} h {:02} min", m / 60, m % 60),
        _ => format!("{} d {} h", m / 1440, (m % 1440) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(verdict: Verdict, took: Option<i64>) -> Measured {
        Measured { verdict, took_secs: took }
    }

    #[test]
    fn examples() {
        assert_eq!(attainment(0, 0), None);
        assert_eq!(attainment(2, 1), Some(66.7));
        assert_eq!(attainment(1, 0), Some(100.0));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), Some(5));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), Some(9));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), Some(10));
        assert_eq!(duration(0), "0 min");
        assert_eq!(duration(45 * 60), "45 min");
        assert_eq!(duration(3 * 3600 + 5 * 60), "3 h 05 min");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2 d 4 h");
    }

    #[test]
    fn a_clock_becomes_a_verdict() {
        let c = |state, met_at| Clock { state, due_at: None, elapsed_secs: 600, met_at, next_change_at: None };
        assert_eq!(Measured::of(&c(ClockState::Met, Some(1))), m(Verdict::Met, Some(600)));
        assert_eq!(Measured::of(&c(ClockState::Breached, Some(1))), m(Verdict::Breached, Some(600)));
        // Still open past its target: breached, but it has taken no time yet.
        assert_eq!(Measured::of(&c(ClockState::Breached, None)), m(Verdict::Breached, None));
        for s in [ClockState::Running, ClockState::Warning, ClockState::Paused] {
            assert_eq!(Measured::of(&c(s, None)), m(Verdict::Pending, None));
        }
    }

    #[test]
    fn groups_keep_their_order_and_tickets_without_targets_count_only_as_tickets() {
        let o = |sort: &str, key: &str, clocks| Outcome { sort: sort.into(), key: key.into(), label: key.to_uppercase(), clocks };
        let met = m(Verdict::Met, Some(60));
        let late = m(Verdict::Breached, Some(600));
        let (rows, total) = summarize(&[
            o("2", "p2", Some((met, late))),
            o("1", "p1", Some((late, met))),
            o("2", "p2", None),
            o("1", "p1", Some((met, m(Verdict::Pending, None)))),
        ]);
        assert_eq!(rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["p1", "p2"]);
        assert_eq!((rows[0].tickets, rows[0].with_sla, rows[1].tickets, rows[1].with_sla), (2, 2, 2, 1));
        assert_eq!(rows[0].label, "P1");
        assert_eq!(rows[0].first_response.attainment_percent, Some(50.0));
        assert_eq!((rows[0].resolution.met, rows[0].resolution.pending), (1, 1));
        assert_eq!(total.key, "total");
        assert_eq!((total.tickets, total.with_sla, total.first_response.met, total.first_response.breached), (4, 3, 2, 1));
        assert_eq!((total.first_response.p50_business_seconds, total.first_response.p90_business_seconds), (Some(60), Some(600)));
    }

    fn verdict() -> impl Strategy<Value = Measured> {
        (0..3u8, proptest::option::of(0..1_000_000i64)).prop_map(|(v, took)| match v {
            0 => m(Verdict::Met, Some(took.unwrap_or(0))),
            1 => m(Verdict::Breached, took),
            _ => m(Verdict::Pending, None),
        })
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        (0..5u8, proptest::option::of((verdict(), verdict()))).prop_map(|(g, clocks)| Outcome {
            sort: g.to_string(),
            key: format!("k{g}"),
            label: format!("Group {g}"),
            clocks,
        })
    }

    proptest! {
        #[test]
        fn attainment_is_a_percentage(met in 0..10_000u64, breached in 0..10_000u64) {
            match attainment(met, breached) {
                None => prop_assert_eq!(met + breached, 0),
                Some(a) => {
                    prop_assert!((0.0..=100.0).contains(&a));
                    if breached == 0 { prop_assert_eq!(a, 100.0); }
                    if met == 0 { prop_assert_eq!(a, 0.0); }
                    // One more met never lowers it; one more breach never raises it.
                    prop_assert!(attainment(met + 1, breached).unwrap() >= a);
                    prop_assert!(attainment(met, breached + 1).unwrap() <= a);
                }
            }
        }

        #[test]
        fn percentiles_lie_within_the_values_and_in_order(mut v in proptest::collection::vec(-1000..1_000_000i64, 1..200), p in 0..=100u32) {
            v.sort_unstable();
            let x = percentile(&v, p).unwrap();
            prop_assert!(v[0] <= x && x <= v[v.len() - 1]);
            // At least p % of the values are at or below it, and fewer below.
            let at_or_below = v.iter().filter(|&&y| y <= x).count();
            let below = v.iter().filter(|&&y| y < x).count();
            prop_assert!(at_or_below * 100 >= v.len() * p as usize);
            prop_assert!(below * 100 < v.len() * p.max(1) as usize || below == 0);
            prop_assert!(percentile(&v, 50) <= percentile(&v, 90));
        }

        #[test]
        fn the_groups_add_up_to_the_total(outcomes in proptest::collection::vec(outcome(), 0..60)) {
            let (rows, total) = summarize(&outcomes);
            let sum = |f: &dyn Fn(&Figures) -> u64| rows.iter().map(f).sum::<u64>();
            prop_assert_eq!(sum(&|r| r.tickets), total.tickets);
            prop_assert_eq!(total.tickets, outcomes.len() as u64);
            prop_assert_eq!(sum(&|r| r.with_sla), total.with_sla);
            for r in rows.iter().chain([&total]) {
                for c in [&r.first_response, &r.resolution] {
                    prop_assert_eq!(c.met + c.breached + c.pending, r.with_sla);
                }
            }
            prop_assert_eq!(sum(&|r| r.first_response.met), total.first_response.met);
            prop_assert_eq!(sum(&|r| r.resolution.breached), total.resolution.breached);
            // Each group once, in order.
            let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(keys, sorted);
        }
    }
}
