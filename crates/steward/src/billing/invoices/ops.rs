//! What people do with invoices: read them, edit a draft's lines (each
//! edit with a reason, audited), finalize a draft (numbered without gaps
//! in the finalizing transaction, immutable after), credit a final one
//! (a numbered credit note), and start an invoice run.

use super::store::{self, InvoiceRow, LineRow, NewInvoice};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::billing::contracts::model::{date, tax_rate};
use crate::billing::model::money::{self, currency, QuantityInput};
use crate::billing::model::totals::{totals, Line as TotalLine, TaxPart};
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An invoice or credit note, with its lines and totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    pub id: i64,
    pub client_id: i64,
    pub contract_id: Option<i64>,
    pub run_id: Option<i64>,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// The invoice a credit note credits.
    pub credited_invoice_id: Option<i64>,
    /// `draft` or `final`.
    pub state: String,
    /// Given when finalized, e.g. `INV-2026-000123`.
    pub number: Option<String>,
    pub period_start: String,
    pub period_end: String,
    pub currency: String,
    pub tax_inclusive: bool,
    pub subtotal: String,
    pub taxes: Vec<TaxPart>,
    pub tax: String,
    pub total: String,
    pub issued_on: Option<String>,
    pub due_on: Option<String>,
    pub lines: Vec<InvoiceLine>,
    pub created_at: Timestamp,
    pub finalized_at: Option<Timestamp>,
}

/// A line of an invoice, and where its figure came from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceLine {
    pub id: i64,
    pub contract_line_id: Option<i64>,
    /// The contract line's kind, or what the line is (`time`,
    /// `block_hours_used`, `block_hours_overage`, `included_time`, `manual`).
    pub kind: String,
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
    /// Percent.
    pub tax_rate: String,
    /// Where it came from: the count and the day it was taken and the ids
    /// counted, the daily counts, the time entries by id.
    #[schema(value_type = Object)]
    pub source: Value,
}

pub fn shown(i: InvoiceRow, lines: &[LineRow]) -> Invoice {
    let lines: Vec<InvoiceLine> = lines
        .iter()
        .filter(|l| l.invoice_id == i.id)
        .map(|l| InvoiceLine {
            id: l.id,
            contract_line_id: l.contract_line_id,
            kind: l.kind.clone(),
            description: l.description.clone(),
            quantity: l.quantity.clone(),
            unit_price: l.unit_price.clone(),
            amount: l.amount.clone(),
            tax_rate: l.tax_rate.clone(),
            source: serde_json::from_str(&l.source).unwrap_or(json!({})),
        })
        .collect();
    let taxes = currency(&i.currency)
        .map(|cur| {
            let t: Vec<TotalLine> =
                lines.iter().map(|l| TotalLine { amount: money::stored(&l.amount), tax_rate: money::stored(&l.tax_rate) }).collect();
            totals(&t, i.tax_inclusive, &cur).taxes
        })
        .unwrap_or_default();
    Invoice {
        id: i.id,
        client_id: i.client_id,
        contract_id: i.contract_id,
        run_id: i.run_id,
        kind: i.kind,
        credited_invoice_id: i.credited_invoice_id,
        state: i.state,
        number: i.number,
        period_start: i.period_start,
        period_end: i.period_end,
        currency: i.currency,
        tax_inclusive: i.tax_inclusive,
        subtotal: i.subtotal,
        taxes,
        tax: i.tax,
        total: i.total,
        issued_on: i.issued_on,
        due_on: i.due_on,
        lines,
        created_at: i.created_at,
        finalized_at: i.finalized_at,
    }
}

