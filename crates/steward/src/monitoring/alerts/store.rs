//! The check_states, alerts and alert_events tables: a check's state per
//! device, the alert a failing check keeps open (one unresolved per check
//! of a device), and each alert's history.

use crate::devices::store::Devices;
use crate::store::{count_capped, Db, IdRow, Result, Total};
use sea_query::{Expr, Iden, OnConflict, Order, Query, SelectStatement};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Alerts {
    Table,
    Id,
    ClientId,
    DeviceId,
    CheckKey,
    CheckType,
    Severity,
    State,
    Title,
    Output,
    OpenedAt,
    UpdatedAt,
    ResolvedAt,
    SnoozedUntil,
    TicketId,
    PolicyId,
}

#[derive(Iden, Clone, Copy)]
enum AlertCounts {
    Table,
    ClientId,
    CheckType,
    Severity,
    N,
}

#[derive(Iden, Clone, Copy)]
enum AlertEvents {
    Table,
    Id,
    AlertId,
    At,
    Kind,
    ActorUserId,
    Note,
}

/// A device as the server-side checks read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Watched {
    pub id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub hostname: String,
    pub online: bool,
    pub last_seen_at: Option<i64>,
    pub enrolled_at: i64,
}

/// Every device not removed, from `after_id` on (a batch).
pub async fn watched(db: &mut impl Db, after_id: i64, limit: u64) -> Result<Vec<Watched>> {
    db.fetch_all(
        Query::select()
            .columns([
                Devices::Id,
                Devices::ClientId,
                Devices::SiteId,
                Devices::Hostname,
                Devices::Online,
                Devices::LastSeenAt,
                Devices::EnrolledAt,
            ])
            .from(Devices::Table)
            .and_where(Expr::col(Devices::RevokedAt).is_null())
            .and_where(Expr::col(Devices::Id).gt(after_id))
            .order_by(Devices::Id, Order::Asc)
            .limit(limit),
    )
    .await
}

/// An alert as stored (times µs).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub client_id: i64,
    pub device_id: i64,
    pub check_key: String,
    pub check_type: String,
    pub severity: String,
    pub state: String,
    pub title: String,
    pub output: String,
    pub opened_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub ticket_id: Option<i64>,
    /// The monitoring policy its check came from.
    pub policy_id: Option<i64>,
}

const COLS: [Alerts; 15] = [
    Alerts::Id,
    Alerts::ClientId,
    Alerts::DeviceId,
    Alerts::CheckKey,
    Alerts::CheckType,
    Alerts::Severity,
    Alerts::State,
    Alerts::Title,
    Alerts::Output,
    Alerts::OpenedAt,
    Alerts::UpdatedAt,
    Alerts::ResolvedAt,
    Alerts::SnoozedUntil,
    Alerts::TicketId,
    Alerts::PolicyId,
];

/// The unresolved alert of a device's check.
pub async fn unresolved(db: &mut impl Db, device_id: i64, check_key: &str) -> Result<Option<AlertRow>> {
    db.fetch_optional(
        Query::select()
            .columns(COLS)
            .from(Alerts::Table)
            .and_where(Expr::col(Alerts::DeviceId).eq(device_id))
            .and_where(Expr::col(Alerts::CheckKey).eq(check_key))
            .and_where(Expr::col(Alerts::ResolvedAt).is_null()),
    )
    .await
}

pub async fn get(db: &mut impl Db, client_id: i64, id: i64) -> Result<Option<AlertRow>> {
    db.fetch_optional(
        Query::select()
            .columns(COLS)
            .from(Alerts::Table)
            .and_where(Expr::col(Alerts::Id).eq(id))
            .and_where(Expr::col(Alerts::ClientId).eq(client_id)),
    )
    .await
}

pub struct NewAlert<'a> {
    pub client_id: i64,
    pub device_id: i64,
    pub check_key: &'a str,
    pub check_type: &'a str,
    pub severity: &'a str,
    pub title: &'a str,
    pub output: &'a str,
    pub policy_id: Option<i64>,
    pub now: i64,
}

