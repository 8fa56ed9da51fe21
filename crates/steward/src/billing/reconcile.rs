//! Reconciliation, the proof: for each contract line that counts devices
//! or users, what it bills (the quantity on the contract, or on the last
//! invoice for a line that follows the count) against what Steward sees
//! managed today, the difference in units and in money per month, and the
//! exact devices and contacts behind it; devices no contract counts; and
//! billable time no invoice holds. One database, so no sync to trust.

use super::contracts::model::{cycle, DeviceClass, LineKind};
use super::contracts::store::{self as contracts, ContractRow, LineRow};
use super::counts::Fleet;
use super::invoices::store::{InvoiceLines, Invoices};
use super::model::money::{self, currency};
use super::model::period::Cycle;
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::ApiPath;
use crate::store::{Db, Result};
use crate::tenancy::store::Clients;
use axum::extract::State;
use axum::Json;
use rust_decimal::Decimal;
use sea_query::{Alias, Expr, Order, Query};
use serde::Serialize;
use std::collections::HashMap;

/// One counted contract line: billed against managed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineCheck {
    pub contract_id: i64,
    pub contract_name: String,
    pub line_id: i64,
    pub kind: LineKind,
    pub description: String,
    pub device_class: Option<DeviceClass>,
    pub follow_count: bool,
    pub unit_price: String,
    pub billed_quantity: String,
    pub managed_quantity: i64,
    /// Managed minus billed, in units.
    pub difference: String,
    /// The difference in money per month (positive: managed and not billed).
    pub monthly_difference: String,
    /// The devices or contacts managed and not billed.
    pub unbilled_ids: Vec<i64>,
    /// Billed on the last invoice and no longer managed (removed, or not
    /// seen within the contract's days).
    pub gone_ids: Vec<i64>,
}

/// Billable time no invoice holds.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnbilledTime {
    pub entries: i64,
    pub hours: String,
    /// At the work types' rates (a contract's own where it has one).
    pub value: String,
    pub entry_ids: Vec<i64>,
}

/// One client's reconciliation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientReconciliation {
    pub client_id: i64,
    pub client_name: String,
    pub currency: String,
    pub lines: Vec<LineCheck>,
    /// Managed devices no per-device line of any contract counts.
    pub uncounted_device_ids: Vec<i64>,
    pub unbilled_time: UnbilledTime,
    /// The sum of the lines' positive monthly differences.
    pub unbilled_per_month: String,
}

/// A total in one currency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrencyTotal {
    pub currency: String,
    pub unbilled_per_month: String,
    pub unbilled_time_value: String,
}

/// The whole MSP's reconciliation (the clients the caller sees).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// Per currency, for the top of the page.
    pub totals: Vec<CurrencyTotal>,
    /// Clients with a difference, devices no contract counts, or unbilled time.
    pub clients: Vec<ClientReconciliation>,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: i64,
    name: String,
    currency: String,
}

async fn clients(db: &mut impl Db, scope: &Option<Vec<i64>>, only: Option<i64>) -> Result<Vec<ClientRow>> {
    let mut q = Query::select();
    q.columns([Clients::Id, Clients::Name])
        .column(Alias::new("currency"))
        .from(Clients::Table)
        .and_where(Expr::col(Clients::Archived).eq(false))
        .order_by(Clients::Name, Order::Asc);
    if let Some(ids) = scope {
        q.and_where(Expr::col(Clients::Id).is_in(ids.clone()));
    }
    if let Some(id) = only {
        q.and_where(Expr::col(Clients::Id).eq(id));
    }
    db.fetch_all(&q).await
}

