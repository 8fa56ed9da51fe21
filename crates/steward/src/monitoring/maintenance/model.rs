//! Maintenance windows as pure rules: a window starts at a local date and
//! time in its time zone, lasts some minutes, and repeats daily, weekly or
//! monthly (or not) until an optional last date. Occurrences keep their
//! local times across DST changes (a 22:00 window is at 22:00 in winter
//! and summer), and a length is wall-clock time (01:00 for 240 minutes
//! ends at 05:00 local, three real hours on the spring-forward night). A
//! start inside a DST gap moves forward by the gap (02:30 becomes 03:30),
//! keeping its length if its local end fell inside the gap too; a start in
//! a repeated hour takes the earlier one. No I/O; property-tested.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// How a window repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Once,
    Daily,
    Weekly,
    Monthly,
}

impl Repeat {
    pub fn parse(s: &str) -> Option<Repeat> {
        Some(match s {
            "once" | "" => Repeat::Once,
            "daily" => Repeat::Daily,
            "weekly" => Repeat::Weekly,
            "monthly" => Repeat::Monthly,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Repeat::Once => "once",
            Repeat::Daily => "daily",
            Repeat::Weekly => "weekly",
            Repeat::Monthly => "monthly",
        }
    }

    /// The longest a window of this kind may last, in minutes: shorter than
    /// its period, so two occurrences never overlap.
    pub fn max_minutes(self) -> i64 {
        match self {
            Repeat::Once => 14 * 24 * 60,
            Repeat::Daily => 24 * 60 - 1,
            Repeat::Weekly => 7 * 24 * 60 - 1,
            Repeat::Monthly => 28 * 24 * 60 - 1,
        }
    }
}

/// A maintenance window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The first occurrence's start, local time.
    pub start: DateTime,
    pub minutes: i64,
    pub repeat: Repeat,
    /// No occurrence starts after this local date.
    pub until: Option<Date>,
}

/// The occurrence starting on local date `day` (the window's time of day;
/// a monthly window on the 31st falls on a shorter month's last day).
fn occurrence(w: &Window, day: Date, tz: &TimeZone) -> Option<(Timestamp, Timestamp)> {
    let start_local = day.to_datetime(w.start.time());
    let end_local = start_local.checked_add(w.minutes.minutes()).ok()?;
    // `to_zoned` resolves gaps forward and folds to the earlier instant.
    let start = start_local.to_zoned(tz.clone()).ok()?.timestamp();
    let end = end_local.to_zoned(tz.clone()).ok()?.timestamp();
    // A start pushed past its own end by a DST gap keeps its length.
    let end = if end > start { end } else { start.checked_add((w.minutes * 60).seconds()).ok()? };
    Some((start, end))
}

/// The local dates whose occurrence could be open on local date `today`:
/// the latest period's and the one before (an occurrence may run past
/// midnight into the next period).
fn candidates(w: &Window, today: Date) -> Vec<Date> {
    let first = w.start.date();
    let mut out = match w.repeat {
        Repeat::Once => vec![first],
        Repeat::Daily => vec![today.yesterday().unwrap_or(today), today],
        Repeat::Weekly => {
            let back = (today.weekday().to_monday_zero_offset() - first.weekday().to_monday_zero_offset()).rem_euclid(7);
            let latest = today.checked_sub((back as i64).days()).unwrap_or(today);
            vec![latest.checked_sub(7.days()).unwrap_or(latest), latest]
        }
        Repeat::Monthly => {
            let this = month_day(today.year(), today.month(), first.day());
            let prev = today.first_of_month().yesterday().map(|d| month_day(d.year(), d.month(), first.day()));
            prev.into_iter().flatten().chain(this).collect()
        }
    };
    out.retain(|d| *d >= first && w.until.is_none_or(|u| *d <= u) && *d <= today);
    out
}

/// Day `day` of a month, or its last day when the month is shorter.
fn month_day(year: i16, month: i8, day: i8) -> Option<Date> {
    let first = Date::new(year, month, 1).ok()?;
    Date::new(year, month, day.min(first.days_in_month())).ok()
}

