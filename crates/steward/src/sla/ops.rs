//! Audited changes to business calendars and SLA policies. A policy edit
//! changes what new tickets start with; tickets already open keep the
//! targets and calendar they started with.

use super::model::{CalendarError, CalendarSpec, WeeklySpan};
use super::store::{calendar, policy, BusinessCalendar, BusinessCalendars, SlaPolicies, SlaPolicy, SlaTargets, Target};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::{Db, IdRow};
use crate::tickets::store::config::priority_by_code;
use crate::time::now_us;
use crate::validate::Name;
use sea_query::{Expr, Query};
use serde::Deserialize;
use serde_json::json;

/// A new business calendar.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCalendar {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[schema(value_type = crate::validate::TimeZone)]
    pub timezone: String,
    /// Round the clock, every day (then give no `weekly`).
    #[serde(default)]
    pub always: bool,
    /// Working spans; day 1 = Monday … 7 = Sunday, several a day allowed.
    #[serde(default)]
    pub weekly: Vec<WeeklySpan>,
    /// Dates without working time, e.g. `2026-12-25`.
    #[serde(default)]
    #[schema(value_type = crate::validate::shapes::CalendarDays)]
    pub holidays: Vec<String>,
}

/// Changes to a calendar; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::TimeZone>)]
    pub timezone: Option<String>,
    pub always: Option<bool>,
    pub weekly: Option<Vec<WeeklySpan>>,
    #[schema(value_type = Option<crate::validate::shapes::CalendarDays>)]
    pub holidays: Option<Vec<String>>,
}

/// A new SLA policy.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    pub calendar_id: i64,
    /// Targets per priority; a priority without one has no SLA clocks.
    pub targets: Vec<Target>,
    /// The fraction of a target after which a clock warns (default 0.75).
    #[serde(default = "default_warn")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub warn_at: f64,
    /// Make it the installation's default (for clients without a policy).
    #[serde(default)]
    pub is_default: bool,
}

fn default_warn() -> f64 {
    0.75
}

/// Changes to a policy; absent fields stay as they are. `targets`, when
/// given, replaces them all.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub calendar_id: Option<i64>,
    pub targets: Option<Vec<Target>>,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub warn_at: Option<f64>,
    pub is_default: Option<bool>,
    pub archived: Option<bool>,
}

fn name(v: &str) -> Result<Name, ApiError> {
    Name::parse(v).map_err(|m| ApiError::invalid("name", m))
}

/// Checks a calendar and names the field at fault.
fn checked(spec: &CalendarSpec) -> Result<CalendarSpec, ApiError> {
    // Not a zone of the schema's list: malformed (400); one of them that
    // this build cannot use: refused below (422).
    crate::validate::TimeZone::parse(&spec.timezone).map_err(|m| ApiError::invalid("timezone", m))?;
    spec.normalized().map_err(|e| {
        let field = match &e {
            CalendarError::TimeZone(_) => "timezone",
            CalendarError::Holiday(_) => "holidays",
            _ => "weekly",
        };
        match e {
            // A zone from the schema's list that this build's time zone
            // database lacks is unusable, not malformed.
            CalendarError::NoWorkingTime | CalendarError::Overlap(_) | CalendarError::Empty(_) | CalendarError::TimeZone(_) => {
                ApiError::refused(field, e.to_string())
            }
            _ => ApiError::invalid(field, e.to_string()),
        }
    })
}

