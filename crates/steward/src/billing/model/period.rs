//! Billing periods and proration, pure: cycles are calendar months,
//! quarters (from January, April, July, October) or years; a contract that
//! starts or ends inside a cycle, or a count that changes inside one, is
//! charged by the day.
//!
//! A cycle's price is split over its days by cumulative rounding: the
//! part for days `[a, b)` of `n` is `round(price·b/n) − round(price·a/n)`,
//! so the parts of any split of a cycle add up to the rounded whole to
//! the cent, and none is negative.

use super::money::Currency;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

/// How often a contract is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cycle {
    Monthly,
    Quarterly,
    Annually,
}

impl Cycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Monthly => "monthly",
            Cycle::Quarterly => "quarterly",
            Cycle::Annually => "annually",
        }
    }

    pub fn parse(s: &str) -> Option<Cycle> {
        match s {
            "monthly" => Some(Cycle::Monthly),
            "quarterly" => Some(Cycle::Quarterly),
            "annually" => Some(Cycle::Annually),
            _ => None,
        }
    }

    fn months(self) -> u32 {
        match self {
            Cycle::Monthly => 1,
            Cycle::Quarterly => 3,
            Cycle::Annually => 12,
        }
    }
}

/// Days from `start` to `end`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Span {
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }

    /// The days both cover, if any.
    pub fn overlap(&self, other: &Span) -> Option<Span> {
        let (start, end) = (self.start.max(other.start), self.end.min(other.end));
        (start <= end).then_some(Span { start, end })
    }

    /// Each day, in order.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d <= end)
    }
}

/// The cycle that holds `day`.
pub fn cycle_of(cycle: Cycle, day: NaiveDate) -> Span {
    let m = cycle.months();
    let first_month = (day.month0() / m) * m + 1;
    let start = NaiveDate::from_ymd_opt(day.year(), first_month, 1).expect("a valid first day");
    let end = start.checked_add_months(Months::new(m)).and_then(|d| d.pred_opt()).expect("dates within range");
    Span { start, end }
}

/// The cycles that start within `within`, in order.
pub fn cycles_starting_in(cycle: Cycle, within: Span) -> Vec<Span> {
    let mut out = vec![];
    let mut c = cycle_of(cycle, within.start);
    if c.start < within.start {
        c = cycle_of(cycle, c.end.succ_opt().expect("dates within range"));
    }
    while c.start <= within.end {
        out.push(c);
        c = cycle_of(cycle, c.end.succ_opt().expect("dates within range"));
    }
    out
}

/// The cycles that end within `within`, in order.
pub fn cycles_ending_in(cycle: Cycle, within: Span) -> Vec<Span> {
    let mut out = vec![];
    let mut c = cycle_of(cycle, within.start);
    while c.start <= within.end {
        if within.contains(c.end) {
            out.push(c);
        }
        c = cycle_of(cycle, c.end.succ_opt().expect("dates within range"));
    }
    out
}

/// The part of a cycle's `price` for its days `[from, to)` (counted from
/// the cycle's first day, of `days` in all), rounded by cumulative rounding.
pub fn part(price: Decimal, days: i64, from: i64, to: i64, cur: &Currency) -> Decimal {
    debug_assert!(0 <= from && from <= to && to <= days && days > 0);
    let n = Decimal::from(days);
    cur.round(price * Decimal::from(to) / n) - cur.round(price * Decimal::from(from) / n)
}

