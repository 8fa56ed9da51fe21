//! SLA clock math, as pure functions: business calendars (a time zone,
//! weekly working spans, holidays, or 24x7), how much business time passed
//! between two instants minus pauses, when a target of N business seconds
//! falls due, and a clock's state.
//!
//! Times are UTC microseconds; a calendar's spans are local wall-clock
//! times in its IANA zone, turned into instants with jiff (which reports
//! exactly when a local time is ambiguous): a span's start or end inside a
//! spring-forward gap is the instant the clocks jump, and inside a
//! fall-back fold the first of the two instants, so a working day is
//! exactly as long as the clocks on the wall say it was.
//! Everything here is property-tested: "due after N" and "elapsed until
//! due" agree, pauses never count, and a calendar without working time is
//! refused instead of looping.

use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;
use std::collections::BTreeSet;

/// A working span of one weekday, in minutes after local midnight
/// (`end` up to 1440).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start: u16,
    pub end: u16,
}

/// When a calendar counts time.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    /// Every hour of every day.
    always: bool,
    /// Monday first; each day's spans sorted and not overlapping.
    weekly: [Vec<Span>; 7],
    holidays: BTreeSet<Date>,
}

/// Why a calendar cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0:?} is not an IANA time zone such as Europe/Berlin")]
    TimeZone(String),
    #[error("day {0}: days are 1 (Monday) to 7 (Sunday)")]
    Day(u8),
    #[error("{0:?} is not a time of day such as 08:00 (24:00 ends a day)")]
    Time(String),
    #[error("a span must end after it starts ({0})")]
    Empty(String),
    #[error("spans of day {0} overlap")]
    Overlap(u8),
    #[error("the calendar has no working time: give at least one span, or make it 24x7")]
    NoWorkingTime,
    #[error("{0:?} is not a date such as 2026-12-25")]
    Holiday(String),
}

/// `"08:30"` → 510; `"24:00"` → 1440.
pub fn parse_hhmm(s: &str) -> Result<u16, CalendarError> {
    let bad = || CalendarError::Time(s.to_string());
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h == 24 && m == 0 {
        return Ok(1440);
    }
    if h > 23 || m > 59 || s.trim().len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Calendar {
    /// A calendar from its parts, checked: a known zone, days 1–7, spans
    /// that end after they start and do not overlap, and some working time.
    pub fn new(timezone: &str, always: bool, weekly: &[(u8, Span)], holidays: &[Date]) -> Result<Calendar, CalendarError> {
        let tz = TimeZone::get(timezone).map_err(|_| CalendarError::TimeZone(timezone.to_string()))?;
        let mut days: [Vec<Span>; 7] = Default::default();
        for (day, span) in weekly {
            if !(1..=7).contains(day) {
                return Err(CalendarError::Day(*day));
            }
            if span.end <= span.start || span.end > 1440 {
                return Err(CalendarError::Empty(format!("day {day}: {}–{}", fmt_min(span.start), fmt_min(span.end))));
            }
            days[*day as usize - 1].push(*span);
        }
        for (i, d) in days.iter_mut().enumerate() {
            d.sort();
            if d.windows(2).any(|w| w[1].start < w[0].end) {
                return Err(CalendarError::Overlap(i as u8 + 1));
            }
        }
        if !always && days.iter().all(Vec::is_empty) {
            return Err(CalendarError::NoWorkingTime);
        }
        Ok(Calendar { tz, always, weekly: days, holidays: holidays.iter().copied().collect() })
    }

    /// Round the clock, every day (holidays do not apply).
    pub fn always(timezone: &str) -> Result<Calendar, CalendarError> {
        Calendar::new(timezone, true, &[], &[])
    }

    /// The working intervals (UTC µs, half-open) of one local date.
    fn day_intervals(&self, date: Date) -> Vec<(i64, i64)> {
        if self.always {
            let start = at(&self.tz, date, 0);
            let end = date.tomorrow().map(|d| at(&self.tz, d, 0)).unwrap_or(i64::MAX);
            return vec![(start, end)];
        }
        if self.holidays.contains(&date) {
            return vec![];
        }
        let day = date.weekday().to_monday_one_offset() as usize - 1;
        self.weekly[day]
            .iter()
            .map(|s| {
                let start = at(&self.tz, date, s.start);
                let end =
                    if s.end == 1440 { date.tomorrow().map(|d| at(&self.tz, d, 0)).unwrap_or(i64::MAX) } else { at(&self.tz, date, s.end) };
                (start, end)
            })
            .filter(|(a, b)| b > a)
            .collect()
    }

    /// The local date an instant falls on.
    fn date_of(&self, us: i64) -> Date {
        Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(self.tz.clone()).date()
    }
}

/// The instant of a local date and minute of day. A wall-clock time that
/// does not exist (inside a spring-forward gap) is the instant the clocks
/// jump; one that happens twice (inside a fall-back fold) is the first.
fn at(tz: &TimeZone, date: Date, minute: u16) -> i64 {
    let t = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).unwrap_or(Time::midnight());
    let dt = date.to_datetime(t);
    let amb = tz.to_ambiguous_timestamp(dt);
    let ts = match amb.offset() {
        // Read with the offset from before the gap, the time lands after
        // the jump; the transition just before it is the jump itself.
        AmbiguousOffset::Gap { before, .. } => {
            before.to_timestamp(dt).ok().and_then(|later| tz.preceding(later).next()).map(|tr| tr.timestamp())
        }
        _ => amb.earlier().ok(),
    };
    ts.map(|t| t.as_microsecond()).unwrap_or(i64::MAX)
}

