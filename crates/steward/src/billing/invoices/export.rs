//! Invoices as spreadsheets: one invoice's lines, and a period's final
//! invoices and credit notes in the CSV layouts QuickBooks Online and Xero
//! import (one row per line, the invoice's fields repeated), so an MSP
//! keeps its books where they are. Every cell goes through the reports'
//! formula-safe writer.

use super::ops::{self, Invoice};
use crate::app::App;
use crate::auth::principal::{Principal, ScopedClient};
use crate::billing::contracts::model::date;
use crate::error::{ApiError, ErrorEnvelope};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::reports::csv::{document, download};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/clients/{id}/invoices/{invoice_id}/csv", tag = "billing", params(("id" = i64, Path), ("invoice_id" = i64, Path)),
    responses((status = 200, description = "the invoice's lines as CSV", content_type = "text/csv"), (status = 404, body = ErrorEnvelope)))]
pub async fn invoice_csv(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id)): ApiPath<(i64, i64)>,
) -> Result<Response, ApiError> {
    let mut db = app.store.snapshot().await?;
    let i = ops::load(&mut db, p.client(id)?, invoice_id).await?.ok_or(ApiError::NotFound)?;
    let number = i.number.clone().unwrap_or_else(|| format!("draft-{}", i.id));
    let mut rows: Vec<Vec<String>> = i
        .lines
        .iter()
        .map(|l| {
            vec![
                number.clone(),
                l.description.clone(),
                l.quantity.clone(),
                l.unit_price.clone(),
                l.tax_rate.clone(),
                l.amount.clone(),
                i.currency.clone(),
            ]
        })
        .collect();
    rows.push(vec![number.clone(), "Subtotal".into(), String::new(), String::new(), String::new(), i.subtotal.clone(), i.currency.clone()]);
    rows.push(vec![number.clone(), "Tax".into(), String::new(), String::new(), String::new(), i.tax.clone(), i.currency.clone()]);
    rows.push(vec![number.clone(), "Total".into(), String::new(), String::new(), String::new(), i.total.clone(), i.currency.clone()]);
    let bytes = document(&["Invoice", "Description", "Quantity", "Unit price", "Tax %", "Amount", "Currency"], rows)?;
    download(&format!("{}.csv", safe(&number)), bytes)
}

/// Which invoices to export, and for which program.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Issued on or after this day.
    #[param(example = "2026-11-01")]
    pub from: String,
    /// Issued on or before this day.
    #[param(example = "2026-11-30")]
    pub to: String,
    /// `quickbooks` or `xero`.
    pub format: String,
}

#[utoipa::path(get, path = "/api/v1/invoices/export", tag = "billing", params(ExportQuery),
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, description = "final invoices and credit notes issued in the period, of the caller's clients, as QuickBooks Online or Xero import CSV", content_type = "text/csv"), (status = 400, body = ErrorEnvelope)))]
pub async fn accounting(State(app): State<App>, p: Principal, ApiQuery(q): ApiQuery<ExportQuery>) -> Result<Response, ApiError> {
    let from = date(&q.from).map_err(|m| ApiError::refused("from", m))?.to_string();
    let to = date(&q.to).map_err(|m| ApiError::refused("to", m))?.to_string();
    let mut db = app.store.snapshot().await?;
    let names = client_names(&mut db, &p).await?;
    let mut all: Vec<(String, Invoice)> = vec![];
    for (client, name) in &names {
        let scoped = ScopedClient::system(*client);
        for i in ops::of_client(&mut db, scoped).await? {
            if i.state == "final" && i.issued_on.as_deref().is_some_and(|d| d >= from.as_str() && d <= to.as_str()) {
                all.push((name.clone(), i));
            }
        }
    }
    let (header, rows): (&[&str], Vec<Vec<String>>) = match q.format.as_str() {
        "quickbooks" => (
            &[
                "InvoiceNo",
                "Customer",
                "InvoiceDate",
                "DueDate",
                "ItemDescription",
                "ItemQuantity",
                "ItemRate",
                "ItemAmount",
                "ItemTaxRate",
                "Currency",
            ],
            all.iter()
                .flat_map(|(name, i)| {
                    let sign = if i.kind == "credit_note" { "-" } else { "" };
                    i.lines.iter().map(move |l| {
                        vec![
                            i.number.clone().unwrap_or_default(),
                            name.clone(),
                            i.issued_on.clone().unwrap_or_default(),
                            i.due_on.clone().unwrap_or_default(),
                            l.description.clone(),
                            format!("{sign}{}", l.quantity),
                            l.unit_price.clone(),
                            format!("{sign}{}", l.amount),
                            l.tax_rate.clone(),
                            i.currency.clone(),
                        ]
                    })
                })
                .collect(),
        ),
        "xero" => (
            &[
                "*ContactName",
                "*InvoiceNumber",
                "*InvoiceDate",
                "*DueDate",
                "*Description",
                "*Quantity",
                "*UnitAmount",
                "*AccountCode",
                "*TaxType",
                "Currency",
                "LineAmountType",
            ],
            all.iter()
                .flat_map(|(name, i)| {
                    let sign = if i.kind == "credit_note" { "-" } else { "" };
                    let kind = if i.tax_inclusive { "Inclusive" } else { "Exclusive" };
                    i.lines.iter().map(move |l| {
                        vec![
                            name.clone(),
                            i.number.clone().unwrap_or_default(),
                            i.issued_on.clone().unwrap_or_default(),
                            i.due_on.clone().unwrap_or_default(),
                            l.description.clone(),
                            format!("{sign}{}", l.quantity),
                            l.unit_price.clone(),
                            "200".into(),
                            format!("Tax {} %", l.tax_rate),
                            i.currency.clone(),
                            kind.into(),
                        ]
                    })
                })
                .collect(),
        ),
        _ => return Err(ApiError::refused("format", "quickbooks or xero")),
    };
    let bytes = document(header, rows)?;
    download(&format!("invoices-{}-{from}-{to}.csv", q.format), bytes)
}

