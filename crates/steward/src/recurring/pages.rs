//! `/tickets/recurring`: the recurring tickets of the caller's clients,
//! what each opens and when next, switching one off or on, removing one,
//! and a form for a new one (post/redirect/get).

use super::model::{Day, Kind, Nth, Rule};
use super::ops::{self, NewRecurring, Recurring, RecurringPatch};
use super::store::Filter;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html_status;
use crate::time::fmt_time;
use crate::web::error::{form_error, see_other, status_for, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;

/// One schedule as listed.
pub struct Line {
    pub r: Recurring,
    pub next: String,
    pub last: String,
}

#[derive(Template)]
#[template(path = "recurring.html")]
struct RecurringPage {
    l: Layout,
    lines: Vec<Line>,
    total: i64,
    clients: Vec<(i64, String)>,
    kinds: Vec<&'static str>,
    days: Vec<&'static str>,
    nths: Vec<&'static str>,
    can_write: bool,
}

async fn page(app: &App, p: &Principal, error: Option<String>) -> PageResult {
    p.require(Permission::TicketsRead)?;
    let mut db = app.store.snapshot().await?;
    let (rows, total) = super::store::list(&mut db, &Filter { scope: p.clients.clone(), ..Default::default() }, 500, 0).await?;
    let mut lines = vec![];
    for row in rows {
        let r = ops::view(&mut db, row).await?;
        let next = r.next_run_at.map(|t| fmt_time(t.micros())).unwrap_or_else(|| "off".into());
        let last = r.last_run_at.map(|t| fmt_time(t.micros())).unwrap_or_default();
        lines.push(Line { r, next, last });
    }
    let (clients, _) = crate::tenancy::store::list_clients(
        &mut db,
        &crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: false, search: None },
        500,
        0,
    )
    .await?;
    Ok(html_status(
        status_for(&error),
        &RecurringPage {
            l: Layout::new(app, p, "Recurring tickets", "tickets").with_error(error),
            lines,
            total,
            clients: clients.into_iter().map(|c| (c.id, c.name)).collect(),
            kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
            days: Day::ALL.iter().map(|d| d.as_str()).collect(),
            nths: Nth::ALL.iter().map(|n| n.as_str()).collect(),
            can_write: p.can(Permission::TicketsWrite),
        },
    ))
}

pub async fn show(State(app): State<App>, p: Principal) -> PageResult {
    page(&app, &p, None).await
}

fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

fn id(f: &[(String, String)], k: &str) -> Result<Option<i64>, ApiError> {
    field(f, k).map(|v| v.parse().map_err(|_| ApiError::invalid(k, "choose one from the list"))).transpose()
}

/// The form's schedule fields as a rule (the form shows every field; only
/// the chosen kind's count).
fn rule(f: &[(String, String)]) -> Result<Rule, ApiError> {
    let kind = Kind::parse(field(f, "kind").unwrap_or("")).ok_or_else(|| ApiError::invalid("schedule.kind", "choose how often"))?;
    let interval = match field(f, "interval") {
        Some(v) => v.parse().map_err(|_| ApiError::invalid("schedule.interval", "a whole number, 1–99"))?,
        None => 1,
    };
    let starts_on = match field(f, "starts_on") {
        Some(v) => v.parse().map_err(|_| ApiError::invalid("schedule.starts_on", "a date such as 2026-01-31"))?,
        None => jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date(),
    };
    let mut r = Rule { kind, interval, weekdays: vec![], day: None, nth: None, weekday: None, starts_on };
    match kind {
        Kind::Weekly => r.weekdays = f.iter().filter(|(k, _)| k == "weekdays").filter_map(|(_, v)| Day::parse(v)).collect(),
        Kind::MonthlyDay => {
            r.day = Some(
                field(f, "day")
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| ApiError::invalid("schedule.day", "a day of the month, 1–31"))?,
            )
        }
        Kind::MonthlyNth => {
            r.nth = Nth::ALL.into_iter().find(|n| Some(n.as_str()) == field(f, "nth"));
            r.weekday = field(f, "weekday").and_then(Day::parse);
        }
        _ => {}
    }
    Ok(r)
}

pub async fn create(State(app): State<App>, p: Principal, WebForm(f): WebForm<Vec<(String, String)>>) -> PageResult {
    let made = async {
        let client = id(&f, "client_id")?.ok_or_else(|| ApiError::invalid("client_id", "choose a client"))?;
        let input = NewRecurring {
            subject: field(&f, "subject").unwrap_or("").to_string(),
            body: field(&f, "body").map(String::from),
            schedule: Some(rule(&f)?),
            time: field(&f, "time").unwrap_or("").to_string(),
            timezone: field(&f, "timezone").map(String::from),
            site_id: id(&f, "site_id")?,
            priority: field(&f, "priority").map(String::from),
            tags: field(&f, "tags")
                .map(|t| t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            ..Default::default()
        };
        ops::create(&app, &p, client, input).await
    }
    .await;
    match made {
        Ok(_) => Ok(see_other("/tickets/recurring")),
        Err(e) => page(&app, &p, Some(form_error(e)?)).await,
    }
}

pub async fn toggle(State(app): State<App>, p: Principal, ApiPath((client, rid)): ApiPath<(i64, i64)>) -> PageResult {
    let mut db = app.store.snapshot().await?;
    let row = super::store::get(&mut db, p.client(client)?, rid).await?.ok_or(ApiError::NotFound)?;
    drop(db);
    let patch = RecurringPatch { active: Some(!row.active), ..Default::default() };
    match ops::update(&app, &p, client, rid, patch).await {
        Ok(_) => Ok(see_other("/tickets/recurring")),
        Err(e) => page(&app, &p, Some(form_error(e)?)).await,
    }
}

pub async fn delete(State(app): State<App>, p: Principal, ApiPath((client, rid)): ApiPath<(i64, i64)>) -> PageResult {
    match ops::remove(&app, &p, client, rid).await {
        Ok(()) => Ok(see_other("/tickets/recurring")),
        Err(e) => page(&app, &p, Some(form_error(e)?)).await,
    }
}