fn fmt_min(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// A pause: from, and until (`None`: still paused).
pub type Pause = (i64, Option<i64>);

/// How far ahead the clock looks before it gives up (holidays could cover
/// every working day): ten years.
const HORIZON_DAYS: usize = 3660;

/// The calendar's working intervals from `from` on, minus pauses, in order.
fn working<'a>(cal: &'a Calendar, from: i64, pauses: &[Pause]) -> impl Iterator<Item = (i64, i64)> + 'a {
    let mut pauses: Vec<(i64, i64)> = pauses.iter().map(|(a, b)| (*a, b.unwrap_or(i64::MAX))).filter(|(a, b)| b > a).collect();
    pauses.sort();
    let mut date = cal.date_of(from).yesterday().unwrap_or(cal.date_of(from));
    let mut days = 0usize;
    std::iter::from_fn(move || {
        if days > HORIZON_DAYS {
            return None;
        }
        days += 1;
        let out = cal.day_intervals(date);
        date = date.tomorrow().ok()?;
        Some(out)
    })
    .flatten()
    .filter_map(move |(a, b)| {
        let a = a.max(from);
        (b > a).then_some((a, b))
    })
    .flat_map(move |iv| subtract(iv, &pauses))
}

/// `iv` minus the (sorted) pauses.
fn subtract((mut a, b): (i64, i64), pauses: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = vec![];
    for &(pa, pb) in pauses {
        if pb <= a || pa >= b {
            continue;
        }
        if pa > a {
            out.push((a, pa));
        }
        a = a.max(pb);
        if a >= b {
            return out;
        }
    }
    if b > a {
        out.push((a, b));
    }
    out
}

/// Business microseconds between `from` and `to`, minus pauses.
fn elapsed_us(cal: &Calendar, from: i64, to: i64, pauses: &[Pause]) -> i64 {
    if to <= from {
        return 0;
    }
    let mut us = 0i64;
    for (a, b) in working(cal, from, pauses) {
        if a >= to {
            break;
        }
        us += b.min(to) - a;
    }
    us
}

/// Business seconds between `from` and `to`, minus pauses.
pub fn elapsed(cal: &Calendar, from: i64, to: i64, pauses: &[Pause]) -> i64 {
    elapsed_us(cal, from, to, pauses) / 1_000_000
}

/// The instant `target_us` of business time after `from` have passed.
fn due_us(cal: &Calendar, from: i64, target_us: i64, pauses: &[Pause]) -> Option<i64> {
    if pauses.iter().any(|(_, end)| end.is_none()) {
        return None;
    }
    let mut left = target_us.max(0);
    for (a, b) in working(cal, from, pauses) {
        if left <= b - a {
            return Some(a + left);
        }
        left -= b - a;
    }
    None
}

