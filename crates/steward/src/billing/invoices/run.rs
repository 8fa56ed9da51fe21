//! Invoice runs: `POST /api/v1/invoice-runs` records a run for a period;
//! the `billing.invoice_runs` job (one node at a time, under its lease)
//! (made due when a run is started) bills every client whose contracts have a cycle due in it: cycles
//! starting in the period for contracts billed in advance, ending in it
//! for those billed in arrears. Clients are billed 50 to a transaction
//! (each with its audit entry), their drafts written with the time entries
//! they bill linked to their lines; a contract's period already invoiced is skipped (and the
//! database's unique key refuses a second one), so running the same
//! period again makes nothing new, and a run cut short by a crash is
//! simply run again.

use super::build::{self, Block, Draft, Entry, Rate, Within};
use super::store::{self, LineRow as InvoiceLine, NewInvoice, RunRow};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::billing::contracts::model::{cycle, date, Billed, LineKind};
use crate::billing::contracts::store::{self as contracts, ContractRow, LineRow, RateRow};
use crate::billing::counts::{self, Fleet};
use crate::billing::model::money::{self, currency};
use crate::billing::model::period::{cycles_ending_in, cycles_starting_in, Span};
use crate::billing::model::totals::{totals, Line as TotalLine};
use crate::store::Db;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_query::{Iden, Query};
use serde_json::json;
use std::collections::HashMap;

/// Clients billed in one transaction; progress is written after each such
/// chunk. 50 clients' invoices with their time hold the write lock about a
/// quarter of a second on the embedded database (other writers queue for
/// their turn meanwhile, see `Store::begin`); fewer commits save the run
/// about a second for every 2,000 clients.
const PROGRESS_EVERY: usize = 50;

/// The job's name, for its lease.
pub const JOB: &str = "billing.invoice_runs";

#[derive(Iden, Clone, Copy)]
enum WorkTypes {
    Table,
    Id,
    Name,
    Rate,
}

#[derive(sqlx::FromRow)]
struct WorkTypeRate {
    id: i64,
    name: String,
    rate: String,
}

/// The job: every run not finished.
pub async fn job(app: App) -> anyhow::Result<()> {
    for r in store::running(&mut app.store.clone()).await? {
        let id = r.id;
        if let Err(e) = process(&app, r).await {
            tracing::error!(run = id, error = %e, "invoice run failed");
            let mut db = app.store.clone();
            store::finish_run(&mut db, id, "failed", &e.to_string(), crate::time::now_us()).await?;
        }
        app.bus.publish(crate::events::Event::InvoiceRunChanged { run: id }).await;
    }
    Ok(())
}

/// What every client's billing reads once per run.
struct Shared {
    period: Span,
    today: NaiveDate,
    now_us: i64,
    /// Time worked up to the period's end is billed.
    time_before: i64,
    work_types: HashMap<i64, WorkTypeRate>,
}

async fn process(app: &App, run: RunRow) -> anyhow::Result<()> {
    let mut db = app.store.clone();
    let period =
        Span { start: date(&run.period_start).map_err(anyhow::Error::msg)?, end: date(&run.period_end).map_err(anyhow::Error::msg)? };
    let rows: Vec<WorkTypeRate> =
        db.fetch_all(Query::select().columns([WorkTypes::Id, WorkTypes::Name, WorkTypes::Rate]).from(WorkTypes::Table)).await?;
    let shared = Shared {
        period,
        today: chrono::Utc::now().date_naive(),
        now_us: crate::time::now_us(),
        time_before: period.end.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc().timestamp_micros()).unwrap_or(i64::MAX),
        work_types: rows.into_iter().map(|w| (w.id, w)).collect(),
    };
    let all = contracts::active(&mut db).await?;
    let mut by_client: Vec<(i64, Vec<ContractRow>)> = vec![];
    for c in all {
        match by_client.last_mut() {
            Some((client, list)) if *client == c.client_id => list.push(c),
            _ => by_client.push((c.client_id, vec![c])),
        }
    }
    let total = by_client.len() as i64;
    let mut made = 0i64;
    for (i, chunk) in by_client.chunks(PROGRESS_EVERY).enumerate() {
        let clients: Vec<i64> = chunk.iter().map(|(c, _)| *c).collect();
        let fleet = Fleet::load(&mut db, &clients).await?;
        made += bill_chunk(app, run.id, chunk, &fleet, &shared).await?;
        let done = ((i + 1) * PROGRESS_EVERY).min(by_client.len()) as i64;
        store::run_progress(&mut db, run.id, total, done, made).await?;
        app.bus.publish(crate::events::Event::InvoiceRunChanged { run: run.id }).await;
    }
    store::run_progress(&mut db, run.id, total, total, made).await?;
    store::finish_run(&mut db, run.id, "done", "", crate::time::now_us()).await?;
    Ok(())
}

