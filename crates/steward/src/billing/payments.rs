//! Payments against invoices, and what each client still owes: an
//! invoice's balance is its total less its credit notes and payments; the
//! open balance is aged by days past due (not yet due, 1–30, 31–60,
//! 61–90, over 90).

use super::invoices::store::{self as invoices, InvoiceRow};
use super::model::money::{self, currency};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::billing::contracts::model::date;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use crate::store::{Db, IdRow, Result};
use crate::time::{now_us, Timestamp};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_query::{Expr, Iden, Order, Query};
use serde::{Deserialize, Serialize};

#[derive(Iden, Clone, Copy)]
enum Payments {
    Table,
    Id,
    ClientId,
    InvoiceId,
    PaidOn,
    Amount,
    Method,
    Reference,
    CreatedBy,
    CreatedAt,
}

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    BankTransfer,
    Card,
    DirectDebit,
    Check,
    Cash,
    Other,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::BankTransfer => "bank_transfer",
            Method::Card => "card",
            Method::DirectDebit => "direct_debit",
            Method::Check => "check",
            Method::Cash => "cash",
            Method::Other => "other",
        }
    }
}

/// A payment received.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Payment {
    pub id: i64,
    pub client_id: i64,
    pub invoice_id: i64,
    pub paid_on: String,
    pub amount: String,
    pub method: String,
    pub reference: String,
    pub created_at: Timestamp,
}

/// A payment to record.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub invoice_id: i64,
    #[schema(example = "2026-12-07")]
    pub paid_on: String,
    #[schema(example = "418.00")]
    pub amount: String,
    pub method: Method,
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub reference: String,
}

pub async fn of_client(db: &mut impl Db, client: i64) -> Result<Vec<Payment>> {
    db.fetch_all(
        Query::select()
            .columns([
                Payments::Id,
                Payments::ClientId,
                Payments::InvoiceId,
                Payments::PaidOn,
                Payments::Amount,
                Payments::Method,
                Payments::Reference,
                Payments::CreatedAt,
            ])
            .from(Payments::Table)
            .and_where(Expr::col(Payments::ClientId).eq(client))
            .order_by(Payments::PaidOn, Order::Desc)
            .order_by(Payments::Id, Order::Desc),
    )
    .await
}

/// What is left to pay on each final invoice of a client.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Owed {
    pub invoice_id: i64,
    pub number: Option<String>,
    pub due_on: Option<String>,
    pub total: String,
    pub credited: String,
    pub paid: String,
    pub balance: String,
    /// Days past the due day (0: not yet due).
    pub days_overdue: i64,
}

/// The balances of a client's final invoices, oldest first.
pub fn owed(all: &[InvoiceRow], payments: &[Payment], today: NaiveDate) -> Vec<Owed> {
    let mut out: Vec<Owed> = all
        .iter()
        .filter(|i| i.kind == "invoice" && i.state == "final")
        .map(|i| {
            let credited: Decimal =
                all.iter().filter(|c| c.credited_invoice_id == Some(i.id) && c.state == "final").map(|c| money::stored(&c.total)).sum();
            let paid: Decimal = payments.iter().filter(|p| p.invoice_id == i.id).map(|p| money::stored(&p.amount)).sum();
            let total = money::stored(&i.total);
            let due = i.due_on.as_deref().and_then(|d| date(d).ok());
            let round = |d: Decimal| currency(&i.currency).map(|c| c.round(d)).unwrap_or(d);
            let (credited, paid) = (round(credited), round(paid));
            Owed {
                invoice_id: i.id,
                number: i.number.clone(),
                due_on: i.due_on.clone(),
                total: i.total.clone(),
                credited: credited.to_string(),
                paid: paid.to_string(),
                balance: round(total - credited - paid).to_string(),
                days_overdue: due.map(|d| (today - d).num_days().max(0)).unwrap_or(0),
            }
        })
        .collect();
    out.reverse();
    out
}

/// A client's open balance, aged.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Balance {
    pub currency: String,
    pub open: String,
    pub not_due: String,
    pub days_1_30: String,
    pub days_31_60: String,
    pub days_61_90: String,
    pub days_over_90: String,
    /// Final invoices with something left to pay.
    pub invoices: Vec<Owed>,
}

