//! Runs the domains' scheduled jobs and event listeners on this node.
//!
//! Every node ticks each job once a second and claims its due occurrence
//! through `store::lease`: one node wins each occurrence, holds the lease
//! while the job runs (renewed at a third of its length) and releases it
//! when done, so with several nodes on PostgreSQL each occurrence runs once,
//! and when a node dies the others take the next occurrences (a run it had
//! begun keeps its lease until that expires). Listeners run on every node:
//! they hear this node's events.

use crate::app::domain::{Job, Listener};
use crate::app::App;
use crate::store::lease::{self, Terms};
use crate::time::now_us;
use std::sync::Arc;
use std::time::Duration;

/// How often each node looks for due occurrences.
const TICK: Duration = Duration::from_secs(1);

/// This process's name in the leases it holds.
fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default();
    format!("{}:{}:{}", if host.is_empty() { "node" } else { &host }, std::process::id(), &crate::crypto::random_token()[..8])
}

/// Starts every listener (each with its own subscription to the bus,
/// taken before this returns, so nothing published afterwards is missed).
pub fn start_listeners(app: &App, listeners: Vec<Listener>) -> Vec<tokio::task::JoinHandle<()>> {
    listeners
        .into_iter()
        .map(|l| {
            let rx = app.bus.listen();
            tracing::debug!(listener = l.name, "listening");
            tokio::spawn((l.run)(app.clone(), rx))
        })
        .collect()
}

/// Starts the scheduler for `jobs`; abort the handle to stop (a stop then
/// releases the leases it holds).
pub fn spawn(app: App, jobs: Vec<Job>) -> Scheduler {
    let node: Arc<str> = node_name().into();
    let lease_us = app.cfg.job_lease_secs as i64 * 1_000_000;
    let mut tasks = vec![];
    let names = jobs.iter().map(|j| j.name).collect();
    for job in jobs {
        let Some(every) = (job.every)(&app.cfg) else { continue };
        let (app, node) = (app.clone(), node.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK.min(every));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let now = now_us();
                let t = Terms { now, next_due: now + every.as_micros() as i64, lease: lease_us };
                match lease::claim(&app.store, job.name, &node, t).await {
                    Ok(true) => run_once(&app, &job, &node, lease_us).await,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(job = job.name, error = %e, "job lease not claimed"),
                }
            }
        }));
    }
    Scheduler { tasks, names, node, app }
}

/// Runs a claimed occurrence, renewing its lease while it runs. The
/// renewal runs beside the job, not between its steps: a renewal waits
/// for the write turn, which the job may hold in a transaction, so it must
/// never stop the job from going on (it did: a job paused by its own
/// renewal held the turn until the renewal gave up).
async fn run_once(app: &App, job: &Job, node: &str, lease_us: i64) {
    let run = (job.run)(app.clone());
    let renewing = async {
        let mut renew = tokio::time::interval(Duration::from_micros((lease_us / 3).max(1) as u64));
        renew.tick().await;
        loop {
            renew.tick().await;
            if let Err(e) = lease::renew(&app.store, job.name, node, now_us() + lease_us).await {
                tracing::warn!(job = job.name, error = %e, "job lease not renewed");
            }
        }
    };
    let result = tokio::select! {
        r = run => r,
        never = renewing => never,
    };
    if let Err(e) = result {
        tracing::warn!(job = job.name, error = format!("{e:#}"), "job failed");
    }
    if let Err(e) = lease::release(&app.store, job.name, node).await {
        tracing::warn!(job = job.name, error = %e, "job lease not released; it expires by itself");
    }
}

/// The running scheduler of this node.
pub struct Scheduler {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    names: Vec<&'static str>,
    node: Arc<str>,
    app: App,
}

impl Scheduler {
    /// Stops every job here and releases what this node holds, so another
    /// node need not wait for the leases to expire.
    pub async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        for name in &self.names {
            let _ = lease::release(&self.app.store, name, &self.node).await;
        }
    }
}
