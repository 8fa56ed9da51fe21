//! Time's rules, as pure functions: ISO weeks (a timesheet is one user's
//! Monday-to-Sunday, UTC), a timer's whole minutes, and who may change an
//! approved entry.

use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::Timestamp;

/// The most minutes one entry may hold (a day).
pub const MAX_MINUTES: i64 = 24 * 60;

/// An ISO week, e.g. 2026-W49.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Week {
    pub year: i16,
    pub week: i8,
}

impl Week {
    /// The week an instant (UTC µs) falls in.
    pub fn of(us: i64) -> Week {
        let d = Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(jiff::tz::TimeZone::UTC).date();
        let w = d.iso_week_date();
        Week { year: w.year(), week: w.week() }
    }

    /// Whether `s` is written like a week (`2026-W49`, `2026-w49`,
    /// `2026W49`, `2026-W1`), whether or not that week exists: the shape
    /// the API's schema states ([`crate::validate::shapes::WEEK_SHAPE`]).
    pub fn well_formed(t: &str) -> bool {
        let b = t.as_bytes();
        let digits = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
        match t.find(['W', 'w']) {
            Some(i) => {
                let y = b[..i].strip_suffix(b"-").unwrap_or(&b[..i]);
                let w = &b[i + 1..];
                y.len() == 4 && digits(y) && (1..=2).contains(&w.len()) && digits(w)
            }
            None => false,
        }
    }

    /// `2026-W49` (also `2026-w49`, `2026W49`); `None` when it is not
    /// [`Week::well_formed`] or no such week exists (`2026-W54`).
    pub fn parse(s: &str) -> Option<Week> {
        if !Self::well_formed(s) {
            return None;
        }
        let t = s.to_uppercase();
        let (y, w) = t.split_once('W')?;
        let year: i16 = y.trim_end_matches('-').parse().ok()?;
        let week: i8 = w.parse().ok()?;
        ISOWeekDate::new(year, week, Weekday::Monday).ok()?;
        Some(Week { year, week })
    }

    pub fn monday(self) -> Date {
        ISOWeekDate::new(self.year, self.week, Weekday::Monday).map(|w| w.date()).unwrap_or(Date::constant(1970, 1, 5))
    }

    /// `[Monday 00:00, next Monday 00:00)` UTC, in µs.
    pub fn range(self) -> (i64, i64) {
        let start = self.monday();
        let end = start.checked_add(jiff::Span::new().days(7)).unwrap_or(start);
        let us = |d: Date| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp().as_microsecond()).unwrap_or(0);
        (us(start), us(end))
    }

    /// The seven days, Monday first.
    pub fn days(self) -> Vec<Date> {
        let m = self.monday();
        (0..7).filter_map(|i| m.checked_add(jiff::Span::new().days(i)).ok()).collect()
    }

    pub fn previous(self) -> Week {
        Week::of(self.range().0 - 1)
    }

    pub fn next(self) -> Week {
        Week::of(self.range().1)
    }
}

impl std::fmt::Display for Week {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

/// A timer's whole minutes, rounded up (a started minute counts), at least one.
pub fn timer_minutes(started_us: i64, stopped_us: i64) -> i64 {
    let us = (stopped_us - started_us).max(0);
    ((us + 59_999_999) / 60_000_000).clamp(1, MAX_MINUTES)
}

/// Whether an entry may be changed: an approved one only by an approver.
pub fn may_change(approved: bool, is_approver: bool) -> bool {
    !approved || is_approver
}

/// `90` → `1:30`.
pub fn hours(minutes: i64) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn weeks_read_like_a_calendar() {
        let w = Week::parse("2026-W49").unwrap();
        assert_eq!(w.monday(), jiff::civil::date(2026, 11, 30));
        assert_eq!(w.to_string(), "2026-W49");
        assert_eq!(w.next().to_string(), "2026-W50");
        assert_eq!(Week::parse("2027-W01").unwrap().previous().to_string(), "2026-W53", "2026 has 53 ISO weeks");
        assert_eq!(Week::parse("2026-W54"), None);
        assert_eq!(Week::parse("last week"), None);
        assert_eq!(timer_minutes(0, 1), 1);
        assert_eq!(timer_minutes(0, 60_000_000), 1);
        assert_eq!(timer_minutes(0, 60_000_001), 2);
        assert_eq!(hours(90), "1:30");
    }

    proptest! {
        #[test]
        fn an_instant_lies_in_its_week(us in 0i64..4_000_000_000_000_000) {
            let w = Week::of(us);
            let (a, b) = w.range();
            prop_assert!(a <= us && us < b);
            prop_assert_eq!(b - a, 7 * 86_400_000_000);
            prop_assert_eq!(Week::parse(&w.to_string()), Some(w));
            prop_assert_eq!(w.next().previous(), w);
        }

        #[test]
        fn a_timer_never_undercounts(a in 0i64..1_000_000_000_000, len in 0i64..86_000_000_000) {
            let m = timer_minutes(a, a + len);
            prop_assert!(m >= 1 && m * 60_000_000 >= len.min(MAX_MINUTES * 60_000_000));
            prop_assert!((m - 1) * 60_000_000 < len.max(1));
        }
    }
}
