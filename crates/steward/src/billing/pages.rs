//! Billing's pages: `/billing` (invoice runs, started and followed live,
//! and the reconciliation of every client the user sees), a client's
//! billing (profile, contracts, invoices, what it owes, what is managed
//! and not billed) and an invoice (printable; drafts edited with reasons,
//! finalized, credited; payments recorded). Every action goes through the
//! same `ops` as the API.

use super::contracts::ops::{self as contracts, Contract, NewContract};
use super::invoices::ops::{self as invoices, CreditInput, Invoice, InvoiceRun, LineEdit, NewRun};
use super::invoices::store as invoice_store;
use super::model::money::QuantityInput;
use super::payments::{self, Balance, NewPayment, Payment};
use super::reconcile::{self, ClientReconciliation, Reconciliation};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html;
use crate::tenancy::store::Client;
use crate::web::error::{see_other, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "billing.html")]
struct BillingPage {
    l: Layout,
    runs: Vec<InvoiceRun>,
    r: Reconciliation,
    can_run: bool,
    running: bool,
}

/// `GET /billing`.
pub async fn overview(State(app): State<App>, p: Principal) -> PageResult {
    p.require(Permission::BillingRead)?;
    let mut db = app.store.snapshot().await?;
    let mut runs = vec![];
    for r in invoice_store::runs(&mut db, 20).await? {
        if let Some(run) = invoices::run_of(&mut db, &p, r.id).await? {
            runs.push(run);
        }
    }
    let r = reconcile::reconcile(&mut db, &p.clients, None).await?;
    let running = runs.iter().any(|r| r.state == "running");
    Ok(html(&BillingPage {
        l: Layout::new(&app, &p, "Billing", "billing"),
        runs,
        r,
        can_run: p.can(Permission::BillingWrite) && p.clients.is_none(),
        running,
    }))
}

#[derive(Deserialize)]
pub struct RunForm {
    period_start: String,
    period_end: String,
}

/// `POST /billing/runs`.
pub async fn start_run(State(app): State<App>, p: Principal, WebForm(f): WebForm<RunForm>) -> PageResult {
    let run = invoices::start_run(&app, &p, NewRun { period_start: f.period_start, period_end: f.period_end }).await?;
    Ok(see_other(&format!("/billing#run-{}", run.id)))
}

fn pick(e: &crate::events::Event) -> Option<(i64, &'static str, String)> {
    let crate::events::Event::InvoiceRunChanged { run } = e else { return None };
    // Runs bill every client: their progress is for users who see every client (scope `None` passes client 0).
    Some((0, "run", serde_json::json!({ "run_id": run }).to_string()))
}

/// `GET /billing/events`: `run` whenever an invoice run makes progress or ends.
pub async fn events(State(app): State<App>, p: Principal) -> Result<impl axum::response::IntoResponse, ApiError> {
    p.require(Permission::BillingRead)?;
    Ok(crate::http::sse::stream(app.bus.watch(), p.clients.clone(), pick))
}

#[derive(Template)]
#[template(path = "client_billing.html")]
struct ClientBillingPage {
    l: Layout,
    client: Client,
    profile: super::profile::BillingProfile,
    contracts: Vec<Contract>,
    invoices: Vec<Invoice>,
    balance: Balance,
    r: Option<ClientReconciliation>,
    can_write: bool,
}

/// `GET /clients/{id}/billing`.
pub async fn client(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    client_page(&app, &p, id, None).await
}

async fn client_page(app: &App, p: &Principal, id: i64, error: Option<String>) -> PageResult {
    p.require(Permission::BillingRead)?;
    let scoped = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    let client = crate::tenancy::store::get_client(&mut db, scoped).await?.ok_or(ApiError::NotFound)?;
    let profile = super::profile::get(&mut db, scoped).await?.ok_or(ApiError::NotFound)?;
    let contracts = contracts::of_client(&mut db, scoped).await?;
    let invoices = invoices::of_client(&mut db, scoped).await?;
    let rows = invoice_store::of_client(&mut db, scoped).await?;
    let owed = payments::owed(&rows, &payments::of_client(&mut db, id).await?, chrono::Utc::now().date_naive());
    let balance = payments::aged(&profile.currency, owed);
    let r = reconcile::reconcile(&mut db, &p.clients, Some(id)).await?.clients.into_iter().next();
    let status = crate::web::error::status_for(&error);
    Ok(crate::http::page::html_status(
        status,
        &ClientBillingPage {
            l: Layout::new(app, p, format!("{} · billing", client.name), "billing").with_error(error),
            client,
            profile,
            contracts,
            invoices,
            balance,
            r,
            can_write: p.can(Permission::BillingWrite),
        },
    ))
}

