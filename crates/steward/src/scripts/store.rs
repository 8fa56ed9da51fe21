//! Scripts, runs and results in the database.

use crate::devices::store::Devices;
use crate::store::{Count, Db, Result};
use crate::time::now_us;
use sea_query::{Alias, Expr, Iden, Order, Query};
use serde::Serialize;

#[derive(Iden, Clone, Copy)]
pub(crate) enum Scripts {
    Table,
    Id,
    Name,
    Description,
    Shell,
    Body,
    Parameters,
    TimeoutSecs,
    RunAs,
    Hash,
    Archived,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
enum ScriptRuns {
    Table,
    Id,
    ScriptId,
    ScriptName,
    ScriptHash,
    Shell,
    Body,
    Params,
    TimeoutSecs,
    RunAs,
    State,
    RequestedBy,
    RequestedAt,
    ApprovedBy,
    DecidedAt,
    ScheduledFor,
    DeviceCount,
    ClientIds,
    RepeatEvery,
    Target,
}

#[derive(Iden, Clone, Copy)]
enum ScriptResults {
    Table,
    RunId,
    DeviceId,
    ClientId,
    State,
    CommandId,
    ExitCode,
    Stdout,
    Stderr,
    StdoutTruncated,
    StderrTruncated,
    Error,
    DurationMs,
    SentAt,
    FinishedAt,
}

/// A script of the library.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Script {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub shell: String,
    pub body: String,
    /// JSON list of `model::ParamSpec`.
    pub parameters: String,
    pub timeout_secs: i64,
    pub run_as: String,
    pub hash: String,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const SCRIPT_COLS: [Scripts; 12] = [
    Scripts::Id,
    Scripts::Name,
    Scripts::Description,
    Scripts::Shell,
    Scripts::Body,
    Scripts::Parameters,
    Scripts::TimeoutSecs,
    Scripts::RunAs,
    Scripts::Hash,
    Scripts::Archived,
    Scripts::CreatedAt,
    Scripts::UpdatedAt,
];

/// A script's editable fields.
pub struct ScriptFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub shell: &'a str,
    pub body: &'a str,
    pub parameters: &'a str,
    pub timeout_secs: i64,
    pub run_as: &'a str,
    pub archived: bool,
}

pub async fn list_scripts(db: &mut impl Db, include_archived: bool) -> Result<Vec<Script>> {
    let mut q = Query::select();
    q.columns(SCRIPT_COLS).from(Scripts::Table).order_by(Scripts::Name, Order::Asc);
    if !include_archived {
        q.and_where(Expr::col(Scripts::Archived).eq(false));
    }
    db.fetch_all(&q).await
}

pub async fn get_script(db: &mut impl Db, id: i64) -> Result<Option<Script>> {
    db.fetch_optional(Query::select().columns(SCRIPT_COLS).from(Scripts::Table).and_where(Expr::col(Scripts::Id).eq(id))).await
}

pub async fn insert_script(db: &mut impl Db, f: &ScriptFields<'_>, by: i64) -> Result<Script> {
    let now = now_us();
    db.fetch_one(
        Query::insert()
            .into_table(Scripts::Table)
            .columns([
                Scripts::Name,
                Scripts::Description,
                Scripts::Shell,
                Scripts::Body,
                Scripts::Parameters,
                Scripts::TimeoutSecs,
                Scripts::RunAs,
                Scripts::Hash,
                Scripts::Archived,
                Scripts::CreatedBy,
                Scripts::CreatedAt,
                Scripts::UpdatedAt,
            ])
            .values_panic([
                f.name.into(),
                f.description.into(),
                f.shell.into(),
                f.body.into(),
                f.parameters.into(),
                f.timeout_secs.into(),
                f.run_as.into(),
                super::model::hash(f.shell, f.body).into(),
                f.archived.into(),
                by.into(),
                now.into(),
                now.into(),
            ])
            .returning(Query::returning().columns(SCRIPT_COLS)),
    )
    .await
}

