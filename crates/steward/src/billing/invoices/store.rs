//! Invoices, their lines, invoice runs and the numbering counters in the
//! database; and the time entries billing reads and links.

use crate::auth::principal::ScopedClient;
use crate::store::{packed, Db, IdRow, Result};
use crate::time::Timestamp;
use crate::timesheets::store::TimeEntries;
use sea_query::{Expr, Iden, OnConflict, Order, Query};
use std::collections::HashMap;

#[derive(Iden, Clone, Copy)]
pub(crate) enum Invoices {
    Table,
    Id,
    ClientId,
    ContractId,
    RunId,
    Kind,
    CreditedInvoiceId,
    State,
    Number,
    PeriodStart,
    PeriodEnd,
    Currency,
    TaxInclusive,
    Subtotal,
    Tax,
    Total,
    IssuedOn,
    DueOn,
    CreatedAt,
    UpdatedAt,
    FinalizedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum InvoiceLines {
    Table,
    Id,
    InvoiceId,
    Position,
    ContractLineId,
    Kind,
    Description,
    Quantity,
    UnitPrice,
    Amount,
    TaxRate,
    Source,
}

#[derive(Iden, Clone, Copy)]
enum InvoiceRuns {
    Table,
    Id,
    PeriodStart,
    PeriodEnd,
    State,
    ClientsTotal,
    ClientsDone,
    InvoicesMade,
    Error,
    CreatedBy,
    CreatedAt,
    FinishedAt,
}

#[derive(Iden, Clone, Copy)]
enum InvoiceCounters {
    Table,
    Kind,
    Year,
    LastNumber,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum BillingSettings {
    Table,
    Id,
    InvoiceFormat,
    CreditFormat,
    PaymentTermsDays,
    CompanyName,
    CompanyAddress,
}

#[derive(Iden, Clone, Copy)]
enum Billed {
    InvoiceLineId,
}

const INVOICE_COLS: [Invoices; 20] = [
    Invoices::Id,
    Invoices::ClientId,
    Invoices::ContractId,
    Invoices::RunId,
    Invoices::Kind,
    Invoices::CreditedInvoiceId,
    Invoices::State,
    Invoices::Number,
    Invoices::PeriodStart,
    Invoices::PeriodEnd,
    Invoices::Currency,
    Invoices::TaxInclusive,
    Invoices::Subtotal,
    Invoices::Tax,
    Invoices::Total,
    Invoices::IssuedOn,
    Invoices::DueOn,
    Invoices::CreatedAt,
    Invoices::UpdatedAt,
    Invoices::FinalizedAt,
];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: i64,
    pub client_id: i64,
    pub contract_id: Option<i64>,
    pub run_id: Option<i64>,
    pub kind: String,
    pub credited_invoice_id: Option<i64>,
    pub state: String,
    pub number: Option<String>,
    pub period_start: String,
    pub period_end: String,
    pub currency: String,
    pub tax_inclusive: bool,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    pub issued_on: Option<String>,
    pub due_on: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finalized_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LineRow {
    pub id: i64,
    pub invoice_id: i64,
    pub position: i64,
    pub contract_line_id: Option<i64>,
    pub kind: String,
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
    pub tax_rate: String,
    pub source: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub period_start: String,
    pub period_end: String,
    pub state: String,
    pub clients_total: i64,
    pub clients_done: i64,
    pub invoices_made: i64,
    pub error: String,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

fn cols() -> [Invoices; 20] {
    INVOICE_COLS
}

pub async fn get(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<InvoiceRow>> {
    db.fetch_optional(
        Query::select()
            .columns(cols())
            .from(Invoices::Table)
            .and_where(Expr::col(Invoices::Id).eq(id))
            .and_where(Expr::col(Invoices::ClientId).eq(client.id())),
    )
    .await
}

/// A client's invoices and credit notes, newest first.
pub async fn of_client(db: &mut impl Db, client: ScopedClient) -> Result<Vec<InvoiceRow>> {
    db.fetch_all(
        Query::select()
            .columns(cols())
            .from(Invoices::Table)
            .and_where(Expr::col(Invoices::ClientId).eq(client.id()))
            .order_by(Invoices::Id, Order::Desc)
            .limit(1000),
    )
    .await
}

/// The invoices a run made.
pub async fn of_run(db: &mut impl Db, run: i64) -> Result<Vec<InvoiceRow>> {
    db.fetch_all(
        Query::select()
            .columns(cols())
            .from(Invoices::Table)
            .and_where(Expr::col(Invoices::RunId).eq(run))
            .order_by(Invoices::Id, Order::Asc),
    )
    .await
}

pub async fn lines(db: &mut impl Db, invoices: &[i64]) -> Result<Vec<LineRow>> {
    if invoices.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(
        Query::select()
            .columns([
                InvoiceLines::Id,
                InvoiceLines::InvoiceId,
                InvoiceLines::Position,
                InvoiceLines::ContractLineId,
                InvoiceLines::Kind,
                InvoiceLines::Description,
                InvoiceLines::Quantity,
                InvoiceLines::UnitPrice,
                InvoiceLines::Amount,
                InvoiceLines::TaxRate,
                InvoiceLines::Source,
            ])
            .from(InvoiceLines::Table)
            .and_where(Expr::col(InvoiceLines::InvoiceId).is_in(invoices.iter().copied()))
            .order_by(InvoiceLines::InvoiceId, Order::Asc)
            .order_by(InvoiceLines::Position, Order::Asc),
    )
    .await
}

/// The client an invoice belongs to.
pub async fn client_of(db: &mut impl Db, id: i64) -> Result<Option<i64>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        client_id: i64,
    }
    let r: Option<Row> = db
        .fetch_optional(Query::select().column(Invoices::ClientId).from(Invoices::Table).and_where(Expr::col(Invoices::Id).eq(id)))
        .await?;
    Ok(r.map(|r| r.client_id))
}

/// The hours of its own block a block-of-hours line left unused in its
/// last invoiced cycle before `period_start` (0 when none).
pub async fn hours_left(db: &mut impl Db, contract_line: i64, period_start: &str) -> Result<rust_decimal::Decimal> {
    #[derive(sqlx::FromRow)]
    struct Row {
        source: String,
    }
    let r: Option<Row> = db
        .fetch_optional(
            Query::select()
                .column((InvoiceLines::Table, InvoiceLines::Source))
                .from(InvoiceLines::Table)
                .inner_join(
                    Invoices::Table,
                    Expr::col((Invoices::Table, Invoices::Id)).equals((InvoiceLines::Table, InvoiceLines::InvoiceId)),
                )
                .and_where(Expr::col((InvoiceLines::Table, InvoiceLines::ContractLineId)).eq(contract_line))
                .and_where(Expr::col((InvoiceLines::Table, InvoiceLines::Kind)).eq("block_hours"))
                .and_where(Expr::col((Invoices::Table, Invoices::Kind)).eq("invoice"))
                .and_where(Expr::col((Invoices::Table, Invoices::PeriodStart)).lt(period_start))
                .order_by((Invoices::Table, Invoices::PeriodStart), Order::Desc)
                .limit(1),
        )
        .await?;
    Ok(r.and_then(|r| serde_json::from_str::<serde_json::Value>(&r.source).ok())
        .and_then(|v| v["hours_left_own"].as_str().map(crate::billing::model::money::stored))
        .unwrap_or_default())
}

/// Whether a credit note credits this invoice already.
pub async fn credited(db: &mut impl Db, invoice: i64) -> Result<bool> {
    let r: Option<IdRow> = db
        .fetch_optional(
            Query::select()
                .column(Invoices::Id)
                .from(Invoices::Table)
                .and_where(Expr::col(Invoices::CreditedInvoiceId).eq(invoice))
                .limit(1),
        )
        .await?;
    Ok(r.is_some())
}

/// Whether a contract's period has its invoice already.
pub async fn exists(db: &mut impl Db, client: i64, contract: i64, period_start: &str) -> Result<bool> {
    let r: Option<IdRow> = db
        .fetch_optional(
            Query::select()
                .column(Invoices::Id)
                .from(Invoices::Table)
                .and_where(Expr::col(Invoices::ClientId).eq(client))
                .and_where(Expr::col(Invoices::ContractId).eq(contract))
                .and_where(Expr::col(Invoices::PeriodStart).eq(period_start))
                .and_where(Expr::col(Invoices::Kind).eq("invoice")),
        )
        .await?;
    Ok(r.is_some())
}

/// The cycles of these contracts already invoiced: (contract, period start).
pub async fn invoiced(db: &mut impl Db, contracts: &[i64]) -> Result<std::collections::HashSet<(i64, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        contract_id: i64,
        period_start: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .columns([Invoices::ContractId, Invoices::PeriodStart])
                .from(Invoices::Table)
                .and_where(Expr::col(Invoices::ContractId).is_in(contracts.iter().copied()))
                .and_where(Expr::col(Invoices::Kind).eq("invoice")),
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.contract_id, r.period_start)).collect())
}

