//! Audited changes to time: logging (manual or by timer) on a ticket of a
//! client the caller sees, changing or removing one's own entries (an
//! approved one only by an approver), approving a user's week, and the work
//! types.

use super::model::{may_change, timer_minutes, Week, MAX_MINUTES};
use super::store::{self, Change, EntryRow, NewEntry, TimeEntry, WorkType};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use crate::validate::{Medium, Name};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Time logged by hand.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTime {
    /// Whole minutes, 1–1440.
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: i64,
    /// When the work started (default: `minutes` ago).
    pub started_at: Option<Timestamp>,
    /// Default: the first work type.
    pub work_type_id: Option<i64>,
    /// Default: the work type's.
    pub billable: Option<bool>,
    #[serde(default)]
    #[schema(value_type = crate::validate::Medium)]
    pub note: String,
}

/// Starting a timer.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartTimer {
    pub work_type_id: Option<i64>,
    #[serde(default)]
    #[schema(value_type = crate::validate::Medium)]
    pub note: String,
}

/// Changes to an entry; absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimePatch {
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: Option<i64>,
    pub started_at: Option<Timestamp>,
    pub work_type_id: Option<i64>,
    pub billable: Option<bool>,
    #[schema(value_type = Option<crate::validate::Medium>)]
    pub note: Option<String>,
}

/// Approving (or reopening) one user's week.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub user_id: i64,
    /// An ISO week, e.g. `2026-W49` (Monday to Sunday, UTC).
    #[schema(value_type = crate::validate::shapes::IsoWeek)]
    pub week: String,
    /// `false` reopens the week for changes (default `true`).
    #[serde(default = "yes")]
    pub approve: bool,
}

fn yes() -> bool {
    true
}

/// What an approval did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Approved {
    pub week: String,
    pub entries: u64,
}

fn minutes(v: i64) -> Result<i64, ApiError> {
    if (1..=MAX_MINUTES).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::invalid("minutes", format!("whole minutes, 1–{MAX_MINUTES}")))
    }
}

fn note(v: &str) -> Result<String, ApiError> {
    Medium::parse(v).map(String::from).map_err(|m| ApiError::invalid("note", m))
}

async fn work_type(db: &mut impl Db, id: Option<i64>) -> Result<WorkType, ApiError> {
    let all = store::work_types(db).await?;
    match id {
        Some(id) => all
            .into_iter()
            .find(|w| w.id == id && !w.archived)
            .ok_or_else(|| ApiError::refused("work_type_id", "is not a work type in use")),
        // The oldest in use: "Remote support" unless the MSP changed it.
        None => {
            all.into_iter().filter(|w| !w.archived).min_by_key(|w| w.id).ok_or_else(|| ApiError::Conflict("no work type is in use".into()))
        }
    }
}

/// The ticket the caller means, of a client they see; its client id.
async fn ticket(db: &mut impl Db, p: &Principal, client_id: i64, ticket_id: i64) -> Result<i64, ApiError> {
    let t = crate::tickets::store::get(db, p.client(client_id)?, ticket_id).await?.ok_or(ApiError::NotFound)?;
    if t.merged_into.is_some() {
        return Err(ApiError::refused("ticket_id", "this ticket was merged; log time on the ticket it was merged into"));
    }
    Ok(t.client_id)
}

fn changeable(p: &Principal, e: &EntryRow) -> Result<(), ApiError> {
    let approver = p.can(Permission::ServiceDeskAdmin);
    if e.user_id != p.user.id && !approver {
        return Err(ApiError::Forbidden("only its author or a service-desk administrator may change a time entry".into()));
    }
    if !may_change(e.approved_at.is_some(), approver) {
        return Err(ApiError::Forbidden("this week is approved: ask the approver to change it".into()));
    }
    Ok(())
}

