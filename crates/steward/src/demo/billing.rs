//! The demo's billing: each client under a contract of its own kind (fixed
//! device counts agreed a year ago, covered users, flat fees, a block of
//! hours, time and materials), a year of monthly invoice runs finalized on
//! their day and paid, but for the last two months. The simulated fleet
//! then enrols more devices than some contracts bill, so the
//! reconciliation has something to show.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::billing::contracts::ops::{self as contracts, NewContract};
use crate::billing::invoices::ops::{self as invoices, NewRun};
use crate::billing::payments::{self, Method, NewPayment};
use chrono::{Datelike, Months, NaiveDate};
use serde_json::json;

fn lines(i: usize) -> serde_json::Value {
    match i % 4 {
        0 => json!([
            {"kind": "per_device", "description": "Managed workstations", "unit_price": "45.00", "quantity": 8, "device_class": "workstation"},
            {"kind": "per_device", "description": "Managed servers", "unit_price": "150.00", "quantity": 1, "device_class": "server"},
            {"kind": "per_user", "description": "Microsoft 365 support per user", "unit_price": "12.00", "follow_count": true},
            {"kind": "time_and_materials", "description": "Work outside the agreement"},
        ]),
        1 => json!([
            {"kind": "flat", "description": "Fixed-fee support", "unit_price": "1500.00"},
            {"kind": "block_hours", "description": "Project hours", "unit_price": "900.00", "hours": 10, "overage_rate": "140.00"},
        ]),
        2 => json!([
            {"kind": "per_user", "description": "All-in support per user", "unit_price": "85.00", "follow_count": true},
            {"kind": "time_and_materials", "description": "On-site and projects"},
        ]),
        _ => json!([
            {"kind": "per_device", "description": "Managed devices", "unit_price": "40.00", "quantity": 10},
            {"kind": "flat", "description": "Security stack (EDR, mail filtering)", "unit_price": "250.00"},
        ]),
    }
}

pub async fn seed(app: &App, p: &Principal, clients: &[i64]) -> anyhow::Result<()> {
    let e = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    let today = chrono::Utc::now().date_naive();
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("a first day");
    let start = this_month - Months::new(12);
    for (i, client) in clients.iter().enumerate() {
        let input: NewContract = serde_json::from_value(json!({
            "name": "Managed services agreement", "start_date": start.to_string(), "billing_cycle": "monthly", "billed": "advance",
            "tax_rate": if i % 2 == 0 { "8.25" } else { "0" },
            "lines": lines(i),
        }))?;
        contracts::create(app, p, *client, input).await.map_err(e)?;
    }
    for m in 0..12u32 {
        let from = start + Months::new(m);
        let to = from + Months::new(1) - chrono::Days::new(1);
        let run = invoices::start_run(app, p, NewRun { period_start: from.to_string(), period_end: to.to_string() }).await.map_err(e)?;
        crate::billing::invoices::run::job(app.clone()).await?;
        let made = invoices::run_of(&mut app.store.clone(), p, run.id).await.map_err(e)?.map(|r| r.invoice_ids).unwrap_or_default();
        for id in made {
            let client = crate::billing::invoices::store::client_of(&mut app.store.clone(), id).await?.unwrap_or_default();
            let fin = invoices::finalize_on(app, p, client, id, from).await.map_err(e)?;
            if m < 10 && fin.total != "0.00" {
                let paid = NewPayment {
                    invoice_id: id,
                    paid_on: (from + chrono::Days::new(18 + (id % 9) as u64)).to_string(),
                    amount: fin.total.clone(),
                    method: if id % 3 == 0 { Method::Card } else { Method::BankTransfer },
                    reference: format!("REM-{}", 10_000 + id),
                };
                payments::record_payment(app, p, client, paid).await.map_err(e)?;
            }
        }
    }
    Ok(())
}
