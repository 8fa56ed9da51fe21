//! `/reports/sla`: the SLA report as a page: the period, grouping and
//! client asked for, attainment over the months as a chart (drawn by
//! `charts.js` from the JSON API), a table of the groups with their
//! attainment and business times, and the same report as a CSV download.
//! A refused request (a bad day, `to` before `from`) shows its message.

use super::api::report;
use super::model::{duration, ClockFigures, Figures, Group};
use super::params::SlaReportParams;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::http::extract::PageQuery;
use crate::http::page::html_status;
use crate::web::error::{form_error, status_for, PageResult};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;

/// One clock's cells.
struct Cells {
    met: u64,
    breached: u64,
    pending: u64,
    /// `93.3`, or empty when nothing was judged.
    attainment: String,
    p50: String,
    p90: String,
}

impl Cells {
    fn of(c: &ClockFigures) -> Cells {
        Cells {
            met: c.met,
            breached: c.breached,
            pending: c.pending,
            attainment: c.attainment_percent.map(|a| format!("{a:.1}")).unwrap_or_default(),
            p50: c.p50_business_seconds.map(duration).unwrap_or_default(),
            p90: c.p90_business_seconds.map(duration).unwrap_or_default(),
        }
    }
}

struct Line {
    label: String,
    /// Where the label leads: a client's own report by month.
    href: Option<String>,
    tickets: u64,
    with_sla: u64,
    first_response: Cells,
    resolution: Cells,
}

#[derive(Template)]
#[template(path = "report_sla.html")]
struct ReportPage {
    l: Layout,
    from: String,
    to: String,
    group: Group,
    groups: [Group; 4],
    client_id: Option<i64>,
    clients: Vec<(i64, String)>,
    timezone: String,
    lines: Vec<Line>,
    total: Option<Line>,
    /// The query of this report (for the CSV) and of its months (for the chart).
    query: String,
    trend_query: String,
}

impl ReportPage {
    fn client_is(&self, id: &i64) -> bool {
        self.client_id == Some(*id)
    }
}

impl Line {
    fn clocks(&self) -> [&Cells; 2] {
        [&self.first_response, &self.resolution]
    }
}

fn line(f: &Figures, href: Option<String>) -> Line {
    Line {
        label: f.label.clone(),
        href,
        tickets: f.tickets,
        with_sla: f.with_sla,
        first_response: Cells::of(&f.first_response),
        resolution: Cells::of(&f.resolution),
    }
}

pub async fn sla(State(app): State<App>, p: Principal, PageQuery(q): PageQuery<SlaReportParams>) -> PageResult {
    let (clients, _) = crate::tenancy::store::list_clients(
        &mut app.store.clone(),
        &crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: true, search: None },
        500,
        0,
    )
    .await?;
    let mut page = ReportPage {
        l: Layout::new(&app, &p, "SLA report", "reports"),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        group: q.group.unwrap_or_default(),
        groups: Group::ALL,
        client_id: q.client_id,
        clients: clients.into_iter().map(|c| (c.id, c.name)).collect(),
        timezone: q.timezone.clone().unwrap_or_else(|| "UTC".into()),
        lines: vec![],
        total: None,
        query: String::new(),
        trend_query: String::new(),
    };
    let mut error = None;
    match report(&app, &p, &q).await {
        Ok((ask, r)) => {
            (page.from, page.to, page.timezone) = (ask.from_day.to_string(), ask.to_day.to_string(), ask.timezone.clone());
            page.query = ask.query(ask.group);
            page.trend_query = ask.query(Group::Month);
            let mut months = ask.clone();
            page.lines = r
                .rows
                .iter()
                .map(|f| {
                    let href = (r.group == Group::Client).then(|| {
                        months.period.client_id = f.key.parse().ok();
                        format!("/reports/sla?{}", months.query(Group::Month))
                    });
                    line(f, href)
                })
                .collect();
            page.total = Some(line(&r.total, None));
        }
        Err(e) => error = Some(form_error(e)?),
    }
    page.l = page.l.with_error(error.clone());
    Ok(html_status(status_for(&error), &page))
}