/// The newest invoice line of each contract line (on an invoice, not a credit note).
async fn last_billed(db: &mut impl Db, lines: &[i64]) -> Result<HashMap<i64, (String, Vec<i64>)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        contract_line_id: i64,
        quantity: String,
        source: String,
    }
    let mut out = HashMap::new();
    for chunk in lines.chunks(500) {
        let rows: Vec<Row> = db
            .fetch_all(
                Query::select()
                    .columns([
                        (InvoiceLines::Table, InvoiceLines::ContractLineId),
                        (InvoiceLines::Table, InvoiceLines::Quantity),
                        (InvoiceLines::Table, InvoiceLines::Source),
                    ])
                    .from(InvoiceLines::Table)
                    .inner_join(
                        Invoices::Table,
                        Expr::col((Invoices::Table, Invoices::Id)).equals((InvoiceLines::Table, InvoiceLines::InvoiceId)),
                    )
                    .and_where(Expr::col((InvoiceLines::Table, InvoiceLines::ContractLineId)).is_in(chunk.iter().copied()))
                    .and_where(Expr::col((Invoices::Table, Invoices::Kind)).eq("invoice"))
                    .and_where(Expr::col((InvoiceLines::Table, InvoiceLines::Kind)).is_in(["per_device", "per_user"]))
                    .order_by((Invoices::Table, Invoices::PeriodStart), Order::Desc)
                    .order_by((InvoiceLines::Table, InvoiceLines::Id), Order::Desc),
            )
            .await?;
        for r in rows {
            out.entry(r.contract_line_id).or_insert_with(|| {
                let ids = serde_json::from_str::<serde_json::Value>(&r.source)
                    .ok()
                    .and_then(|v| v["ids"].as_array().map(|a| a.iter().filter_map(|x| x.as_i64()).collect()))
                    .unwrap_or_default();
                (r.quantity, ids)
            });
        }
    }
    Ok(out)
}

fn months(c: Cycle) -> Decimal {
    Decimal::from(match c {
        Cycle::Monthly => 1,
        Cycle::Quarterly => 3,
        Cycle::Annually => 12,
    })
}