pub async fn add(app: &App, p: &Principal, client_id: i64, ticket_id: i64, input: NewTime) -> Result<TimeEntry, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let m = minutes(input.minutes)?;
    let note = note(&input.note)?;
    let now = now_us();
    let started = input.started_at.map(|t| t.micros()).unwrap_or(now - m * 60_000_000);
    if started > now + 300_000_000 {
        return Err(ApiError::refused("started_at", "is in the future"));
    }
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let client = ticket(db, p, client_id, ticket_id).await?;
    let wt = work_type(db, input.work_type_id).await?;
    let id = store::insert(
        db,
        NewEntry {
            ticket_id,
            client_id: client,
            user_id: p.user.id,
            work_type_id: wt.id,
            started_at: started,
            minutes: Some(m),
            billable: input.billable.unwrap_or(wt.billable),
            note: &note,
            now,
        },
    )
    .await?;
    let e: TimeEntry = store::get(db, ticket_id, id).await?.ok_or(ApiError::NotFound)?.into();
    tx.commit(&p.actor(), Event::new("time.add", "time_entry", id).client(client).details(json!({"after": e}))).await?;
    app.bus.publish(Happened::TicketChanged { ticket: ticket_id, client }).await;
    Ok(e)
}

pub async fn start_timer(app: &App, p: &Principal, client_id: i64, ticket_id: i64, input: StartTimer) -> Result<TimeEntry, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let note = note(&input.note)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let client = ticket(db, p, client_id, ticket_id).await?;
    if let Some(r) = store::running(db, p.user.id).await? {
        let number = crate::tickets::store::get_any(db, r.ticket_id)
            .await?
            .map(|t| crate::tickets::model::display_number(t.number))
            .unwrap_or_default();
        return Err(ApiError::Conflict(format!("your timer already runs on {number}: stop it first")));
    }
    let wt = work_type(db, input.work_type_id).await?;
    let id = store::insert(
        db,
        NewEntry {
            ticket_id,
            client_id: client,
            user_id: p.user.id,
            work_type_id: wt.id,
            started_at: now,
            minutes: None,
            billable: wt.billable,
            note: &note,
            now,
        },
    )
    .await?;
    let e: TimeEntry = store::get(db, ticket_id, id).await?.ok_or(ApiError::NotFound)?.into();
    tx.commit(&p.actor(), Event::new("time.timer_start", "time_entry", id).client(client).details(json!({"ticket_id": ticket_id}))).await?;
    app.bus.publish(Happened::TicketChanged { ticket: ticket_id, client }).await;
    Ok(e)
}

pub async fn stop_timer(app: &App, p: &Principal, client_id: i64, ticket_id: i64) -> Result<TimeEntry, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let client = ticket(db, p, client_id, ticket_id).await?;
    let r = store::running(db, p.user.id)
        .await?
        .filter(|r| r.ticket_id == ticket_id)
        .ok_or_else(|| ApiError::refused("ticket_id", "your timer is not running on this ticket"))?;
    let m = timer_minutes(r.started_at, now);
    store::update(db, r.id, Change { minutes: Some(m), ..Default::default() }, now).await?;
    let e: TimeEntry = store::get(db, ticket_id, r.id).await?.ok_or(ApiError::NotFound)?.into();
    tx.commit(&p.actor(), Event::new("time.timer_stop", "time_entry", r.id).client(client).details(json!({"after": e}))).await?;
    app.bus.publish(Happened::TicketChanged { ticket: ticket_id, client }).await;
    Ok(e)
}