/// Keeps the dashboard's count of unresolved alerts (one client, type and
/// severity) in step with a change, in its transaction.
async fn count(db: &mut impl Db, client_id: i64, check_type: &str, severity: &str, delta: i64) -> Result<()> {
    use AlertCounts as C;
    db.execute(
        Query::insert()
            .into_table(C::Table)
            .columns([C::ClientId, C::CheckType, C::Severity, C::N])
            .values_panic([client_id.into(), check_type.into(), severity.into(), delta.into()])
            .on_conflict(
                OnConflict::columns([C::ClientId, C::CheckType, C::Severity])
                    .value(C::N, Expr::cust("alert_counts.n + excluded.n"))
                    .to_owned(),
            ),
    )
    .await?;
    Ok(())
}

/// One count of unresolved alerts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CountRow {
    pub client_id: i64,
    pub check_type: String,
    pub severity: String,
    pub n: i64,
}

/// The unresolved alerts' counts (of the clients in `scope`; `None`: all).
pub async fn counts(db: &mut impl Db, scope: Option<&[i64]>) -> Result<Vec<CountRow>> {
    use AlertCounts as C;
    let mut q = Query::select();
    q.columns([C::ClientId, C::CheckType, C::Severity, C::N]).from(C::Table).and_where(Expr::col(C::N).gt(0));
    if let Some(ids) = scope {
        q.and_where(Expr::col(C::ClientId).is_in(ids.to_vec()));
    }
    db.fetch_all(&q).await
}

/// Unresolved alerts open longest (of the clients in `scope`).
pub async fn oldest(db: &mut impl Db, scope: Option<&[i64]>, limit: u64) -> Result<Vec<AlertRow>> {
    let mut q = Query::select();
    q.columns(COLS).from(Alerts::Table).and_where(Expr::col(Alerts::ResolvedAt).is_null());
    if let Some(ids) = scope {
        q.and_where(Expr::col(Alerts::ClientId).is_in(ids.to_vec()));
    }
    db.fetch_all(q.order_by(Alerts::OpenedAt, Order::Asc).limit(limit)).await
}

async fn by_id(db: &mut impl Db, id: i64) -> Result<Option<AlertRow>> {
    db.fetch_optional(Query::select().columns(COLS).from(Alerts::Table).and_where(Expr::col(Alerts::Id).eq(id))).await
}

pub async fn insert(db: &mut impl Db, a: NewAlert<'_>) -> Result<i64> {
    count(db, a.client_id, a.check_type, a.severity, 1).await?;
    use Alerts as A;
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(A::Table)
                .columns([
                    A::ClientId,
                    A::DeviceId,
                    A::CheckKey,
                    A::CheckType,
                    A::Severity,
                    A::State,
                    A::Title,
                    A::Output,
                    A::OpenedAt,
                    A::UpdatedAt,
                    A::PolicyId,
                ])
                .values_panic([
                    a.client_id.into(),
                    a.device_id.into(),
                    a.check_key.into(),
                    a.check_type.into(),
                    a.severity.into(),
                    "open".into(),
                    a.title.into(),
                    a.output.into(),
                    a.now.into(),
                    a.now.into(),
                    a.policy_id.into(),
                ])
                .returning_col(A::Id),
        )
        .await?;
    Ok(r.id)
}

/// Changes what the alert says (severity, output) and touches it.
pub async fn refresh(db: &mut impl Db, id: i64, severity: &str, output: &str, now: i64) -> Result<()> {
    if let Some(a) = by_id(db, id).await?.filter(|a| a.resolved_at.is_none() && a.severity != severity) {
        count(db, a.client_id, &a.check_type, &a.severity, -1).await?;
        count(db, a.client_id, &a.check_type, severity, 1).await?;
    }
    db.execute(
        Query::update()
            .table(Alerts::Table)
            .value(Alerts::Severity, severity)
            .value(Alerts::Output, output)
            .value(Alerts::UpdatedAt, now)
            .and_where(Expr::col(Alerts::Id).eq(id)),
    )
    .await?;
    Ok(())
}

