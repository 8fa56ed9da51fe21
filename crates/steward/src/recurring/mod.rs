//! Recurring tickets: a client's ticket opened on a schedule ("monthly
//! maintenance on the first weekday of the month at 09:00 in the site's
//! zone"). `model` is the schedule math (pure, property-tested), `store`
//! the table, `ops` the audited changes, `run` the job that opens due
//! tickets exactly once per occurrence, `api` and `pages` the edges.

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod run;
pub mod store;

use crate::app::domain::{get, post, BoxFut, Domain, Job, Need};
use crate::app::App;
use crate::auth::roles::Permission::{TicketsRead as Read, TicketsWrite as Write};
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write) = (Need::Perm(Read), Need::Perm(Write));
    Domain::new("recurring")
        .api(read, routes!(api::list_all))
        .api(read, routes!(api::list))
        .api(write, routes!(api::create))
        .api(read, routes!(api::get))
        .api(write, routes!(api::update))
        .api(write, routes!(api::remove))
        .pages([
            get("/tickets/recurring", read, pages::show),
            post("/tickets/recurring", write, pages::create),
            post("/clients/{id}/recurring-tickets/{recurring_id}/toggle", write, pages::toggle),
            post("/clients/{id}/recurring-tickets/{recurring_id}/delete", write, pages::delete),
        ])
        .job(Job { name: "recurring.run", every: |c| Some(Duration::from_secs(c.recurring_check_secs.max(1))), run: run_job })
}

fn run_job(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        run::run_due(&app).await?;
        Ok(())
    })
}