pub async fn update_script(db: &mut impl Db, id: i64, f: &ScriptFields<'_>) -> Result<()> {
    db.execute(
        Query::update()
            .table(Scripts::Table)
            .value(Scripts::Name, f.name)
            .value(Scripts::Description, f.description)
            .value(Scripts::Shell, f.shell)
            .value(Scripts::Body, f.body)
            .value(Scripts::Parameters, f.parameters)
            .value(Scripts::TimeoutSecs, f.timeout_secs)
            .value(Scripts::RunAs, f.run_as)
            .value(Scripts::Hash, super::model::hash(f.shell, f.body))
            .value(Scripts::Archived, f.archived)
            .value(Scripts::UpdatedAt, now_us())
            .and_where(Expr::col(Scripts::Id).eq(id)),
    )
    .await?;
    Ok(())
}

/// A run: the script's text as it was when requested, and its state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Run {
    pub id: i64,
    pub script_id: i64,
    pub script_name: String,
    pub script_hash: String,
    pub shell: String,
    pub body: String,
    pub params: String,
    pub timeout_secs: i64,
    pub run_as: String,
    pub state: String,
    pub requested_by: i64,
    pub requested_at: i64,
    pub approved_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub scheduled_for: Option<i64>,
    pub device_count: i64,
    pub client_ids: String,
    /// `hourly`, `daily`, `weekly`, or `None` for once.
    pub repeat_every: Option<String>,
    /// JSON target spec (see `api::Target`), for later occurrences.
    pub target: String,
}

const RUN_COLS: [ScriptRuns; 19] = [
    ScriptRuns::Id,
    ScriptRuns::ScriptId,
    ScriptRuns::ScriptName,
    ScriptRuns::ScriptHash,
    ScriptRuns::Shell,
    ScriptRuns::Body,
    ScriptRuns::Params,
    ScriptRuns::TimeoutSecs,
    ScriptRuns::RunAs,
    ScriptRuns::State,
    ScriptRuns::RequestedBy,
    ScriptRuns::RequestedAt,
    ScriptRuns::ApprovedBy,
    ScriptRuns::DecidedAt,
    ScriptRuns::ScheduledFor,
    ScriptRuns::DeviceCount,
    ScriptRuns::ClientIds,
    ScriptRuns::RepeatEvery,
    ScriptRuns::Target,
];

/// Stores a run and one pending result per target device.
pub async fn insert_run(db: &mut impl Db, r: &Run, targets: &[(i64, i64)]) -> Result<i64> {
    let id: crate::store::IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(ScriptRuns::Table)
                .columns(RUN_COLS[1..].iter().copied())
                .values_panic([
                    r.script_id.into(),
                    r.script_name.clone().into(),
                    r.script_hash.clone().into(),
                    r.shell.clone().into(),
                    r.body.clone().into(),
                    r.params.clone().into(),
                    r.timeout_secs.into(),
                    r.run_as.clone().into(),
                    r.state.clone().into(),
                    r.requested_by.into(),
                    r.requested_at.into(),
                    r.approved_by.into(),
                    r.decided_at.into(),
                    r.scheduled_for.into(),
                    r.device_count.into(),
                    r.client_ids.clone().into(),
                    r.repeat_every.clone().into(),
                    r.target.clone().into(),
                ])
                .returning_col(ScriptRuns::Id),
        )
        .await?;
    add_results(db, id.id, targets).await?;
    Ok(id.id)
}

/// Adds a pending part for each (device, client) to a run.
pub async fn add_results(db: &mut impl Db, run_id: i64, targets: &[(i64, i64)]) -> Result<()> {
    for chunk in targets.chunks(1000) {
        let mut q = Query::insert();
        q.into_table(ScriptResults::Table).columns([
            ScriptResults::RunId,
            ScriptResults::DeviceId,
            ScriptResults::ClientId,
            ScriptResults::State,
        ]);
        for (device, client) in chunk {
            q.values_panic([run_id.into(), (*device).into(), (*client).into(), "pending".into()]);
        }
        db.execute(&q).await?;
    }
    Ok(())
}

