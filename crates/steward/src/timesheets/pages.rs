//! Time on the pages: the time section of a ticket's page (a panel: the
//! entries, the timer, logging by hand) and a technician's week as a
//! timesheet (`/timesheet`), which an approver locks.

use super::model::{hours, Week};
use super::ops::{self, Approval, NewTime, StartTimer};
use super::store::{self, Filter, WorkType};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html;
use crate::time::{fmt_time, now_us};
use crate::web::error::{form_error, see_other, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::{RawQuery, State};

pub struct Line {
    pub id: i64,
    pub when: String,
    pub who: String,
    pub work: String,
    pub time: String,
    pub minutes: i64,
    pub running: bool,
    pub since: i64,
    pub billable: bool,
    pub approved: bool,
    pub note: String,
    pub can_delete: bool,
    pub ticket: String,
    pub ticket_url: String,
}

#[derive(Template)]
#[template(path = "ticket_time.html")]
struct TicketTime {
    client_id: i64,
    ticket_id: i64,
    csrf: String,
    entries: Vec<Line>,
    total: String,
    billable: String,
    can_write: bool,
    running_here: bool,
    running_elsewhere: String,
    work_types: Vec<WorkType>,
}

fn line(p: &Principal, e: store::EntryRow) -> Line {
    let approver = p.can(Permission::ServiceDeskAdmin);
    Line {
        id: e.id,
        when: fmt_time(e.started_at),
        who: e.user_name,
        work: e.work_type,
        time: e.minutes.map(hours).unwrap_or_default(),
        minutes: e.minutes.unwrap_or(0),
        running: e.minutes.is_none(),
        since: e.started_at / 1000,
        billable: e.billable,
        approved: e.approved_at.is_some(),
        note: e.note,
        can_delete: p.can(Permission::TicketsWrite) && (approver || (e.user_id == p.user.id && e.approved_at.is_none())),
        ticket: String::new(),
        ticket_url: String::new(),
    }
}

pub const TICKET_PANEL: Panel = Panel { slot: Slot::Ticket, order: 10, render: ticket_time };

fn ticket_time<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client_id), Some(ticket_id)) = (ctx.client, ctx.ticket) else { return Ok(None) };
        if !p.can(Permission::TicketsRead) {
            return Ok(None);
        }
        let mut db = app.store.snapshot().await?;
        let rows = store::of_ticket(&mut db, ticket_id).await?;
        let running = store::running(&mut db, p.user.id).await?;
        let running_elsewhere = match &running {
            Some(r) if r.ticket_id != ticket_id => crate::tickets::store::get_any(&mut db, r.ticket_id)
                .await?
                .map(|t| crate::tickets::model::display_number(t.number))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let entries: Vec<Line> = rows.into_iter().map(|e| line(p, e)).collect();
        let total: i64 = entries.iter().map(|e| e.minutes).sum();
        let billable: i64 = entries.iter().filter(|e| e.billable).map(|e| e.minutes).sum();
        Fragment::render(&TicketTime {
            client_id,
            ticket_id,
            csrf: p.csrf().to_string(),
            entries,
            total: hours(total),
            billable: hours(billable),
            can_write: p.can(Permission::TicketsWrite),
            running_here: running.as_ref().is_some_and(|r| r.ticket_id == ticket_id),
            running_elsewhere,
            work_types: store::work_types(&mut db).await?.into_iter().filter(|w| !w.archived).collect(),
        })
        .map(Some)
    })
}

fn back(client: i64, ticket: i64) -> axum::response::Response {
    see_other(&format!("/clients/{client}/tickets/{ticket}#time"))
}

/// A form's error on a ticket's time: shown on an error page with the
/// message (the form is small; the ticket page is one click back).
fn refused(e: ApiError) -> PageResult {
    let msg = form_error(e)?;
    Err(ApiError::BadRequest(msg).into())
}

fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

pub async fn log_time(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, ticket)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let parsed = (|| -> Result<NewTime, ApiError> {
        Ok(NewTime {
            minutes: field(&f, "minutes")
                .ok_or_else(|| ApiError::invalid("minutes", "how many minutes"))?
                .parse()
                .map_err(|_| ApiError::invalid("minutes", "whole minutes"))?,
            work_type_id: field(&f, "work_type_id")
                .map(str::parse)
                .transpose()
                .map_err(|_| ApiError::invalid("work_type_id", "a work type"))?,
            billable: match field(&f, "billable") {
                None => None,
                Some(v) => Some(crate::web::error::checkbox("billable", Some(v))?),
            },
            note: field(&f, "note").unwrap_or("").to_string(),
            started_at: None,
        })
    })();
    match async { ops::add(&app, &p, client, ticket, parsed?).await }.await {
        Ok(_) => Ok(back(client, ticket)),
        Err(e) => refused(e),
    }
}

