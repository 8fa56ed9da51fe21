//! Audited changes to recurring tickets: create, change, remove, each
//! validated (400 naming the field; 422 for a site, contact, assignee,
//! board or priority that is not this client's or not in use) and written
//! with its audit entry in one transaction.
//!
//! Writing one needs `tickets:write`, like opening a ticket by hand: a
//! schedule only opens, later, the ticket its writer could open now (the
//! same client scope, the same checks on every field, repeated at each
//! occurrence), and setting up "monthly maintenance" is a technician's
//! daily work, not configuration of the service desk.

use super::model::{fmt_hhmm, next_after, parse_time, upcoming, Rule};
use super::store::{self, RecurringRow, RecurringTickets as R};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;
use crate::tickets::ops::resolve;
use crate::time::{now_us, Timestamp};
use crate::validate::{Message, Name};
use jiff::tz::TimeZone;
use sea_query::SimpleExpr;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How many coming occurrences a schedule shows.
pub const PREVIEW: usize = 5;

/// A new recurring ticket.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecurring {
    #[schema(value_type = crate::validate::Name)]
    pub subject: String,
    /// The first entry of each ticket's thread.
    #[schema(value_type = Option<crate::validate::Message>)]
    pub body: Option<String>,
    #[schema(value_type = Rule, required = true)]
    pub schedule: Option<Rule>,
    /// Local time of day, `HH:MM` (24-hour; `HH:MM:SS` is taken too).
    #[schema(pattern = r"^([0-9]|[01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", example = "09:00")]
    pub time: String,
    /// An IANA zone; default: the site's (clients have no zone of their own,
    /// so without a site it is required).
    #[schema(value_type = Option<crate::validate::TimeZone>)]
    pub timezone: Option<String>,
    pub site_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// Default: the first board, when each ticket is opened.
    pub board_id: Option<i64>,
    /// A priority code, e.g. `P3` (default: the middle priority, when each
    /// ticket is opened).
    pub priority: Option<String>,
    /// `incident`, `service_request` (default), `problem` or `change`.
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Default `true`.
    pub active: Option<bool>,
}

/// Changes to a recurring ticket; absent fields stay, `null` clears an
/// optional one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub subject: Option<String>,
    #[schema(value_type = Option<crate::validate::Message>)]
    pub body: Option<String>,
    pub schedule: Option<Rule>,
    #[schema(pattern = r"^([0-9]|[01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", example = "09:00")]
    pub time: Option<String>,
    #[schema(value_type = Option<crate::validate::TimeZone>)]
    pub timezone: Option<String>,
    #[serde(default, with = "crate::validate::double_option")]
    pub site_id: Option<Option<i64>>,
    #[serde(default, with = "crate::validate::double_option")]
    pub contact_id: Option<Option<i64>>,
    #[serde(default, with = "crate::validate::double_option")]
    pub assignee_id: Option<Option<i64>>,
    #[serde(default, with = "crate::validate::double_option")]
    pub board_id: Option<Option<i64>>,
    #[serde(default, with = "crate::validate::double_option")]
    pub priority: Option<Option<String>>,
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    pub tags: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// A recurring ticket as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recurring {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub site_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub board_id: Option<i64>,
    pub priority: Option<String>,
    #[serde(rename = "type")]
    pub ticket_type: String,
    pub subject: String,
    pub body: String,
    pub tags: Vec<String>,
    pub schedule: Rule,
    /// The schedule in words, e.g. "every month on the first weekday".
    pub schedule_text: String,
    pub time: String,
    pub timezone: String,
    pub active: bool,
    /// The next occurrence (none while switched off).
    pub next_run_at: Option<Timestamp>,
    /// The next few occurrences, the first being `next_run_at`.
    pub upcoming: Vec<Timestamp>,
    pub last_run_at: Option<Timestamp>,
    pub last_ticket_id: Option<i64>,
    /// Why the last occurrence opened no ticket.
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a schedule row means: its rule, time and zone, read back.
pub(crate) struct When {
    pub rule: Rule,
    pub time: jiff::civil::Time,
    pub tz: TimeZone,
}

pub(crate) fn when(r: &RecurringRow) -> anyhow::Result<When> {
    let rule: Rule = serde_json::from_str(&r.schedule)?;
    let s = r.time_of_day;
    let time = jiff::civil::Time::new((s / 3600) as i8, (s / 60 % 60) as i8, (s % 60) as i8, 0)?;
    Ok(When { rule, time, tz: TimeZone::get(&r.timezone)? })
}

fn ts(us: i64) -> Timestamp {
    Timestamp(us)
}

fn jiff_ts(us: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(us).unwrap_or(jiff::Timestamp::MAX)
}

