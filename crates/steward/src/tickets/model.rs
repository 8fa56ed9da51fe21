//! The service desk's rules, as pure functions: status kinds and what
//! moving between them does to the clocks (pauses, resolved and closed
//! instants), ticket types, entry kinds, tags, and ticket numbers.

use serde::Serialize;

/// The fixed kind every configurable status maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    New,
    Open,
    Waiting,
    Scheduled,
    Resolved,
    Closed,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::New, Kind::Open, Kind::Waiting, Kind::Scheduled, Kind::Resolved, Kind::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Open => "open",
            Kind::Waiting => "waiting",
            Kind::Scheduled => "scheduled",
            Kind::Resolved => "resolved",
            Kind::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still being worked on (not resolved or closed).
    pub fn is_active(self) -> bool {
        !matches!(self, Kind::Resolved | Kind::Closed)
    }

    /// The kinds still being worked on, for the queue's default filter.
    pub fn active() -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| k.is_active()).collect()
    }
}

/// Where a ticket stands, as far as its clocks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub kind: Kind,
    /// The status stops the resolution clock (a waiting one, by default).
    pub pauses_sla: bool,
}

impl Standing {
    /// The resolution clock stands still: paused, or stopped by resolution.
    pub fn clock_still(self) -> bool {
        self.pauses_sla || !self.kind.is_active()
    }
}

/// What a status change does, at instant `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effects {
    /// Start a pause interval of the resolution clock.
    pub open_pause: bool,
    /// End the open pause interval.
    pub close_pause: bool,
    /// `Some(Some(t))`: resolved at t; `Some(None)`: reopened.
    pub resolved_at: Option<Option<i64>>,
    /// `Some(Some(t))`: closed at t; `Some(None)`: no longer closed.
    pub closed_at: Option<Option<i64>>,
}

/// The effects of moving from one status to another. Resolution is a
/// pause until the ticket is reopened, so a reopened ticket's clock goes
/// on from where it stopped and the time it spent resolved never counts.
pub fn transition(from: Standing, to: Standing, at: i64) -> Effects {
    let mut e = Effects {
        open_pause: !from.clock_still() && to.clock_still(),
        close_pause: from.clock_still() && !to.clock_still(),
        ..Default::default()
    };
    if from.kind.is_active() && !to.kind.is_active() {
        e.resolved_at = Some(Some(at));
    } else if !from.kind.is_active() && to.kind.is_active() {
        e.resolved_at = Some(None);
    }
    match (from.kind == Kind::Closed, to.kind == Kind::Closed) {
        (false, true) => e.closed_at = Some(Some(at)),
        (true, false) => e.closed_at = Some(None),
        _ => {}
    }
    e
}

/// What a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketType {
    Incident,
    ServiceRequest,
    Problem,
    Change,
}

impl TicketType {
    pub const ALL: [TicketType; 4] = [TicketType::Incident, TicketType::ServiceRequest, TicketType::Problem, TicketType::Change];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketType::Incident => "incident",
            TicketType::ServiceRequest => "service_request",
            TicketType::Problem => "problem",
            TicketType::Change => "change",
        }
    }

    pub fn parse(s: &str) -> Option<TicketType> {
        TicketType::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            TicketType::Incident => "Incident",
            TicketType::ServiceRequest => "Service request",
            TicketType::Problem => "Problem",
            TicketType::Change => "Change",
        }
    }
}

/// An entry of a ticket's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// What was asked, as the ticket was opened.
    Request,
    /// A public reply (the client sees it); the first one from staff meets
    /// the first-response target.
    Reply,
    /// An internal note (staff only).
    Note,
    /// Something that happened: a status change, an assignment, a merge,
    /// an SLA warning or breach.
    Event,
}