/// The reconciliation of the clients in `scope` (or one of them).
pub async fn reconcile(db: &mut impl Db, scope: &Option<Vec<i64>>, only: Option<i64>) -> Result<Reconciliation> {
    let list = clients(db, scope, only).await?;
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let all: Vec<ContractRow> = contracts::active(db).await?.into_iter().filter(|c| ids.contains(&c.client_id)).collect();
    let contract_ids: Vec<i64> = all.iter().map(|c| c.id).collect();
    let lines = contracts::lines(db, &contract_ids).await?;
    let rates = contracts::rates(db, &contract_ids).await?;
    let counted: Vec<&LineRow> = lines.iter().filter(|l| LineKind::parse(&l.kind).is_some_and(|k| k.counted())).collect();
    let billed = last_billed(db, &counted.iter().filter(|l| l.follow_count).map(|l| l.id).collect::<Vec<_>>()).await?;
    let fleet = Fleet::load(db, &ids).await?;
    let time_of = super::invoices::store::unbilled_of(db, &ids, None).await?;
    #[derive(sqlx::FromRow)]
    struct TypeRate {
        id: i64,
        rate: String,
    }
    let type_rates: HashMap<i64, Decimal> = db
        .fetch_all::<TypeRate, _>(Query::select().columns([Alias::new("id"), Alias::new("rate")]).from(Alias::new("work_types")))
        .await?
        .into_iter()
        .map(|t| (t.id, money::stored(&t.rate)))
        .collect();
    // Grouped once: each client's contracts, each contract's counted lines, each client's unbilled time.
    let mut contracts_of: HashMap<i64, Vec<&ContractRow>> = HashMap::new();
    for k in &all {
        contracts_of.entry(k.client_id).or_default().push(k);
    }
    let mut counted_of: HashMap<i64, Vec<&LineRow>> = HashMap::new();
    for l in &counted {
        counted_of.entry(l.contract_id).or_default().push(l);
    }
    let now = crate::time::now_us();
    let mut out = vec![];
    let mut totals: HashMap<String, (Decimal, Decimal)> = HashMap::new();
    for c in list {
        let Ok(cur) = currency(&c.currency) else { continue };
        let mine: &[&ContractRow] = contracts_of.get(&c.id).map(Vec::as_slice).unwrap_or_default();
        let mut checks = vec![];
        let mut per_month = Decimal::ZERO;
        for k in mine {
            for l in counted_of.get(&k.id).map(Vec::as_slice).unwrap_or_default() {
                let managed = fleet.count(l, c.id, k.seen_within_days, now);
                let price = money::stored(&l.unit_price);
                let (billed_q, billed_ids) = match (l.follow_count, billed.get(&l.id)) {
                    (true, Some((q, ids))) => (money::stored(q), ids.clone()),
                    (true, None) => (Decimal::from(managed.len() as i64), managed.clone()),
                    (false, _) => (money::stored(&l.quantity), vec![]),
                };
                let diff = Decimal::from(managed.len() as i64) - billed_q;
                let monthly = cur.round(diff * price / months(cycle(&k.billing_cycle)));
                let (unbilled_ids, gone_ids) = if l.follow_count && !billed_ids.is_empty() {
                    (
                        managed.iter().copied().filter(|m| !billed_ids.contains(m)).collect(),
                        billed_ids.iter().copied().filter(|b| !managed.contains(b)).collect(),
                    )
                } else {
                    // A fixed quantity: the devices managed past it, newest last.
                    let extra = diff.max(Decimal::ZERO).trunc().try_into().unwrap_or(0usize);
                    (managed.iter().rev().take(extra).rev().copied().collect(), vec![])
                };
                if monthly > Decimal::ZERO {
                    per_month += monthly;
                }
                checks.push(LineCheck {
                    contract_id: k.id,
                    contract_name: k.name.clone(),
                    line_id: l.id,
                    kind: LineKind::parse(&l.kind).unwrap_or(LineKind::PerDevice),
                    description: l.description.clone(),
                    device_class: l.device_class.as_deref().and_then(DeviceClass::parse),
                    follow_count: l.follow_count,
                    unit_price: l.unit_price.clone(),
                    billed_quantity: billed_q.normalize().to_string(),
                    managed_quantity: managed.len() as i64,
                    difference: diff.normalize().to_string(),
                    monthly_difference: monthly.to_string(),
                    unbilled_ids,
                    gone_ids,
                });
            }
        }
        let device_lines: Vec<&&LineRow> = mine
            .iter()
            .flat_map(|k| counted_of.get(&k.id).map(Vec::as_slice).unwrap_or_default())
            .filter(|l| l.kind == "per_device")
            .collect();
        let uncounted: Vec<i64> = fleet
            .devices_of(c.id)
            .iter()
            .filter(|d| d.seen_within(30, now))
            .filter(|d| {
                !device_lines.iter().any(|l| l.device_class.as_deref().and_then(DeviceClass::parse).is_none_or(|class| d.class == class))
            })
            .map(|d| d.id)
            .collect();
        let theirs: &[super::invoices::store::Unbilled] = time_of.get(&c.id).map(Vec::as_slice).unwrap_or_default();
        let time_contract = mine
            .iter()
            .find(|k| lines.iter().any(|l| l.contract_id == k.id && (l.kind == "time_and_materials" || l.kind == "block_hours")));
        let mut value = Decimal::ZERO;
        for e in theirs {
            let own = time_contract.and_then(|k| rates.iter().find(|r| r.contract_id == k.id && r.work_type_id == e.work_type_id));
            let rate = match own {
                Some(r) if r.included => Decimal::ZERO,
                Some(r) => {
                    r.rate.as_deref().map(money::stored).unwrap_or_else(|| type_rates.get(&e.work_type_id).copied().unwrap_or_default())
                }
                None => type_rates.get(&e.work_type_id).copied().unwrap_or_default(),
            };
            value += rate * Decimal::from(e.minutes) / Decimal::from(60);
        }
        let minutes: i64 = theirs.iter().map(|e| e.minutes).sum();
        let unbilled_time = UnbilledTime {
            entries: theirs.len() as i64,
            hours: (Decimal::from(minutes) / Decimal::from(60)).round_dp(2).normalize().to_string(),
            value: cur.round(value).to_string(),
            entry_ids: theirs.iter().map(|e| e.id).collect(),
        };
        let t = totals.entry(cur.code.to_string()).or_default();
        t.0 += per_month;
        t.1 += cur.round(value);
        let interesting = only.is_some()
            || per_month > Decimal::ZERO
            || !uncounted.is_empty()
            || !theirs.is_empty()
            || checks.iter().any(|l| l.difference != "0");
        if interesting {
            out.push(ClientReconciliation {
                client_id: c.id,
                client_name: c.name,
                currency: cur.code.to_string(),
                lines: checks,
                uncounted_device_ids: uncounted,
                unbilled_time,
                unbilled_per_month: cur.round(per_month).to_string(),
            });
        }
    }
    let mut totals: Vec<CurrencyTotal> = totals
        .into_iter()
        .filter_map(|(code, (m, v))| {
            let cur = currency(&code).ok()?;
            Some(CurrencyTotal {
                currency: code,
                unbilled_per_month: cur.round(m).to_string(),
                unbilled_time_value: cur.round(v).to_string(),
            })
        })
        .collect();
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(Reconciliation { totals, clients: out })
}

