//! The webhooks and webhook_deliveries tables. A delivery is queued in the
//! transaction of the change it tells of (the outbox) and moved on by the
//! delivery job: delivered, tried again later, or given up.

use crate::store::{Db, IdRow, Result};
use sea_query::{Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
enum Webhooks {
    Table,
    Id,
    Name,
    Url,
    SecretSealed,
    Events,
    CreatedBy,
    CreatedAt,
    DeletedAt,
    ClientIds,
    PolicyIds,
    MinSeverity,
}

#[derive(Iden, Clone, Copy)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    Event,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    LastStatus,
    LastError,
    CreatedAt,
    DeliveredAt,
}
use WebhookDeliveries as D;
use Webhooks as W;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub secret_sealed: String,
    /// JSON list of event names.
    pub events: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    /// JSON lists: only these clients' and these policies' alerts (`[]`: all).
    pub client_ids: String,
    pub policy_ids: String,
    /// `warning` (all) or `critical`.
    pub min_severity: String,
}

const COLS: [W; 10] =
    [W::Id, W::Name, W::Url, W::SecretSealed, W::Events, W::CreatedBy, W::CreatedAt, W::ClientIds, W::PolicyIds, W::MinSeverity];

/// Webhooks not deleted.
pub async fn active(db: &mut impl Db) -> Result<Vec<WebhookRow>> {
    db.fetch_all(Query::select().columns(COLS).from(W::Table).and_where(Expr::col(W::DeletedAt).is_null()).order_by(W::Id, Order::Asc))
        .await
}

pub async fn get(db: &mut impl Db, id: i64) -> Result<Option<WebhookRow>> {
    db.fetch_optional(
        Query::select().columns(COLS).from(W::Table).and_where(Expr::col(W::Id).eq(id)).and_where(Expr::col(W::DeletedAt).is_null()),
    )
    .await
}

pub async fn insert(db: &mut impl Db, name: &str, url: &str, events: &str, created_by: i64, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(W::Table)
                .columns([W::Name, W::Url, W::SecretSealed, W::Events, W::CreatedBy, W::CreatedAt])
                .values_panic([name.into(), url.into(), "".into(), events.into(), created_by.into(), now.into()])
                .returning_col(W::Id),
        )
        .await?;
    Ok(r.id)
}

/// What a webhook takes beyond its events (JSON lists, a severity).
pub async fn set_routes(db: &mut impl Db, id: i64, client_ids: &str, policy_ids: &str, min_severity: &str) -> Result<()> {
    db.execute(
        Query::update()
            .table(W::Table)
            .values([(W::ClientIds, client_ids.into()), (W::PolicyIds, policy_ids.into()), (W::MinSeverity, min_severity.into())])
            .and_where(Expr::col(W::Id).eq(id)),
    )
    .await?;
    Ok(())
}

pub async fn set_secret(db: &mut impl Db, id: i64, sealed: &str) -> Result<()> {
    db.execute(Query::update().table(W::Table).value(W::SecretSealed, sealed).and_where(Expr::col(W::Id).eq(id))).await?;
    Ok(())
}

pub async fn delete(db: &mut impl Db, id: i64, now: i64) -> Result<bool> {
    let n = db
        .execute(
            Query::update()
                .table(W::Table)
                .value(W::DeletedAt, now)
                .and_where(Expr::col(W::Id).eq(id))
                .and_where(Expr::col(W::DeletedAt).is_null()),
        )
        .await?;
    Ok(n == 1)
}

/// Queues a delivery (inside the caller's transaction): `pending`, or
/// `held` for a digest.
pub async fn enqueue(db: &mut impl Db, webhook_id: i64, event: &str, payload: &str, state: &str, now: i64) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(D::Table)
            .columns([D::WebhookId, D::Event, D::Payload, D::State, D::NextAttemptAt, D::CreatedAt])
            .values_panic([webhook_id.into(), event.into(), payload.into(), state.into(), now.into(), now.into()]),
    )
    .await?;
    Ok(())
}