/// The API's view of a row.
pub async fn view(db: &mut impl Db, r: RecurringRow) -> Result<Recurring, ApiError> {
    let w = when(&r).map_err(ApiError::internal)?;
    let priority = match r.priority_id {
        Some(id) => crate::tickets::store::config::priorities(db).await?.into_iter().find(|p| p.id == id).map(|p| p.code),
        None => None,
    };
    let upcoming = match r.next_run_at {
        Some(n) => {
            let mut list = vec![ts(n)];
            list.extend(upcoming(&w.rule, w.time, &w.tz, jiff_ts(n), PREVIEW - 1).into_iter().map(|t| ts(t.as_microsecond())));
            list
        }
        None => vec![],
    };
    Ok(Recurring {
        id: r.id,
        client_id: r.client_id,
        client_name: r.client_name,
        site_id: r.site_id,
        contact_id: r.contact_id,
        assignee_id: r.assignee_id,
        board_id: r.board_id,
        priority,
        ticket_type: r.ticket_type,
        subject: r.subject,
        body: r.body,
        tags: serde_json::from_str(&r.tags).unwrap_or_default(),
        schedule_text: w.rule.describe(),
        schedule: w.rule,
        time: fmt_hhmm(w.time),
        timezone: r.timezone,
        active: r.active,
        next_run_at: r.next_run_at.map(ts),
        upcoming,
        last_run_at: r.last_run_at.map(ts),
        last_ticket_id: r.last_ticket_id,
        last_error: r.last_error,
        created_by: r.created_by,
        created_at: ts(r.created_at),
        updated_at: ts(r.updated_at),
    })
}

/// Everything a schedule says, before it is checked.
struct Spec {
    subject: String,
    body: String,
    rule: Option<Rule>,
    time: String,
    timezone: Option<String>,
    site_id: Option<i64>,
    contact_id: Option<i64>,
    assignee_id: Option<i64>,
    board_id: Option<i64>,
    priority: Option<String>,
    ticket_type: Option<String>,
    tags: Vec<String>,
    active: bool,
}

/// Checks a spec against the client's records; the columns to write,
/// with `next_run_at` worked out from `now`.
async fn checked(db: &mut impl Db, client: ScopedClient, s: Spec, now: i64) -> Result<Vec<(R, SimpleExpr)>, ApiError> {
    let subject = Name::parse(&s.subject).map_err(|m| ApiError::invalid("subject", m))?;
    let body = Message::parse(&s.body).map_err(|m| ApiError::invalid("body", m))?;
    let rule = s.rule.ok_or_else(|| ApiError::invalid("schedule", "a schedule is required"))?.normalized();
    rule.check().map_err(|(f, m)| ApiError::refused(f, m))?;
    let time =
        parse_time(&s.time).ok_or_else(|| ApiError::invalid("time", "a time of day such as 09:00 (00:00–23:59, seconds optional)"))?;
    let ticket_type = match &s.ticket_type {
        Some(t) => resolve::ticket_type(t)?,
        None => crate::tickets::model::TicketType::ServiceRequest,
    };
    let tags = crate::tickets::model::tags(&s.tags).map_err(|m| ApiError::refused("tags", m))?;
    let site = match s.site_id {
        Some(id) => Some(
            crate::tenancy::store::get_site(db, client, id)
                .await?
                .ok_or_else(|| ApiError::refused("site_id", "is not a site of this client"))?,
        ),
        None => None,
    };
    let zone = match (s.timezone.as_deref().map(str::trim).filter(|z| !z.is_empty()), &site) {
        (Some(z), _) => crate::validate::TimeZone::parse(z).map_err(|m| ApiError::invalid("timezone", m))?.into_string(),
        (None, Some(site)) => site.timezone.clone(),
        (None, None) => {
            return Err(ApiError::refused("timezone", "an IANA time zone such as Europe/London (or choose a site, whose zone is used)"))
        }
    };
    let tz = TimeZone::get(&zone).map_err(|_| ApiError::refused("timezone", format!("{zone:?} is not a time zone this server knows")))?;
    let contact = match s.contact_id {
        Some(c) => Some(resolve::contact(db, client, c).await?),
        None => None,
    };
    let assignee = match s.assignee_id {
        Some(u) => Some(resolve::assignee(db, client.id(), u).await?),
        None => None,
    };
    let board = match s.board_id {
        Some(b) => Some(resolve::board(db, Some(b)).await?.id),
        None => None,
    };
    let priority = match &s.priority {
        Some(code) => Some(resolve::priority(db, code).await?.id),
        None => None,
    };
    let next = if s.active { next_after(&rule, time, &tz, jiff_ts(now)).map(|t| t.as_microsecond()) } else { None };
    Ok(vec![
        (R::SiteId, site.map(|s| s.id).into()),
        (R::ContactId, contact.into()),
        (R::AssigneeId, assignee.into()),
        (R::BoardId, board.into()),
        (R::PriorityId, priority.into()),
        (R::TicketType, ticket_type.as_str().into()),
        (R::Subject, subject.into()),
        (R::Body, body.into()),
        (R::Tags, serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()).into()),
        (R::Schedule, serde_json::to_string(&rule).map_err(ApiError::internal)?.into()),
        (R::TimeOfDay, (i64::from(time.hour()) * 3600 + i64::from(time.minute()) * 60 + i64::from(time.second())).into()),
        (R::Timezone, zone.into()),
        (R::Active, s.active.into()),
        (R::NextRunAt, next.into()),
        (R::UpdatedAt, now.into()),
    ])
}