pub async fn change(app: &App, p: &Principal, client_id: i64, ticket_id: i64, id: i64, patch: TimePatch) -> Result<TimeEntry, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let now = now_us();
    let mut c = Change {
        minutes: patch.minutes.map(minutes).transpose()?,
        billable: patch.billable,
        note: patch.note.as_deref().map(note).transpose()?,
        started_at: patch.started_at.map(|t| t.micros()),
        ..Default::default()
    };
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let client = ticket(db, p, client_id, ticket_id).await?;
    let before_row = store::get(db, ticket_id, id).await?.ok_or(ApiError::NotFound)?;
    changeable(p, &before_row)?;
    if before_row.minutes.is_none() && c.minutes.is_some() {
        return Err(ApiError::refused("minutes", "the timer is running: stop it first"));
    }
    if let Some(w) = patch.work_type_id {
        c.work_type_id = Some(work_type(db, Some(w)).await?.id);
    }
    store::update(db, id, c, now).await?;
    let before: TimeEntry = before_row.into();
    let after: TimeEntry = store::get(db, ticket_id, id).await?.ok_or(ApiError::NotFound)?.into();
    tx.commit_change(&p.actor(), Event::new("time.update", "time_entry", id).client(client), &before, &after).await?;
    app.bus.publish(Happened::TicketChanged { ticket: ticket_id, client }).await;
    Ok(after)
}

pub async fn remove(app: &App, p: &Principal, client_id: i64, ticket_id: i64, id: i64) -> Result<(), ApiError> {
    p.require(Permission::TicketsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let client = ticket(db, p, client_id, ticket_id).await?;
    let row = store::get(db, ticket_id, id).await?.ok_or(ApiError::NotFound)?;
    changeable(p, &row)?;
    store::delete(db, id).await?;
    let before: TimeEntry = row.into();
    tx.commit(&p.actor(), Event::new("time.delete", "time_entry", id).client(client).details(json!({"before": before}))).await?;
    app.bus.publish(Happened::TicketChanged { ticket: ticket_id, client }).await;
    Ok(())
}

/// A week as the API and the pages take it: 400 when it is not written
/// like one, 422 when no such week exists (`2026-W54`).
pub(crate) fn week(s: &str) -> Result<Week, ApiError> {
    Week::parse(s).ok_or_else(|| match Week::well_formed(s) {
        true => ApiError::refused("week", format!("{s} is not a week of that year")),
        false => ApiError::invalid("week", "an ISO week such as 2026-W49"),
    })
}

pub async fn approve(app: &App, p: &Principal, a: Approval) -> Result<Approved, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let week = week(&a.week)?;
    let (from, to) = week.range();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    crate::users::store::by_id(db, a.user_id).await?.ok_or_else(|| ApiError::refused("user_id", "is not a user"))?;
    let n = store::approve(db, a.user_id, from, to, p.user.id, a.approve.then(now_us)).await?;
    let action = if a.approve { "time.approve_week" } else { "time.reopen_week" };
    tx.commit(&p.actor(), Event::new(action, "user", a.user_id).details(json!({"week": week.to_string(), "entries": n}))).await?;
    Ok(Approved { week: week.to_string(), entries: n })
}

/// A new work type.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkType {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// Default `true`.
    pub billable: Option<bool>,
}

/// Changes to a work type.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkTypeInput {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub billable: Option<bool>,
    pub archived: Option<bool>,
}

pub async fn create_work_type(app: &App, p: &Principal, input: NewWorkType) -> Result<WorkType, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let name = Name::parse(&input.name).map_err(|m| ApiError::invalid("name", m))?;
    let mut tx = app.store.begin_audited().await?;
    let id = store::insert_work_type(tx.tx(), &name, input.billable.unwrap_or(true)).await?;
    let w = store::work_type(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(&p.actor(), Event::new("work_type.create", "work_type", id).details(json!({"after": w}))).await?;
    Ok(w)
}

pub async fn update_work_type(app: &App, p: &Principal, id: i64, input: WorkTypeInput) -> Result<WorkType, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let name = input.name.as_deref().map(Name::parse).transpose().map_err(|m| ApiError::invalid("name", m))?;
    let mut tx = app.store.begin_audited().await?;
    let before = store::work_type(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    store::update_work_type(tx.tx(), id, name.as_deref(), input.billable, input.archived).await?;
    let after = store::work_type(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("work_type.update", "work_type", id), &before, &after).await?;
    Ok(after)
}
