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
pub mod pages;
pub mod payments;
pub mod profile;
pub mod reconcile;
pub mod settings;

use crate::app::domain::{get, post, BoxFut, Domain, Job, NavGroup, NavItem, Need};
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
        .api(read, routes!(invoices::export::invoice_csv))
        .api(read, routes!(invoices::export::invoice_pdf))
        .api(read, routes!(settings::show))
        .api(Need::Perm(crate::auth::roles::Permission::SettingsWrite), routes!(settings::change))
        .api(read, routes!(invoices::export::accounting))
        .api(read, routes!(reconcile::all))
        .api(read, routes!(reconcile::of_client))
        .api(write, routes!(reconcile::true_up))
        .api(write, routes!(invoices::api::start_run))
        .api(read, routes!(invoices::api::get_run))
        // A run asked for starts within two seconds (the look is one indexed query).
        .job(Job { name: invoices::run::JOB, every: |_| Some(Duration::from_secs(2)), run: invoice_runs })
        .pages([
            get("/billing", read, pages::overview),
            post("/billing/runs", write, pages::start_run),
            get("/billing/events", read, pages::events),
            get("/clients/{id}/billing", read, pages::client),
            post("/clients/{id}/contracts", write, pages::create_contract),
            post("/clients/{id}/contracts/{contract_id}/lines/{line_id}/true-up", write, pages::true_up),
            get("/clients/{id}/invoices/{invoice_id}", read, pages::invoice),
            post("/clients/{id}/invoices/{invoice_id}/finalize", write, pages::finalize),
            post("/clients/{id}/invoices/{invoice_id}/credit", write, pages::credit),
            post("/clients/{id}/invoices/{invoice_id}/lines", write, pages::add_line),
            post("/clients/{id}/invoices/{invoice_id}/lines/{line_id}/remove", write, pages::remove_line),
            post("/clients/{id}/invoices/{invoice_id}/payments", write, pages::record_payment),
        ])
        .panel(pages::CLIENT_PANEL)
        .nav(NavItem { group: NavGroup::Psa, order: 9, id: "billing", label: "Billing", href: "/billing", key: 'b', need: read })
        .job(Job { name: "billing.counts", every: |_| Some(Duration::from_secs(3600)), run: keep_counts })
}
