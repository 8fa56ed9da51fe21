//! When a recurring ticket falls due, as pure functions: a [`Rule`] says
//! which local dates match (every K days; every K weeks on some weekdays;
//! every K months on day N, on the first…fourth or last given weekday, or
//! on the first or last working day, Monday to Friday), and
//! [`next_after`] turns the next matching date at a local time of day in
//! an IANA zone into an instant.
//!
//! A local time that does not exist that day (inside a spring-forward gap)
//! is the instant the clocks jump, and one that exists twice (a fall-back
//! fold) is the earlier, exactly as `sla::model` reads calendars, so
//! "09:00" never fires twice and never not at all.
//!
//! Intervals count from `starts_on`: days since it, weeks since the
//! Monday of its week, months since its month; nothing matches before it.
//! Property-tested against a day-by-day walk over the same definition.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// The largest interval a rule may have (e.g. every 99 months).
pub const MAX_INTERVAL: u32 = 99;

/// A day of the week, as the API writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];

    pub fn weekday(self) -> Weekday {
        match self {
            Day::Mon => Weekday::Monday,
            Day::Tue => Weekday::Tuesday,
            Day::Wed => Weekday::Wednesday,
            Day::Thu => Weekday::Thursday,
            Day::Fri => Weekday::Friday,
            Day::Sat => Weekday::Saturday,
            Day::Sun => Weekday::Sunday,
        }
    }

    pub fn as_str(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self as usize]
    }

    pub fn parse(s: &str) -> Option<Day> {
        let s = s.trim().to_lowercase();
        Day::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Which of a month's weekdays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Nth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl Nth {
    pub const ALL: [Nth; 5] = [Nth::First, Nth::Second, Nth::Third, Nth::Fourth, Nth::Last];

    pub fn as_str(self) -> &'static str {
        ["first", "second", "third", "fourth", "last"][self as usize]
    }
}

/// The kinds of schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ScheduleKind)]
pub enum Kind {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks, on `weekdays`.
    Weekly,
    /// Every `interval` months on `day` (1–31; past the month's end, its last day).
    MonthlyDay,
    /// Every `interval` months on the `nth` `weekday`.
    MonthlyNth,
    /// Every `interval` months on the first day Monday to Friday.
    FirstWorkday,
    /// Every `interval` months on the last day Monday to Friday.
    LastWorkday,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Daily, Kind::Weekly, Kind::MonthlyDay, Kind::MonthlyNth, Kind::FirstWorkday, Kind::LastWorkday];

    pub fn as_str(self) -> &'static str {
        ["daily", "weekly", "monthly_day", "monthly_nth", "first_workday", "last_workday"][self as usize]
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// A schedule as stored (JSON) and as the API takes it. Only the fields of
/// its kind may be set; [`Rule::check`] says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub kind: Kind,
    /// Every how many days, weeks or months (1–99, default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 99)]
    pub interval: u32,
    /// For `weekly`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<Day>,
    /// For `monthly_day`: 1–31.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 31)]
    pub day: Option<i8>,
    /// For `monthly_nth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<Nth>,
    /// For `monthly_nth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekday: Option<Day>,
    /// The first local date that may match; intervals count from it.
    #[serde(with = "date_text")]
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
}

fn one() -> u32 {
    1
}

/// `YYYY-MM-DD` (jiff's serde feature is not on: one module is less than
/// a feature for every crate that builds jiff).
mod date_text {
    use jiff::civil::Date;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|_| serde::de::Error::custom(format!("{text:?} is not a date such as 2026-01-31")))
    }
}

