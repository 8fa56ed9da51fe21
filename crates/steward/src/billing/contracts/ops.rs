//! Audited changes to contracts, shared by the API and the pages: each
//! checks its input (a 400 naming the field, `lines[2].hours`), the
//! caller's billing permission and client, and writes the contract, its
//! lines and its rates with the audit entry in one transaction.

use super::model::{check_line, cycle, date, tax_rate, Billed, DeviceClass, Line, LineInput, LineKind};
use super::store::{self, ContractRow, ContractWrite, LineRow, RateRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::billing::model::money::{self, currency};
use crate::billing::model::period::Cycle;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use serde::{Deserialize, Serialize};

/// A new contract.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// The first day it covers, e.g. `2026-01-01`.
    #[schema(example = "2026-01-01")]
    pub start_date: String,
    /// The last day it covers; absent: until ended.
    #[schema(example = "2026-12-31")]
    pub end_date: Option<String>,
    pub billing_cycle: Cycle,
    pub billed: Billed,
    /// ISO 4217; absent: the client's currency.
    pub currency: Option<String>,
    /// The SLA policy the contract grants.
    pub sla_policy_id: Option<i64>,
    /// Devices count when seen within this many days (1–365, default 30).
    #[schema(minimum = 1, maximum = 365)]
    pub seen_within_days: Option<i64>,
    /// Percent; absent: the client's rate.
    #[schema(example = "8.25")]
    pub tax_rate: Option<String>,
    /// Prices include tax.
    pub tax_inclusive: Option<bool>,
    #[serde(default)]
    pub lines: Vec<LineInput>,
    /// Work types included (no charge) or at their own rate.
    #[serde(default)]
    pub rates: Vec<RateInput>,
}

/// Changes to a contract; absent fields stay as they are. `lines`, when
/// given, is the whole list: a line with an `id` is changed, one without
/// is added, and lines left out are removed (invoices keep pointing at them).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub start_date: Option<String>,
    /// `null` makes it open-ended.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
    pub billing_cycle: Option<Cycle>,
    pub billed: Option<Billed>,
    pub currency: Option<String>,
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub sla_policy_id: Option<Option<i64>>,
    #[schema(minimum = 1, maximum = 365)]
    pub seen_within_days: Option<i64>,
    /// `null` returns to the client's rate.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<String>)]
    pub tax_rate: Option<Option<String>>,
    pub tax_inclusive: Option<bool>,
    pub archived: Option<bool>,
    pub lines: Option<Vec<LineInput>>,
    pub rates: Option<Vec<RateInput>>,
}

/// A work type the contract treats its own way.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateInput {
    pub work_type_id: i64,
    /// Included in the contract: its time is not charged.
    #[serde(default)]
    pub included: bool,
    /// The hourly rate on this contract; absent: the work type's.
    #[schema(example = "125.00")]
    pub rate: Option<String>,
}

/// A contract as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contract {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub billing_cycle: Cycle,
    pub billed: Billed,
    pub currency: String,
    pub sla_policy_id: Option<i64>,
    pub seen_within_days: i64,
    /// Percent; `null`: the client's.
    pub tax_rate: Option<String>,
    pub tax_inclusive: bool,
    pub archived: bool,
    pub lines: Vec<ContractLine>,
    pub rates: Vec<RateInput>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A line of a contract.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContractLine {
    pub id: i64,
    pub kind: LineKind,
    pub description: String,
    pub unit_price: String,
    pub quantity: String,
    pub follow_count: bool,
    pub device_class: Option<DeviceClass>,
    pub hours: Option<String>,
    pub overage_rate: Option<String>,
    pub rollover: bool,
    pub tax_rate: Option<String>,
}

impl From<&LineRow> for ContractLine {
    fn from(l: &LineRow) -> Self {
        ContractLine {
            id: l.id,
            kind: LineKind::parse(&l.kind).unwrap_or(LineKind::Flat),
            description: l.description.clone(),
            unit_price: l.unit_price.clone(),
            quantity: l.quantity.clone(),
            follow_count: l.follow_count,
            device_class: l.device_class.as_deref().and_then(DeviceClass::parse),
            hours: l.hours.clone(),
            overage_rate: l.overage_rate.clone(),
            rollover: l.rollover,
            tax_rate: l.tax_rate.clone(),
        }
    }
}

