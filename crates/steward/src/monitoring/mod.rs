//! Monitoring: the metrics agents report (CPU, memory, each disk, network),
//! stored raw for a configurable retention and rolled up into 5-minute and
//! hourly min/avg/max for long ranges; read by the device page's charts.
//! `model` is the pure part (checking samples, rollups, which resolution a
//! range reads), `store` the tables, `runtime` the batched writer that
//! acknowledges to agents. `policies` say which checks each device runs,
//! `checks` keeps their states and takes agents' results, `alerts` is what
//! failing checks open, `maintenance` when they stay quiet.

pub mod alerts;
pub mod api;
pub mod checks;
pub mod dashboard;
pub mod maintenance;
pub mod model;
pub mod policies;
pub mod runtime;
pub mod store;

use crate::app::domain::{get, post, BoxFut, Domain, Job, NavGroup, NavItem, Need};
use crate::app::App;
use crate::auth::roles::Permission;
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    Domain::new("monitoring")
        .api(Need::Perm(Permission::ClientsRead), routes!(api::metrics))
        .api(Need::Perm(Permission::ClientsRead), routes!(maintenance::api::list))
        .api(Need::Perm(Permission::ClientsWrite), routes!(maintenance::api::create))
        .api(Need::Perm(Permission::ClientsWrite), routes!(maintenance::api::delete))
        .pages([
            post("/clients/{id}/maintenance-windows", Need::Perm(Permission::ClientsWrite), maintenance::pages::create),
            post("/clients/{id}/maintenance-windows/{window_id}/delete", Need::Perm(Permission::ClientsWrite), maintenance::pages::delete),
        ])
        .panel(maintenance::pages::CLIENT_PANEL)
        .api(Need::Perm(Permission::ClientsRead), routes!(alerts::api::list))
        .api(Need::Perm(Permission::ClientsRead), routes!(alerts::api::get))
        .api(Need::Perm(Permission::ClientsWrite), routes!(alerts::api::ack))
        .api(Need::Perm(Permission::ClientsWrite), routes!(alerts::api::snooze))
        .api(Need::Perm(Permission::ClientsWrite), routes!(alerts::api::resolve))
        .pages([
            get("/alerts", Need::Perm(Permission::ClientsRead), alerts::pages::list),
            get("/alerts/events", Need::Perm(Permission::ClientsRead), alerts::pages::events),
            get("/monitoring/policies", Need::Perm(Permission::ClientsRead), policies::pages::list),
            post("/monitoring/policies", Need::Perm(Permission::SettingsWrite), policies::pages::create),
            post("/monitoring/policies/{id}", Need::Perm(Permission::SettingsWrite), policies::pages::update),
            post("/monitoring/policies/{id}/delete", Need::Perm(Permission::SettingsWrite), policies::pages::delete),
            post("/clients/{id}/alerts/{alert_id}/ack", Need::Perm(Permission::ClientsWrite), alerts::pages::ack),
            post("/clients/{id}/alerts/{alert_id}/resolve", Need::Perm(Permission::ClientsWrite), alerts::pages::resolve),
            post("/clients/{id}/alerts/{alert_id}/snooze", Need::Perm(Permission::ClientsWrite), alerts::pages::snooze),
        ])
        .nav(NavItem {
            group: NavGroup::Rmm,
            order: 15,
            id: "alerts",
            label: "Alerts",
            href: "/alerts",
            key: 'e',
            need: Need::Perm(Permission::ClientsRead),
        })
        .api(Need::Perm(Permission::ClientsRead), routes!(policies::api::list, policies::api::create))
        .api(Need::Perm(Permission::ClientsRead), routes!(policies::api::get, policies::api::update, policies::api::delete))
        .api(Need::Perm(Permission::ClientsRead), routes!(policies::api::device_checks))
        .listener(checks::agents::LISTENER)
        .nav(NavItem {
            group: NavGroup::Rmm,
            order: 16,
            id: "policies",
            label: "Policies",
            href: "/monitoring/policies",
            key: 'y',
            need: Need::Perm(Permission::ClientsRead),
        })
        .panel(alerts::pages::HOME_STAT)
        .panel(dashboard::HOME_PANEL)
        .api(Need::Perm(Permission::ClientsRead), routes!(dashboard::api))
        .panel(alerts::pages::DEVICE_PANEL)
        .panel(checks::pages::DEVICE_PANEL)
        .job(Job { name: "monitoring.evaluate", every: |c| Some(Duration::from_secs(c.monitoring_check_secs)), run: evaluate })
        .job(Job { name: "metrics.prune", every: |_| Some(Duration::from_secs(3600)), run: prune })
}

/// Runs the server-side checks once.
fn evaluate(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move { alerts::evaluate::run(&app).await })
}

/// Deletes samples, rollups and check results past their retention.
fn prune(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let c = &app.cfg;
        let now = crate::time::now_us();
        let mut n = store::prune(&mut app.store.clone(), now, c.metrics_raw_days, c.metrics_5m_days, c.metrics_1h_days).await?;
        // Check results are kept like raw samples; state changes two years.
        let day = 86_400 * 1_000_000i64;
        n += checks::store::prune(&mut app.store.clone(), now - c.metrics_raw_days as i64 * day, now - 730 * day).await?;
        if n > 0 {
            tracing::info!(rows = n, "metrics past their retention pruned");
        }
        Ok(())
    })
}