impl Rule {
    /// What is wrong with the rule, as (field, message); fields are named
    /// as the API's `schedule` object writes them.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(2000..=2200).contains(&self.starts_on.year()) {
            return Err(("schedule.starts_on", "a date between the years 2000 and 2200".into()));
        }
        if !(1..=MAX_INTERVAL).contains(&self.interval) {
            return Err(("schedule.interval", format!("must be 1–{MAX_INTERVAL}")));
        }
        let (weekdays, day, nth) = match self.kind {
            Kind::Weekly => (true, false, false),
            Kind::MonthlyDay => (false, true, false),
            Kind::MonthlyNth => (false, false, true),
            _ => (false, false, false),
        };
        let only =
            |f: &'static str| Err((f, format!("only for a {} schedule", if f == "schedule.weekdays" { "weekly" } else { "monthly" })));
        if weekdays && self.weekdays.is_empty() {
            return Err(("schedule.weekdays", "choose at least one day".into()));
        }
        if !weekdays && !self.weekdays.is_empty() {
            return only("schedule.weekdays");
        }
        match (day, self.day) {
            (true, None) => return Err(("schedule.day", "a day of the month, 1–31".into())),
            (true, Some(d)) if !(1..=31).contains(&d) => return Err(("schedule.day", "a day of the month, 1–31".into())),
            (false, Some(_)) => return only("schedule.day"),
            _ => {}
        }
        match (nth, self.nth, self.weekday) {
            (true, None, _) => return Err(("schedule.nth", "first, second, third, fourth or last".into())),
            (true, _, None) => return Err(("schedule.weekday", "a day of the week, mon–sun".into())),
            (false, Some(_), _) => return only("schedule.nth"),
            (false, _, Some(_)) => return only("schedule.weekday"),
            _ => {}
        }
        Ok(())
    }

    /// The rule with its weekdays sorted and each once.
    pub fn normalized(mut self) -> Rule {
        self.weekdays.sort();
        self.weekdays.dedup();
        self
    }

    /// In words, for pages: "every 2 weeks on mon, thu".
    pub fn describe(&self) -> String {
        let every = |unit: &str| if self.interval == 1 { format!("every {unit}") } else { format!("every {} {unit}s", self.interval) };
        match self.kind {
            Kind::Daily => every("day"),
            Kind::Weekly => {
                format!("{} on {}", every("week"), self.weekdays.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", "))
            }
            Kind::MonthlyDay => format!("{} on day {}", every("month"), self.day.unwrap_or(1)),
            Kind::MonthlyNth => format!(
                "{} on the {} {}",
                every("month"),
                self.nth.map(Nth::as_str).unwrap_or("first"),
                self.weekday.map(Day::as_str).unwrap_or("mon")
            ),
            Kind::FirstWorkday => format!("{} on the first weekday", every("month")),
            Kind::LastWorkday => format!("{} on the last weekday", every("month")),
        }
    }
}