/// A contract with its lines and rates.
pub fn shown(c: ContractRow, lines: &[LineRow], rates: &[RateRow]) -> Contract {
    Contract {
        id: c.id,
        client_id: c.client_id,
        name: c.name,
        start_date: c.start_date,
        end_date: c.end_date,
        billing_cycle: cycle(&c.billing_cycle),
        billed: Billed::parse(&c.billed).unwrap_or(Billed::Advance),
        currency: c.currency,
        sla_policy_id: c.sla_policy_id,
        seen_within_days: c.seen_within_days,
        tax_rate: c.tax_rate,
        tax_inclusive: c.tax_inclusive,
        archived: c.archived,
        lines: lines.iter().filter(|l| l.contract_id == c.id).map(ContractLine::from).collect(),
        rates: rates
            .iter()
            .filter(|r| r.contract_id == c.id)
            .map(|r| RateInput { work_type_id: r.work_type_id, included: r.included, rate: r.rate.clone() })
            .collect(),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// One contract, read whole.
pub async fn load(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<Contract>, ApiError> {
    let Some(c) = store::get(db, client, id).await? else { return Ok(None) };
    let (lines, rates) = (store::lines(db, &[id]).await?, store::rates(db, &[id]).await?);
    Ok(Some(shown(c, &lines, &rates)))
}

/// A client's contracts, whole.
pub async fn of_client(db: &mut impl Db, client: ScopedClient) -> Result<Vec<Contract>, ApiError> {
    let rows = store::of_client(db, client).await?;
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let (lines, rates) = (store::lines(db, &ids).await?, store::rates(db, &ids).await?);
    Ok(rows.into_iter().map(|c| shown(c, &lines, &rates)).collect())
}

/// A value the schema allows and the contract's rules refuse (422).
fn refused(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |m| ApiError::refused(field, m)
}

/// A value that breaks the documented schema (400).
fn invalid(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |m| ApiError::invalid(field, m)
}

/// Checks the lines, in order.
fn checked_lines(lines: &[LineInput]) -> Result<Vec<Line>, ApiError> {
    if lines.len() > 100 {
        return Err(ApiError::refused("lines", "a contract has at most 100 lines"));
    }
    lines.iter().enumerate().map(|(i, l)| check_line(i, l).map_err(|(f, m)| ApiError::refused(&f, m))).collect()
}

async fn checked_rates(db: &mut impl Db, rates: &[RateInput]) -> Result<Vec<RateRow>, ApiError> {
    let known: Vec<i64> = crate::timesheets::store::work_types(db).await?.into_iter().map(|w| w.id).collect();
    let mut out: Vec<RateRow> = vec![];
    for (i, r) in rates.iter().enumerate() {
        let field = format!("rates[{i}]");
        if !known.contains(&r.work_type_id) {
            return Err(ApiError::refused(&format!("{field}.work_type_id"), "no such work type"));
        }
        if out.iter().any(|o| o.work_type_id == r.work_type_id) {
            return Err(ApiError::refused(&format!("{field}.work_type_id"), "listed twice"));
        }
        let rate = r.rate.as_deref().map(|s| money::parse(s, "a rate").map_err(refused(&format!("{field}.rate")))).transpose()?;
        out.push(RateRow { contract_id: 0, work_type_id: r.work_type_id, included: r.included, rate: rate.map(|d| d.to_string()) });
    }
    Ok(out)
}

async fn check_sla(db: &mut impl Db, id: Option<i64>) -> Result<(), ApiError> {
    if let Some(id) = id {
        if crate::sla::store::policy(db, id).await?.is_none() {
            return Err(ApiError::refused("sla_policy_id", "no such SLA policy"));
        }
    }
    Ok(())
}

fn days(v: Option<i64>) -> Result<i64, ApiError> {
    let d = v.unwrap_or(30);
    if !(1..=365).contains(&d) {
        return Err(ApiError::invalid("seen_within_days", "must be between 1 and 365"));
    }
    Ok(d)
}

/// Writes the lines (new ones get ids) and removes those left out.
async fn write_lines(db: &mut impl Db, contract: i64, lines: &[Line], existing: &[LineRow]) -> Result<(), ApiError> {
    let mut keep = vec![];
    for (i, l) in lines.iter().enumerate() {
        if let Some(id) = l.id {
            if !existing.iter().any(|e| e.id == id) {
                return Err(ApiError::refused(&format!("lines[{i}].id"), "not a line of this contract"));
            }
        }
        let row = LineRow {
            id: l.id.unwrap_or(0),
            contract_id: contract,
            position: i as i64,
            kind: l.kind.as_str().into(),
            description: l.description.clone(),
            unit_price: l.unit_price.to_string(),
            quantity: l.quantity.to_string(),
            follow_count: l.follow_count,
            device_class: l.device_class.map(|c| c.as_str().to_string()),
            hours: l.hours.map(|h| h.to_string()),
            overage_rate: l.overage_rate.map(|h| h.to_string()),
            rollover: l.rollover,
            tax_rate: l.tax_rate.map(|t| t.to_string()),
        };
        keep.push(store::put_line(db, &row).await?);
    }
    store::remove_lines_except(db, contract, &keep).await?;
    Ok(())
}

pub async fn create(app: &App, p: &Principal, client_id: i64, input: NewContract) -> Result<Contract, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(client_id)?;
    let name = crate::validate::Name::parse(&input.name).map_err(invalid("name"))?.into_string();
    let start = date(&input.start_date).map_err(refused("start_date"))?;
    let end = input.end_date.as_deref().map(|d| date(d).map_err(refused("end_date"))).transpose()?;
    if end.is_some_and(|e| e < start) {
        return Err(ApiError::refused("end_date", "is before the start date"));
    }
    let seen = days(input.seen_within_days)?;
    let tax = input.tax_rate.as_deref().map(|t| tax_rate(t).map_err(refused("tax_rate"))).transpose()?;
    let lines = checked_lines(&input.lines)?;
    let mut tx = app.store.begin_audited().await?;
    let profile = crate::billing::profile::get(tx.tx(), client).await?.ok_or(ApiError::NotFound)?;
    let cur = currency(input.currency.as_deref().unwrap_or(&profile.currency)).map_err(refused("currency"))?;
    check_sla(tx.tx(), input.sla_policy_id).await?;
    let rates = checked_rates(tx.tx(), &input.rates).await?;
    let (start_s, end_s, tax_s) = (start.to_string(), end.map(|e| e.to_string()), tax.map(|t| t.to_string()));
    let write = ContractWrite {
        name: &name,
        start_date: &start_s,
        end_date: end_s.as_deref(),
        billing_cycle: input.billing_cycle.as_str(),
        billed: input.billed.as_str(),
        currency: cur.code,
        sla_policy_id: input.sla_policy_id,
        seen_within_days: seen,
        tax_rate: tax_s.as_deref(),
        tax_inclusive: input.tax_inclusive.unwrap_or(false),
        archived: false,
    };
    let id = store::insert(tx.tx(), client_id, &write, now_us()).await?;
    write_lines(tx.tx(), id, &lines, &[]).await?;
    store::set_rates(tx.tx(), id, &rates).await?;
    let c = load(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit(
        &p.actor(),
        Event::new("contract.create", "contract", id).client(client_id).details(serde_json::to_value(&c).unwrap_or_default()),
    )
    .await?;
    Ok(c)
}

pub async fn update(app: &App, p: &Principal, client_id: i64, id: i64, patch: ContractPatch) -> Result<Contract, ApiError> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(client_id)?;
    let lines = patch.lines.as_deref().map(checked_lines).transpose()?;
    let mut tx = app.store.begin_audited().await?;
    let before = load(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    let name = match &patch.name {
        Some(n) => crate::validate::Name::parse(n).map_err(invalid("name"))?.into_string(),
        None => before.name.clone(),
    };
    let start = match &patch.start_date {
        Some(s) => date(s).map_err(refused("start_date"))?,
        None => date(&before.start_date).map_err(ApiError::internal)?,
    };
    let end = match &patch.end_date {
        Some(Some(s)) => Some(date(s).map_err(refused("end_date"))?),
        Some(None) => None,
        None => before.end_date.as_deref().and_then(|d| date(d).ok()),
    };
    if end.is_some_and(|e| e < start) {
        return Err(ApiError::refused("end_date", "is before the start date"));
    }
    let cur = currency(patch.currency.as_deref().unwrap_or(&before.currency)).map_err(refused("currency"))?;
    let sla = patch.sla_policy_id.unwrap_or(before.sla_policy_id);
    check_sla(tx.tx(), sla).await?;
    let tax = match &patch.tax_rate {
        Some(Some(t)) => Some(tax_rate(t).map_err(refused("tax_rate"))?.to_string()),
        Some(None) => None,
        None => before.tax_rate.clone(),
    };
    let (start_s, end_s) = (start.to_string(), end.map(|e| e.to_string()));
    let write = ContractWrite {
        name: &name,
        start_date: &start_s,
        end_date: end_s.as_deref(),
        billing_cycle: patch.billing_cycle.unwrap_or(before.billing_cycle).as_str(),
        billed: patch.billed.unwrap_or(before.billed).as_str(),
        currency: cur.code,
        sla_policy_id: sla,
        seen_within_days: match patch.seen_within_days {
            Some(d) => days(Some(d))?,
            None => before.seen_within_days,
        },
        tax_rate: tax.as_deref(),
        tax_inclusive: patch.tax_inclusive.unwrap_or(before.tax_inclusive),
        archived: patch.archived.unwrap_or(before.archived),
    };
    store::update(tx.tx(), id, &write, now_us()).await?;
    if let Some(lines) = &lines {
        let existing = store::lines(tx.tx(), &[id]).await?;
        write_lines(tx.tx(), id, lines, &existing).await?;
    }
    if let Some(rates) = &patch.rates {
        let rates = checked_rates(tx.tx(), rates).await?;
        store::set_rates(tx.tx(), id, &rates).await?;
    }
    let after = load(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("contract.update", "contract", id).client(client_id), &before, &after).await?;
    Ok(after)
}