/// Unresolved alerts in `state`, oldest change first.
pub async fn in_state(db: &mut impl Db, state: &str, limit: u64) -> Result<Vec<AlertRow>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(Alerts::Table)
            .and_where(Expr::col(Alerts::State).eq(state))
            .and_where(Expr::col(Alerts::ResolvedAt).is_null())
            .order_by(Alerts::UpdatedAt, Order::Asc)
            .limit(limit),
    )
    .await
}

/// The unresolved alerts of the devices in `ids`.
pub async fn unresolved_of(db: &mut impl Db, ids: &[i64]) -> Result<Vec<AlertRow>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(Alerts::Table)
            .and_where(Expr::col(Alerts::DeviceId).is_in(ids.iter().copied()))
            .and_where(Expr::col(Alerts::ResolvedAt).is_null()),
    )
    .await
}

/// Shows a still-failing check's latest output on its open alert.
pub async fn refresh_output(db: &mut impl Db, device_id: i64, check_key: &str, output: &str, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(Alerts::Table)
            .value(Alerts::Output, output)
            .value(Alerts::UpdatedAt, now)
            .and_where(Expr::col(Alerts::DeviceId).eq(device_id))
            .and_where(Expr::col(Alerts::CheckKey).eq(check_key))
            .and_where(Expr::col(Alerts::ResolvedAt).is_null())
            .and_where(Expr::col(Alerts::Output).ne(output)),
    )
    .await?;
    Ok(())
}

/// Moves an unresolved alert to `state` (`resolved` sets its end); false
/// when it was resolved meanwhile.
pub async fn transition(db: &mut impl Db, id: i64, state: &str, snoozed_until: Option<i64>, now: i64) -> Result<bool> {
    let mut q = Query::update();
    q.table(Alerts::Table)
        .value(Alerts::State, state)
        .value(Alerts::SnoozedUntil, snoozed_until)
        .value(Alerts::UpdatedAt, now)
        .and_where(Expr::col(Alerts::Id).eq(id))
        .and_where(Expr::col(Alerts::ResolvedAt).is_null());
    if state != "resolved" {
        return Ok(db.execute(&q).await? == 1);
    }
    q.value(Alerts::ResolvedAt, now);
    let Some(a) = by_id(db, id).await? else { return Ok(false) };
    let done = db.execute(&q).await? == 1;
    if done {
        count(db, a.client_id, &a.check_type, &a.severity, -1).await?;
    }
    Ok(done)
}

/// Snoozed alerts whose time is up.
pub async fn snooze_over(db: &mut impl Db, now: i64, limit: u64) -> Result<Vec<AlertRow>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(Alerts::Table)
            .and_where(Expr::col(Alerts::State).eq("snoozed"))
            .and_where(Expr::col(Alerts::SnoozedUntil).lte(now))
            .limit(limit),
    )
    .await
}

pub async fn add_event(db: &mut impl Db, alert_id: i64, kind: &str, actor_user_id: Option<i64>, note: &str, now: i64) -> Result<()> {
    use AlertEvents as E;
    db.execute(Query::insert().into_table(E::Table).columns([E::AlertId, E::At, E::Kind, E::ActorUserId, E::Note]).values_panic([
        alert_id.into(),
        now.into(),
        kind.into(),
        actor_user_id.into(),
        note.into(),
    ]))
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub at: i64,
    pub kind: String,
    pub actor_user_id: Option<i64>,
    pub note: String,
}

pub async fn events(db: &mut impl Db, alert_id: i64) -> Result<Vec<EventRow>> {
    use AlertEvents as E;
    db.fetch_all(
        Query::select()
            .columns([E::At, E::Kind, E::ActorUserId, E::Note])
            .from(E::Table)
            .and_where(Expr::col(E::AlertId).eq(alert_id))
            .order_by(E::Id, Order::Asc),
    )
    .await
}