#[utoipa::path(get, path = "/api/v1/reconciliation", tag = "billing",
    responses((status = 200, description = "every client the caller sees with something unbilled or gone", body = Reconciliation)))]
pub async fn all(State(app): State<App>, p: Principal) -> ApiResult<Json<Reconciliation>> {
    let mut db = app.store.snapshot().await?;
    Ok(Json(reconcile(&mut db, &p.clients, None).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/reconciliation", tag = "billing", params(("id" = i64, Path)),
    responses((status = 200, body = ClientReconciliation), (status = 404, body = ErrorEnvelope)))]
pub async fn of_client(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<ClientReconciliation>> {
    p.client(id)?;
    let mut db = app.store.snapshot().await?;
    let r = reconcile(&mut db, &p.clients, Some(id)).await?;
    Ok(Json(r.clients.into_iter().next().ok_or(ApiError::NotFound)?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/contracts/{contract_id}/lines/{line_id}/true-up", tag = "billing",
    params(("id" = i64, Path), ("contract_id" = i64, Path), ("line_id" = i64, Path)),
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, description = "the contract, the line's quantity now the managed count", body = super::contracts::ops::Contract), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn true_up(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, contract_id, line_id)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<super::contracts::ops::Contract>> {
    Ok(Json(true_up_line(&app, &p, id, contract_id, line_id).await?))
}

/// Sets a counted line's quantity to what is managed now, audited.
pub async fn true_up_line(
    app: &App,
    p: &Principal,
    id: i64,
    contract_id: i64,
    line_id: i64,
) -> Result<super::contracts::ops::Contract, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client: ScopedClient = p.client(id)?;
    let mut tx = app.store.begin_audited().await?;
    let c = contracts::get(tx.tx(), client, contract_id).await?.ok_or(ApiError::NotFound)?;
    let line = contracts::lines(tx.tx(), &[contract_id]).await?.into_iter().find(|l| l.id == line_id).ok_or(ApiError::NotFound)?;
    if !LineKind::parse(&line.kind).is_some_and(|k| k.counted()) {
        return Err(ApiError::Conflict("only per-device and per-user lines have a count".into()));
    }
    let fleet = Fleet::load(tx.tx(), &[id]).await?;
    let managed = fleet.count(&line, id, c.seen_within_days, crate::time::now_us());
    let quantity = managed.len().to_string();
    contracts::set_quantity(tx.tx(), contract_id, line_id, &quantity).await?;
    let after = super::contracts::ops::load(tx.tx(), client, contract_id).await?.ok_or(ApiError::NotFound)?;
    let details = serde_json::json!({"line_id": line_id, "before": line.quantity, "after": quantity, "ids": managed});
    tx.commit(&p.actor(), Event::new("contract.true_up", "contract", contract_id).client(id).details(details)).await?;
    Ok(after)
}
