//! The monitoring_policies, monitoring_policy_links and
//! monitoring_exclusions tables: policies (their checks as JSON, read by
//! `model::parse_checks`), which policies each level assigns, in order, and
//! which inherited checks it excludes.

use super::model::{Assigned, Level};
use crate::store::{Db, IdRow, Result};
use sea_query::{Cond, Expr, Func, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub(crate) enum MonitoringPolicies {
    Table,
    Id,
    Name,
    Checks,
    TicketOn,
    CreatedAt,
    UpdatedAt,
}
use MonitoringPolicies as P;

#[derive(Iden, Clone, Copy)]
enum MonitoringPolicyLinks {
    Table,
    Level,
    TargetId,
    PolicyId,
    Position,
}
use MonitoringPolicyLinks as L;

#[derive(Iden, Clone, Copy)]
enum MonitoringExclusions {
    Table,
    Level,
    TargetId,
    CheckKey,
}
use MonitoringExclusions as X;

/// A policy as stored (`checks` JSON, times µs).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub checks: String,
    pub ticket_on: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: [P; 6] = [P::Id, P::Name, P::Checks, P::TicketOn, P::CreatedAt, P::UpdatedAt];

pub async fn list(db: &mut impl Db) -> Result<Vec<PolicyRow>> {
    db.fetch_all(Query::select().columns(COLS).from(P::Table).order_by(P::Name, Order::Asc)).await
}

pub async fn get(db: &mut impl Db, id: i64) -> Result<Option<PolicyRow>> {
    db.fetch_optional(Query::select().columns(COLS).from(P::Table).and_where(Expr::col(P::Id).eq(id))).await
}

/// Whether another policy has this name (any case).
pub async fn name_taken(db: &mut impl Db, name: &str, other_than: Option<i64>) -> Result<bool> {
    let mut q = Query::select();
    q.column(P::Id).from(P::Table).and_where(Expr::expr(Func::lower(Expr::col(P::Name))).eq(name.to_lowercase()));
    if let Some(id) = other_than {
        q.and_where(Expr::col(P::Id).ne(id));
    }
    Ok(db.fetch_optional::<IdRow, _>(&q).await?.is_some())
}

pub async fn insert(db: &mut impl Db, name: &str, checks: &str, ticket_on: Option<&str>, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(P::Table)
                .columns([P::Name, P::Checks, P::TicketOn, P::CreatedAt, P::UpdatedAt])
                .values_panic([name.into(), checks.into(), ticket_on.map(str::to_string).into(), now.into(), now.into()])
                .returning_col(P::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn update(db: &mut impl Db, id: i64, name: &str, checks: &str, ticket_on: Option<&str>, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(P::Table)
            .values([
                (P::Name, name.into()),
                (P::Checks, checks.into()),
                (P::TicketOn, ticket_on.map(str::to_string).into()),
                (P::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(P::Id).eq(id)),
    )
    .await?;
    Ok(())
}

/// Deletes a policy and its assignments.
pub async fn delete(db: &mut impl Db, id: i64) -> Result<bool> {
    db.execute(Query::delete().from_table(L::Table).and_where(Expr::col(L::PolicyId).eq(id))).await?;
    Ok(db.execute(Query::delete().from_table(P::Table).and_where(Expr::col(P::Id).eq(id))).await? > 0)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub level: String,
    pub target_id: i64,
    pub policy_id: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ExclusionRow {
    level: String,
    target_id: i64,
    check_key: String,
}

/// Where each policy is assigned.
pub async fn links(db: &mut impl Db) -> Result<Vec<LinkRow>> {
    db.fetch_all(Query::select().columns([L::Level, L::TargetId, L::PolicyId]).from(L::Table).order_by(L::Position, Order::Asc)).await
}

/// The condition "one of these levels", for both assignment tables.
fn at_levels<C: Iden + Copy + 'static>(level: C, target: C, levels: &[(Level, i64)]) -> Cond {
    levels.iter().fold(Cond::any(), |c, (l, t)| c.add(Expr::col(level).eq(l.as_str()).and(Expr::col(target).eq(*t))))
}

/// What each of `levels` assigns (a level with nothing assigned is absent).
pub async fn assigned(db: &mut impl Db, levels: &[(Level, i64)]) -> Result<Vec<((Level, i64), Assigned)>> {
    let mut out: Vec<((Level, i64), Assigned)> = vec![];
    if levels.is_empty() {
        return Ok(out);
    }
    let mut entry = |level: &str, target: i64| -> Option<usize> {
        let l = Level::parse(level)?;
        Some(match out.iter().position(|(k, _)| *k == (l, target)) {
            Some(i) => i,
            None => {
                out.push(((l, target), Assigned::default()));
                out.len() - 1
            }
        })
    };
    let links: Vec<LinkRow> = db
        .fetch_all(
            Query::select()
                .columns([L::Level, L::TargetId, L::PolicyId])
                .from(L::Table)
                .cond_where(at_levels(L::Level, L::TargetId, levels))
                .order_by(L::Position, Order::Asc),
        )
        .await?;
    let mut positions = vec![];
    for l in links {
        if let Some(i) = entry(&l.level, l.target_id) {
            positions.push((i, l.policy_id));
        }
    }
    let excl: Vec<ExclusionRow> = db
        .fetch_all(
            Query::select()
                .columns([X::Level, X::TargetId, X::CheckKey])
                .from(X::Table)
                .cond_where(at_levels(X::Level, X::TargetId, levels))
                .order_by(X::CheckKey, Order::Asc),
        )
        .await?;
    let mut keys = vec![];
    for x in excl {
        if let Some(i) = entry(&x.level, x.target_id) {
            keys.push((i, x.check_key));
        }
    }
    for (i, id) in positions {
        out[i].1.policy_ids.push(id);
    }
    for (i, k) in keys {
        out[i].1.excluded.push(k);
    }
    Ok(out)
}

/// What every level assigns, for resolving many devices at once.
pub async fn all_assigned(db: &mut impl Db) -> Result<std::collections::HashMap<(Level, i64), Assigned>> {
    let mut out: std::collections::HashMap<(Level, i64), Assigned> = Default::default();
    for l in links(db).await? {
        if let Some(level) = Level::parse(&l.level) {
            out.entry((level, l.target_id)).or_default().policy_ids.push(l.policy_id);
        }
    }
    let excl: Vec<ExclusionRow> = db.fetch_all(Query::select().columns([X::Level, X::TargetId, X::CheckKey]).from(X::Table)).await?;
    for x in excl {
        if let Some(level) = Level::parse(&x.level) {
            out.entry((level, x.target_id)).or_default().excluded.push(x.check_key);
        }
    }
    Ok(out)
}

/// Replaces the policies a level assigns, in this order.
pub async fn set_policies(db: &mut impl Db, level: Level, target: i64, ids: &[i64]) -> Result<()> {
    db.execute(
        Query::delete().from_table(L::Table).and_where(Expr::col(L::Level).eq(level.as_str())).and_where(Expr::col(L::TargetId).eq(target)),
    )
    .await?;
    for (i, id) in ids.iter().enumerate() {
        db.execute(Query::insert().into_table(L::Table).columns([L::Level, L::TargetId, L::PolicyId, L::Position]).values_panic([
            level.as_str().into(),
            target.into(),
            (*id).into(),
            (i as i64).into(),
        ]))
        .await?;
    }
    Ok(())
}

/// Replaces the inherited checks a level excludes.
pub async fn set_excluded(db: &mut impl Db, level: Level, target: i64, keys: &[String]) -> Result<()> {
    db.execute(
        Query::delete().from_table(X::Table).and_where(Expr::col(X::Level).eq(level.as_str())).and_where(Expr::col(X::TargetId).eq(target)),
    )
    .await?;
    for k in keys {
        db.execute(Query::insert().into_table(X::Table).columns([X::Level, X::TargetId, X::CheckKey]).values_panic([
            level.as_str().into(),
            target.into(),
            k.as_str().into(),
        ]))
        .await?;
    }
    Ok(())
}

/// Which of `ids` are policies.
pub async fn existing(db: &mut impl Db, ids: &[i64]) -> Result<Vec<i64>> {
    let rows: Vec<IdRow> =
        db.fetch_all(Query::select().column(P::Id).from(P::Table).and_where(Expr::col(P::Id).is_in(ids.iter().copied()))).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