/// When `target_secs` of business time after `from` have passed, counting
/// the pauses known so far; `None` while a pause is still open (the clock
/// is stopped), or when the calendar has no working time in ten years.
pub fn due(cal: &Calendar, from: i64, target_secs: i64, pauses: &[Pause]) -> Option<i64> {
    due_us(cal, from, target_secs.max(0).saturating_mul(1_000_000), pauses)
}

/// A clock's state, as the API shows it. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Met,
    Paused,
    Running,
    Warning,
    Breached,
}

impl ClockState {
    pub const ALL: [ClockState; 5] = [ClockState::Met, ClockState::Paused, ClockState::Running, ClockState::Warning, ClockState::Breached];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Warning => "warning",
            ClockState::Breached => "breached",
            ClockState::Met => "met",
        }
    }

    pub fn parse(s: &str) -> Option<ClockState> {
        ClockState::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One SLA clock of a ticket, worked out at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clock {
    pub state: ClockState,
    /// When it falls due (`None` while paused).
    pub due_at: Option<i64>,
    pub elapsed_secs: i64,
    /// When it was met (stopped, in time or late).
    pub met_at: Option<i64>,
    /// The next instant its state changes by itself (a warning, a breach),
    /// for the job that announces them; `None` when nothing is ahead.
    pub next_change_at: Option<i64>,
}

/// A clock that started at `from` with `target_secs`, stopped at `met_at`
/// if it was, warning past `warn_permille`/1000 of the target. Breached
/// once the whole target has passed without it being met.
pub fn clock(cal: &Calendar, from: i64, target_secs: i64, warn_permille: i64, pauses: &[Pause], met_at: Option<i64>, now: i64) -> Clock {
    let target_us = target_secs.max(0).saturating_mul(1_000_000);
    let warn_us = target_us / 1000 * warn_permille.clamp(0, 1000);
    let until = met_at.unwrap_or(now);
    let spent = elapsed_us(cal, from, until, pauses);
    let open_pause = met_at.is_none() && pauses.iter().any(|(_, e)| e.is_none());
    let closed: Vec<Pause> = pauses.iter().map(|(a, b)| (*a, Some(b.unwrap_or(until)))).collect();
    let due_at = if met_at.is_some() { due_us(cal, from, target_us, &closed) } else { due_us(cal, from, target_us, pauses) };
    let state = match met_at {
        Some(_) if spent <= target_us => ClockState::Met,
        Some(_) => ClockState::Breached,
        None if spent >= target_us => ClockState::Breached,
        None if open_pause => ClockState::Paused,
        None if spent >= warn_us => ClockState::Warning,
        None => ClockState::Running,
    };
    let next_change_at = match state {
        ClockState::Running => due_us(cal, from, warn_us, pauses),
        ClockState::Warning => due_at,
        _ => None,
    };
    Clock { state, due_at, elapsed_secs: spent / 1_000_000, met_at, next_change_at }
}

/// What a ticket's clocks are measured against, as it started them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub first_response_secs: i64,
    pub resolution_secs: i64,
    pub warn_permille: i64,
}

/// The instants a ticket's clocks read.
#[derive(Debug, Clone, Default)]
pub struct TicketTimes {
    pub opened_at: i64,
    /// The first public reply from staff.
    pub first_response_at: Option<i64>,
    /// Set while the ticket is resolved or closed.
    pub resolved_at: Option<i64>,
    /// When the resolution clock stood still.
    pub pauses: Vec<Pause>,
}

/// A ticket's two clocks.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketClocks {
    pub first_response: Clock,
    pub resolution: Clock,
}

impl TicketClocks {
    /// The worse of the two states: what the queue shows and filters on.
    pub fn state(&self) -> ClockState {
        self.first_response.state.max(self.resolution.state)
    }