pub fn aged(currency_code: &str, owed: Vec<Owed>) -> Balance {
    let cur = currency(currency_code).ok();
    let fmt = |d: Decimal| cur.map(|c| c.round(d)).unwrap_or(d).to_string();
    let open: Vec<Owed> = owed.into_iter().filter(|o| money::stored(&o.balance) > Decimal::ZERO).collect();
    let sum = |lo: i64, hi: i64| -> Decimal {
        open.iter().filter(|o| (lo..=hi).contains(&o.days_overdue)).map(|o| money::stored(&o.balance)).sum()
    };
    Balance {
        currency: currency_code.to_string(),
        open: fmt(open.iter().map(|o| money::stored(&o.balance)).sum()),
        not_due: fmt(sum(0, 0)),
        days_1_30: fmt(sum(1, 30)),
        days_31_60: fmt(sum(31, 60)),
        days_61_90: fmt(sum(61, 90)),
        days_over_90: fmt(sum(91, i64::MAX)),
        invoices: open,
    }
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/payments", tag = "billing", params(("id" = i64, Path)),
    responses((status = 200, description = "newest first", body = Vec<Payment>), (status = 404, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<Payment>>> {
    let client = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    crate::tenancy::store::get_client(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(of_client(&mut db, id).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/balance", tag = "billing", params(("id" = i64, Path)),
    responses((status = 200, description = "what the client owes, aged by days past due", body = Balance), (status = 404, body = ErrorEnvelope)))]
pub async fn balance(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Balance>> {
    let client = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    let profile = super::profile::get(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    let owed = owed(&invoices::of_client(&mut db, client).await?, &of_client(&mut db, id).await?, chrono::Utc::now().date_naive());
    Ok(Json(aged(&profile.currency, owed)))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/payments", tag = "billing", params(("id" = i64, Path)), request_body = NewPayment,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 201, body = Payment), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn record(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewPayment>,
) -> ApiResult<(StatusCode, Json<Payment>)> {
    Ok((StatusCode::CREATED, Json(record_payment(&app, &p, id, input).await?)))
}

/// Records a payment against a final invoice of the client, audited.
pub async fn record_payment(app: &App, p: &Principal, id: i64, input: NewPayment) -> Result<Payment, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(id)?;
    let paid_on = date(&input.paid_on).map_err(|m| ApiError::refused("paid_on", m))?;
    let amount = money::parse(&input.amount, "an amount").map_err(|m| ApiError::refused("amount", m))?;
    let reference = crate::validate::Short::parse(&input.reference).map_err(|m| ApiError::invalid("reference", m))?.into_string();
    let mut tx = app.store.begin_audited().await?;
    let inv = invoices::get(tx.tx(), client, input.invoice_id)
        .await?
        .ok_or_else(|| ApiError::refused("invoice_id", "no such invoice of this client"))?;
    if inv.state != "final" || inv.kind != "invoice" {
        return Err(ApiError::Conflict("payments are recorded against final invoices".into()));
    }
    let cur = currency(&inv.currency).map_err(ApiError::internal)?;
    if amount.is_zero() || cur.round(amount) != amount {
        return Err(ApiError::refused("amount", format!("more than zero, in whole {} minor units", cur.code)));
    }
    let all = invoices::of_client(tx.tx(), client).await?;
    let owed = owed(&all, &of_client(tx.tx(), id).await?, paid_on);
    let left = owed.iter().find(|o| o.invoice_id == inv.id).map(|o| money::stored(&o.balance)).unwrap_or_default();
    if amount > left {
        return Err(ApiError::refused("amount", format!("more than the {left} {} left on the invoice", cur.code)));
    }
    let row: IdRow = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(Payments::Table)
                .columns([
                    Payments::ClientId,
                    Payments::InvoiceId,
                    Payments::PaidOn,
                    Payments::Amount,
                    Payments::Method,
                    Payments::Reference,
                    Payments::CreatedBy,
                    Payments::CreatedAt,
                ])
                .values_panic([
                    id.into(),
                    inv.id.into(),
                    paid_on.to_string().into(),
                    cur.round(amount).to_string().into(),
                    input.method.as_str().into(),
                    reference.clone().into(),
                    p.user.id.into(),
                    now_us().into(),
                ])
                .returning_col(Payments::Id),
        )
        .await?;
    let payment = of_client(tx.tx(), id).await?.into_iter().find(|x| x.id == row.id).ok_or(ApiError::NotFound)?;
    let details = serde_json::json!({"invoice_id": inv.id, "number": inv.number, "amount": payment.amount, "paid_on": payment.paid_on, "method": payment.method});
    tx.commit(&p.actor(), Event::new("payment.record", "payment", row.id).client(id).details(details)).await?;
    Ok(payment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_are_aged_by_days_past_due() {
        let inv = |id: i64, total: &str, due: &str| InvoiceRow {
            id,
            client_id: 1,
            contract_id: None,
            run_id: None,
            kind: "invoice".into(),
            credited_invoice_id: None,
            state: "final".into(),
            number: Some(format!("INV-{id}")),
            period_start: "2026-01-01".into(),
            period_end: "2026-01-31".into(),
            currency: "USD".into(),
            tax_inclusive: false,
            subtotal: total.into(),
            tax: "0".into(),
            total: total.into(),
            issued_on: None,
            due_on: Some(due.into()),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            finalized_at: None,
        };
        let mut credit = inv(4, "50.00", "2026-12-01");
        credit.kind = "credit_note".into();
        credit.credited_invoice_id = Some(3);
        let all = [inv(1, "100.00", "2026-12-31"), inv(2, "200.00", "2026-11-20"), inv(3, "50.00", "2026-08-01"), credit];
        let paid = Payment {
            id: 1,
            client_id: 1,
            invoice_id: 2,
            paid_on: "2026-12-01".into(),
            amount: "75.00".into(),
            method: "card".into(),
            reference: String::new(),
            created_at: Timestamp(0),
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let b = aged("USD", owed(&all, &[paid], today));
        assert_eq!(
            (b.open.as_str(), b.not_due.as_str(), b.days_1_30.as_str(), b.days_over_90.as_str()),
            ("225.00", "100.00", "125.00", "0.00")
        );
        assert_eq!(b.invoices.len(), 2, "the credited one owes nothing");
    }
}