/// A contract's days: from its start to its end (or for good).
fn active(c: &ContractRow) -> Option<Span> {
    let start = date(&c.start_date).ok()?;
    let end = c.end_date.as_deref().and_then(|d| date(d).ok()).unwrap_or(NaiveDate::from_ymd_opt(2200, 12, 31)?);
    Some(Span { start, end })
}

/// Bills a few clients in one transaction (one commit, so one wait for
/// the disk, per chunk), each with its audit entry; returns the invoices made.
async fn bill_chunk(app: &App, run: i64, chunk: &[(i64, Vec<ContractRow>)], fleet: &Fleet, s: &Shared) -> anyhow::Result<i64> {
    let mut tx = app.store.begin_audited().await?;
    let clients: Vec<i64> = chunk.iter().map(|(c, _)| *c).collect();
    let contracts: Vec<i64> = chunk.iter().flat_map(|(_, list)| list.iter().map(|c| c.id)).collect();
    let mut unbilled = store::unbilled_of(tx.tx(), &clients, Some(s.time_before)).await?;
    let read = Read {
        tax_rates: crate::billing::profile::tax_rates(tx.tx(), &clients).await?,
        lines: contracts::lines(tx.tx(), &contracts).await?,
        rates: contracts::rates(tx.tx(), &contracts).await?,
        invoiced: store::invoiced(tx.tx(), &contracts).await?,
        fleet,
    };
    let mut events = vec![];
    let mut made = 0;
    for (client, list) in chunk {
        let time = unbilled.remove(client).unwrap_or_default();
        let ids = bill_client(tx.tx(), run, *client, list, &read, time, s).await?;
        if !ids.is_empty() {
            made += ids.len() as i64;
            events.push(Event::new("invoice.draft", "client", client).client(*client).details(json!({"run_id": run, "invoice_ids": ids})));
        }
    }
    let Some(last) = events.pop() else { return Ok(0) };
    for e in events {
        tx.append(&Actor::system(), e).await?;
    }
    tx.commit(&Actor::system(), last).await?;
    Ok(made)
}

/// Bills one client's due cycles; returns the invoices made.
/// What a chunk's clients' billing reads, once for the chunk (a statement
/// per client and kind would cost a round trip each).
struct Read<'a> {
    tax_rates: HashMap<i64, String>,
    lines: Vec<LineRow>,
    rates: Vec<RateRow>,
    /// (contract, period start) already invoiced.
    invoiced: std::collections::HashSet<(i64, String)>,
    fleet: &'a Fleet,
}

