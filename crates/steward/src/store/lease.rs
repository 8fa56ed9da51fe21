//! Job leases: each occurrence of a scheduled job runs on one node, however
//! many nodes share the database. A node claims the occurrence that is due
//! with one conditional update (the same statement on both engines: it
//! moves `next_due_us` forward only while the job is due and nobody holds
//! its lease), holds the lease while the job runs (renewing it), and
//! releases it when done. A node that dies mid-run leaves its lease to
//! expire; another takes the next occurrence then.

use super::{Result, Store};
use sea_query::{Expr, Iden, OnConflict, Query};

#[derive(Iden)]
enum JobLeases {
    Table,
    Name,
    NextDueUs,
    Holder,
    LeaseUntilUs,
}

/// One claim's terms.
#[derive(Debug, Clone, Copy)]
pub struct Terms {
    /// Now (µs).
    pub now: i64,
    /// When the occurrence after this one is due (µs).
    pub next_due: i64,
    /// How long the lease lasts unless renewed (µs).
    pub lease: i64,
}

/// Makes `job`'s next occurrence due now, in the caller's transaction:
/// work queued for it (an invoice run) starts at the next tick of any node
/// instead of after the job's interval.
pub async fn due_now(db: &mut impl super::Db, job: &str) -> Result<()> {
    db.execute(Query::update().table(JobLeases::Table).value(JobLeases::NextDueUs, 0i64).and_where(Expr::col(JobLeases::Name).eq(job)))
        .await?;
    Ok(())
}

/// Claims the occurrence of `job` due by `t.now` for `node`; true when this
/// node is to run it.
pub async fn claim(store: &Store, job: &str, node: &str, t: Terms) -> Result<bool> {
    // A job seen for the first time is due at once.
    store
        .execute(
            Query::insert()
                .into_table(JobLeases::Table)
                .columns([JobLeases::Name, JobLeases::NextDueUs, JobLeases::LeaseUntilUs])
                .values_panic([job.into(), t.now.into(), 0i64.into()])
                .on_conflict(OnConflict::column(JobLeases::Name).do_nothing().to_owned()),
        )
        .await?;
    let n = store
        .execute(
            Query::update()
                .table(JobLeases::Table)
                .value(JobLeases::NextDueUs, t.next_due)
                .value(JobLeases::Holder, node)
                .value(JobLeases::LeaseUntilUs, t.now + t.lease)
                .and_where(Expr::col(JobLeases::Name).eq(job))
                .and_where(Expr::col(JobLeases::NextDueUs).lte(t.now))
                .and_where(Expr::col(JobLeases::LeaseUntilUs).lt(t.now)),
        )
        .await?;
    Ok(n == 1)
}

/// Extends `node`'s lease on `job` to `until` (µs); false when it no longer
/// holds it.
pub async fn renew(store: &Store, job: &str, node: &str, until: i64) -> Result<bool> {
    let n = store
        .execute(
            Query::update()
                .table(JobLeases::Table)
                .value(JobLeases::LeaseUntilUs, until)
                .and_where(Expr::col(JobLeases::Name).eq(job))
                .and_where(Expr::col(JobLeases::Holder).eq(node)),
        )
        .await?;
    Ok(n == 1)
}

/// Ends `node`'s lease on `job` (the run is over).
pub async fn release(store: &Store, job: &str, node: &str) -> Result<()> {
    store
        .execute(
            Query::update()
                .table(JobLeases::Table)
                .value(JobLeases::LeaseUntilUs, 0i64)
                .and_where(Expr::col(JobLeases::Name).eq(job))
                .and_where(Expr::col(JobLeases::Holder).eq(node)),
        )
        .await?;
    Ok(())
}