    /// The earlier due time of a clock that still runs.
    pub fn due_at(&self) -> Option<i64> {
        [&self.first_response, &self.resolution].into_iter().filter(|c| c.met_at.is_none()).filter_map(|c| c.due_at).min()
    }

    /// The next instant either clock changes by itself.
    pub fn next_change_at(&self) -> Option<i64> {
        [self.first_response.next_change_at, self.resolution.next_change_at].into_iter().flatten().min()
    }
}

/// First response is never paused; resolution pauses while waiting and
/// stops when the ticket is resolved.
pub fn ticket_clocks(cal: &Calendar, t: &Targets, times: &TicketTimes, now: i64) -> TicketClocks {
    TicketClocks {
        first_response: clock(cal, times.opened_at, t.first_response_secs, t.warn_permille, &[], times.first_response_at, now),
        resolution: clock(cal, times.opened_at, t.resolution_secs, t.warn_permille, &times.pauses, times.resolved_at, now),
    }
}

/// A calendar as the API and a ticket's snapshot write it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[schema(value_type = crate::validate::TimeZone)]
    pub timezone: String,
    /// Round the clock, every day; `weekly` and `holidays` are then ignored.
    #[serde(default)]
    pub always: bool,
    /// Working spans: day 1 = Monday … 7 = Sunday, several a day allowed.
    #[serde(default)]
    pub weekly: Vec<WeeklySpan>,
    /// Dates without working time, e.g. `2026-12-25`.
    #[serde(default)]
    #[schema(value_type = crate::validate::shapes::CalendarDays)]
    pub holidays: Vec<String>,
}

/// One working span of a weekday, local wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklySpan {
    #[schema(minimum = 1, maximum = 7)]
    pub day: u8,
    /// `HH:MM`.
    #[schema(value_type = crate::validate::shapes::HhMm, example = "08:00")]
    pub start: String,
    /// `HH:MM`; `24:00` ends the day.
    #[schema(value_type = crate::validate::shapes::HhMm, example = "17:00")]
    pub end: String,
}

impl CalendarSpec {
    /// The calendar, checked.
    pub fn build(&self) -> Result<Calendar, CalendarError> {
        // Spans are read even when `always` ignores them: a malformed one
        // is refused either way.
        let mut spans = Vec::with_capacity(self.weekly.len());
        for w in &self.weekly {
            if !(1..=7).contains(&w.day) {
                return Err(CalendarError::Day(w.day));
            }
            spans.push((w.day, Span { start: parse_hhmm(&w.start)?, end: parse_hhmm(&w.end)? }));
        }
        if self.always {
            spans.clear();
        }
        let mut holidays = Vec::with_capacity(self.holidays.len());
        for h in &self.holidays {
            holidays.push(h.parse::<Date>().ok().filter(|_| h.len() == 10).ok_or_else(|| CalendarError::Holiday(h.clone()))?);
        }
        Calendar::new(&self.timezone, self.always, &spans, &holidays)
    }