/// Sets how many devices a run reaches (a recurring occurrence, resolved when it starts).
pub async fn set_device_count(db: &mut impl Db, run_id: i64, n: i64) -> Result<()> {
    db.execute(Query::update().table(ScriptRuns::Table).value(ScriptRuns::DeviceCount, n).and_where(Expr::col(ScriptRuns::Id).eq(run_id)))
        .await?;
    Ok(())
}

/// How many device parts a run has.
pub async fn count_results(db: &mut impl Db, run_id: i64) -> Result<i64> {
    count_results_in(db, run_id, None).await
}

/// A run's devices among the clients in `scope` (`None`: all).
pub async fn count_results_in(db: &mut impl Db, run_id: i64, scope: Option<&[i64]>) -> Result<i64> {
    let mut q = Query::select();
    q.expr_as(Expr::col(ScriptResults::RunId).count(), crate::store::n())
        .from(ScriptResults::Table)
        .and_where(Expr::col(ScriptResults::RunId).eq(run_id));
    if let Some(ids) = scope {
        q.and_where(Expr::col(ScriptResults::ClientId).is_in(ids.to_vec()));
    }
    let n: Count = db.fetch_one(&q).await?;
    Ok(n.n)
}

pub async fn get_run(db: &mut impl Db, id: i64) -> Result<Option<Run>> {
    db.fetch_optional(Query::select().columns(RUN_COLS).from(ScriptRuns::Table).and_where(Expr::col(ScriptRuns::Id).eq(id))).await
}

/// Runs touching any of the clients in `scope` (`None`: all), newest first.
pub async fn list_runs(db: &mut impl Db, scope: Option<&[i64]>, limit: u64, offset: u64) -> Result<(Vec<Run>, i64)> {
    let visible = |q: &mut sea_query::SelectStatement| {
        if let Some(ids) = scope {
            q.and_where(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(ScriptResults::Table)
                    .and_where(Expr::col((ScriptResults::Table, ScriptResults::RunId)).equals((ScriptRuns::Table, ScriptRuns::Id)))
                    .and_where(Expr::col((ScriptResults::Table, ScriptResults::ClientId)).is_in(ids.to_vec()))
                    .to_owned(),
            ));
        }
    };
    let mut q = Query::select();
    q.columns(RUN_COLS.map(|c| (ScriptRuns::Table, c)))
        .from(ScriptRuns::Table)
        .order_by(ScriptRuns::Id, Order::Desc)
        .limit(limit)
        .offset(offset);
    visible(&mut q);
    let rows = db.fetch_all(&q).await?;
    let mut c = Query::select();
    c.expr_as(Expr::col((ScriptRuns::Table, ScriptRuns::Id)).count(), crate::store::n()).from(ScriptRuns::Table);
    visible(&mut c);
    let n: Count = db.fetch_one(&c).await?;
    Ok((rows, n.n))
}

/// Moves a run from one state to another; false if it was not in `from`.
pub async fn transition(db: &mut impl Db, id: i64, from: &str, to: &str, decided_by: Option<i64>) -> Result<bool> {
    let mut q = Query::update();
    q.table(ScriptRuns::Table)
        .value(ScriptRuns::State, to)
        .and_where(Expr::col(ScriptRuns::Id).eq(id))
        .and_where(Expr::col(ScriptRuns::State).eq(from));
    if let Some(u) = decided_by {
        q.value(ScriptRuns::ApprovedBy, u).value(ScriptRuns::DecidedAt, now_us());
    }
    Ok(db.execute(&q).await? > 0)
}