pub async fn load(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<Invoice>, ApiError> {
    let Some(row) = store::get(db, client, id).await? else { return Ok(None) };
    let lines = store::lines(db, &[id]).await?;
    Ok(Some(shown(row, &lines)))
}

pub async fn of_client(db: &mut impl Db, client: ScopedClient) -> Result<Vec<Invoice>, ApiError> {
    let rows = store::of_client(db, client).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let lines = store::lines(db, &ids).await?;
    Ok(rows.into_iter().map(|r| shown(r, &lines)).collect())
}

/// An invoice number from its format: `{year}`, and `{number}` or
/// `{number:06}` (zero-padded to six digits).
pub fn number(format: &str, year: i32, n: i64) -> String {
    let mut out = format.replace("{year}", &year.to_string());
    while let Some(at) = out.find("{number") {
        let Some(close) = out[at..].find('}').map(|c| at + c) else { break };
        let width: usize = out[at + 7..close].trim_start_matches(':').parse().unwrap_or(0);
        out.replace_range(at..=close, &format!("{n:0width$}"));
    }
    out
}

/// Rewrites an invoice's totals from its lines.
async fn retotal(db: &mut impl Db, inv: &InvoiceRow) -> Result<(), ApiError> {
    let cur = currency(&inv.currency).map_err(ApiError::internal)?;
    let lines = store::lines(db, &[inv.id]).await?;
    let t: Vec<TotalLine> =
        lines.iter().map(|l| TotalLine { amount: money::stored(&l.amount), tax_rate: money::stored(&l.tax_rate) }).collect();
    let t = totals(&t, inv.tax_inclusive, &cur);
    store::set_totals(db, inv.id, &t.subtotal.to_string(), &t.tax.to_string(), &t.total.to_string(), now_us()).await?;
    Ok(())
}

/// The draft invoice `id` of the client, in an audited transaction.
async fn draft(tx: &mut impl Db, client: ScopedClient, id: i64) -> Result<InvoiceRow, ApiError> {
    let inv = store::get(tx, client, id).await?.ok_or(ApiError::NotFound)?;
    if inv.state != "draft" {
        return Err(ApiError::Conflict("a final invoice does not change; credit it instead".into()));
    }
    Ok(inv)
}

/// A line added to a draft, or a change to one; every edit says why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineEdit {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub description: Option<String>,
    #[schema(value_type = Option<String>)]
    pub quantity: Option<QuantityInput>,
    #[schema(example = "12.50")]
    pub unit_price: Option<String>,
    /// Percent.
    pub tax_rate: Option<String>,
    /// Why (kept in the audit log).
    #[schema(value_type = crate::validate::Name)]
    pub reason: String,
}

/// Why a line was removed.
#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Reason {
    #[param(value_type = crate::validate::Name)]
    pub reason: String,
}

fn reason(r: &str) -> Result<String, ApiError> {
    crate::validate::Name::parse(r).map(|n| n.into_string()).map_err(|m| ApiError::invalid("reason", m))
}

/// Fills a line from an edit; returns it with its new amount.
fn edited(mut l: LineRow, e: &LineEdit, cur: &money::Currency) -> Result<LineRow, ApiError> {
    if let Some(d) = &e.description {
        l.description = crate::validate::Name::parse(d).map_err(|m| ApiError::invalid("description", m))?.into_string();
    }
    if let Some(q) = &e.quantity {
        l.quantity = q.parse("a quantity").map_err(|m| ApiError::refused("quantity", m))?.to_string();
    }
    if let Some(p) = &e.unit_price {
        l.unit_price = money::parse(p, "a price").map_err(|m| ApiError::refused("unit_price", m))?.to_string();
    }
    if let Some(t) = &e.tax_rate {
        l.tax_rate = tax_rate(t).map_err(|m| ApiError::refused("tax_rate", m))?.to_string();
    }
    l.amount = cur.round(money::stored(&l.quantity) * money::stored(&l.unit_price)).to_string();
    Ok(l)
}

pub async fn add_line(app: &App, p: &Principal, client_id: i64, id: i64, e: LineEdit) -> Result<Invoice, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(client_id)?;
    let why = reason(&e.reason)?;
    if e.description.is_none() || e.unit_price.is_none() {
        return Err(ApiError::refused(if e.description.is_none() { "description" } else { "unit_price" }, "is required"));
    }
    let mut tx = app.store.begin_audited().await?;
    let inv = draft(tx.tx(), client, id).await?;
    let cur = currency(&inv.currency).map_err(ApiError::internal)?;
    let existing = store::lines(tx.tx(), &[id]).await?;
    let blank = LineRow {
        id: 0,
        invoice_id: id,
        position: existing.iter().map(|l| l.position + 1).max().unwrap_or(0),
        contract_line_id: None,
        kind: "manual".into(),
        description: String::new(),
        quantity: "1".into(),
        unit_price: "0".into(),
        amount: "0".into(),
        tax_rate: existing.first().map(|l| l.tax_rate.clone()).unwrap_or_else(|| "0".into()),
        source: json!({"added_by": p.user.id}).to_string(),
    };
    let mut line = edited(blank, &e, &cur)?;
    line.id = store::insert_line(tx.tx(), &line).await?;
    retotal(tx.tx(), &inv).await?;
    let after = load(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    let details = json!({"line_id": line.id, "description": line.description, "amount": line.amount, "reason": why});
    tx.commit(&p.actor(), Event::new("invoice.line_add", "invoice", id).client(client_id).details(details)).await?;
    Ok(after)
}