/// The occurrence open at `now` (its start and end), if any.
pub fn open_at(w: &Window, tz: &TimeZone, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
    let today = now.to_zoned(tz.clone()).date();
    candidates(w, today).into_iter().filter_map(|d| occurrence(w, d, tz)).find(|(s, e)| *s <= now && now < *e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn at(tz: &TimeZone, dt: DateTime) -> Timestamp {
        dt.to_zoned(tz.clone()).unwrap().timestamp()
    }

    #[test]
    fn a_nightly_window_keeps_its_local_hours_across_the_dst_change() {
        let tz = berlin();
        // 01:00–05:00 every night; DST starts 2026-03-29 at 02:00 (clocks jump to 03:00).
        let w = Window { start: date(2026, 3, 1).at(1, 0, 0, 0), minutes: 240, repeat: Repeat::Daily, until: None };
        for day in [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)] {
            assert!(open_at(&w, &tz, at(&tz, day.at(4, 59, 0, 0))).is_some(), "{day} 04:59 local is inside");
            assert!(open_at(&w, &tz, at(&tz, day.at(5, 0, 0, 0))).is_none(), "{day} 05:00 local is outside");
            assert!(open_at(&w, &tz, at(&tz, day.at(0, 59, 0, 0))).is_none(), "{day} 00:59 local is outside");
        }
        // The short night lasts three real hours, a normal one four.
        let (s, e) = open_at(&w, &tz, at(&tz, date(2026, 3, 29).at(4, 0, 0, 0))).unwrap();
        assert_eq!(e.duration_since(s).as_hours(), 3);
        let (s, e) = open_at(&w, &tz, at(&tz, date(2026, 3, 30).at(4, 0, 0, 0))).unwrap();
        assert_eq!(e.duration_since(s).as_hours(), 4);
    }

    #[test]
    fn a_start_inside_the_spring_gap_moves_forward_and_still_opens() {
        let tz = berlin();
        let w = Window { start: date(2026, 3, 1).at(2, 30, 0, 0), minutes: 30, repeat: Repeat::Daily, until: None };
        let (s, e) = open_at(&w, &tz, at(&tz, date(2026, 3, 29).at(3, 45, 0, 0))).expect("opens on the spring-forward night");
        assert_eq!(s.to_zoned(tz.clone()).time(), jiff::civil::time(3, 30, 0, 0));
        assert_eq!(e.duration_since(s).as_mins(), 30);
    }

    #[test]
    fn repeats_until_and_month_ends() {
        let tz = TimeZone::UTC;
        let w = Window { start: date(2026, 1, 31).at(22, 0, 0, 0), minutes: 180, repeat: Repeat::Monthly, until: Some(date(2026, 4, 30)) };
        assert!(open_at(&w, &tz, at(&tz, date(2026, 2, 28).at(23, 0, 0, 0))).is_some(), "February's is on its last day");
        assert!(open_at(&w, &tz, at(&tz, date(2026, 3, 1).at(0, 30, 0, 0))).is_some(), "and runs past midnight");
        assert!(open_at(&w, &tz, at(&tz, date(2026, 3, 30).at(23, 0, 0, 0))).is_none());
        assert!(open_at(&w, &tz, at(&tz, date(2026, 5, 31).at(23, 0, 0, 0))).is_none(), "past its last date");
        let weekly = Window { start: date(2026, 12, 6).at(23, 0, 0, 0), minutes: 120, repeat: Repeat::Weekly, until: None };
        assert!(open_at(&weekly, &tz, at(&tz, date(2026, 12, 14).at(0, 30, 0, 0))).is_some(), "Sunday's runs into Monday");
        assert!(open_at(&weekly, &tz, at(&tz, date(2026, 12, 13).at(22, 0, 0, 0))).is_none());
        let once = Window { start: date(2026, 12, 6).at(23, 0, 0, 0), minutes: 60, repeat: Repeat::Once, until: None };
        assert!(open_at(&once, &tz, at(&tz, date(2026, 12, 6).at(23, 30, 0, 0))).is_some());
        assert!(open_at(&once, &tz, at(&tz, date(2026, 12, 13).at(23, 30, 0, 0))).is_none());
    }

    fn zones() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["UTC", "Europe/Berlin", "America/Chicago", "Australia/Lord_Howe", "Asia/Kolkata"])
    }

    proptest! {
        #[test]
        fn inside_an_occurrence_the_window_is_open_and_just_after_it_is_not(
            zone in zones(), hour in 0i8..24, minute in 0i8..60, minutes in 1i64..1439, day_offset in 0i64..400,
            repeat in prop::sample::select(vec![Repeat::Daily, Repeat::Weekly, Repeat::Monthly]),
        ) {
            let tz = TimeZone::get(zone).unwrap();
            let first = date(2026, 1, 5);
            let w = Window { start: first.at(hour, minute, 0, 0), minutes, repeat, until: None };
            let day = first.checked_add(day_offset.days()).unwrap();
            if let Some((s, e)) = candidates(&w, day).into_iter().filter_map(|d| occurrence(&w, d, &tz)).next_back() {
                prop_assert_eq!(open_at(&w, &tz, s), Some((s, e)));
                prop_assert!(open_at(&w, &tz, e.checked_sub(1.second()).unwrap()).is_some());
                prop_assert!(open_at(&w, &tz, e).is_none_or(|(s2, _)| s2 >= e), "an occurrence ends where it says");
                // The occurrence starts at the window's local time, or just after a DST gap.
                let local = s.to_zoned(tz.clone()).datetime();
                prop_assert!(local.time() >= w.start.time() || local.date() > day.yesterday().unwrap());
            }
        }

        #[test]
        fn nothing_is_open_before_the_first_start(zone in zones(), minutes in 1i64..1439, back in 1i64..100_000) {
            let tz = TimeZone::get(zone).unwrap();
            let w = Window { start: date(2026, 6, 1).at(12, 0, 0, 0), minutes, repeat: Repeat::Daily, until: None };
            let start = at(&tz, w.start);
            prop_assert!(open_at(&w, &tz, start.checked_sub(back.minutes()).unwrap()).is_none());
        }
    }
}
