//! A ticket's SLA clocks: the snapshot a ticket takes of its client's
//! policy (so a later policy edit does not rewrite what was measured), the
//! clocks worked out from its history, the `sla` object of its JSON, and
//! the cached state the queue filters on and the SLA job wakes up for.

use super::store::thread::pauses;
use super::store::{TicketRow, Tickets};
use crate::error::ApiError;
use crate::sla::model::{ticket_clocks, CalendarSpec, Clock, ClockState, Targets, TicketClocks, TicketTimes};
use crate::store::Db;
use crate::time::Timestamp;
use sea_query::{Expr, Query, SimpleExpr};
use serde::Serialize;

/// What a ticket measures itself against, copied from its policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub policy_id: Option<i64>,
    /// The calendar as JSON (a [`CalendarSpec`]).
    pub calendar: Option<String>,
    pub first_response_secs: Option<i64>,
    pub resolution_secs: Option<i64>,
    pub warn_permille: Option<i64>,
}

impl Snapshot {
    /// The columns it is stored in.
    pub(crate) fn sets(&self) -> Vec<(Tickets, SimpleExpr)> {
        vec![
            (Tickets::SlaPolicyId, self.policy_id.into()),
            (Tickets::SlaCalendar, self.calendar.clone().into()),
            (Tickets::SlaFirstResponseSecs, self.first_response_secs.into()),
            (Tickets::SlaResolutionSecs, self.resolution_secs.into()),
            (Tickets::SlaWarnPermille, self.warn_permille.into()),
        ]
    }
}

/// The snapshot for a ticket of `client_id` at priority `priority_code`:
/// empty when the client has no policy (nor is there a default), or the
/// policy sets no target for that priority.
pub async fn snapshot(db: &mut impl Db, client_id: i64, priority_code: &str) -> Result<Snapshot, ApiError> {
    let Some((policy, calendar)) = crate::sla::store::policy_for_client(db, client_id).await? else {
        return Ok(Snapshot::default());
    };
    let Some(t) = policy.target(priority_code) else {
        return Ok(Snapshot { policy_id: Some(policy.id), ..Default::default() });
    };
    Ok(Snapshot {
        policy_id: Some(policy.id),
        calendar: Some(serde_json::to_string(&calendar.spec()).map_err(ApiError::internal)?),
        first_response_secs: Some(t.first_response_minutes * 60),
        resolution_secs: Some(t.resolution_minutes * 60),
        warn_permille: Some(policy.warn_permille()),
    })
}

/// A ticket's clocks at `now`, when it has SLA targets.
pub fn clocks(t: &TicketRow, pauses: &[(i64, Option<i64>)], now: i64) -> Option<TicketClocks> {
    let spec: CalendarSpec = serde_json::from_str(t.sla_calendar.as_deref()?).ok()?;
    let cal = spec.build().ok()?;
    let targets = Targets {
        first_response_secs: t.sla_first_response_secs?,
        resolution_secs: t.sla_resolution_secs?,
        warn_permille: t.sla_warn_permille?,
    };
    let times =
        TicketTimes { opened_at: t.opened_at, first_response_at: t.first_response_at, resolved_at: t.resolved_at, pauses: pauses.to_vec() };
    Some(ticket_clocks(&cal, &targets, &times, now))
}

/// One clock as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// When the target falls due (UTC); `null` while the clock is paused.
    pub due_at: Option<Timestamp>,
    /// When the clock stopped (the first staff reply; the resolution).
    pub met_at: Option<Timestamp>,
    pub state: ClockState,
    /// Business time counted so far (pauses excluded).
    pub elapsed_business_seconds: i64,
    /// The target this ticket started with.
    pub target_business_seconds: i64,
}

/// A ticket's `sla`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    pub policy_id: Option<i64>,
    pub first_response: ClockView,
    pub resolution: ClockView,
}

fn view(c: &Clock, target: i64) -> ClockView {
    ClockView {
        due_at: c.due_at.map(Timestamp),
        met_at: c.met_at.map(Timestamp),
        state: c.state,
        elapsed_business_seconds: c.elapsed_secs,
        target_business_seconds: target,
    }
}

/// The `sla` of a ticket's JSON, `None` when it has no targets.
pub fn sla_view(t: &TicketRow, pauses: &[(i64, Option<i64>)], now: i64) -> Option<SlaView> {
    let c = clocks(t, pauses, now)?;
    Some(SlaView {
        policy_id: t.sla_policy_id,
        first_response: view(&c.first_response, t.sla_first_response_secs.unwrap_or(0)),
        resolution: view(&c.resolution, t.sla_resolution_secs.unwrap_or(0)),
    })
}

/// What the SLA job announced of a clock: `none`, `warning`, `breached`.
pub fn announce_rank(s: &str) -> u8 {
    match s {
        "breached" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// Whether a clock is in a state that was not announced yet.
pub fn unannounced(c: &Clock, announced: &str) -> bool {
    let rank = match c.state {
        ClockState::Breached if c.met_at.is_none() => 2,
        ClockState::Warning => 1,
        _ => 0,
    };
    rank > announce_rank(announced)
}

/// The cached columns for a ticket's clocks: the worse state, the earlier
/// due time, and the next instant the SLA job must look at it (now, when a
/// clock's state is ahead of what was announced).
pub(crate) fn cached(t: &TicketRow, c: Option<&TicketClocks>, now: i64) -> Vec<(Tickets, SimpleExpr)> {
    let behind = c.is_some_and(|c| {
        unannounced(&c.first_response, &t.sla_first_response_announced) || unannounced(&c.resolution, &t.sla_resolution_announced)
    });
    let next = if behind { Some(now) } else { c.and_then(TicketClocks::next_change_at) };
    vec![
        (Tickets::SlaState, c.map(|c| c.state().as_str()).into()),
        (Tickets::SlaDueAt, c.and_then(TicketClocks::due_at).into()),
        (Tickets::SlaNextCheckAt, next.into()),
    ]
}

/// Works a ticket's clocks out again from its stored history and writes
/// the cached columns (after any change to the ticket).
pub async fn refresh(db: &mut impl Db, id: i64, now: i64) -> Result<Option<TicketClocks>, ApiError> {
    let t = super::store::get_any(db, id).await?.ok_or(ApiError::NotFound)?;
    let p = pauses(db, id).await?;
    let c = clocks(&t, &p, now);
    let mut q = Query::update();
    q.table(Tickets::Table).and_where(Expr::col(Tickets::Id).eq(id));
    for (col, v) in cached(&t, c.as_ref(), now) {
        q.value(col, v);
    }
    db.execute(&q).await?;
    Ok(c)
}
