//! Scripts: the MSP's library (bash, sh, Python, PowerShell, cmd) with
//! parameters, a timeout and a run-as; runs on one device, a selection, or
//! every device of a client or site, now or at a set time; per-device
//! output (capped, the cap shown). A run that reaches more devices than the
//! configured threshold, or more than one client, waits for a second
//! person's approval. Every change and every run is audited with the
//! script's hash, and a run carries a copy of the text it was approved with.
//!
//! It hears from devices through the event bus: a device that comes online
//! gets what waited for it, and a script result an agent reports is stored
//! when it answers a command sent to that device.

pub mod api;
pub mod dispatch;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

use crate::app::domain::{get, post, BoxFut, Domain, Job, NavGroup, NavItem, Need};
use crate::app::App;
use crate::auth::roles::Permission::{ClientsRead, ScriptsRun as Run, ScriptsWrite as Write};
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (run, write) = (Need::Perm(Run), Need::Perm(Write));
    Domain::new("scripts")
        .api(run, routes!(api::list))
        .api(write, routes!(api::create))
        .api(run, routes!(api::get))
        .api(write, routes!(api::update))
        .api(run, routes!(api::run))
        .api(run, routes!(api::list_runs))
        .api(run, routes!(api::get_run))
        .api(run, routes!(api::approve))
        .api(run, routes!(api::reject))
        .api(run, routes!(api::cancel))
        .api(Need::Perm(ClientsRead), routes!(api::device_results))
        .pages([
            get("/scripts", run, pages::list),
            post("/scripts", write, pages::create),
            get("/scripts/{id}", run, pages::show),
            post("/scripts/{id}", write, pages::update),
            post("/scripts/{id}/run", run, pages::run),
            get("/script-runs/{id}", run, pages::show_run),
            post("/script-runs/{id}/approve", run, pages::approve),
            post("/script-runs/{id}/reject", run, pages::reject),
            post("/script-runs/{id}/cancel", run, pages::cancel),
            post("/clients/{id}/devices/{device_id}/run-script", run, pages::run_on_device),
        ])
        .nav(NavItem { group: NavGroup::Rmm, order: 20, id: "scripts", label: "Scripts", href: "/scripts", key: 'r', need: run })
        .job(Job { name: "scripts.start_due", every: |_| Some(Duration::from_secs(10)), run: start_due })
        .listener(dispatch::LISTENER)
        .panel(pages::DEVICE_PANEL)
}

/// Starts scheduled runs whose time has come.
fn start_due(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move { Ok(dispatch::start_due(&app).await?) })
}