/// The clients the caller sees, by id, with their names.
async fn client_names(db: &mut impl crate::store::Db, p: &Principal) -> Result<Vec<(i64, String)>, ApiError> {
    let f = crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: true, search: None };
    let (list, _) = crate::tenancy::store::list_clients(db, &f, 100_000, 0).await?;
    Ok(list.into_iter().map(|c| (c.id, c.name)).collect())
}

/// A file name made of letters, digits, `-`, `_` and `.`.
fn safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/invoices/{invoice_id}/pdf", tag = "billing", params(("id" = i64, Path), ("invoice_id" = i64, Path)),
    responses((status = 200, description = "the invoice as PDF", content_type = "application/pdf"), (status = 404, body = ErrorEnvelope)))]
pub async fn invoice_pdf(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id)): ApiPath<(i64, i64)>,
) -> Result<Response, ApiError> {
    let scoped = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    let i = ops::load(&mut db, scoped, invoice_id).await?.ok_or(ApiError::NotFound)?;
    let client = crate::tenancy::store::get_client(&mut db, scoped).await?.ok_or(ApiError::NotFound)?;
    let profile = crate::billing::profile::get(&mut db, scoped).await?.ok_or(ApiError::NotFound)?;
    let settings = super::store::settings(&mut db).await?;
    let rows = super::store::of_client(&mut db, scoped).await?;
    let paid = crate::billing::payments::of_client(&mut db, id).await?;
    let owed =
        crate::billing::payments::owed(&rows, &paid, chrono::Utc::now().date_naive()).into_iter().find(|o| o.invoice_id == invoice_id);
    let kind = if i.kind == "credit_note" { "Credit note" } else { "Invoice" };
    let title = match &i.number {
        Some(n) => format!("{kind} {n}"),
        None => format!("Draft invoice {}", i.id),
    };
    let mut dates = vec![];
    if let Some(d) = &i.issued_on {
        dates.push(format!("Issued {d}"));
    }
    if let Some(d) = &i.due_on {
        dates.push(format!("due {d}"));
    }
    dates.push(format!("period {} – {}", i.period_start, i.period_end));
    let mut totals = vec![("Subtotal".to_string(), i.subtotal.clone())];
    for t in i.taxes.iter().filter(|t| !t.tax.is_zero()) {
        totals.push((format!("Tax {} % on {}", t.rate, t.base), t.tax.to_string()));
    }
    totals.push((format!("Total {}{}", i.currency, if i.tax_inclusive { " (tax included)" } else { "" }), i.total.clone()));
    if let Some(o) = &owed {
        totals.push(("Paid".into(), o.paid.clone()));
        totals.push((format!("Left to pay {}", i.currency), o.balance.clone()));
    }
    let terms = if i.kind == "credit_note" {
        "This credit note cancels the invoice it names.".to_string()
    } else {
        format!(
            "Payment due within {} days of issue. Please quote {} with your payment.",
            settings.payment_terms_days,
            i.number.as_deref().unwrap_or("the invoice number")
        )
    };
    let company =
        if settings.company_name.is_empty() { "Your MSP (set the name in the billing settings)" } else { settings.company_name.as_str() };
    let doc = super::pdf::Document {
        company,
        company_address: &settings.company_address,
        title: &title,
        dates: &dates.join(" · "),
        client: &client.name,
        billing_address: &profile.billing_address,
        currency: &i.currency,
        lines: i
            .lines
            .iter()
            .map(|l| [l.description.clone(), l.quantity.clone(), l.unit_price.clone(), l.tax_rate.clone(), l.amount.clone()])
            .collect(),
        totals,
        terms: &terms,
    };
    let bytes = super::pdf::render(&doc);
    let name = i.number.clone().unwrap_or_else(|| format!("draft-{}", i.id));
    let disposition =
        axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{}.pdf\"", safe(&name))).map_err(ApiError::internal)?;
    let mut resp = axum::response::IntoResponse::into_response(bytes);
    let h = resp.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/pdf"));
    h.insert(axum::http::header::CONTENT_DISPOSITION, disposition);
    h.insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, axum::http::HeaderValue::from_static("nosniff"));
    Ok(resp)
}
