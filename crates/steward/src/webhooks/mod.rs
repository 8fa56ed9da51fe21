//! Webhooks: events POSTed to other systems, signed (`model`: signature,
//! backoff, which addresses a delivery may reach), queued in the
//! transaction of their change (`store`, `ops::enqueue`) and delivered by
//! a leased job (`deliver`). Today the alerts' events.

pub mod api;
pub mod deliver;
pub mod model;
pub mod ops;
pub mod store;

use crate::app::domain::{BoxFut, Domain, Job, Need};
use crate::app::App;
use crate::auth::roles::Permission;
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let admin = Need::Perm(Permission::SettingsWrite);
    Domain::new("webhooks")
        .api(admin, routes!(api::list))
        .api(admin, routes!(api::create))
        .api(admin, routes!(api::delete))
        .api(admin, routes!(api::deliveries))
        .job(Job { name: "webhooks.deliver", every: |c| Some(Duration::from_secs(c.webhook_check_secs)), run: deliver })
}

fn deliver(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move { deliver::run(&app).await })
}
