//! The global search: one box over every domain's sources, ranked, scoped
//! to the caller's clients. Tickets (and later articles and assets) are
//! in an embedded full-text index, one per node (`runtime`), fed from an
//! outbox the domains write in their own transactions (`store`, `indexer`),
//! rebuildable from the database (`steward search reindex`). Small lists
//! (clients, contacts, devices) are searched in SQL by their domains.

pub mod api;
pub mod indexer;
pub mod model;
pub mod pages;
pub mod params;
pub mod runtime;
pub mod store;

use crate::app::domain::{get, BoxFut, Domain, Job, Listener, Need};
use crate::app::App;
use std::time::Duration;
use utoipa_axum::routes;

/// How long outbox rows are kept: a node that was away longer rebuilds.
const KEEP_OUTBOX: Duration = Duration::from_secs(24 * 3600);

pub fn domain() -> Domain {
    Domain::new("search")
        .api(Need::SignedIn, routes!(api::search))
        .pages([get("/search", Need::SignedIn, pages::search)])
        .listener(Listener { name: "search.indexer", run: indexer::run })
        .job(Job { name: "search.prune", every: |_| Some(Duration::from_secs(3600)), run: prune })
}

fn prune(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let _turn = app.store.write_turn().await;
        let mut tx = app.store.begin().await?;
        let n = store::prune(&mut tx, crate::time::now_us() - KEEP_OUTBOX.as_micros() as i64).await?;
        tx.commit().await?;
        tracing::debug!(rows = n, "search outbox pruned");
        Ok(())
    })
}