/// Scheduled runs whose time has come.
pub async fn due(db: &mut impl Db, now: i64) -> Result<Vec<i64>> {
    let rows: Vec<crate::store::IdRow> = db
        .fetch_all(
            Query::select()
                .column(ScriptRuns::Id)
                .from(ScriptRuns::Table)
                .and_where(Expr::col(ScriptRuns::State).eq("scheduled"))
                .and_where(Expr::col(ScriptRuns::ScheduledFor).lte(now)),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// One device's part of a run, with its host name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ResultRow {
    pub run_id: i64,
    pub script_name: String,
    pub device_id: i64,
    pub client_id: i64,
    pub hostname: String,
    pub state: String,
    #[serde(skip)]
    pub command_id: Option<String>,
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    /// RFC 3339 in answers, like every time the API gives.
    pub sent_at: Option<crate::time::Timestamp>,
    pub finished_at: Option<crate::time::Timestamp>,
}

fn results_query() -> sea_query::SelectStatement {
    use ScriptResults as R;
    let mut q = Query::select();
    q.columns(
        [
            R::RunId,
            R::DeviceId,
            R::ClientId,
            R::State,
            R::CommandId,
            R::ExitCode,
            R::Stdout,
            R::Stderr,
            R::StdoutTruncated,
            R::StderrTruncated,
            R::Error,
            R::DurationMs,
            R::SentAt,
            R::FinishedAt,
        ]
        .map(|c| (R::Table, c)),
    )
    .expr_as(Expr::col((Devices::Table, Devices::Hostname)), Alias::new("hostname"))
    .expr_as(Expr::col((ScriptRuns::Table, ScriptRuns::ScriptName)), Alias::new("script_name"))
    .from(R::Table)
    .inner_join(Devices::Table, Expr::col((Devices::Table, Devices::Id)).equals((R::Table, R::DeviceId)))
    .inner_join(ScriptRuns::Table, Expr::col((ScriptRuns::Table, ScriptRuns::Id)).equals((R::Table, R::RunId)));
    q
}

/// A run's results on devices of the clients in `scope` (`None`: all).
pub async fn results_of_run(db: &mut impl Db, run_id: i64, scope: Option<&[i64]>) -> Result<Vec<ResultRow>> {
    let mut q = results_query();
    q.and_where(Expr::col((ScriptResults::Table, ScriptResults::RunId)).eq(run_id))
        .order_by((Devices::Table, Devices::Hostname), Order::Asc);
    if let Some(ids) = scope {
        q.and_where(Expr::col((ScriptResults::Table, ScriptResults::ClientId)).is_in(ids.to_vec()));
    }
    db.fetch_all(&q).await
}

/// A device's results, newest first.
pub async fn results_of_device(db: &mut impl Db, device_id: i64, limit: u64) -> Result<Vec<ResultRow>> {
    let mut q = results_query();
    q.and_where(Expr::col((ScriptResults::Table, ScriptResults::DeviceId)).eq(device_id))
        .order_by((ScriptResults::Table, ScriptResults::RunId), Order::Desc)
        .limit(limit);
    db.fetch_all(&q).await
}

/// Parts of running runs still waiting for this device.
pub async fn pending_for_device(db: &mut impl Db, device_id: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct RunIdRow {
        run_id: i64,
    }
    let rows: Vec<RunIdRow> = db
        .fetch_all(
            Query::select()
                .column((ScriptResults::Table, ScriptResults::RunId))
                .from(ScriptResults::Table)
                .inner_join(
                    ScriptRuns::Table,
                    Expr::col((ScriptRuns::Table, ScriptRuns::Id)).equals((ScriptResults::Table, ScriptResults::RunId)),
                )
                .and_where(Expr::col((ScriptResults::Table, ScriptResults::DeviceId)).eq(device_id))
                .and_where(Expr::col((ScriptResults::Table, ScriptResults::State)).eq("pending"))
                .and_where(Expr::col((ScriptRuns::Table, ScriptRuns::State)).eq("running")),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.run_id).collect())
}