/// The part of `cycle`'s `price` for the days of `active` within it.
pub fn prorated(price: Decimal, cycle: Span, active: Span, cur: &Currency) -> Decimal {
    match cycle.overlap(&active) {
        None => cur.round(Decimal::ZERO),
        Some(o) => {
            let from = (o.start - cycle.start).num_days();
            part(price, cycle.days(), from, from + o.days(), cur)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::model::money::currency;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn cycles_are_calendar_months_quarters_and_years() {
        assert_eq!(cycle_of(Cycle::Monthly, d("2024-02-17")), Span { start: d("2024-02-01"), end: d("2024-02-29") });
        assert_eq!(cycle_of(Cycle::Monthly, d("2026-02-17")).days(), 28);
        assert_eq!(cycle_of(Cycle::Quarterly, d("2026-05-31")), Span { start: d("2026-04-01"), end: d("2026-06-30") });
        assert_eq!(cycle_of(Cycle::Annually, d("2024-12-31")).days(), 366);
        let q = Span { start: d("2026-01-15"), end: d("2026-07-01") };
        let starts: Vec<_> = cycles_starting_in(Cycle::Quarterly, q).iter().map(|c| c.start).collect();
        assert_eq!(starts, [d("2026-04-01"), d("2026-07-01")]);
        let ends: Vec<_> = cycles_ending_in(Cycle::Monthly, q).iter().map(|c| c.end).collect();
        assert_eq!(ends, [d("2026-01-31"), d("2026-02-28"), d("2026-03-31"), d("2026-04-30"), d("2026-05-31"), d("2026-06-30")]);
    }

    #[test]
    fn a_contract_of_one_day_and_one_from_the_17th() {
        let usd = currency("USD").unwrap();
        let june = cycle_of(Cycle::Monthly, d("2026-06-01"));
        let one = Span { start: d("2026-06-10"), end: d("2026-06-10") };
        assert_eq!(prorated(Decimal::from(300), june, one, &usd).to_string(), "10.00");
        let from_17th = Span { start: d("2026-06-17"), end: d("2027-01-01") };
        assert_eq!(prorated(Decimal::from(300), june, from_17th, &usd).to_string(), "140.00");
        let before = Span { start: d("2025-01-01"), end: d("2026-05-31") };
        assert_eq!(prorated(Decimal::from(300), june, before, &usd).to_string(), "0.00");
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (1999i32..2101, 1u32..13, 1u32..32)
            .prop_map(|(y, m, day)| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_else(|| NaiveDate::from_ymd_opt(y, m, 28).unwrap()))
    }

    fn any_cycle() -> impl Strategy<Value = Cycle> {
        prop_oneof![Just(Cycle::Monthly), Just(Cycle::Quarterly), Just(Cycle::Annually)]
    }

    proptest! {
        /// Any split of a cycle into consecutive parts adds up to the
        /// rounded whole, to the cent, and no part is negative.
        #[test]
        fn split_parts_add_up_to_the_whole(
            cycle in any_cycle(), day in any_date(), cents in 0i64..100_000_000, code in prop::sample::select(vec!["USD", "JPY", "BHD"]),
            cuts in prop::collection::vec(0i64..400, 0..6),
        ) {
            let cur = currency(code).unwrap();
            let c = cycle_of(cycle, day);
            let price = Decimal::new(cents, 2);
            let n = c.days();
            let mut bounds: Vec<i64> = cuts.into_iter().map(|x| x % (n + 1)).collect();
            bounds.push(0);
            bounds.push(n);
            bounds.sort();
            let parts: Vec<Decimal> = bounds.windows(2).map(|w| part(price, n, w[0], w[1], &cur)).collect();
            prop_assert!(parts.iter().all(|p| !p.is_sign_negative() || p.is_zero()));
            prop_assert_eq!(parts.iter().sum::<Decimal>(), cur.round(price));
        }

        /// A contract active on every day of a cycle pays exactly its price;
        /// one active on some days never pays more, nor less than zero.
        #[test]
        fn proration_is_bounded_by_the_price(
            cycle in any_cycle(), day in any_date(), a in any_date(), b in any_date(), cents in 0i64..10_000_000,
        ) {
            let cur = currency("EUR").unwrap();
            let c = cycle_of(cycle, day);
            let price = Decimal::new(cents, 2);
            prop_assert_eq!(prorated(price, c, c, &cur), cur.round(price));
            let active = Span { start: a.min(b), end: a.max(b) };
            let p = prorated(price, c, active, &cur);
            prop_assert!(p >= Decimal::ZERO && p <= cur.round(price));
        }

        /// Cycles tile time: each starts the day after the one before ends,
        /// months have 28–31 days, and each holds the day it was asked for.
        #[test]
        fn cycles_tile_the_calendar(cycle in any_cycle(), day in any_date()) {
            let c = cycle_of(cycle, day);
            prop_assert!(c.contains(day));
            let next = cycle_of(cycle, c.end.succ_opt().unwrap());
            prop_assert_eq!(next.start, c.end.succ_opt().unwrap());
            let (lo, hi) = match cycle { Cycle::Monthly => (28, 31), Cycle::Quarterly => (90, 92), Cycle::Annually => (365, 366) };
            prop_assert!((lo..=hi).contains(&c.days()));
        }
    }
}