pub async fn create(app: &App, p: &Principal, client_id: i64, input: NewRecurring) -> Result<Recurring, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let client = p.client(client_id)?;
    let now = now_us();
    let spec = Spec {
        subject: input.subject,
        body: input.body.unwrap_or_default(),
        rule: input.schedule,
        time: input.time,
        timezone: input.timezone,
        site_id: input.site_id,
        contact_id: input.contact_id,
        assignee_id: input.assignee_id,
        board_id: input.board_id,
        priority: input.priority,
        ticket_type: input.ticket_type,
        tags: input.tags,
        active: input.active.unwrap_or(true),
    };
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    crate::tenancy::store::get_client(db, client).await?.ok_or(ApiError::NotFound)?;
    let mut cols = checked(db, client, spec, now).await?;
    cols.extend([(R::ClientId, client_id.into()), (R::CreatedBy, p.user.id.into()), (R::CreatedAt, now.into())]);
    let id = store::insert(db, cols).await?;
    let fresh = store::get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    let r = view(db, fresh).await?;
    tx.commit(&p.actor(), Event::new("recurring_ticket.create", "recurring_ticket", id).client(client_id).details(json!({"after": r})))
        .await?;
    Ok(r)
}

pub async fn update(app: &App, p: &Principal, client_id: i64, id: i64, patch: RecurringPatch) -> Result<Recurring, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let client = p.client(client_id)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let row = store::get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    let before = view(db, row.clone()).await?;
    let w = when(&row).map_err(ApiError::internal)?;
    // A changed site brings its zone unless a zone is given too.
    let timezone = match (&patch.timezone, &patch.site_id) {
        (Some(z), _) => Some(z.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(row.timezone.clone()),
    };
    // The next run moves only if when it runs changed (or it was switched
    // on): renaming a schedule does not skip or repeat its next occurrence.
    let same_when = patch.schedule.is_none()
        && patch.time.is_none()
        && patch.timezone.is_none()
        && patch.site_id.is_none()
        && patch.active.is_none_or(|a| a == row.active);
    let spec = Spec {
        subject: patch.subject.unwrap_or(before.subject.clone()),
        body: patch.body.unwrap_or(before.body.clone()),
        rule: Some(patch.schedule.unwrap_or(w.rule)),
        time: patch.time.unwrap_or(before.time.clone()),
        timezone,
        site_id: patch.site_id.unwrap_or(row.site_id),
        contact_id: patch.contact_id.unwrap_or(row.contact_id),
        assignee_id: patch.assignee_id.unwrap_or(row.assignee_id),
        board_id: patch.board_id.unwrap_or(row.board_id),
        priority: patch.priority.unwrap_or(before.priority.clone()),
        ticket_type: Some(patch.ticket_type.unwrap_or(before.ticket_type.clone())),
        tags: patch.tags.unwrap_or(before.tags.clone()),
        active: patch.active.unwrap_or(row.active),
    };
    let mut cols = checked(db, client, spec, now).await?;
    if same_when {
        cols.retain(|(c, _)| !matches!(c, R::NextRunAt));
    }
    store::update(db, id, cols).await?;
    let fresh = store::get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    let after = view(db, fresh).await?;
    tx.commit_change(&p.actor(), Event::new("recurring_ticket.update", "recurring_ticket", id).client(client_id), &before, &after).await?;
    Ok(after)
}

pub async fn remove(app: &App, p: &Principal, client_id: i64, id: i64) -> Result<(), ApiError> {
    p.require(Permission::TicketsWrite)?;
    let client = p.client(client_id)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let fresh = store::get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    let before = view(db, fresh).await?;
    store::delete(db, id).await?;
    tx.commit(
        &p.actor(),
        Event::new("recurring_ticket.delete", "recurring_ticket", id).client(client_id).details(json!({"before": before})),
    )
    .await?;
    Ok(())
}