pub async fn change_line(app: &App, p: &Principal, client_id: i64, id: i64, line_id: i64, e: LineEdit) -> Result<Invoice, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(client_id)?;
    let why = reason(&e.reason)?;
    let mut tx = app.store.begin_audited().await?;
    let inv = draft(tx.tx(), client, id).await?;
    let cur = currency(&inv.currency).map_err(ApiError::internal)?;
    let before = store::lines(tx.tx(), &[id]).await?.into_iter().find(|l| l.id == line_id).ok_or(ApiError::NotFound)?;
    let after_line = edited(before.clone(), &e, &cur)?;
    store::update_line(tx.tx(), &after_line).await?;
    retotal(tx.tx(), &inv).await?;
    let after = load(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    let pick = |l: &LineRow| json!({"description": l.description, "quantity": l.quantity, "unit_price": l.unit_price, "amount": l.amount, "tax_rate": l.tax_rate});
    let event = Event::new("invoice.line_change", "invoice", id).client(client_id).details(json!({"line_id": line_id, "reason": why}));
    tx.commit_change(&p.actor(), event, &pick(&before), &pick(&after_line)).await?;
    Ok(after)
}

pub async fn remove_line(app: &App, p: &Principal, client_id: i64, id: i64, line_id: i64, why: &str) -> Result<Invoice, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(client_id)?;
    let why = reason(why)?;
    let mut tx = app.store.begin_audited().await?;
    let inv = draft(tx.tx(), client, id).await?;
    let line = store::lines(tx.tx(), &[id]).await?.into_iter().find(|l| l.id == line_id).ok_or(ApiError::NotFound)?;
    store::delete_line(tx.tx(), id, line_id).await?;
    retotal(tx.tx(), &inv).await?;
    let after = load(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    let details = json!({"line_id": line_id, "description": line.description, "amount": line.amount, "reason": why});
    tx.commit(&p.actor(), Event::new("invoice.line_remove", "invoice", id).client(client_id).details(details)).await?;
    Ok(after)
}

/// Numbers a draft (invoice or credit note) and makes it final, issued on `today`.
async fn make_final(tx: &mut impl Db, inv: &InvoiceRow, today: chrono::NaiveDate) -> Result<String, ApiError> {
    let settings = store::settings(tx).await?;
    let (kind, format) =
        if inv.kind == "credit_note" { ("credit_note", &settings.credit_format) } else { ("invoice", &settings.invoice_format) };
    let n = store::next_number(tx, kind, today.year() as i64).await?;
    let num = number(format, today.year(), n);
    let due = today + chrono::Days::new(settings.payment_terms_days.max(0) as u64);
    if !store::finalize(tx, inv.id, &num, &today.to_string(), &due.to_string(), now_us()).await? {
        return Err(ApiError::Conflict("the invoice is final already".into()));
    }
    Ok(num)
}

pub async fn finalize(app: &App, p: &Principal, client_id: i64, id: i64) -> Result<Invoice, ApiError> {
    finalize_on(app, p, client_id, id, chrono::Utc::now().date_naive()).await
}

/// Finalizes a draft as issued on `today` (the demo issues a year of invoices on their days).
pub async fn finalize_on(app: &App, p: &Principal, client_id: i64, id: i64, today: chrono::NaiveDate) -> Result<Invoice, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(client_id)?;
    let mut tx = app.store.begin_audited().await?;
    let inv = draft(tx.tx(), client, id).await?;
    let num = make_final(tx.tx(), &inv, today).await?;
    let after = load(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    let details = json!({"number": num, "total": after.total, "currency": after.currency});
    tx.commit(&p.actor(), Event::new("invoice.finalize", "invoice", id).client(client_id).details(details)).await?;
    Ok(after)
}

/// Why an invoice is credited.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditInput {
    #[schema(value_type = crate::validate::Name)]
    pub reason: String,
}

