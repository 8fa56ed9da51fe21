//! SLA attainment: for the tickets opened in a period, how many first
//! responses and resolutions met their targets, per client, technician,
//! priority or month, with the median and 90th percentile of the business
//! time they took. Every clock is worked out again from the ticket's
//! stored history and the targets it started with, exactly as the ticket
//! page shows it, so the report and the ticket never disagree.

pub mod api;
pub mod model;
pub mod pages;
pub mod params;
pub mod store;

use self::model::{summarize, Figures, Group, Measured, Outcome};
use self::params::Ask;
use crate::error::ApiError;
use crate::sla::model::{ticket_clocks, Calendar, CalendarSpec, Targets, TicketTimes};
use crate::store::Db;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// A report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlaReport {
    /// The first instant counted (the start of `from` in `timezone`).
    pub from: Timestamp,
    /// The first instant no longer counted.
    pub to: Timestamp,
    pub timezone: String,
    pub group: Group,
    /// One row per group, in order (clients and technicians by name,
    /// priorities by their place, months in time).
    pub rows: Vec<Figures>,
    pub total: Figures,
}

/// The report `ask` asks for, as of `now` (UTC µs), read in one snapshot.
pub async fn build(db: &mut impl Db, ask: &Ask, now: i64) -> Result<SlaReport, ApiError> {
    let tickets = store::tickets(db, &ask.period).await?;
    let mut pauses = store::pauses(db, &ask.period).await?;
    // Tickets of one policy share one calendar: build each once.
    let mut calendars: HashMap<String, Option<Calendar>> = HashMap::new();
    let outcomes: Vec<Outcome> = tickets
        .into_iter()
        .map(|t| {
            let (sort, key, label) = group_of(&t, ask);
            let clocks = match (&t.sla_calendar, t.sla_first_response_secs, t.sla_resolution_secs, t.sla_warn_permille) {
                (Some(spec), Some(fr), Some(res), Some(warn)) => calendars
                    .entry(spec.clone())
                    .or_insert_with(|| serde_json::from_str::<CalendarSpec>(spec).ok().and_then(|s| s.build().ok()))
                    .as_ref()
                    .map(|cal| {
                        let times = TicketTimes {
                            opened_at: t.opened_at,
                            first_response_at: t.first_response_at,
                            resolved_at: t.resolved_at,
                            pauses: pauses.remove(&t.id).unwrap_or_default(),
                        };
                        let targets = Targets { first_response_secs: fr, resolution_secs: res, warn_permille: warn };
                        let c = ticket_clocks(cal, &targets, &times, now);
                        (Measured::of(&c.first_response), Measured::of(&c.resolution))
                    }),
                _ => None,
            };
            Outcome { sort, key, label, clocks }
        })
        .collect();
    let (rows, total) = summarize(&outcomes);
    Ok(SlaReport {
        from: Timestamp(ask.period.from),
        to: Timestamp(ask.period.to),
        timezone: ask.timezone.clone(),
        group: ask.group,
        rows,
        total,
    })
}

/// The group a ticket falls in: (what sorts it, its key, its label).
fn group_of(t: &store::ReportTicket, ask: &Ask) -> (String, String, String) {
    match ask.group {
        Group::Client => (format!("{}\u{0}{}", t.client_name.to_lowercase(), t.client_id), t.client_id.to_string(), t.client_name.clone()),
        Group::Technician => match (&t.assignee_id, &t.assignee_name) {
            (Some(id), Some(name)) => (format!("0{}\u{0}{id}", name.to_lowercase()), id.to_string(), name.clone()),
            // Unassigned sorts last.
            _ => ("1".into(), "none".into(), "Unassigned".into()),
        },
        Group::Priority => {
            (format!("{:020}\u{0}{}", t.priority_position.max(0), t.priority_code), t.priority_code.clone(), t.priority_code.clone())
        }
        Group::Month => {
            let z = jiff::Timestamp::from_microsecond(t.opened_at).unwrap_or_default().to_zoned(ask.tz.clone());
            let key = format!("{:04}-{:02}", z.year(), z.month());
            (key.clone(), key, z.strftime("%b %Y").to_string())
        }
    }
}

/// The CSV columns, one row per group and a last row for the total.
pub const CSV_HEADER: [&str; 17] = [
    "group",
    "key",
    "label",
    "tickets",
    "with_sla",
    "first_response_met",
    "first_response_breached",
    "first_response_pending",
    "first_response_attainment_percent",
    "first_response_p50_business_minutes",
    "first_response_p90_business_minutes",
    "resolution_met",
    "resolution_breached",
    "resolution_pending",
    "resolution_attainment_percent",
    "resolution_p50_business_minutes",
    "resolution_p90_business_minutes",
];

/// The report's rows as CSV cells (the header is [`CSV_HEADER`]).
pub fn csv_rows(r: &SlaReport) -> Vec<Vec<String>> {
    let n = |v: u64| v.to_string();
    let pct = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let min = |v: Option<i64>| v.map(|s| format!("{:.1}", s as f64 / 60.0)).unwrap_or_default();
    r.rows
        .iter()
        .chain([&r.total])
        .map(|f| {
            let group = if std::ptr::eq(f, &r.total) { "total" } else { r.group.as_str() };
            let mut row = vec![group.to_string(), f.key.clone(), f.label.clone(), n(f.tickets), n(f.with_sla)];
            for c in [&f.first_response, &f.resolution] {
                row.extend([
                    n(c.met),
                    n(c.breached),
                    n(c.pending),
                    pct(c.attainment_percent),
                    min(c.p50_business_seconds),
                    min(c.p90_business_seconds),
                ]);
            }
            row
        })
        .collect()
}

/// The download's file name: `sla-report-2026-01-01-to-2026-07-01-client.csv`.
pub fn csv_name(ask: &Ask) -> String {
    format!("sla-report-{}-to-{}-{}.csv", ask.from_day, ask.to_day, ask.group.as_str())
}