async fn bill_client(
    tx: &mut impl Db,
    run: i64,
    client: i64,
    list: &[ContractRow],
    read: &Read<'_>,
    time: Vec<store::Unbilled>,
    s: &Shared,
) -> anyhow::Result<Vec<i64>> {
    let Some(client_tax) = read.tax_rates.get(&client) else { return Ok(vec![]) };
    let (lines, rates, fleet) = (&read.lines, &read.rates, read.fleet);
    let mut made: Vec<i64> = vec![];
    // Time is billed once per run, on the first contract that bills time.
    let mut time_billed = false;
    for c in list {
        let Some(active) = active(c) else { continue };
        let Ok(cur) = currency(&c.currency) else { continue };
        let cycles = match Billed::parse(&c.billed) {
            Some(Billed::Arrears) => cycles_ending_in(cycle(&c.billing_cycle), s.period),
            _ => cycles_starting_in(cycle(&c.billing_cycle), s.period),
        };
        let cycles: Vec<Span> = cycles.into_iter().filter(|cy| cy.overlap(&active).is_some()).collect();
        let mine: Vec<&LineRow> = lines.iter().filter(|l| l.contract_id == c.id).collect();
        let default_tax = money::stored(c.tax_rate.as_deref().unwrap_or(client_tax));
        for (n, cy) in cycles.iter().enumerate() {
            let start = cy.start.to_string();
            if read.invoiced.contains(&(c.id, start.clone())) {
                continue;
            }
            let within = Within { cycle: *cy, active };
            let mut drafts: Vec<Draft> = vec![];
            let mut block: Option<Block> = None;
            let mut block_own = Decimal::ZERO;
            let mut t_and_m: Option<i64> = None;
            for l in &mine {
                let Some(kind) = LineKind::parse(&l.kind) else { continue };
                let model = line_model(l, kind);
                let tax = l.tax_rate.as_deref().map(money::stored).unwrap_or(default_tax);
                match kind {
                    LineKind::TimeAndMaterials => t_and_m = Some(l.id),
                    LineKind::BlockHours => {
                        let own = money::stored(l.hours.as_deref().unwrap_or("0"));
                        // Unused hours of the last cycle's own block, kept one cycle when the line rolls over.
                        let carried = if l.rollover { store::hours_left(tx, l.id, &start).await?.min(own) } else { Decimal::ZERO };
                        let source =
                            json!({"hours": own.to_string(), "carried_in": carried.to_string(), "hours_left_own": own.to_string()});
                        drafts.push(build::fixed(l.id, &model, within, Decimal::ONE, tax, source, &cur));
                        block = Some(Block {
                            line_id: l.id,
                            description: l.description.clone(),
                            hours: own + carried,
                            overage_rate: money::stored(l.overage_rate.as_deref().unwrap_or("0")),
                        });
                        block_own = own;
                    }
                    LineKind::PerDevice | LineKind::PerUser if l.follow_count => {
                        let ids = fleet.count(l, client, c.seen_within_days, s.now_us);
                        counts::keep(tx, l.id, s.today, &ids).await?;
                        if Billed::parse(&c.billed) == Some(Billed::Arrears) {
                            let kept = counts::daily(tx, l.id, cy.start, cy.end).await?;
                            let days = cy.overlap(&active).map(|o| counts::fill(o.each_day(), &kept, ids.len() as i64)).unwrap_or_default();
                            drafts.push(build::counted(l.id, &model, *cy, active, &days, tax, &cur));
                        } else {
                            let source = json!({"count": ids.len(), "counted_on": s.today.to_string(), "ids": ids});
                            drafts.push(build::fixed(l.id, &model, within, Decimal::from(ids.len() as i64), tax, source, &cur));
                        }
                    }
                    _ => {
                        let q = money::stored(&l.quantity);
                        drafts.push(build::fixed(l.id, &model, within, q, tax, json!({"quantity": "fixed on the contract"}), &cur));
                    }
                }
            }
            // The run's last cycle of this contract takes the time worked up to the period's end.
            if !time_billed && n + 1 == cycles.len() && (block.is_some() || t_and_m.is_some()) {
                time_billed = true;
                let entries: Vec<Entry> =
                    time.iter().map(|e| Entry { id: e.id, work_type_id: e.work_type_id, minutes: e.minutes }).collect();
                let rate = |t: i64| rate_of(rates, &s.work_types, c.id, t);
                let name = |t: i64| s.work_types.get(&t).map(|w| w.name.clone()).unwrap_or_else(|| format!("work type {t}"));
                let (time, left) = build::time(&entries, &rate, &name, block.as_ref(), t_and_m, default_tax, &cur);
                if let Some(b) = &block {
                    // Carried hours are drawn first: what is left of the cycle's own block may roll over.
                    let own_left = left.min(block_own).normalize();
                    if let Some(d) = drafts.iter_mut().find(|d| d.contract_line_id == Some(b.line_id) && d.kind == "block_hours") {
                        d.source["hours_left_own"] = json!(own_left.to_string());
                        d.source["hours_left"] = json!(left.normalize().to_string());
                    }
                }
                drafts.extend(time);
            }
            if drafts.is_empty() {
                continue;
            }
            let head = NewInvoice {
                client_id: client,
                contract_id: Some(c.id),
                run_id: Some(run),
                kind: "invoice",
                credited_invoice_id: None,
                period_start: &start,
                period_end: &cy.end.to_string(),
                currency: cur.code,
                tax_inclusive: c.tax_inclusive,
            };
            made.push(write(tx, &head, &drafts, &cur).await?);
        }
    }
    Ok(made)
}