async fn write_calendar(db: &mut impl Db, id: Option<i64>, name: &str, spec: &CalendarSpec) -> Result<i64, ApiError> {
    let now = now_us();
    let weekly = serde_json::to_string(&spec.weekly).map_err(ApiError::internal)?;
    let holidays = serde_json::to_string(&spec.holidays).map_err(ApiError::internal)?;
    Ok(match id {
        None => {
            let r: IdRow = db
                .fetch_one(
                    Query::insert()
                        .into_table(BusinessCalendars::Table)
                        .columns([
                            BusinessCalendars::Name,
                            BusinessCalendars::Timezone,
                            BusinessCalendars::Always,
                            BusinessCalendars::Weekly,
                            BusinessCalendars::Holidays,
                            BusinessCalendars::CreatedAt,
                            BusinessCalendars::UpdatedAt,
                        ])
                        .values_panic([
                            name.into(),
                            spec.timezone.clone().into(),
                            spec.always.into(),
                            weekly.into(),
                            holidays.into(),
                            now.into(),
                            now.into(),
                        ])
                        .returning_col(BusinessCalendars::Id),
                )
                .await?;
            r.id
        }
        Some(id) => {
            db.execute(
                Query::update()
                    .table(BusinessCalendars::Table)
                    .values([
                        (BusinessCalendars::Name, name.into()),
                        (BusinessCalendars::Timezone, spec.timezone.clone().into()),
                        (BusinessCalendars::Always, spec.always.into()),
                        (BusinessCalendars::Weekly, weekly.into()),
                        (BusinessCalendars::Holidays, holidays.into()),
                        (BusinessCalendars::UpdatedAt, now.into()),
                    ])
                    .and_where(Expr::col(BusinessCalendars::Id).eq(id)),
            )
            .await?;
            id
        }
    })
}

pub async fn create_calendar(app: &App, p: &Principal, input: NewCalendar) -> Result<BusinessCalendar, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let name = name(&input.name)?;
    let spec = checked(&CalendarSpec { timezone: input.timezone, always: input.always, weekly: input.weekly, holidays: input.holidays })?;
    let mut tx = app.store.begin_audited().await?;
    let id = write_calendar(tx.tx(), None, &name, &spec).await?;
    let c = calendar(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(&p.actor(), Event::new("business_calendar.create", "business_calendar", id).details(json!({"after": c}))).await?;
    Ok(c)
}

pub async fn update_calendar(app: &App, p: &Principal, id: i64, patch: CalendarPatch) -> Result<BusinessCalendar, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let mut tx = app.store.begin_audited().await?;
    let before = calendar(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let name = match &patch.name {
        Some(n) => name(n)?.into_string(),
        None => before.name.clone(),
    };
    let mut spec = before.spec();
    if let Some(tz) = patch.timezone {
        spec.timezone = tz;
    }
    if let Some(a) = patch.always {
        spec.always = a;
    }
    if let Some(w) = patch.weekly {
        spec.weekly = w;
    }
    if let Some(h) = patch.holidays {
        spec.holidays = h;
    }
    let spec = checked(&spec)?;
    write_calendar(tx.tx(), Some(id), &name, &spec).await?;
    let after = calendar(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("business_calendar.update", "business_calendar", id), &before, &after).await?;
    Ok(after)
}

/// Checked targets: known priority codes, each once, minutes within a year.
async fn check_targets(db: &mut impl Db, targets: &[Target]) -> Result<Vec<(i64, Target)>, ApiError> {
    const YEAR_MINUTES: i64 = 366 * 24 * 60;
    let mut out: Vec<(i64, Target)> = vec![];
    for t in targets {
        let pr = priority_by_code(db, t.priority.trim()).await?.ok_or_else(|| {
            ApiError::refused("targets", format!("{:?} is not a priority (see GET /api/v1/ticket-priorities)", t.priority))
        })?;
        if out.iter().any(|(id, _)| *id == pr.id) {
            return Err(ApiError::refused("targets", format!("{} is given twice", pr.code)));
        }
        for (field, v) in [("first_response_minutes", t.first_response_minutes), ("resolution_minutes", t.resolution_minutes)] {
            if !(0..=YEAR_MINUTES).contains(&v) {
                return Err(ApiError::invalid("targets", format!("{field} of {} must be 0–{YEAR_MINUTES}", pr.code)));
            }
        }
        out.push((pr.id, Target { priority: pr.code, ..t.clone() }));
    }
    Ok(out)
}

fn warn_permille(v: f64) -> Result<i64, ApiError> {
    if !(0.0..=1.0).contains(&v) || v.is_nan() {
        return Err(ApiError::invalid("warn_at", "must be a fraction from 0 to 1, e.g. 0.75"));
    }
    Ok((v * 1000.0).round() as i64)
}