impl EntryKind {
    pub const ALL: [EntryKind; 4] = [EntryKind::Request, EntryKind::Reply, EntryKind::Note, EntryKind::Event];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Request => "request",
            EntryKind::Reply => "reply",
            EntryKind::Note => "note",
            EntryKind::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

pub use crate::validate::tags::{tags, MAX_TAGS, MAX_TAG_LEN};

/// `1001` → `#1001`.
pub fn display_number(n: i64) -> String {
    format!("#{n}")
}

/// `#1001`, `1001` or ` #1001 ` → 1001.
pub fn parse_number(s: &str) -> Option<i64> {
    let t = s.trim();
    let t = t.strip_prefix('#').unwrap_or(t);
    (!t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok()).flatten()
}

/// A span of time for people: `3d 4h`, `2h 05m`, `12m`, `40s`.
pub fn span(us: i64) -> String {
    let s = us.unsigned_abs() / 1_000_000;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m:02}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// How the queue shows an SLA: a colour class and words. Due soon is as
/// loud as warning; breached louder; paused and met quiet.
pub fn sla_badge(state: Option<&str>, due_at: Option<i64>, now: i64) -> (&'static str, String) {
    match (state, due_at) {
        (None, _) => ("", String::new()),
        (Some("met"), _) => ("muted", "met".into()),
        (Some("paused"), _) => ("muted", "paused".into()),
        (Some("breached"), Some(d)) if d <= now => ("bad", format!("{} over", span(now - d))),
        (Some("breached"), _) => ("bad", "breached".into()),
        (Some("warning"), Some(d)) => ("warn", format!("due in {}", span(d - now))),
        (Some(_), Some(d)) => ("ok", format!("due in {}", span(d - now))),
        (Some(s), None) => ("muted", s.to_string()),
    }
}

/// The kind of a ticket's search document and outbox rows.
pub const SEARCH_KIND: &str = "ticket";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn standing() -> impl Strategy<Value = Standing> {
        (prop::sample::select(Kind::ALL.to_vec()), any::<bool>()).prop_map(|(kind, pauses_sla)| Standing { kind, pauses_sla })
    }

    proptest! {
        /// Following any walk through the statuses, the pauses recorded
        /// are exactly the stretches the clock stood still, one open at
        /// most, and resolved/closed instants are set exactly while the
        /// ticket is in such a status.
        #[test]
        fn walks_keep_pauses_and_instants_consistent(start in standing(), walk in prop::collection::vec(standing(), 0..30)) {
            let mut open = start.clock_still();
            let mut resolved = (!start.kind.is_active()).then_some(0);
            let mut closed = (start.kind == Kind::Closed).then_some(0);
            let mut at = start;
            for (i, next) in walk.into_iter().enumerate() {
                let e = transition(at, next, i as i64 + 1);
                prop_assert!(!(e.open_pause && e.close_pause));
                if e.open_pause { prop_assert!(!open); open = true; }
                if e.close_pause { prop_assert!(open); open = false; }
                if let Some(r) = e.resolved_at { resolved = r; }
                if let Some(c) = e.closed_at { closed = c; }
                prop_assert_eq!(open, next.clock_still());
                prop_assert_eq!(resolved.is_some(), !next.kind.is_active());
                prop_assert_eq!(closed.is_some(), next.kind == Kind::Closed);
                at = next;
            }
        }

        #[test]
        fn numbers_round_trip(n in 0i64..1_000_000_000_000) {
            prop_assert_eq!(parse_number(&display_number(n)), Some(n));
        }
    }

    #[test]
    fn resolving_then_reopening() {
        let open = Standing { kind: Kind::Open, pauses_sla: false };
        let waiting = Standing { kind: Kind::Waiting, pauses_sla: true };
        let resolved = Standing { kind: Kind::Resolved, pauses_sla: false };
        assert_eq!(transition(open, waiting, 5), Effects { open_pause: true, ..Default::default() });
        assert_eq!(transition(waiting, resolved, 6), Effects { resolved_at: Some(Some(6)), ..Default::default() });
        assert_eq!(transition(resolved, open, 7), Effects { close_pause: true, resolved_at: Some(None), ..Default::default() });
        assert_eq!(parse_number("#12a"), None);
    }

    #[test]
    fn spans_and_badges_read_well() {
        let m = 60_000_000;
        assert_eq!(span(40_000_000), "40s");
        assert_eq!(span(12 * m), "12m");
        assert_eq!(span(125 * m), "2h 05m");
        assert_eq!(span(-(3 * 24 * 60 + 250) * m), "3d 4h");
        assert_eq!(sla_badge(Some("running"), Some(130 * m), 0), ("ok", "due in 2h 10m".into()));
        assert_eq!(sla_badge(Some("breached"), Some(0), 15 * m), ("bad", "15m over".into()));
        assert_eq!(sla_badge(Some("paused"), None, 0).0, "muted");
        assert_eq!(sla_badge(None, None, 0), ("", String::new()));
    }
}
