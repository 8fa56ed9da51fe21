//! Contracts and billing (issue 16): what each client agreed to pay
//! (`contracts`), what is counted for it (`counts`), invoice runs that turn
//! both and the billable time into draft invoices, finalized with gapless
//! numbers and corrected by credit notes (`invoices`). The money rules are
//! pure and property-tested in `model`: `money` (currencies, rounding),
//! `period` (cycles and proration by the day), `totals` (lines and taxes).

pub mod contracts;
pub mod counts;
pub mod invoices;
pub mod model;
pub mod payments;
pub mod profile;
pub mod reconcile;

use crate::app::domain::{BoxFut, Domain, Job, Need};
use crate::auth::roles::Permission::{BillingRead as Read, BillingWrite as Write};
use std::time::Duration;
use utoipa_axum::routes;

fn invoice_runs(app: crate::app::App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(invoices::run::job(app))
}

fn keep_counts(app: crate::app::App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move { counts::keep_today(&app).await })
}

pub fn domain() -> Domain {
    let (read, write) = (Need::Perm(Read), Need::Perm(Write));
    Domain::new("billing")
        .api(read, routes!(profile::show))
        .api(write, routes!(profile::change))
        .api(read, routes!(contracts::api::list))
        .api(write, routes!(contracts::api::create))
        .api(read, routes!(contracts::api::get))
        .api(write, routes!(contracts::api::update))
        .api(read, routes!(invoices::api::list))
        .api(read, routes!(invoices::api::get))
        .api(write, routes!(invoices::api::add_line))
        .api(write, routes!(invoices::api::change_line))
        .api(write, routes!(invoices::api::remove_line))
        .api(write, routes!(invoices::api::finalize))
        .api(write, routes!(invoices::api::credit))
        .api(read, routes!(payments::list))
        .api(write, routes!(payments::record))
        .api(read, routes!(payments::balance))
        .api(read, routes!(reconcile::all))
        .api(read, routes!(reconcile::of_client))
        .api(write, routes!(reconcile::true_up))
        .api(write, routes!(invoices::api::start_run))
        .api(read, routes!(invoices::api::get_run))
        // A run asked for starts within two seconds (the look is one indexed query).
        .job(Job { name: "billing.invoice_runs", every: |_| Some(Duration::from_secs(2)), run: invoice_runs })
        .job(Job { name: "billing.counts", every: |_| Some(Duration::from_secs(3600)), run: keep_counts })
}
