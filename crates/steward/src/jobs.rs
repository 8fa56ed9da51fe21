//! Background jobs of one server process: starting scheduled script runs,
//! the periodic audit anchor and
//! pruning of expired sessions, old sign-in attempts and metrics past their
//! retention.
//!
//! With several nodes on PostgreSQL each node runs these; they are
//! idempotent (pruning) or harmless when repeated (an extra anchor line).

use crate::http::App;
use std::time::Duration;

pub fn spawn(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let anchor_every = Duration::from_secs(app.cfg.audit_anchor_interval_secs);
        let anchoring = app.cfg.audit_anchor_file.is_some() || app.cfg.audit_anchor_webhook.is_some();
        let mut anchor = tokio::time::interval(anchor_every);
        let mut prune = tokio::time::interval(Duration::from_secs(3600));
        let mut scheduled = tokio::time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                _ = anchor.tick(), if anchoring => {
                    let r = crate::audit::anchor::write(&app.store, app.cfg.audit_anchor_file.as_deref(), app.cfg.audit_anchor_webhook.as_deref()).await;
                    match r {
                        Ok(a) => tracing::info!(seq = a.seq, hash = %a.hash, "audit anchor written"),
                        Err(e) => tracing::error!(error = %e, "audit anchor failed"),
                    }
                }
                _ = scheduled.tick() => {
                    if let Err(e) = crate::scripts::dispatch::start_due(&app).await { tracing::warn!(error = %e, "scheduled script runs not started"); }
                }
                _ = prune.tick() => {
                    let mut db = app.store.clone();
                    if let Err(e) = crate::auth::sessions::prune(&mut db).await { tracing::warn!(error = %e, "session pruning failed"); }
                    if let Err(e) = crate::auth::throttle::prune(&mut db).await { tracing::warn!(error = %e, "sign-in attempt pruning failed"); }
                    let c = &app.cfg;
                    let _turn = app.store.write_turn().await;
                    match crate::monitoring::store::prune(&mut db, crate::store::now_us(), c.metrics_raw_days, c.metrics_5m_days, c.metrics_1h_days).await {
                        Ok(n) if n > 0 => tracing::info!(rows = n, "metrics past their retention pruned"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "metric pruning failed"),
                    }
                }
            }
        }
    })
}