/// How the alert list is narrowed.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub client_id: Option<i64>,
    pub site_id: Option<i64>,
    pub device_id: Option<i64>,
    pub severity: Option<String>,
    /// A state, or `unresolved` (any but resolved).
    pub state: Option<String>,
    pub check_type: Option<String>,
}

fn filtered(q: &mut SelectStatement, scope: Option<&[i64]>, f: &Filter) {
    q.from(Alerts::Table);
    if let Some(ids) = scope {
        q.and_where(Expr::col(Alerts::ClientId).is_in(ids.to_vec()));
    }
    if let Some(c) = f.client_id {
        q.and_where(Expr::col(Alerts::ClientId).eq(c));
    }
    if let Some(d) = f.device_id {
        q.and_where(Expr::col(Alerts::DeviceId).eq(d));
    }
    if let Some(s) = f.site_id {
        q.and_where(
            Expr::col(Alerts::DeviceId).in_subquery(
                Query::select().column(Devices::Id).from(Devices::Table).and_where(Expr::col(Devices::SiteId).eq(s)).to_owned(),
            ),
        );
    }
    if let Some(s) = &f.severity {
        q.and_where(Expr::col(Alerts::Severity).eq(s.as_str()));
    }
    match f.state.as_deref() {
        Some("unresolved") => {
            q.and_where(Expr::col(Alerts::ResolvedAt).is_null());
        }
        Some(s) => {
            q.and_where(Expr::col(Alerts::State).eq(s));
        }
        None => {}
    }
    match f.check_type.as_deref() {
        // The security posture's three checks together.
        Some("posture") => {
            q.and_where(Expr::col(Alerts::CheckType).is_in(["antivirus", "firewall", "disk_encryption"]));
        }
        Some(t) => {
            q.and_where(Expr::col(Alerts::CheckType).eq(t));
        }
        None => {}
    }
}

/// A page of alerts, newest change first, and how many match.
pub async fn list(db: &mut impl Db, scope: Option<&[i64]>, f: &Filter, limit: u64, offset: u64) -> Result<(Vec<AlertRow>, Total)> {
    let mut c = Query::select();
    c.column(Alerts::Id);
    filtered(&mut c, scope, f);
    let total = count_capped(db, c, 10_000u64.max(offset.saturating_add(limit))).await?;
    let mut q = Query::select();
    q.columns(COLS.map(|c| (Alerts::Table, c)));
    filtered(&mut q, scope, f);
    q.order_by(Alerts::UpdatedAt, Order::Desc).order_by(Alerts::Id, Order::Desc).limit(limit).offset(offset);
    Ok((db.fetch_all(&q).await?, total))
}

pub async fn set_ticket(db: &mut impl Db, id: i64, ticket_id: i64) -> Result<()> {
    db.execute(Query::update().table(Alerts::Table).value(Alerts::TicketId, ticket_id).and_where(Expr::col(Alerts::Id).eq(id))).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TicketOf {
    ticket_id: Option<i64>,
}

/// The ticket of the newest other alert of this check of the device.
pub async fn open_ticket_of_check(db: &mut impl Db, device_id: i64, check_key: &str, except: i64) -> Result<Option<i64>> {
    let r: Option<TicketOf> = db
        .fetch_optional(
            Query::select()
                .column(Alerts::TicketId)
                .from(Alerts::Table)
                .and_where(Expr::col(Alerts::DeviceId).eq(device_id))
                .and_where(Expr::col(Alerts::CheckKey).eq(check_key))
                .and_where(Expr::col(Alerts::Id).ne(except))
                .and_where(Expr::col(Alerts::TicketId).is_not_null())
                .order_by(Alerts::Id, Order::Desc)
                .limit(1),
        )
        .await?;
    Ok(r.and_then(|r| r.ticket_id))
}