async fn replace_targets(db: &mut impl Db, policy_id: i64, targets: &[(i64, Target)]) -> Result<(), ApiError> {
    db.execute(Query::delete().from_table(SlaTargets::Table).and_where(Expr::col(SlaTargets::PolicyId).eq(policy_id))).await?;
    for (priority_id, t) in targets {
        db.execute(
            Query::insert()
                .into_table(SlaTargets::Table)
                .columns([SlaTargets::PolicyId, SlaTargets::PriorityId, SlaTargets::FirstResponseMinutes, SlaTargets::ResolutionMinutes])
                .values_panic([policy_id.into(), (*priority_id).into(), t.first_response_minutes.into(), t.resolution_minutes.into()]),
        )
        .await?;
    }
    Ok(())
}

/// Makes `id` the only default.
async fn make_default(db: &mut impl Db, id: i64) -> Result<(), ApiError> {
    db.execute(Query::update().table(SlaPolicies::Table).value(SlaPolicies::IsDefault, false).and_where(Expr::col(SlaPolicies::Id).ne(id)))
        .await?;
    db.execute(Query::update().table(SlaPolicies::Table).value(SlaPolicies::IsDefault, true).and_where(Expr::col(SlaPolicies::Id).eq(id)))
        .await?;
    Ok(())
}

pub async fn create_policy(app: &App, p: &Principal, input: NewPolicy) -> Result<SlaPolicy, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let name = name(&input.name)?;
    let warn = warn_permille(input.warn_at)?;
    let mut tx = app.store.begin_audited().await?;
    calendar(tx.tx(), input.calendar_id).await?.ok_or_else(|| ApiError::refused("calendar_id", "is not a business calendar"))?;
    let targets = check_targets(tx.tx(), &input.targets).await?;
    let now = now_us();
    let r: IdRow = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(SlaPolicies::Table)
                .columns([
                    SlaPolicies::Name,
                    SlaPolicies::CalendarId,
                    SlaPolicies::WarnPermille,
                    SlaPolicies::CreatedAt,
                    SlaPolicies::UpdatedAt,
                ])
                .values_panic([name.into(), input.calendar_id.into(), warn.into(), now.into(), now.into()])
                .returning_col(SlaPolicies::Id),
        )
        .await?;
    replace_targets(tx.tx(), r.id, &targets).await?;
    if input.is_default {
        make_default(tx.tx(), r.id).await?;
    }
    let after = policy(tx.tx(), r.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(&p.actor(), Event::new("sla_policy.create", "sla_policy", r.id).details(json!({"after": after}))).await?;
    Ok(after)
}

pub async fn update_policy(app: &App, p: &Principal, id: i64, patch: PolicyPatch) -> Result<SlaPolicy, ApiError> {
    p.require(Permission::ServiceDeskAdmin)?;
    let mut sets: Vec<(SlaPolicies, sea_query::SimpleExpr)> = vec![(SlaPolicies::UpdatedAt, now_us().into())];
    if let Some(n) = &patch.name {
        sets.push((SlaPolicies::Name, name(n)?.into()));
    }
    if let Some(w) = patch.warn_at {
        sets.push((SlaPolicies::WarnPermille, warn_permille(w)?.into()));
    }
    if let Some(a) = patch.archived {
        sets.push((SlaPolicies::Archived, a.into()));
        if a {
            sets.push((SlaPolicies::IsDefault, false.into()));
        }
    }
    let mut tx = app.store.begin_audited().await?;
    let before = policy(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    if let Some(c) = patch.calendar_id {
        calendar(tx.tx(), c).await?.ok_or_else(|| ApiError::refused("calendar_id", "is not a business calendar"))?;
        sets.push((SlaPolicies::CalendarId, c.into()));
    }
    if let Some(t) = &patch.targets {
        let t = check_targets(tx.tx(), t).await?;
        replace_targets(tx.tx(), id, &t).await?;
    }
    match patch.is_default {
        Some(true) if patch.archived != Some(true) => make_default(tx.tx(), id).await?,
        Some(false) => sets.push((SlaPolicies::IsDefault, false.into())),
        _ => {}
    }
    tx.tx().execute(Query::update().table(SlaPolicies::Table).values(sets).and_where(Expr::col(SlaPolicies::Id).eq(id))).await?;
    let after = policy(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("sla_policy.update", "sla_policy", id), &before, &after).await?;
    Ok(after)
}