/// Device ids still pending in a run.
pub async fn pending_devices(db: &mut impl Db, run_id: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct DeviceIdRow {
        device_id: i64,
    }
    let rows: Vec<DeviceIdRow> = db
        .fetch_all(
            Query::select()
                .column(ScriptResults::DeviceId)
                .from(ScriptResults::Table)
                .and_where(Expr::col(ScriptResults::RunId).eq(run_id))
                .and_where(Expr::col(ScriptResults::State).eq("pending")),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.device_id).collect())
}

/// Marks a device's part as sent under `command_id`; false if it was not pending.
pub async fn mark_sent(db: &mut impl Db, run_id: i64, device_id: i64, command_id: &str) -> Result<bool> {
    Ok(db
        .execute(
            Query::update()
                .table(ScriptResults::Table)
                .value(ScriptResults::State, "sent")
                .value(ScriptResults::CommandId, command_id)
                .value(ScriptResults::SentAt, now_us())
                .and_where(Expr::col(ScriptResults::RunId).eq(run_id))
                .and_where(Expr::col(ScriptResults::DeviceId).eq(device_id))
                .and_where(Expr::col(ScriptResults::State).eq("pending")),
        )
        .await?
        > 0)
}

/// Puts a sent part back to pending (the device went away before it ran).
pub async fn unsend(db: &mut impl Db, run_id: i64, device_id: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(ScriptResults::Table)
            .value(ScriptResults::State, "pending")
            .value(ScriptResults::CommandId, Option::<String>::None)
            .and_where(Expr::col(ScriptResults::RunId).eq(run_id))
            .and_where(Expr::col(ScriptResults::DeviceId).eq(device_id)),
    )
    .await?;
    Ok(())
}

/// What a device reported for a script.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Records a result for a command sent to that very device; returns the
/// run it belongs to, or `None` when nothing was waiting for it (a forged,
/// replayed or misdirected result).
pub async fn record_result(db: &mut impl Db, device_id: i64, command_id: &str, o: Outcome) -> Result<Option<i64>> {
    #[derive(sqlx::FromRow)]
    struct RunIdRow {
        run_id: i64,
    }
    let state = if o.exit_code == Some(0) && o.error.is_none() { "done" } else { "failed" };
    let row: Option<RunIdRow> = db
        .fetch_optional(
            Query::update()
                .table(ScriptResults::Table)
                .value(ScriptResults::State, state)
                .value(ScriptResults::ExitCode, o.exit_code)
                .value(ScriptResults::Stdout, o.stdout)
                .value(ScriptResults::Stderr, o.stderr)
                .value(ScriptResults::StdoutTruncated, o.stdout_truncated)
                .value(ScriptResults::StderrTruncated, o.stderr_truncated)
                .value(ScriptResults::Error, o.error)
                .value(ScriptResults::DurationMs, o.duration_ms)
                .value(ScriptResults::FinishedAt, now_us())
                .and_where(Expr::col(ScriptResults::CommandId).eq(command_id))
                .and_where(Expr::col(ScriptResults::DeviceId).eq(device_id))
                .and_where(Expr::col(ScriptResults::State).eq("sent"))
                .returning_col(ScriptResults::RunId),
        )
        .await?;
    Ok(row.map(|r| r.run_id))
}

/// Marks a running run done once no device part is pending or sent.
pub async fn finish_if_complete(db: &mut impl Db, run_id: i64) -> Result<()> {
    let open: Count = db
        .fetch_one(
            Query::select()
                .expr_as(Expr::col(ScriptResults::RunId).count(), crate::store::n())
                .from(ScriptResults::Table)
                .and_where(Expr::col(ScriptResults::RunId).eq(run_id))
                .and_where(Expr::col(ScriptResults::State).is_in(["pending", "sent"])),
        )
        .await?;
    if open.n == 0 {
        transition(db, run_id, "running", "done", None).await?;
    }
    Ok(())
}