#[derive(Deserialize)]
pub struct ContractForm {
    name: String,
    start_date: String,
    #[serde(default)]
    end_date: String,
    billing_cycle: String,
    billed: String,
    #[serde(default)]
    lines: String,
}

/// `POST /clients/{id}/contracts`: a contract, its lines as JSON (like the API's).
pub async fn create_contract(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    WebForm(f): WebForm<ContractForm>,
) -> PageResult {
    let lines = if f.lines.trim().is_empty() { "[]" } else { f.lines.as_str() };
    let input = serde_json::json!({
        "name": f.name, "start_date": f.start_date,
        "end_date": Some(f.end_date.trim()).filter(|d| !d.is_empty()),
        "billing_cycle": f.billing_cycle, "billed": f.billed,
        "lines": serde_json::from_str::<serde_json::Value>(lines).map_err(|e| ApiError::refused("lines", format!("not a JSON list of lines: {e}")))?,
    });
    let input: NewContract = serde_json::from_value(input).map_err(|e| ApiError::refused("lines", e.to_string()))?;
    match contracts::create(&app, &p, id, input).await {
        Ok(c) => Ok(see_other(&format!("/clients/{id}/billing#contract-{}", c.id))),
        Err(e) => client_page(&app, &p, id, Some(crate::web::error::form_error(e)?)).await,
    }
}

/// `POST /clients/{id}/contracts/{contract_id}/lines/{line_id}/true-up`.
pub async fn true_up(State(app): State<App>, p: Principal, ApiPath((id, contract_id, line_id)): ApiPath<(i64, i64, i64)>) -> PageResult {
    reconcile::true_up_line(&app, &p, id, contract_id, line_id).await?;
    Ok(see_other(&format!("/clients/{id}/billing#reconciliation")))
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePage {
    l: Layout,
    client: Client,
    profile: super::profile::BillingProfile,
    company: invoice_store::Settings,
    i: Invoice,
    payments: Vec<Payment>,
    balance: Option<payments::Owed>,
    can_write: bool,
}

/// `GET /clients/{id}/invoices/{invoice_id}`.
pub async fn invoice(State(app): State<App>, p: Principal, ApiPath((id, invoice_id)): ApiPath<(i64, i64)>) -> PageResult {
    invoice_page(&app, &p, id, invoice_id, None).await
}

async fn invoice_page(app: &App, p: &Principal, id: i64, invoice_id: i64, error: Option<String>) -> PageResult {
    p.require(Permission::BillingRead)?;
    let scoped = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    let client = crate::tenancy::store::get_client(&mut db, scoped).await?.ok_or(ApiError::NotFound)?;
    let profile = super::profile::get(&mut db, scoped).await?.ok_or(ApiError::NotFound)?;
    let i = invoices::load(&mut db, scoped, invoice_id).await?.ok_or(ApiError::NotFound)?;
    let all = payments::of_client(&mut db, id).await?;
    let rows = invoice_store::of_client(&mut db, scoped).await?;
    let balance = payments::owed(&rows, &all, chrono::Utc::now().date_naive()).into_iter().find(|o| o.invoice_id == invoice_id);
    let payments = all.into_iter().filter(|x| x.invoice_id == invoice_id).collect();
    let company = invoice_store::settings(&mut db).await?;
    let title = i.number.clone().unwrap_or_else(|| format!("Draft invoice {}", i.id));
    let status = crate::web::error::status_for(&error);
    Ok(crate::http::page::html_status(
        status,
        &InvoicePage {
            l: Layout::new(app, p, title, "billing").with_error(error),
            client,
            profile,
            company,
            i,
            payments,
            balance,
            can_write: p.can(Permission::BillingWrite),
        },
    ))
}

/// After an action on an invoice: back to it, or to it with the error.
async fn back(app: &App, p: &Principal, id: i64, invoice_id: i64, r: Result<Invoice, ApiError>) -> PageResult {
    match r {
        Ok(i) => Ok(see_other(&format!("/clients/{id}/invoices/{}", i.id))),
        Err(e) => invoice_page(app, p, id, invoice_id, Some(crate::web::error::form_error(e)?)).await,
    }
}

/// `POST /clients/{id}/invoices/{invoice_id}/finalize`.
pub async fn finalize(State(app): State<App>, p: Principal, ApiPath((id, invoice_id)): ApiPath<(i64, i64)>) -> PageResult {
    let r = invoices::finalize(&app, &p, id, invoice_id).await;
    back(&app, &p, id, invoice_id, r).await
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// `POST /clients/{id}/invoices/{invoice_id}/credit`.
pub async fn credit(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<ReasonForm>,
) -> PageResult {
    let r = invoices::credit(&app, &p, id, invoice_id, CreditInput { reason: f.reason }).await;
    back(&app, &p, id, invoice_id, r).await
}

#[derive(Deserialize)]
pub struct LineForm {
    description: String,
    quantity: String,
    unit_price: String,
    #[serde(default)]
    reason: String,
}

/// `POST /clients/{id}/invoices/{invoice_id}/lines`.
pub async fn add_line(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<LineForm>,
) -> PageResult {
    let e = LineEdit {
        description: Some(f.description),
        quantity: Some(QuantityInput::Text(f.quantity)),
        unit_price: Some(f.unit_price),
        tax_rate: None,
        reason: f.reason,
    };
    let r = invoices::add_line(&app, &p, id, invoice_id, e).await;
    back(&app, &p, id, invoice_id, r).await
}

/// `POST /clients/{id}/invoices/{invoice_id}/lines/{line_id}/remove`.
pub async fn remove_line(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id, line_id)): ApiPath<(i64, i64, i64)>,
    WebForm(f): WebForm<ReasonForm>,
) -> PageResult {
    let r = invoices::remove_line(&app, &p, id, invoice_id, line_id, &f.reason).await;
    back(&app, &p, id, invoice_id, r).await
}