fn workday(d: Date) -> bool {
    !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The one date of a month (given by any date in it) a monthly rule names.
fn in_month(rule: &Rule, month: Date) -> Date {
    let first = month.first_of_month();
    let last = month.last_of_month();
    match rule.kind {
        Kind::MonthlyDay => first.with().day(rule.day.unwrap_or(1).min(last.day())).build().unwrap_or(last),
        Kind::MonthlyNth => {
            let wd = rule.weekday.unwrap_or(Day::Mon).weekday();
            match rule.nth.unwrap_or(Nth::First) {
                Nth::Last => last.nth_weekday_of_month(-1, wd),
                n => first.nth_weekday_of_month(n as i8 + 1, wd),
            }
            .unwrap_or(last)
        }
        Kind::FirstWorkday => (0..3).map(|i| first + i.days()).find(|d| workday(*d)).unwrap_or(first),
        Kind::LastWorkday => (0..3).map(|i| last - i.days()).find(|d| workday(*d)).unwrap_or(last),
        Kind::Daily | Kind::Weekly => first,
    }
}

fn monday(d: Date) -> Date {
    d - i64::from(d.weekday().to_monday_zero_offset()).days()
}

fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

fn months_between(a: Date, b: Date) -> i64 {
    (i64::from(b.year()) * 12 + i64::from(b.month())) - (i64::from(a.year()) * 12 + i64::from(a.month()))
}

/// Whether a local date matches: the definition, walked day by day in the
/// tests; [`next_date`] finds the same dates without the walk.
pub fn matches(rule: &Rule, d: Date) -> bool {
    if d < rule.starts_on {
        return false;
    }
    let k = i64::from(rule.interval.max(1));
    match rule.kind {
        Kind::Daily => days_between(rule.starts_on, d) % k == 0,
        Kind::Weekly => {
            days_between(monday(rule.starts_on), monday(d)) / 7 % k == 0 && rule.weekdays.iter().any(|w| w.weekday() == d.weekday())
        }
        _ => months_between(rule.starts_on, d) % k == 0 && in_month(rule, d) == d,
    }
}

/// The first matching date on or after `from`; `None` past the end of the
/// calendar (the year 9999).
pub fn next_date(rule: &Rule, from: Date) -> Option<Date> {
    let k = i64::from(rule.interval.max(1));
    let mut d = from.max(rule.starts_on);
    // Each round moves to the next period that counts; two or three do.
    for _ in 0..8 {
        match rule.kind {
            Kind::Daily => {
                let r = days_between(rule.starts_on, d) % k;
                return if r == 0 { Some(d) } else { d.checked_add((k - r).days()).ok() };
            }
            Kind::Weekly => {
                let week = days_between(monday(rule.starts_on), monday(d)) / 7;
                if week % k != 0 {
                    d = monday(d).checked_add(((k - week % k) * 7).days()).ok()?;
                    continue;
                }
                let mut day = d;
                while day < monday(d) + 7.days() {
                    if rule.weekdays.iter().any(|w| w.weekday() == day.weekday()) {
                        return Some(day);
                    }
                    day = day.checked_add(1.day()).ok()?;
                }
                d = monday(d).checked_add((k * 7).days()).ok()?;
            }
            _ => {
                let m = months_between(rule.starts_on, d);
                if m % k != 0 {
                    d = d.first_of_month().checked_add((k - m % k).months()).ok()?;
                    continue;
                }
                let o = in_month(rule, d);
                if o >= d {
                    return Some(o);
                }
                d = d.first_of_month().checked_add(k.months()).ok()?;
            }
        }
    }
    None
}

/// The instant of a local date and time in `tz`: in a gap, the instant
/// the clocks jump; in a fold, the earlier of the two.
pub fn instant(d: Date, t: Time, tz: &TimeZone) -> Option<Timestamp> {
    let dt = d.to_datetime(t);
    let amb = tz.to_ambiguous_timestamp(dt);
    match amb.offset() {
        // Read with the offset from before the gap, the time lands after
        // the jump; the transition just before it is the jump itself.
        AmbiguousOffset::Gap { before, .. } => {
            before.to_timestamp(dt).ok().and_then(|later| tz.preceding(later).next()).map(|tr| tr.timestamp())
        }
        _ => amb.earlier().ok(),
    }
}

/// The first occurrence strictly after `after`: the next matching local
/// date at `time` in `tz`. `None` only past the end of the calendar.
pub fn next_after(rule: &Rule, time: Time, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
    // A day before `after`'s local date: an occurrence on it can still lie
    // ahead of `after` only by a shifted offset, never more than a day.
    let mut d = tz.to_datetime(after).date().checked_sub(1.day()).ok()?;
    loop {
        d = next_date(rule, d)?;
        let ts = instant(d, time, tz)?;
        if ts > after {
            return Some(ts);
        }
        d = d.checked_add(1.day()).ok()?;
    }
}

/// The next `n` occurrences after `after`, for previews.
pub fn upcoming(rule: &Rule, time: Time, tz: &TimeZone, after: Timestamp, n: usize) -> Vec<Timestamp> {
    let mut out = Vec::with_capacity(n);
    let mut at = after;
    while out.len() < n {
        match next_after(rule, time, tz, at) {
            Some(t) => {
                out.push(t);
                at = t;
            }
            None => break,
        }
    }
    out
}

/// After a pause (the server down, or the schedule switched off) the
/// occurrences missed up to `now`: the latest of them to act on, if any,
/// and the first one after `now`. Only the latest missed one is created,
/// so a week offline does not open seven "daily check" tickets.
pub fn catch_up(rule: &Rule, time: Time, tz: &TimeZone, due: Timestamp, now: Timestamp) -> (Option<Timestamp>, Option<Timestamp>) {
    if due > now {
        return (None, Some(due));
    }
    let mut latest = due;
    loop {
        match next_after(rule, time, tz, latest) {
            Some(n) if n <= now => latest = n,
            next => return (Some(latest), next),
        }
    }
}

/// `HH:MM` (or `HH:MM:SS`) as a time of day.
pub fn parse_time(s: &str) -> Option<Time> {
    let mut parts = s.trim().split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next().unwrap_or("00"));
    if parts.next().is_some() || h.is_empty() || h.len() > 2 || m.len() != 2 || sec.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, sec.parse().ok()?, 0).ok()
}