/// Credits a final invoice in full with a numbered credit note.
pub async fn credit(app: &App, p: &Principal, client_id: i64, id: i64, input: CreditInput) -> Result<Invoice, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(client_id)?;
    let why = reason(&input.reason)?;
    let mut tx = app.store.begin_audited().await?;
    let inv = store::get(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    if inv.state != "final" || inv.kind != "invoice" {
        return Err(ApiError::Conflict("only a final invoice can be credited".into()));
    }
    if store::credited(tx.tx(), id).await? {
        return Err(ApiError::Conflict("this invoice has been credited already".into()));
    }
    let head = NewInvoice {
        client_id,
        contract_id: inv.contract_id,
        run_id: None,
        kind: "credit_note",
        credited_invoice_id: Some(id),
        period_start: &inv.period_start,
        period_end: &inv.period_end,
        currency: &inv.currency,
        tax_inclusive: inv.tax_inclusive,
    };
    let now = now_us();
    let note_id = store::insert(tx.tx(), &head, now).await?;
    for l in store::lines(tx.tx(), &[id]).await? {
        let source = json!({"credits_line_id": l.id}).to_string();
        store::insert_line(tx.tx(), &LineRow { id: 0, invoice_id: note_id, source, ..l }).await?;
    }
    store::set_totals(tx.tx(), note_id, &inv.subtotal, &inv.tax, &inv.total, now).await?;
    let note = store::get(tx.tx(), client, note_id).await?.ok_or(ApiError::NotFound)?;
    let num = make_final(tx.tx(), &note, chrono::Utc::now().date_naive()).await?;
    let after = load(tx.tx(), client, note_id).await?.ok_or(ApiError::NotFound)?;
    let details = json!({"number": num, "credits": inv.number, "credited_invoice_id": id, "total": inv.total, "reason": why});
    tx.commit(&p.actor(), Event::new("invoice.credit", "invoice", note_id).client(client_id).details(details)).await?;
    Ok(after)
}

/// The period an invoice run bills.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    #[schema(example = "2026-12-01")]
    pub period_start: String,
    #[schema(example = "2026-12-31")]
    pub period_end: String,
}

/// An invoice run and what it made (the invoices of clients the caller sees).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceRun {
    pub id: i64,
    pub period_start: String,
    pub period_end: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    pub clients_total: i64,
    pub clients_done: i64,
    pub invoices_made: i64,
    pub error: String,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub invoice_ids: Vec<i64>,
}

pub async fn start_run(app: &App, p: &Principal, input: NewRun) -> Result<InvoiceRun, ApiError> {
    p.require(Permission::BillingWrite)?;
    if p.clients.is_some() {
        return Err(ApiError::Forbidden("an invoice run bills every client; a user limited to some clients cannot start one".into()));
    }
    let start = date(&input.period_start).map_err(|m| ApiError::refused("period_start", m))?;
    let end = date(&input.period_end).map_err(|m| ApiError::refused("period_end", m))?;
    if end < start || (end - start).num_days() > 366 {
        return Err(ApiError::refused("period_end", "must be on or after the start, within a year of it"));
    }
    let mut tx = app.store.begin_audited().await?;
    let id = store::insert_run(tx.tx(), &start.to_string(), &end.to_string(), p.user.id, now_us()).await?;
    crate::store::lease::due_now(tx.tx(), super::run::JOB).await?;
    let details = json!({"period_start": start.to_string(), "period_end": end.to_string()});
    tx.commit(&p.actor(), Event::new("invoice_run.start", "invoice_run", id).details(details)).await?;
    let mut db = app.store.clone();
    run_of(&mut db, p, id).await?.ok_or(ApiError::NotFound)
}

pub async fn run_of(db: &mut impl Db, p: &Principal, id: i64) -> Result<Option<InvoiceRun>, ApiError> {
    let Some(r) = store::run(db, id).await? else { return Ok(None) };
    let invoice_ids = store::of_run(db, id).await?.into_iter().filter(|i| p.sees_client(i.client_id)).map(|i| i.id).collect();
    Ok(Some(InvoiceRun {
        id: r.id,
        period_start: r.period_start,
        period_end: r.period_end,
        state: r.state,
        clients_total: r.clients_total,
        clients_done: r.clients_done,
        invoices_made: r.invoices_made,
        error: r.error,
        created_at: r.created_at,
        finished_at: r.finished_at,
        invoice_ids,
    }))
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_follow_the_format() {
        assert_eq!(number("INV-{year}-{number:06}", 2026, 123), "INV-2026-000123");
        assert_eq!(number("{number}", 2026, 7), "7");
        assert_eq!(number("CN{year}/{number:4}", 2027, 12345), "CN2027/12345");
    }
}