#[derive(Deserialize)]
pub struct PaymentForm {
    paid_on: String,
    amount: String,
    method: String,
    #[serde(default)]
    reference: String,
}

/// `POST /clients/{id}/invoices/{invoice_id}/payments`.
pub async fn record_payment(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, invoice_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<PaymentForm>,
) -> PageResult {
    let method =
        serde_json::from_value(serde_json::Value::String(f.method)).map_err(|_| ApiError::invalid("method", "not a payment method"))?;
    let input = NewPayment { invoice_id, paid_on: f.paid_on, amount: f.amount, method, reference: f.reference };
    match payments::record_payment(&app, &p, id, input).await {
        Ok(_) => Ok(see_other(&format!("/clients/{id}/invoices/{invoice_id}#payments"))),
        Err(e) => invoice_page(&app, &p, id, invoice_id, Some(crate::web::error::form_error(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "billing_panel.html")]
struct ClientPanel {
    client_id: i64,
    currency: String,
    open: String,
    unbilled_per_month: String,
    contracts: usize,
}

/// The client page's billing summary, for those who may see money.
pub const CLIENT_PANEL: crate::app::panels::Panel =
    crate::app::panels::Panel { slot: crate::app::panels::Slot::Client, order: 25, render: client_panel };

fn client_panel<'a>(
    app: &'a App,
    p: &'a Principal,
    ctx: crate::app::panels::PanelCtx,
) -> crate::app::domain::BoxFut<'a, Result<Option<crate::app::panels::Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(id) = ctx.client else { return Ok(None) };
        if !p.can(Permission::BillingRead) {
            return Ok(None);
        }
        let scoped = p.client(id)?;
        let mut db = app.store.snapshot().await?;
        let Some(profile) = super::profile::get(&mut db, scoped).await? else { return Ok(None) };
        let rows = invoice_store::of_client(&mut db, scoped).await?;
        let owed = payments::owed(&rows, &payments::of_client(&mut db, id).await?, chrono::Utc::now().date_naive());
        let balance = payments::aged(&profile.currency, owed);
        let r = reconcile::reconcile(&mut db, &p.clients, Some(id)).await?.clients.into_iter().next();
        let contracts = super::contracts::store::of_client(&mut db, scoped).await?.len();
        crate::app::panels::Fragment::render(&ClientPanel {
            client_id: id,
            currency: profile.currency,
            open: balance.open,
            unbilled_per_month: r.map(|r| r.unbilled_per_month).unwrap_or_default(),
            contracts,
        })
        .map(Some)
    })
}