/// `HH:MM`, with `:SS` only when it has seconds.
pub fn fmt_hhmm(t: Time) -> String {
    if t.second() == 0 {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    const ZONES: [&str; 7] =
        ["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia", "Asia/Kolkata"];

    fn rule(kind: Kind) -> Rule {
        Rule { kind, interval: 1, weekdays: vec![], day: None, nth: None, weekday: None, starts_on: date(2026, 1, 1) }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn examples() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let nine = time(9, 0, 0, 0);
        // The first weekday of February 2026 is Monday the 2nd, of May Friday the 1st.
        let r = rule(Kind::FirstWorkday);
        assert_eq!(next_after(&r, nine, &ny, at("2026-01-31T00:00:00Z")), Some(at("2026-02-02T14:00:00Z")));
        assert_eq!(next_after(&r, nine, &ny, at("2026-04-10T00:00:00Z")), Some(at("2026-05-01T13:00:00Z")));
        // Strictly after: at the occurrence itself, the next one.
        assert_eq!(next_after(&r, nine, &ny, at("2026-02-02T14:00:00Z")), Some(at("2026-03-02T14:00:00Z")));
        // Day 31 is the last day of shorter months.
        let mut r = rule(Kind::MonthlyDay);
        r.day = Some(31);
        let got = upcoming(&r, nine, &TimeZone::UTC, at("2026-01-31T10:00:00Z"), 3);
        assert_eq!(got, vec![at("2026-02-28T09:00:00Z"), at("2026-03-31T09:00:00Z"), at("2026-04-30T09:00:00Z")]);
        // The last Friday; the second Tuesday every 2 months.
        let mut r = rule(Kind::MonthlyNth);
        (r.nth, r.weekday) = (Some(Nth::Last), Some(Day::Fri));
        assert_eq!(next_after(&r, nine, &TimeZone::UTC, at("2026-01-01T00:00:00Z")), Some(at("2026-01-30T09:00:00Z")));
        (r.nth, r.weekday, r.interval) = (Some(Nth::Second), Some(Day::Tue), 2);
        assert_eq!(
            upcoming(&r, nine, &TimeZone::UTC, at("2026-01-01T00:00:00Z"), 2),
            vec![at("2026-01-13T09:00:00Z"), at("2026-03-10T09:00:00Z")]
        );
        // The last weekday of January 2026 is Friday the 30th (the 31st is a Saturday).
        assert_eq!(
            next_after(&rule(Kind::LastWorkday), nine, &TimeZone::UTC, at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-30T09:00:00Z"))
        );
        // Every 2 weeks on Monday and Thursday, from the week of 2026-01-01 (a Thursday).
        let mut r = rule(Kind::Weekly);
        (r.weekdays, r.interval) = (vec![Day::Mon, Day::Thu], 2);
        let got = upcoming(&r, nine, &TimeZone::UTC, at("2025-12-01T00:00:00Z"), 3);
        assert_eq!(got, vec![at("2026-01-01T09:00:00Z"), at("2026-01-12T09:00:00Z"), at("2026-01-15T09:00:00Z")]);
    }

    #[test]
    fn daylight_saving() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let r = rule(Kind::Daily);
        // 2026-03-08 02:30 does not exist in New York: the clocks jump at 07:00Z.
        let got = next_after(&r, time(2, 30, 0, 0), &ny, at("2026-03-07T12:00:00Z"));
        assert_eq!(got, Some(at("2026-03-08T07:00:00Z")));
        // 2026-11-01 01:30 happens twice: the first (EDT, 05:30Z), once.
        let got = upcoming(&r, time(1, 30, 0, 0), &ny, at("2026-10-31T12:00:00Z"), 2);
        assert_eq!(got, vec![at("2026-11-01T05:30:00Z"), at("2026-11-02T06:30:00Z")]);
    }

    #[test]
    fn checks() {
        assert!(rule(Kind::Daily).check().is_ok());
        assert_eq!(rule(Kind::Weekly).check().unwrap_err().0, "schedule.weekdays");
        assert_eq!(rule(Kind::MonthlyDay).check().unwrap_err().0, "schedule.day");
        let mut r = rule(Kind::MonthlyDay);
        r.day = Some(32);
        assert_eq!(r.check().unwrap_err().0, "schedule.day");
        let mut r = rule(Kind::Daily);
        r.interval = 0;
        assert_eq!(r.check().unwrap_err().0, "schedule.interval");
        r.interval = 1;
        r.nth = Some(Nth::First);
        assert_eq!(r.check().unwrap_err().0, "schedule.nth");
        let mut r = rule(Kind::MonthlyNth);
        r.nth = Some(Nth::First);
        assert_eq!(r.check().unwrap_err().0, "schedule.weekday");
        assert_eq!(parse_time("9:05"), Some(time(9, 5, 0, 0)));
        assert_eq!(parse_time("23:59:30"), Some(time(23, 59, 30, 0)));
        assert!(
            parse_time("24:00").is_none()
                && parse_time("09:5").is_none()
                && parse_time("x").is_none()
                && parse_time("1:02:03:04").is_none()
        );
        assert_eq!((fmt_hhmm(time(9, 0, 0, 0)), fmt_hhmm(time(9, 0, 5, 0))), ("09:00".into(), "09:00:05".into()));
    }

    #[test]
    fn catching_up_creates_the_latest_missed_only() {
        let r = rule(Kind::Daily);
        let nine = time(9, 0, 0, 0);
        let (act, next) = catch_up(&r, nine, &TimeZone::UTC, at("2026-02-01T09:00:00Z"), at("2026-02-05T12:00:00Z"));
        assert_eq!((act, next), (Some(at("2026-02-05T09:00:00Z")), Some(at("2026-02-06T09:00:00Z"))));
        let (act, next) = catch_up(&r, nine, &TimeZone::UTC, at("2026-02-06T09:00:00Z"), at("2026-02-05T12:00:00Z"));
        assert_eq!((act, next), (None, Some(at("2026-02-06T09:00:00Z"))));
    }

    fn arb_rule() -> impl Strategy<Value = Rule> {
        (0usize..6, 1u32..5, proptest::collection::vec(0usize..7, 1..4), 1i8..=31, 0usize..5, 0usize..7, 0i64..800).prop_map(
            |(k, interval, days, day, nth, wd, start)| {
                let kind = Kind::ALL[k];
                let mut r = Rule {
                    kind,
                    interval,
                    weekdays: vec![],
                    day: None,
                    nth: None,
                    weekday: None,
                    starts_on: date(2025, 1, 1) + start.days(),
                };
                match kind {
                    Kind::Weekly => r.weekdays = days.into_iter().map(|i| Day::ALL[i]).collect(),
                    Kind::MonthlyDay => r.day = Some(day),
                    Kind::MonthlyNth => (r.nth, r.weekday) = (Some(Nth::ALL[nth]), Some(Day::ALL[wd])),
                    _ => {}
                }
                r.normalized()
            },
        )
    }

    /// The first occurrence after `after`, by walking every local date.
    fn brute(r: &Rule, t: Time, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
        let mut d = tz.to_datetime(after).date() - 2.days();
        for _ in 0..(4000 * r.interval) {
            if matches(r, d) {
                let ts = instant(d, t, tz).unwrap();
                if ts > after {
                    return Some(ts);
                }
            }
            d += 1.day();
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn next_after_is_the_next_matching_local_date(
            r in arb_rule(),
            zone in 0usize..ZONES.len(),
            minute in 0i32..1440,
            after in 1_700_000_000i64..1_900_000_000,
            later in 0i64..40_000_000,
        ) {
            prop_assert!(r.check().is_ok(), "{r:?}");
            let tz = TimeZone::get(ZONES[zone]).unwrap();
            let t = time((minute / 60) as i8, (minute % 60) as i8, 0, 0);
            let a = Timestamp::from_second(after).unwrap();
            let next = next_after(&r, t, &tz, a).unwrap();
            // Strictly after, and nothing skipped: the walk finds the same.
            prop_assert!(next > a);
            prop_assert_eq!(Some(next), brute(&r, t, &tz, a));
            // On a matching date at the time asked, or (in a gap) at the jump.
            let local = tz.to_datetime(next);
            let on_time = local.time() == t && matches(&r, local.date());
            let jump = tz.preceding(next + 1.second()).next().is_some_and(|tr| tr.timestamp() == next);
            prop_assert!(on_time || jump, "{local} for {t} {r:?}");
            // Monotone.
            let b = Timestamp::from_second(after + later).unwrap();
            prop_assert!(next_after(&r, t, &tz, b).unwrap() >= next);
            // The date search agrees with the definition at every step.
            let d = tz.to_datetime(a).date();
            let found = next_date(&r, d).unwrap();
            prop_assert!(matches(&r, found) && found >= d);
            let mut x = d;
            while x < found { prop_assert!(!matches(&r, x)); x += 1.day(); }
        }

        #[test]
        fn catch_up_acts_once_and_lands_after_now(r in arb_rule(), due in 1_700_000_000i64..1_800_000_000, gap in 0i64..90_000_000) {
            let t = time(9, 0, 0, 0);
            let due = next_after(&r, t, &TimeZone::UTC, Timestamp::from_second(due).unwrap()).unwrap();
            let now = due + jiff::SignedDuration::from_secs(gap);
            let (act, next) = catch_up(&r, t, &TimeZone::UTC, due, now);
            let (act, next) = (act.unwrap(), next.unwrap());
            prop_assert!(due <= act && act <= now && next > now);
            prop_assert_eq!(next_after(&r, t, &TimeZone::UTC, act), Some(next));
        }
    }
}