    /// The same calendar written canonically: spans as `HH:MM` sorted by
    /// day and start, holidays sorted and without repeats.
    pub fn normalized(&self) -> Result<CalendarSpec, CalendarError> {
        self.build()?;
        let mut weekly: Vec<WeeklySpan> = if self.always {
            vec![]
        } else {
            self.weekly
                .iter()
                .map(|w| Ok(WeeklySpan { day: w.day, start: fmt_min(parse_hhmm(&w.start)?), end: fmt_min(parse_hhmm(&w.end)?) }))
                .collect::<Result<_, CalendarError>>()?
        };
        weekly.sort_by(|a, b| (a.day, &a.start).cmp(&(b.day, &b.start)));
        let mut holidays: Vec<String> = if self.always { vec![] } else { self.holidays.clone() };
        holidays.sort();
        holidays.dedup();
        Ok(CalendarSpec { timezone: self.timezone.trim().to_string(), always: self.always, weekly, holidays })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const H: i64 = 3_600_000_000;

    fn us(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_microsecond()
    }

    /// Monday to Friday 08:00–12:00 and 13:00–17:00.
    fn office(tz: &str) -> Calendar {
        let mut spans = vec![];
        for d in 1..=5 {
            spans.push((d, Span { start: 8 * 60, end: 12 * 60 }));
            spans.push((d, Span { start: 13 * 60, end: 17 * 60 }));
        }
        Calendar::new(tz, false, &spans, &[date(2026, 12, 25)]).unwrap()
    }

    #[test]
    fn a_working_week_in_berlin() {
        let cal = office("Europe/Berlin");
        // Friday 2026-12-04 16:00 Berlin (15:00 UTC) + 2 business hours:
        // one hour Friday, one hour Monday 08:00–09:00 Berlin.
        let from = us("2026-12-04T15:00:00Z");
        assert_eq!(due(&cal, from, 2 * 3600, &[]), Some(us("2026-12-07T08:00:00Z")));
        assert_eq!(elapsed(&cal, from, us("2026-12-07T08:00:00Z"), &[]), 2 * 3600);
        // Lunch does not count.
        assert_eq!(elapsed(&cal, us("2026-12-07T10:30:00Z"), us("2026-12-07T12:30:00Z"), &[]), 3600);
        // Christmas Day (a Friday) is a holiday.
        assert_eq!(elapsed(&cal, us("2026-12-24T23:00:00Z"), us("2026-12-25T23:00:00Z"), &[]), 0);
    }

    #[test]
    fn dst_both_ways_and_spans_through_the_change() {
        // Berlin springs forward on 2026-03-29 at 02:00 and falls back on
        // 2026-10-25 at 03:00. A Sunday span 00:00–06:00 lasts 5 and 7 hours.
        let cal = Calendar::new("Europe/Berlin", false, &[(7, Span { start: 0, end: 360 })], &[]).unwrap();
        assert_eq!(elapsed(&cal, us("2026-03-28T12:00:00Z"), us("2026-03-30T00:00:00Z"), &[]), 5 * 3600);
        assert_eq!(elapsed(&cal, us("2026-10-24T12:00:00Z"), us("2026-10-26T00:00:00Z"), &[]), 7 * 3600);
        // A span starting inside the gap starts when the clocks land.
        let gap = Calendar::new("Europe/Berlin", false, &[(7, Span { start: 150, end: 240 })], &[]).unwrap();
        assert_eq!(elapsed(&gap, us("2026-03-28T12:00:00Z"), us("2026-03-30T00:00:00Z"), &[]), 3600);
    }

    #[test]
    fn pauses_outside_working_hours_change_nothing_and_an_open_pause_stops_the_due_time() {
        let cal = office("America/New_York");
        let from = us("2026-12-07T14:00:00Z"); // Monday 09:00 New York
        let night = [(us("2026-12-08T01:00:00Z"), Some(us("2026-12-08T11:00:00Z")))];
        assert_eq!(due(&cal, from, 8 * 3600, &night), due(&cal, from, 8 * 3600, &[]));
        assert_eq!(due(&cal, from, 3600, &[(from + H / 2, None)]), None);
        let c = clock(&cal, from, 3600, 750, &[(from + H / 2, None)], None, from + 5 * H);
        assert_eq!((c.state, c.elapsed_secs), (ClockState::Paused, 1800));
    }

    #[test]
    fn a_target_of_zero_is_due_at_once_and_a_calendar_without_time_is_refused() {
        let cal = Calendar::always("UTC").unwrap();
        assert_eq!(due(&cal, 5 * H, 0, &[]), Some(5 * H));
        assert_eq!(clock(&cal, 5 * H, 0, 750, &[], None, 5 * H + 1).state, ClockState::Breached);
        assert_eq!(Calendar::new("UTC", false, &[], &[]).unwrap_err(), CalendarError::NoWorkingTime);
        assert!(matches!(Calendar::new("Mars/Base", true, &[], &[]), Err(CalendarError::TimeZone(_))));
        assert!(matches!(Calendar::new("UTC", false, &[(1, Span { start: 600, end: 600 })], &[]), Err(CalendarError::Empty(_))));
        assert!(matches!(
            Calendar::new("UTC", false, &[(1, Span { start: 600, end: 700 }), (1, Span { start: 650, end: 800 })], &[]),
            Err(CalendarError::Overlap(1))
        ));
        // Only holidays ahead: no due time, and no endless loop.
        let all_holidays: Vec<Date> = (0..4000).map(|i| date(2026, 1, 5).checked_add(jiff::Span::new().days(i)).unwrap()).collect();
        let cal = Calendar::new("UTC", false, &[(1, Span { start: 0, end: 60 })], &all_holidays).unwrap();
        assert_eq!(due(&cal, us("2026-01-05T00:00:00Z"), 60, &[]), None);
    }

    #[test]
    fn states_follow_the_target() {
        let cal = Calendar::always("UTC").unwrap();
        let c = |now: i64, met: Option<i64>| clock(&cal, 0, 3600, 750, &[], met, now).state;
        assert_eq!(c(H / 2, None), ClockState::Running);
        assert_eq!(c(H * 3 / 4, None), ClockState::Warning);
        assert_eq!(c(H + 1_000_000, None), ClockState::Breached);
        assert_eq!(c(5 * H, Some(H / 2)), ClockState::Met);
        assert_eq!(c(5 * H, Some(2 * H)), ClockState::Breached);
        assert_eq!(parse_hhmm("08:30"), Ok(510));
        assert_eq!(parse_hhmm("24:00"), Ok(1440));
        assert!(parse_hhmm("25:00").is_err() && parse_hhmm("8:3").is_err());
    }

    #[test]
    fn a_ticket_waiting_then_resolved_keeps_its_clocks_apart() {
        let cal = Calendar::always("UTC").unwrap();
        let t = Targets { first_response_secs: 3600, resolution_secs: 4 * 3600, warn_permille: 750 };
        // Waiting from 1h to 2h, resolved at 3h (the resolved pause is open).
        let times = TicketTimes {
            opened_at: 0,
            first_response_at: Some(H / 2),
            resolved_at: Some(3 * H),
            pauses: vec![(H, Some(2 * H)), (3 * H, None)],
        };
        let c = ticket_clocks(&cal, &t, &times, 10 * H);
        assert_eq!((c.first_response.state, c.first_response.elapsed_secs), (ClockState::Met, 1800));
        assert_eq!((c.resolution.state, c.resolution.elapsed_secs), (ClockState::Met, 2 * 3600));
        assert_eq!(c.resolution.due_at, Some(5 * H), "the hour waiting moved the due time");
        assert_eq!(c.state(), ClockState::Met);
        assert_eq!(c.next_change_at(), None);
        // Still open and waiting: first response breached, resolution paused.
        let times = TicketTimes { opened_at: 0, first_response_at: None, resolved_at: None, pauses: vec![(H / 2, None)] };
        let c = ticket_clocks(&cal, &t, &times, 2 * H);
        assert_eq!(c.first_response.state, ClockState::Breached);
        assert_eq!((c.resolution.state, c.resolution.due_at), (ClockState::Paused, None));
        assert_eq!(c.state(), ClockState::Breached);
        assert_eq!(c.due_at(), Some(H), "the earlier due time of a clock still running");
        // Running: the next change is the warning, then the breach.
        let times = TicketTimes { opened_at: 0, ..Default::default() };
        let c = ticket_clocks(&cal, &t, &times, H / 4);
        assert_eq!(c.first_response.next_change_at, Some(H * 3 / 4));
        let c = ticket_clocks(&cal, &t, &times, H * 3 / 4);
        assert_eq!((c.first_response.state, c.first_response.next_change_at), (ClockState::Warning, Some(H)));
    }

    #[test]
    fn calendar_specs_are_checked_and_written_canonically() {
        let spec = CalendarSpec {
            timezone: "Europe/Berlin".into(),
            always: false,
            weekly: vec![
                WeeklySpan { day: 2, start: "13:00".into(), end: "17:00".into() },
                WeeklySpan { day: 1, start: "08:00".into(), end: "12:00".into() },
            ],
            holidays: vec!["2026-12-26".into(), "2026-12-25".into(), "2026-12-25".into()],
        };
        let n = spec.normalized().unwrap();
        assert_eq!(n.weekly[0].day, 1);
        assert_eq!(n.holidays, vec!["2026-12-25", "2026-12-26"]);
        let bad = |f: fn(&mut CalendarSpec)| {
            let mut s = spec.clone();
            f(&mut s);
            s.build().unwrap_err()
        };
        assert!(matches!(bad(|s| s.holidays = vec!["25.12.2026".into()]), CalendarError::Holiday(_)));
        assert!(matches!(bad(|s| s.weekly[0].day = 8), CalendarError::Day(8)));
        assert!(matches!(bad(|s| s.weekly[0].end = "12:00".into()), CalendarError::Empty(_)));
        assert!(matches!(bad(|s| s.weekly.clear()), CalendarError::NoWorkingTime));
    }

    fn calendars() -> impl Strategy<Value = Calendar> {
        let zones =
            prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham"]);
        let span = (0u16..1380, 1u16..600).prop_map(|(s, len)| Span { start: s, end: (s + len).min(1440) });
        let weekly = prop::collection::vec((1u8..=7, span), 1..6);
        let holidays = prop::collection::vec(0i64..400, 0..20);
        (zones, any::<bool>(), weekly, holidays).prop_filter_map("overlapping spans", |(tz, always, weekly, hol)| {
            let hol: Vec<Date> = hol.iter().map(|d| date(2026, 1, 1).checked_add(jiff::Span::new().days(*d)).unwrap()).collect();
            Calendar::new(tz, always, &weekly, &hol).ok()
        })
    }

    fn pauses(base: i64) -> impl Strategy<Value = Vec<Pause>> {
        prop::collection::vec((0i64..2000, 1i64..200), 0..6)
            .prop_map(move |v| v.into_iter().map(|(a, len)| (base + a * H / 10, Some(base + (a + len) * H / 10))).collect())
    }

    proptest! {
        /// "Due after N" and "elapsed until the due time" agree, across
        /// zones with DST, holidays, night spans and pauses.
        #[test]
        fn due_and_elapsed_agree(cal in calendars(), start in 0i64..8760, target_min in 0i64..6000, p in pauses(us("2026-01-01T00:00:00Z"))) {
            let from = us("2026-01-01T00:00:00Z") + start * H;
            if let Some(d) = due(&cal, from, target_min * 60, &p) {
                prop_assert!(d >= from);
                prop_assert_eq!(elapsed(&cal, from, d, &p), target_min * 60);
                // Just before the due time, less has passed.
                if target_min > 0 {
                    prop_assert!(elapsed(&cal, from, d - 1_000_000, &p) < target_min * 60);
                }
            }
        }

        /// Round the clock, a pause before the due time moves it by exactly
        /// the pause's length.
        #[test]
        fn a_pause_moves_the_due_time_by_its_length(target_min in 1i64..10_000, a in 0i64..10_000, len in 1i64..10_000) {
            let cal = Calendar::always("UTC").unwrap();
            let plain = due(&cal, 0, target_min * 60, &[]).unwrap();
            let (pa, pb) = (a * 60_000_000, (a + len) * 60_000_000);
            let with = due(&cal, 0, target_min * 60, &[(pa, Some(pb))]).unwrap();
            if pa < plain {
                prop_assert_eq!(with, plain + (pb - pa));
            } else {
                prop_assert_eq!(with, plain);
            }
        }

        /// Elapsed time only grows, never exceeds wall time, and pauses
        /// never add to it.
        #[test]
        fn elapsed_is_monotone_and_bounded(cal in calendars(), a in 0i64..8760, b in 0i64..8760, p in pauses(us("2026-01-01T00:00:00Z"))) {
            let base = us("2026-01-01T00:00:00Z");
            let (x, y) = (base + a.min(b) * H, base + a.max(b) * H);
            let with = elapsed(&cal, x, y, &p);
            let without = elapsed(&cal, x, y, &[]);
            prop_assert!(with <= without);
            prop_assert!(without <= (y - x) / 1_000_000);
            prop_assert!(elapsed(&cal, x, y + H, &p) >= with);
        }
    }
}
