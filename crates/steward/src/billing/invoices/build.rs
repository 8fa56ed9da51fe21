//! What an invoice bills for one contract and cycle, pure: each contract
//! line becomes an invoice line that says where its figure came from, and
//! billable time becomes lines drawn from a block of hours, at the
//! overage rate past it, or at each work type's rate. Every line is
//! rounded once; proration is by the day (see `period`).

use crate::billing::contracts::model::{Line, LineKind};
use crate::billing::model::money::Currency;
use crate::billing::model::period::{prorated, Span};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// An invoice line about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub contract_line_id: Option<i64>,
    pub kind: &'static str,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub amount: Decimal,
    pub tax_rate: Decimal,
    pub source: Value,
    /// The time entries it bills.
    pub entries: Vec<i64>,
}

/// "(17 of 30 days)" when a cycle is billed in part.
fn days_note(cycle: Span, active: Span) -> String {
    match cycle.overlap(&active) {
        Some(o) if o.days() < cycle.days() => format!(" ({} of {} days, {} – {})", o.days(), cycle.days(), o.start, o.end),
        _ => String::new(),
    }
}

/// The cycle billed and the days the contract covers.
#[derive(Debug, Clone, Copy)]
pub struct Within {
    pub cycle: Span,
    pub active: Span,
}

/// A line billed at a quantity for the cycle (flat, fixed, or counted
/// once), prorated to the contract's days in the cycle.
pub fn fixed(id: i64, line: &Line, w: Within, quantity: Decimal, tax: Decimal, source: Value, cur: &Currency) -> Draft {
    let Within { cycle, active } = w;
    Draft {
        contract_line_id: Some(id),
        kind: line.kind.as_str(),
        description: format!("{}{}", line.description, days_note(cycle, active)),
        quantity,
        unit_price: line.unit_price,
        amount: prorated(line.unit_price * quantity, cycle, active, cur),
        tax_rate: tax,
        source,
        entries: vec![],
    }
}

/// A counted line billed in arrears: each day of the cycle the contract
/// covers is charged at that day's count, so a device added on the 17th
/// pays from the 17th. `daily` holds the count of every such day.
pub fn counted(id: i64, line: &Line, cycle: Span, active: Span, daily: &[(NaiveDate, i64)], tax: Decimal, cur: &Currency) -> Draft {
    let n = Decimal::from(cycle.days());
    let unit_days: i64 = daily.iter().filter(|(d, _)| cycle.contains(*d) && active.contains(*d)).map(|(_, c)| *c).sum();
    let (lo, hi) = (daily.iter().map(|d| d.1).min().unwrap_or(0), daily.iter().map(|d| d.1).max().unwrap_or(0));
    let average = (Decimal::from(unit_days) / n).round_dp(4).normalize();
    let note = if lo == hi { String::new() } else { format!(" (between {lo} and {hi} a day; {unit_days} unit-days of {})", cycle.days()) };
    Draft {
        contract_line_id: Some(id),
        kind: line.kind.as_str(),
        description: format!("{}{note}", line.description),
        quantity: average,
        unit_price: line.unit_price,
        amount: cur.round(line.unit_price * Decimal::from(unit_days) / n),
        tax_rate: tax,
        source: json!({"unit_days": unit_days, "cycle_days": cycle.days(), "daily": daily.iter().map(|(d, c)| json!([d.to_string(), c])).collect::<Vec<_>>()}),
        entries: vec![],
    }
}

/// A billable time entry not yet invoiced.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub work_type_id: i64,
    pub minutes: i64,
}

/// How the contract treats a work type's time.
#[derive(Debug, Clone, PartialEq)]
pub enum Rate {
    Included,
    Hourly(Decimal),
}

/// The block of hours time is drawn from first.
#[derive(Debug, Clone)]
pub struct Block {
    pub line_id: i64,
    pub description: String,
    /// Hours left this cycle (the block's, plus any carried over).
    pub hours: Decimal,
    pub overage_rate: Decimal,
}

fn hours_of(minutes: i64) -> Decimal {
    (Decimal::from(minutes) / Decimal::from(60)).round_dp(4).normalize()
}