/// Deliveries queued to be sent (not held) for a webhook since `since`.
pub async fn sent_since(db: &mut impl Db, webhook_id: i64, since: i64) -> Result<i64> {
    let n: crate::store::Count = db
        .fetch_one(
            Query::select()
                .expr_as(Expr::col(D::Id).count(), crate::store::n())
                .from(D::Table)
                .and_where(Expr::col(D::WebhookId).eq(webhook_id))
                .and_where(Expr::col(D::CreatedAt).gte(since))
                .and_where(Expr::col(D::State).is_not_in(["held", "digested"])),
        )
        .await?;
    Ok(n.n)
}

#[derive(sqlx::FromRow)]
struct WebhookId {
    webhook_id: i64,
}

/// Webhooks with a held delivery queued before `before`.
pub async fn held_webhooks(db: &mut impl Db, before: i64) -> Result<Vec<i64>> {
    let rows: Vec<WebhookId> = db
        .fetch_all(
            Query::select()
                .distinct()
                .column(D::WebhookId)
                .from(D::Table)
                .and_where(Expr::col(D::State).eq("held"))
                .and_where(Expr::col(D::CreatedAt).lte(before)),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.webhook_id).collect())
}

/// A webhook's held deliveries, oldest first.
pub async fn held(db: &mut impl Db, webhook_id: i64, limit: u64) -> Result<Vec<DeliveryRow>> {
    db.fetch_all(
        Query::select()
            .columns(DCOLS)
            .from(D::Table)
            .and_where(Expr::col(D::WebhookId).eq(webhook_id))
            .and_where(Expr::col(D::State).eq("held"))
            .order_by(D::Id, Order::Asc)
            .limit(limit),
    )
    .await
}

pub async fn mark_digested(db: &mut impl Db, ids: &[i64]) -> Result<()> {
    db.execute(Query::update().table(D::Table).value(D::State, "digested").and_where(Expr::col(D::Id).is_in(ids.iter().copied()))).await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

const DCOLS: [D; 11] = [
    D::Id,
    D::WebhookId,
    D::Event,
    D::Payload,
    D::State,
    D::Attempts,
    D::NextAttemptAt,
    D::LastStatus,
    D::LastError,
    D::CreatedAt,
    D::DeliveredAt,
];

/// Pending deliveries whose time has come, oldest first.
pub async fn due(db: &mut impl Db, now: i64, limit: u64) -> Result<Vec<DeliveryRow>> {
    db.fetch_all(
        Query::select()
            .columns(DCOLS)
            .from(D::Table)
            .and_where(Expr::col(D::State).eq("pending"))
            .and_where(Expr::col(D::NextAttemptAt).lte(now))
            .order_by(D::Id, Order::Asc)
            .limit(limit),
    )
    .await
}

/// Records an attempt: `state` is `delivered`, `pending` (again at
/// `next`) or `failed`.
pub async fn attempted(db: &mut impl Db, id: i64, state: &str, status: Option<i64>, error: &str, next: i64, now: i64) -> Result<()> {
    let mut q = Query::update();
    q.table(D::Table)
        .value(D::State, state)
        .value(D::Attempts, Expr::col(D::Attempts).add(1))
        .value(D::LastStatus, status)
        .value(D::LastError, error)
        .value(D::NextAttemptAt, next)
        .and_where(Expr::col(D::Id).eq(id))
        .and_where(Expr::col(D::State).eq("pending"));
    if state == "delivered" {
        q.value(D::DeliveredAt, now);
    }
    db.execute(&q).await?;
    Ok(())
}

/// A webhook's deliveries, newest first.
pub async fn deliveries(db: &mut impl Db, webhook_id: i64, limit: u64) -> Result<Vec<DeliveryRow>> {
    db.fetch_all(
        Query::select()
            .columns(DCOLS)
            .from(D::Table)
            .and_where(Expr::col(D::WebhookId).eq(webhook_id))
            .order_by(D::Id, Order::Desc)
            .limit(limit),
    )
    .await
}