pub async fn start(State(app): State<App>, p: Principal, ApiPath((client, ticket)): ApiPath<(i64, i64)>) -> PageResult {
    match ops::start_timer(&app, &p, client, ticket, StartTimer::default()).await {
        Ok(_) => Ok(back(client, ticket)),
        Err(e) => refused(e),
    }
}

pub async fn stop(State(app): State<App>, p: Principal, ApiPath((client, ticket)): ApiPath<(i64, i64)>) -> PageResult {
    match ops::stop_timer(&app, &p, client, ticket).await {
        Ok(_) => Ok(back(client, ticket)),
        Err(e) => refused(e),
    }
}

pub async fn delete(State(app): State<App>, p: Principal, ApiPath((client, ticket, id)): ApiPath<(i64, i64, i64)>) -> PageResult {
    match ops::remove(&app, &p, client, ticket, id).await {
        Ok(()) => Ok(back(client, ticket)),
        Err(e) => refused(e),
    }
}

pub struct Day {
    pub label: String,
    pub lines: Vec<Line>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "timesheet.html")]
struct TimesheetPage {
    l: Layout,
    week: String,
    prev: String,
    next: String,
    user_id: i64,
    user_name: String,
    users: Vec<(i64, String)>,
    days: Vec<Day>,
    total: String,
    billable: String,
    approved: usize,
    entries: usize,
    can_approve: bool,
}

/// `/timesheet?week=2026-W49&user=5`: one user's week (default: the
/// caller's, this week).
pub async fn timesheet(State(app): State<App>, p: Principal, RawQuery(q): RawQuery) -> PageResult {
    p.require(Permission::TicketsRead)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let week = match field(&pairs, "week") {
        Some(w) => super::ops::week(w)?,
        None => Week::of(now_us()),
    };
    let can_approve = p.can(Permission::ServiceDeskAdmin);
    let user_id = match field(&pairs, "user") {
        Some(u) => u.parse().map_err(|_| ApiError::invalid("user", "a user id"))?,
        None => p.user.id,
    };
    if user_id != p.user.id && !can_approve && !p.can(Permission::UsersRead) {
        return Err(ApiError::Forbidden("only approvers see other people's timesheets".into()).into());
    }
    let mut db = app.store.snapshot().await?;
    let user = crate::users::store::by_id(&mut db, user_id).await?.ok_or(ApiError::NotFound)?;
    let (from, to) = week.range();
    let f = Filter { scope: p.clients.clone(), user_id: Some(user_id), from: Some(from), to: Some(to), ..Default::default() };
    let (rows, _) = store::list(&mut db, &f, 500, 0).await?;
    let mut days: Vec<Day> =
        week.days().iter().map(|d| Day { label: d.strftime("%a %d %b").to_string(), lines: vec![], total: String::new() }).collect();
    let (mut total, mut billable, mut approved, mut entries) = (0, 0, 0, 0);
    for r in rows {
        let day = ((r.started_at - from) / 86_400_000_000).clamp(0, 6) as usize;
        let number = crate::tickets::store::get_any(&mut db, r.ticket_id)
            .await?
            .map(|t| (crate::tickets::model::display_number(t.number), t.subject))
            .unwrap_or_default();
        let (client, ticket) = (r.client_id, r.ticket_id);
        let mut l = line(&p, r);
        l.ticket = format!("{} {}", number.0, number.1);
        l.ticket_url = format!("/clients/{client}/tickets/{ticket}#time");
        total += l.minutes;
        if l.billable {
            billable += l.minutes;
        }
        approved += usize::from(l.approved);
        entries += 1;
        days[day].lines.push(l);
    }
    for d in &mut days {
        d.total = hours(d.lines.iter().map(|l| l.minutes).sum());
    }
    let users = if can_approve {
        crate::users::store::with_permission(&mut db, Permission::TicketsWrite, None).await?
    } else {
        vec![(p.user.id, p.user.name.clone())]
    };
    Ok(html(&TimesheetPage {
        l: Layout::new(&app, &p, "Timesheet", "timesheet"),
        week: week.to_string(),
        prev: week.previous().to_string(),
        next: week.next().to_string(),
        user_id,
        user_name: user.name,
        users,
        days,
        total: hours(total),
        billable: hours(billable),
        approved,
        entries,
        can_approve,
    }))
}

pub async fn approve(State(app): State<App>, p: Principal, WebForm(f): WebForm<Vec<(String, String)>>) -> PageResult {
    let user_id: i64 = field(&f, "user_id").and_then(|v| v.parse().ok()).ok_or_else(|| ApiError::invalid("user_id", "a user"))?;
    let week = field(&f, "week").unwrap_or("").to_string();
    let approve = field(&f, "approve") != Some("false");
    match ops::approve(&app, &p, Approval { user_id, week: week.clone(), approve }).await {
        Ok(_) => Ok(see_other(&format!("/timesheet?week={week}&user={user_id}"))),
        Err(e) => refused(e),
    }
}
