//! Business calendars and SLA policies in the database, and the policy a
//! client's new tickets are measured against (its own, else the
//! installation's default).

use super::model::{CalendarSpec, WeeklySpan};
use crate::store::{Db, Result};
use crate::tenancy::store::Clients;
use crate::tickets::store::config::TicketPriorities;
use crate::time::Timestamp;
use sea_query::{Expr, Iden, Order, Query};
use serde::Serialize;

#[derive(Iden, Clone, Copy)]
pub(crate) enum BusinessCalendars {
    Table,
    Id,
    Name,
    Timezone,
    Always,
    Weekly,
    Holidays,
    CreatedAt,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum SlaPolicies {
    Table,
    Id,
    Name,
    CalendarId,
    WarnPermille,
    IsDefault,
    Archived,
    CreatedAt,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum SlaTargets {
    Table,
    PolicyId,
    PriorityId,
    FirstResponseMinutes,
    ResolutionMinutes,
}

#[derive(sqlx::FromRow)]
struct CalendarRow {
    id: i64,
    name: String,
    timezone: String,
    always: bool,
    weekly: String,
    holidays: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// A business calendar as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BusinessCalendar {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub always: bool,
    pub weekly: Vec<WeeklySpan>,
    pub holidays: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl BusinessCalendar {
    pub fn spec(&self) -> CalendarSpec {
        CalendarSpec { timezone: self.timezone.clone(), always: self.always, weekly: self.weekly.clone(), holidays: self.holidays.clone() }
    }
}

impl From<CalendarRow> for BusinessCalendar {
    fn from(r: CalendarRow) -> Self {
        BusinessCalendar {
            id: r.id,
            name: r.name,
            timezone: r.timezone,
            always: r.always,
            weekly: serde_json::from_str(&r.weekly).unwrap_or_default(),
            holidays: serde_json::from_str(&r.holidays).unwrap_or_default(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(crate) const CALENDAR_COLS: [BusinessCalendars; 8] = [
    BusinessCalendars::Id,
    BusinessCalendars::Name,
    BusinessCalendars::Timezone,
    BusinessCalendars::Always,
    BusinessCalendars::Weekly,
    BusinessCalendars::Holidays,
    BusinessCalendars::CreatedAt,
    BusinessCalendars::UpdatedAt,
];

pub async fn calendars(db: &mut impl Db) -> Result<Vec<BusinessCalendar>> {
    let rows: Vec<CalendarRow> = db
        .fetch_all(Query::select().columns(CALENDAR_COLS).from(BusinessCalendars::Table).order_by(BusinessCalendars::Name, Order::Asc))
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn calendar(db: &mut impl Db, id: i64) -> Result<Option<BusinessCalendar>> {
    let row: Option<CalendarRow> = db
        .fetch_optional(
            Query::select().columns(CALENDAR_COLS).from(BusinessCalendars::Table).and_where(Expr::col(BusinessCalendars::Id).eq(id)),
        )
        .await?;
    Ok(row.map(Into::into))
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: i64,
    name: String,
    calendar_id: i64,
    warn_permille: i64,
    is_default: bool,
    archived: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    policy_id: i64,
    code: String,
    first_response_minutes: i64,
    resolution_minutes: i64,
}

/// The targets of one priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// A priority code, e.g. `P1`.
    pub priority: String,
    /// Business minutes until the first public reply from staff.
    #[schema(minimum = 0)]
    pub first_response_minutes: i64,
    /// Business minutes until the ticket is resolved, not counting pauses.
    #[schema(minimum = 0)]
    pub resolution_minutes: i64,
}

/// An SLA policy as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlaPolicy {
    pub id: i64,
    pub name: String,
    pub calendar_id: i64,
    /// The fraction of a target after which a clock shows `warning`.
    pub warn_at: f64,
    /// The installation's default, for clients without their own policy.
    pub is_default: bool,
    pub archived: bool,
    pub targets: Vec<Target>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SlaPolicy {
    pub fn warn_permille(&self) -> i64 {
        (self.warn_at * 1000.0).round() as i64
    }

    pub fn target(&self, priority: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.priority == priority)
    }
}

const POLICY_COLS: [SlaPolicies; 8] = [
    SlaPolicies::Id,
    SlaPolicies::Name,
    SlaPolicies::CalendarId,
    SlaPolicies::WarnPermille,
    SlaPolicies::IsDefault,
    SlaPolicies::Archived,
    SlaPolicies::CreatedAt,
    SlaPolicies::UpdatedAt,
];

async fn with_targets(db: &mut impl Db, rows: Vec<PolicyRow>) -> Result<Vec<SlaPolicy>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let targets: Vec<TargetRow> = db
        .fetch_all(
            Query::select()
                .columns([
                    (SlaTargets::Table, SlaTargets::PolicyId),
                    (SlaTargets::Table, SlaTargets::FirstResponseMinutes),
                    (SlaTargets::Table, SlaTargets::ResolutionMinutes),
                ])
                .column((TicketPriorities::Table, TicketPriorities::Code))
                .from(SlaTargets::Table)
                .inner_join(
                    TicketPriorities::Table,
                    Expr::col((TicketPriorities::Table, TicketPriorities::Id)).equals((SlaTargets::Table, SlaTargets::PriorityId)),
                )
                .and_where(Expr::col((SlaTargets::Table, SlaTargets::PolicyId)).is_in(ids))
                .order_by((TicketPriorities::Table, TicketPriorities::Position), Order::Asc),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| SlaPolicy {
            targets: targets
                .iter()
                .filter(|t| t.policy_id == r.id)
                .map(|t| Target {
                    priority: t.code.clone(),
                    first_response_minutes: t.first_response_minutes,
                    resolution_minutes: t.resolution_minutes,
                })
                .collect(),
            id: r.id,
            name: r.name,
            calendar_id: r.calendar_id,
            warn_at: r.warn_permille as f64 / 1000.0,
            is_default: r.is_default,
            archived: r.archived,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

pub async fn policies(db: &mut impl Db) -> Result<Vec<SlaPolicy>> {
    let rows = db.fetch_all(Query::select().columns(POLICY_COLS).from(SlaPolicies::Table).order_by(SlaPolicies::Name, Order::Asc)).await?;
    with_targets(db, rows).await
}

pub async fn policy(db: &mut impl Db, id: i64) -> Result<Option<SlaPolicy>> {
    let rows =
        db.fetch_all(Query::select().columns(POLICY_COLS).from(SlaPolicies::Table).and_where(Expr::col(SlaPolicies::Id).eq(id))).await?;
    Ok(with_targets(db, rows).await?.pop())
}

#[derive(sqlx::FromRow)]
struct PolicyRef {
    sla_policy_id: Option<i64>,
}

/// The policy a client's tickets start with: the client's own, else the
/// installation default; `None` when neither is set (or it is archived).
pub async fn policy_for_client(db: &mut impl Db, client_id: i64) -> Result<Option<(SlaPolicy, BusinessCalendar)>> {
    let own: Option<PolicyRef> = db
        .fetch_optional(Query::select().column(Clients::SlaPolicyId).from(Clients::Table).and_where(Expr::col(Clients::Id).eq(client_id)))
        .await?;
    let id = match own.and_then(|r| r.sla_policy_id) {
        Some(id) => Some(id),
        None => {
            let d: Option<PolicyRef> = db
                .fetch_optional(
                    Query::select()
                        .expr_as(Expr::col(SlaPolicies::Id), sea_query::Alias::new("sla_policy_id"))
                        .from(SlaPolicies::Table)
                        .and_where(Expr::col(SlaPolicies::IsDefault).eq(true)),
                )
                .await?;
            d.and_then(|r| r.sla_policy_id)
        }
    };
    let Some(policy) = (match id {
        Some(id) => policy(db, id).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    if policy.archived {
        return Ok(None);
    }
    Ok(calendar(db, policy.calendar_id).await?.map(|c| (policy, c)))
}

/// Whether a policy exists and is not archived (for a client's
/// `sla_policy_id`).
pub async fn in_use(db: &mut impl Db, id: i64) -> Result<bool> {
    Ok(policy(db, id).await?.is_some_and(|p| !p.archived))
}