/// The time lines: included work at no charge; then, oldest first, hours
/// drawn from the block until it is used up and the rest at its overage
/// rate; with no block (or `t_and_m`), each work type at its rate. Every
/// entry is on exactly one line. Returns the lines and the block's hours
/// left.
pub fn time(
    entries: &[Entry],
    rate: &dyn Fn(i64) -> Rate,
    name: &dyn Fn(i64) -> String,
    block: Option<&Block>,
    t_and_m: Option<i64>,
    tax: Decimal,
    cur: &Currency,
) -> (Vec<Draft>, Decimal) {
    let mut out: Vec<Draft> = vec![];
    let mut included: Vec<&Entry> = vec![];
    let mut drawn: Vec<&Entry> = vec![];
    let mut over: Vec<(&Entry, i64)> = vec![];
    let mut priced: Vec<&Entry> = vec![];
    let mut left_minutes = block.map(|b| (b.hours * Decimal::from(60)).floor().try_into().unwrap_or(0i64)).unwrap_or(0);
    for e in entries {
        match (rate(e.work_type_id), block) {
            (Rate::Included, _) => included.push(e),
            (_, Some(_)) => {
                if left_minutes >= e.minutes {
                    left_minutes -= e.minutes;
                    drawn.push(e);
                } else {
                    // Part from the block, the rest over it: the entry sits on the overage line.
                    over.push((e, e.minutes - left_minutes));
                    left_minutes = 0;
                }
            }
            (Rate::Hourly(_), None) => priced.push(e),
        }
    }
    let ids = |v: &[&Entry]| v.iter().map(|e| e.id).collect::<Vec<_>>();
    let minutes = |v: &[&Entry]| v.iter().map(|e| e.minutes).sum::<i64>();
    if !included.is_empty() {
        out.push(Draft {
            contract_line_id: t_and_m.or(block.map(|b| b.line_id)),
            kind: "included_time",
            description: "Included work".into(),
            quantity: hours_of(minutes(&included)),
            unit_price: Decimal::ZERO,
            amount: cur.round(Decimal::ZERO),
            tax_rate: tax,
            source: json!({"time_entry_ids": ids(&included)}),
            entries: ids(&included),
        });
    }
    if let Some(b) = block {
        let mut all: Vec<&Entry> = drawn.clone();
        all.extend(over.iter().map(|(e, _)| *e));
        if !drawn.is_empty() || !over.is_empty() {
            let used = minutes(&drawn) + over.iter().map(|(e, o)| e.minutes - o).sum::<i64>();
            out.push(Draft {
                contract_line_id: Some(b.line_id),
                kind: "block_hours_used",
                description: format!("{}: {} h used of {} h", b.description, hours_of(used), b.hours.normalize()),
                quantity: hours_of(used),
                unit_price: Decimal::ZERO,
                amount: cur.round(Decimal::ZERO),
                tax_rate: tax,
                source: json!({"time_entry_ids": ids(&drawn), "hours_available": b.hours.to_string()}),
                entries: ids(&drawn),
            });
        }
        if !over.is_empty() {
            let over_minutes: i64 = over.iter().map(|(_, o)| o).sum();
            let q = hours_of(over_minutes);
            out.push(Draft {
                contract_line_id: Some(b.line_id),
                kind: "block_hours_overage",
                description: format!("{}: hours past the block", b.description),
                quantity: q,
                unit_price: b.overage_rate,
                amount: cur.round(b.overage_rate * Decimal::from(over_minutes) / Decimal::from(60)),
                tax_rate: tax,
                source: json!({"time_entry_ids": over.iter().map(|(e, _)| e.id).collect::<Vec<_>>(), "overage_minutes": over_minutes}),
                entries: over.iter().map(|(e, _)| e.id).collect(),
            });
        }
    }
    let mut types: Vec<i64> = priced.iter().map(|e| e.work_type_id).collect();
    types.sort();
    types.dedup();
    for t in types {
        let these: Vec<&Entry> = priced.iter().copied().filter(|e| e.work_type_id == t).collect();
        let Rate::Hourly(r) = rate(t) else { continue };
        let m = minutes(&these);
        out.push(Draft {
            contract_line_id: t_and_m,
            kind: "time",
            description: name(t),
            quantity: hours_of(m),
            unit_price: r,
            amount: cur.round(r * Decimal::from(m) / Decimal::from(60)),
            tax_rate: tax,
            source: json!({"time_entry_ids": ids(&these), "work_type_id": t, "minutes": m}),
            entries: ids(&these),
        });
    }
    (out, Decimal::from(left_minutes) / Decimal::from(60))
}

/// Whether a line kind is billed from time rather than per cycle.
pub fn is_time(kind: LineKind) -> bool {
    matches!(kind, LineKind::TimeAndMaterials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::model::money::currency;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn entries() -> impl Strategy<Value = Vec<Entry>> {
        prop::collection::vec((1i64..4, 1i64..600), 0..40)
            .prop_map(|v| v.into_iter().enumerate().map(|(i, (t, m))| Entry { id: i as i64 + 1, work_type_id: t, minutes: m }).collect())
    }

    proptest! {
        /// Every entry lands on exactly one line; included work costs
        /// nothing; the block's hours and the overage add up to the time.
        #[test]
        fn every_entry_is_billed_once(es in entries(), block_hours in prop::option::of(0i64..20), rate in 0i64..30_000) {
            let usd = currency("USD").unwrap();
            let rate_of = |t: i64| if t == 3 { Rate::Included } else { Rate::Hourly(Decimal::new(rate, 2)) };
            let block = block_hours.map(|h| Block { line_id: 9, description: "Block".into(), hours: Decimal::from(h), overage_rate: Decimal::new(rate, 2) });
            let (lines, left) = time(&es, &rate_of, &|t| format!("type {t}"), block.as_ref(), Some(8), Decimal::ZERO, &usd);
            let mut seen = HashSet::new();
            for l in &lines {
                for e in &l.entries {
                    prop_assert!(seen.insert(*e), "entry {} twice", e);
                }
                prop_assert!(l.amount >= Decimal::ZERO);
                if l.kind == "included_time" || l.kind == "block_hours_used" {
                    prop_assert!(l.amount.is_zero());
                }
            }
            prop_assert_eq!(seen.len(), es.len());
            if let Some(h) = block_hours {
                let billable: i64 = es.iter().filter(|e| e.work_type_id != 3).map(|e| e.minutes).sum();
                let over: i64 = lines.iter().filter(|l| l.kind == "block_hours_overage").map(|l| l.source["overage_minutes"].as_i64().unwrap()).sum();
                prop_assert_eq!((h * 60 - billable).max(0), (left * Decimal::from(60)).round().try_into().unwrap_or(-1i64));
                prop_assert_eq!(over, (billable - h * 60).max(0));
            }
        }
    }
}
