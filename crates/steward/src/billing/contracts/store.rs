//! Contracts in the database: the contract, its lines (a removed line is
//! kept, marked, for the invoices that point at it) and its work-type rates.

use crate::auth::principal::ScopedClient;
use crate::store::{Db, Result};
use crate::time::Timestamp;
use sea_query::{Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Contracts {
    Table,
    Id,
    ClientId,
    Name,
    StartDate,
    EndDate,
    BillingCycle,
    Billed,
    Currency,
    SlaPolicyId,
    SeenWithinDays,
    TaxRate,
    TaxInclusive,
    Archived,
    CreatedAt,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum ContractLines {
    Table,
    Id,
    ContractId,
    Position,
    Kind,
    Description,
    UnitPrice,
    Quantity,
    FollowCount,
    DeviceClass,
    Hours,
    OverageRate,
    Rollover,
    TaxRate,
    Removed,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum ContractRates {
    Table,
    ContractId,
    WorkTypeId,
    Included,
    Rate,
}

const CONTRACT_COLS: [Contracts; 15] = [
    Contracts::Id,
    Contracts::ClientId,
    Contracts::Name,
    Contracts::StartDate,
    Contracts::EndDate,
    Contracts::BillingCycle,
    Contracts::Billed,
    Contracts::Currency,
    Contracts::SlaPolicyId,
    Contracts::SeenWithinDays,
    Contracts::TaxRate,
    Contracts::TaxInclusive,
    Contracts::Archived,
    Contracts::CreatedAt,
    Contracts::UpdatedAt,
];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractRow {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub billing_cycle: String,
    pub billed: String,
    pub currency: String,
    pub sla_policy_id: Option<i64>,
    pub seen_within_days: i64,
    pub tax_rate: Option<String>,
    pub tax_inclusive: bool,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LineRow {
    pub id: i64,
    pub contract_id: i64,
    pub position: i64,
    pub kind: String,
    pub description: String,
    pub unit_price: String,
    pub quantity: String,
    pub follow_count: bool,
    pub device_class: Option<String>,
    pub hours: Option<String>,
    pub overage_rate: Option<String>,
    pub rollover: bool,
    pub tax_rate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RateRow {
    pub contract_id: i64,
    pub work_type_id: i64,
    pub included: bool,
    pub rate: Option<String>,
}

const LINE_COLS: [ContractLines; 13] = [
    ContractLines::Id,
    ContractLines::ContractId,
    ContractLines::Position,
    ContractLines::Kind,
    ContractLines::Description,
    ContractLines::UnitPrice,
    ContractLines::Quantity,
    ContractLines::FollowCount,
    ContractLines::DeviceClass,
    ContractLines::Hours,
    ContractLines::OverageRate,
    ContractLines::Rollover,
    ContractLines::TaxRate,
];

fn cols() -> [Contracts; 15] {
    CONTRACT_COLS
}

/// A client's contracts, oldest first.
pub async fn of_client(db: &mut impl Db, client: ScopedClient) -> Result<Vec<ContractRow>> {
    db.fetch_all(
        Query::select()
            .columns(cols())
            .from(Contracts::Table)
            .and_where(Expr::col(Contracts::ClientId).eq(client.id()))
            .order_by(Contracts::Id, Order::Asc),
    )
    .await
}

/// Every contract not archived, for the invoice run.
pub async fn active(db: &mut impl Db) -> Result<Vec<ContractRow>> {
    db.fetch_all(
        Query::select()
            .columns(cols())
            .from(Contracts::Table)
            .and_where(Expr::col(Contracts::Archived).eq(false))
            .order_by(Contracts::ClientId, Order::Asc)
            .order_by(Contracts::Id, Order::Asc),
    )
    .await
}

pub async fn get(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<ContractRow>> {
    db.fetch_optional(
        Query::select()
            .columns(cols())
            .from(Contracts::Table)
            .and_where(Expr::col(Contracts::Id).eq(id))
            .and_where(Expr::col(Contracts::ClientId).eq(client.id())),
    )
    .await
}

/// The lines of these contracts still in force, in order.
pub async fn lines(db: &mut impl Db, contracts: &[i64]) -> Result<Vec<LineRow>> {
    if contracts.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        Query::select()
            .columns(LINE_COLS)
            .from(ContractLines::Table)
            .and_where(Expr::col(ContractLines::ContractId).is_in(contracts.iter().copied()))
            .and_where(Expr::col(ContractLines::Removed).eq(false))
            .order_by(ContractLines::ContractId, Order::Asc)
            .order_by(ContractLines::Position, Order::Asc),
    )
    .await
}

pub async fn rates(db: &mut impl Db, contracts: &[i64]) -> Result<Vec<RateRow>> {
    if contracts.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        Query::select()
            .columns([ContractRates::ContractId, ContractRates::WorkTypeId, ContractRates::Included, ContractRates::Rate])
            .from(ContractRates::Table)
            .and_where(Expr::col(ContractRates::ContractId).is_in(contracts.iter().copied()))
            .order_by(ContractRates::ContractId, Order::Asc)
            .order_by(ContractRates::WorkTypeId, Order::Asc),
    )
    .await
}

/// What a contract is stored as (validated by `ops`).
pub struct ContractWrite<'a> {
    pub name: &'a str,
    pub start_date: &'a str,
    pub end_date: Option<&'a str>,
    pub billing_cycle: &'a str,
    pub billed: &'a str,
    pub currency: &'a str,
    pub sla_policy_id: Option<i64>,
    pub seen_within_days: i64,
    pub tax_rate: Option<&'a str>,
    pub tax_inclusive: bool,
    pub archived: bool,
}

pub async fn insert(db: &mut impl Db, client_id: i64, c: &ContractWrite<'_>, now: i64) -> Result<i64> {
    let row: crate::store::IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Contracts::Table)
                .columns([
                    Contracts::ClientId,
                    Contracts::Name,
                    Contracts::StartDate,
                    Contracts::EndDate,
                    Contracts::BillingCycle,
                    Contracts::Billed,
                    Contracts::Currency,
                    Contracts::SlaPolicyId,
                    Contracts::SeenWithinDays,
                    Contracts::TaxRate,
                    Contracts::TaxInclusive,
                    Contracts::Archived,
                    Contracts::CreatedAt,
                    Contracts::UpdatedAt,
                ])
                .values_panic([
                    client_id.into(),
                    c.name.into(),
                    c.start_date.into(),
                    c.end_date.into(),
                    c.billing_cycle.into(),
                    c.billed.into(),
                    c.currency.into(),
                    c.sla_policy_id.into(),
                    c.seen_within_days.into(),
                    c.tax_rate.into(),
                    c.tax_inclusive.into(),
                    c.archived.into(),
                    now.into(),
                    now.into(),
                ])
                .returning_col(Contracts::Id),
        )
        .await?;
    Ok(row.id)
}

pub async fn update(db: &mut impl Db, id: i64, c: &ContractWrite<'_>, now: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(Contracts::Table)
            .values([
                (Contracts::Name, c.name.into()),
                (Contracts::StartDate, c.start_date.into()),
                (Contracts::EndDate, c.end_date.into()),
                (Contracts::BillingCycle, c.billing_cycle.into()),
                (Contracts::Billed, c.billed.into()),
                (Contracts::Currency, c.currency.into()),
                (Contracts::SlaPolicyId, c.sla_policy_id.into()),
                (Contracts::SeenWithinDays, c.seen_within_days.into()),
                (Contracts::TaxRate, c.tax_rate.into()),
                (Contracts::TaxInclusive, c.tax_inclusive.into()),
                (Contracts::Archived, c.archived.into()),
                (Contracts::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Contracts::Id).eq(id)),
    )
    .await
}

/// Adds a line, or (with `id`) rewrites the contract's line of that id.
pub async fn put_line(db: &mut impl Db, l: &LineRow) -> Result<i64> {
    let values = [
        (ContractLines::Position, l.position.into()),
        (ContractLines::Kind, l.kind.clone().into()),
        (ContractLines::Description, l.description.clone().into()),
        (ContractLines::UnitPrice, l.unit_price.clone().into()),
        (ContractLines::Quantity, l.quantity.clone().into()),
        (ContractLines::FollowCount, l.follow_count.into()),
        (ContractLines::DeviceClass, l.device_class.clone().into()),
        (ContractLines::Hours, l.hours.clone().into()),
        (ContractLines::OverageRate, l.overage_rate.clone().into()),
        (ContractLines::Rollover, l.rollover.into()),
        (ContractLines::TaxRate, l.tax_rate.clone().into()),
    ];
    if l.id > 0 {
        db.execute(
            Query::update()
                .table(ContractLines::Table)
                .values(values)
                .and_where(Expr::col(ContractLines::Id).eq(l.id))
                .and_where(Expr::col(ContractLines::ContractId).eq(l.contract_id)),
        )
        .await?;
        return Ok(l.id);
    }
    let (mut cols, vals): (Vec<_>, Vec<sea_query::SimpleExpr>) = values.into_iter().unzip();
    cols.push(ContractLines::ContractId);
    let mut all = vals;
    all.push(l.contract_id.into());
    let mut q = Query::insert();
    q.into_table(ContractLines::Table).columns(cols).values_panic(all).returning_col(ContractLines::Id);
    let row: crate::store::IdRow = db.fetch_one(&q).await?;
    Ok(row.id)
}

/// Marks the contract's lines not in `keep` removed.
pub async fn remove_lines_except(db: &mut impl Db, contract: i64, keep: &[i64]) -> Result<u64> {
    let mut q = Query::update();
    q.table(ContractLines::Table)
        .value(ContractLines::Removed, true)
        .and_where(Expr::col(ContractLines::ContractId).eq(contract))
        .and_where(Expr::col(ContractLines::Removed).eq(false));
    if !keep.is_empty() {
        q.and_where(Expr::col(ContractLines::Id).is_not_in(keep.iter().copied()));
    }
    db.execute(&q).await
}

/// Replaces the contract's work-type rates.
pub async fn set_rates(db: &mut impl Db, contract: i64, rates: &[RateRow]) -> Result<()> {
    db.execute(Query::delete().from_table(ContractRates::Table).and_where(Expr::col(ContractRates::ContractId).eq(contract))).await?;
    for r in rates {
        db.execute(
            Query::insert()
                .into_table(ContractRates::Table)
                .columns([ContractRates::ContractId, ContractRates::WorkTypeId, ContractRates::Included, ContractRates::Rate])
                .values_panic([contract.into(), r.work_type_id.into(), r.included.into(), r.rate.clone().into()]),
        )
        .await?;
    }
    Ok(())
}

/// Sets a line's fixed quantity (reconciliation's "bill what is managed").
pub async fn set_quantity(db: &mut impl Db, contract: i64, line: i64, quantity: &str) -> Result<u64> {
    db.execute(
        Query::update()
            .table(ContractLines::Table)
            .value(ContractLines::Quantity, quantity)
            .and_where(Expr::col(ContractLines::Id).eq(line))
            .and_where(Expr::col(ContractLines::ContractId).eq(contract))
            .and_where(Expr::col(ContractLines::Removed).eq(false)),
    )
    .await
}