/// A stored contract line as the builder wants it.
fn line_model(l: &LineRow, kind: LineKind) -> crate::billing::contracts::model::Line {
    crate::billing::contracts::model::Line {
        id: Some(l.id),
        kind,
        description: l.description.clone(),
        unit_price: money::stored(&l.unit_price),
        quantity: money::stored(&l.quantity),
        follow_count: l.follow_count,
        device_class: None,
        hours: None,
        overage_rate: None,
        rollover: l.rollover,
        tax_rate: None,
    }
}

/// How contract `c` prices work type `t`: its own rate table, else the installation's.
fn rate_of(rates: &[RateRow], types: &HashMap<i64, WorkTypeRate>, c: i64, t: i64) -> Rate {
    match rates.iter().find(|r| r.contract_id == c && r.work_type_id == t) {
        Some(r) if r.included => Rate::Included,
        Some(RateRow { rate: Some(r), .. }) => Rate::Hourly(money::stored(r)),
        _ => Rate::Hourly(types.get(&t).map(|w| money::stored(&w.rate)).unwrap_or_default()),
    }
}

/// Writes an invoice with its lines, links its time entries, and its totals.
pub async fn write(db: &mut impl Db, head: &NewInvoice<'_>, drafts: &[Draft], cur: &money::Currency) -> anyhow::Result<i64> {
    let now = crate::time::now_us();
    let id = store::insert(db, head, now).await?;
    for (i, d) in drafts.iter().enumerate() {
        let row = InvoiceLine {
            id: 0,
            invoice_id: id,
            position: i as i64,
            contract_line_id: d.contract_line_id,
            kind: d.kind.to_string(),
            description: d.description.clone(),
            quantity: d.quantity.normalize().to_string(),
            unit_price: d.unit_price.normalize().to_string(),
            amount: d.amount.to_string(),
            tax_rate: d.tax_rate.normalize().to_string(),
            source: d.source.to_string(),
        };
        let line = store::insert_line(db, &row).await?;
        let linked = store::bill_entries(db, line, &d.entries).await?;
        anyhow::ensure!(linked == d.entries.len() as u64, "a time entry was billed meanwhile");
    }
    let t =
        totals(&drafts.iter().map(|d| TotalLine { amount: d.amount, tax_rate: d.tax_rate }).collect::<Vec<_>>(), head.tax_inclusive, cur);
    store::set_totals(db, id, &t.subtotal.to_string(), &t.tax.to_string(), &t.total.to_string(), now).await?;
    Ok(id)
}