/// A new invoice's head (its totals are written with its lines).
pub struct NewInvoice<'a> {
    pub client_id: i64,
    pub contract_id: Option<i64>,
    pub run_id: Option<i64>,
    pub kind: &'a str,
    pub credited_invoice_id: Option<i64>,
    pub period_start: &'a str,
    pub period_end: &'a str,
    pub currency: &'a str,
    pub tax_inclusive: bool,
}

pub async fn insert(db: &mut impl Db, i: &NewInvoice<'_>, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Invoices::Table)
                .columns([
                    Invoices::ClientId,
                    Invoices::ContractId,
                    Invoices::RunId,
                    Invoices::Kind,
                    Invoices::CreditedInvoiceId,
                    Invoices::State,
                    Invoices::PeriodStart,
                    Invoices::PeriodEnd,
                    Invoices::Currency,
                    Invoices::TaxInclusive,
                    Invoices::Subtotal,
                    Invoices::Tax,
                    Invoices::Total,
                    Invoices::CreatedAt,
                    Invoices::UpdatedAt,
                ])
                .values_panic([
                    i.client_id.into(),
                    i.contract_id.into(),
                    i.run_id.into(),
                    i.kind.into(),
                    i.credited_invoice_id.into(),
                    "draft".into(),
                    i.period_start.into(),
                    i.period_end.into(),
                    i.currency.into(),
                    i.tax_inclusive.into(),
                    "0".into(),
                    "0".into(),
                    "0".into(),
                    now.into(),
                    now.into(),
                ])
                .returning_col(Invoices::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn insert_line(db: &mut impl Db, l: &LineRow) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(InvoiceLines::Table)
                .columns([
                    InvoiceLines::InvoiceId,
                    InvoiceLines::Position,
                    InvoiceLines::ContractLineId,
                    InvoiceLines::Kind,
                    InvoiceLines::Description,
                    InvoiceLines::Quantity,
                    InvoiceLines::UnitPrice,
                    InvoiceLines::Amount,
                    InvoiceLines::TaxRate,
                    InvoiceLines::Source,
                ])
                .values_panic([
                    l.invoice_id.into(),
                    l.position.into(),
                    l.contract_line_id.into(),
                    l.kind.clone().into(),
                    l.description.clone().into(),
                    l.quantity.clone().into(),
                    l.unit_price.clone().into(),
                    l.amount.clone().into(),
                    l.tax_rate.clone().into(),
                    l.source.clone().into(),
                ])
                .returning_col(InvoiceLines::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn update_line(db: &mut impl Db, l: &LineRow) -> Result<u64> {
    db.execute(
        Query::update()
            .table(InvoiceLines::Table)
            .values([
                (InvoiceLines::Description, l.description.clone().into()),
                (InvoiceLines::Quantity, l.quantity.clone().into()),
                (InvoiceLines::UnitPrice, l.unit_price.clone().into()),
                (InvoiceLines::Amount, l.amount.clone().into()),
                (InvoiceLines::TaxRate, l.tax_rate.clone().into()),
            ])
            .and_where(Expr::col(InvoiceLines::Id).eq(l.id))
            .and_where(Expr::col(InvoiceLines::InvoiceId).eq(l.invoice_id)),
    )
    .await
}

/// Removes a draft's line; its time entries are unbilled again.
pub async fn delete_line(db: &mut impl Db, invoice: i64, line: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(TimeEntries::Table)
            .value(Billed::InvoiceLineId, Option::<i64>::None)
            .and_where(Expr::col(Billed::InvoiceLineId).eq(line)),
    )
    .await?;
    db.execute(
        Query::delete()
            .from_table(InvoiceLines::Table)
            .and_where(Expr::col(InvoiceLines::Id).eq(line))
            .and_where(Expr::col(InvoiceLines::InvoiceId).eq(invoice)),
    )
    .await
}

pub async fn set_totals(db: &mut impl Db, id: i64, subtotal: &str, tax: &str, total: &str, now: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(Invoices::Table)
            .values([
                (Invoices::Subtotal, subtotal.into()),
                (Invoices::Tax, tax.into()),
                (Invoices::Total, total.into()),
                (Invoices::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Invoices::Id).eq(id)),
    )
    .await
}

/// Makes a draft final with its number; false if it was no longer a draft.
pub async fn finalize(db: &mut impl Db, id: i64, number: &str, issued_on: &str, due_on: &str, now: i64) -> Result<bool> {
    let n = db
        .execute(
            Query::update()
                .table(Invoices::Table)
                .values([
                    (Invoices::State, "final".into()),
                    (Invoices::Number, number.into()),
                    (Invoices::IssuedOn, issued_on.into()),
                    (Invoices::DueOn, due_on.into()),
                    (Invoices::FinalizedAt, now.into()),
                    (Invoices::UpdatedAt, now.into()),
                ])
                .and_where(Expr::col(Invoices::Id).eq(id))
                .and_where(Expr::col(Invoices::State).eq("draft")),
        )
        .await?;
    Ok(n == 1)
}

/// The next number of a kind in a year, taken inside the finalizing
/// transaction (a rollback gives it back: no gaps).
pub async fn next_number(db: &mut impl Db, kind: &str, year: i64) -> Result<i64> {
    #[derive(sqlx::FromRow)]
    struct Last {
        last_number: i64,
    }
    let r: Last = db
        .fetch_one(
            Query::insert()
                .into_table(InvoiceCounters::Table)
                .columns([InvoiceCounters::Kind, InvoiceCounters::Year, InvoiceCounters::LastNumber])
                .values_panic([kind.into(), year.into(), 1.into()])
                .on_conflict(
                    OnConflict::columns([InvoiceCounters::Kind, InvoiceCounters::Year])
                        .value(InvoiceCounters::LastNumber, Expr::col((InvoiceCounters::Table, InvoiceCounters::LastNumber)).add(1))
                        .to_owned(),
                )
                .returning_col(InvoiceCounters::LastNumber),
        )
        .await?;
    Ok(r.last_number)
}

/// The number formats, the payment terms and what invoices say of the MSP.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = BillingSettings)]
pub struct Settings {
    /// `{year}` and `{number}` or `{number:06}` (zero-padded), e.g. `INV-{year}-{number:06}`.
    pub invoice_format: String,
    pub credit_format: String,
    /// Days from issue to due.
    pub payment_terms_days: i64,
    /// The MSP's name and address at the top of every invoice.
    pub company_name: String,
    pub company_address: String,
}

pub async fn settings(db: &mut impl Db) -> Result<Settings> {
    db.fetch_one(
        Query::select()
            .columns([
                BillingSettings::InvoiceFormat,
                BillingSettings::CreditFormat,
                BillingSettings::PaymentTermsDays,
                BillingSettings::CompanyName,
                BillingSettings::CompanyAddress,
            ])
            .from(BillingSettings::Table)
            .and_where(Expr::col(BillingSettings::Id).eq(1)),
    )
    .await
}

pub async fn set_settings(db: &mut impl Db, s: &Settings) -> Result<u64> {
    db.execute(
        Query::update()
            .table(BillingSettings::Table)
            .values([
                (BillingSettings::InvoiceFormat, s.invoice_format.clone().into()),
                (BillingSettings::CreditFormat, s.credit_format.clone().into()),
                (BillingSettings::PaymentTermsDays, s.payment_terms_days.into()),
                (BillingSettings::CompanyName, s.company_name.clone().into()),
                (BillingSettings::CompanyAddress, s.company_address.clone().into()),
            ])
            .and_where(Expr::col(BillingSettings::Id).eq(1)),
    )
    .await
}

// ---- runs ----

const RUN_COLS: [InvoiceRuns; 10] = [
    InvoiceRuns::Id,
    InvoiceRuns::PeriodStart,
    InvoiceRuns::PeriodEnd,
    InvoiceRuns::State,
    InvoiceRuns::ClientsTotal,
    InvoiceRuns::ClientsDone,
    InvoiceRuns::InvoicesMade,
    InvoiceRuns::Error,
    InvoiceRuns::CreatedAt,
    InvoiceRuns::FinishedAt,
];

pub async fn insert_run(db: &mut impl Db, start: &str, end: &str, by: i64, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(InvoiceRuns::Table)
                .columns([
                    InvoiceRuns::PeriodStart,
                    InvoiceRuns::PeriodEnd,
                    InvoiceRuns::State,
                    InvoiceRuns::CreatedBy,
                    InvoiceRuns::CreatedAt,
                ])
                .values_panic([start.into(), end.into(), "running".into(), by.into(), now.into()])
                .returning_col(InvoiceRuns::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn run(db: &mut impl Db, id: i64) -> Result<Option<RunRow>> {
    db.fetch_optional(Query::select().columns(RUN_COLS).from(InvoiceRuns::Table).and_where(Expr::col(InvoiceRuns::Id).eq(id))).await
}

/// Runs not finished, oldest first.
pub async fn running(db: &mut impl Db) -> Result<Vec<RunRow>> {
    db.fetch_all(
        Query::select()
            .columns(RUN_COLS)
            .from(InvoiceRuns::Table)
            .and_where(Expr::col(InvoiceRuns::State).eq("running"))
            .order_by(InvoiceRuns::Id, Order::Asc),
    )
    .await
}

pub async fn runs(db: &mut impl Db, limit: u64) -> Result<Vec<RunRow>> {
    db.fetch_all(Query::select().columns(RUN_COLS).from(InvoiceRuns::Table).order_by(InvoiceRuns::Id, Order::Desc).limit(limit)).await
}

pub async fn run_progress(db: &mut impl Db, id: i64, total: i64, done: i64, made: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(InvoiceRuns::Table)
            .values([
                (InvoiceRuns::ClientsTotal, total.into()),
                (InvoiceRuns::ClientsDone, done.into()),
                (InvoiceRuns::InvoicesMade, made.into()),
            ])
            .and_where(Expr::col(InvoiceRuns::Id).eq(id)),
    )
    .await
}

pub async fn finish_run(db: &mut impl Db, id: i64, state: &str, error: &str, now: i64) -> Result<u64> {
    db.execute(
        Query::update()
            .table(InvoiceRuns::Table)
            .values([(InvoiceRuns::State, state.into()), (InvoiceRuns::Error, error.into()), (InvoiceRuns::FinishedAt, now.into())])
            .and_where(Expr::col(InvoiceRuns::Id).eq(id)),
    )
    .await
}

// ---- time ----

/// A billable time entry no invoice holds yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unbilled {
    pub id: i64,
    pub client_id: i64,
    pub work_type_id: i64,
    pub started_at: i64,
    pub minutes: i64,
}

/// The finished billable entries that no invoice holds of each of these
/// clients (started before `before_us`, if given), oldest first; read
/// packed, one row per client (see `store::packed`).
pub async fn unbilled_of(db: &mut impl Db, clients: &[i64], before_us: Option<i64>) -> Result<HashMap<i64, Vec<Unbilled>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        client_id: i64,
        packed: String,
    }
    let mut out: HashMap<i64, Vec<Unbilled>> = HashMap::new();
    for chunk in clients.chunks(500) {
        let mut q = Query::select();
        q.column(TimeEntries::ClientId)
            .expr_as(packed::aggregate(db.backend(), &["id", "work_type_id", "started_at", "minutes"], "started_at, id"), packed::alias())
            .from(TimeEntries::Table)
            .and_where(Expr::col(TimeEntries::ClientId).is_in(chunk.iter().copied()))
            .and_where(Expr::col(TimeEntries::Billable).eq(true))
            .and_where(Expr::col(TimeEntries::Minutes).is_not_null())
            .and_where(Expr::col(Billed::InvoiceLineId).is_null())
            .group_by_col(TimeEntries::ClientId);
        if let Some(before) = before_us {
            q.and_where(Expr::col(TimeEntries::StartedAt).lt(before));
        }
        for r in db.fetch_all::<Row, _>(&q).await? {
            let entries = packed::unpack::<4>(&r.packed).map(|[id, work_type_id, started_at, minutes]| Unbilled {
                id,
                client_id: r.client_id,
                work_type_id,
                started_at,
                minutes,
            });
            out.entry(r.client_id).or_default().extend(entries);
        }
    }
    Ok(out)
}

/// Links entries to the line that bills them, unless billed already;
/// returns how many it linked.
pub async fn bill_entries(db: &mut impl Db, line: i64, entries: &[i64]) -> Result<u64> {
    if entries.is_empty() {
        return Ok(0);
    }
    db.execute(
        Query::update()
            .table(TimeEntries::Table)
            .value(Billed::InvoiceLineId, line)
            .and_where(Expr::col(TimeEntries::Id).is_in(entries.iter().copied()))
            .and_where(Expr::col(Billed::InvoiceLineId).is_null()),
    )
    .await
}
