//! `steward-agent simulate`: many agents in one process, each with its own
//! Ed25519 identity, speaking the real protocol (enrolment, proofs,
//! heartbeats, signed commands) and reporting a believable made-up machine
//! (`report::simulated`). For tests, the demo and fleet benchmarks.
//!
//! A fleet stays connected unless told otherwise ([`Churn`]): the demo
//! has a few agents leave after enrolling (devices that show offline) and
//! one that keeps connecting and disconnecting (a device that flaps), and
//! hears of each enrolment to give the new device a past.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How a simulated fleet is made.
pub struct Options {
    pub count: usize,
    /// Enrolments spread over this many seconds.
    pub ramp_secs: f64,
    /// Host names are this followed by a five-digit number.
    pub name_prefix: String,
    /// Print progress on standard output until every agent enrolled.
    pub progress: bool,
}

/// How a fleet comes and goes once enrolled, and who hears of each
/// enrolment. The default is a steady fleet: every agent stays connected.
#[derive(Default)]
pub struct Churn {
    /// This many agents (the fleet's last) stop connecting `leave_after`
    /// their enrolment: their devices show offline.
    pub leaving: usize,
    pub leave_after: Duration,
    /// The fleet's first agent connects and disconnects for ever.
    pub flapping: Option<Flap>,
    /// Told of each enrolment.
    pub enrolled: Option<UnboundedSender<Enrolled>>,
}

/// A flapping agent's rhythm: connected this long, then away this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flap {
    pub up: Duration,
    pub down: Duration,
}

/// An agent that enrolled: its device, and the seed its made-up machine
/// (inventory, metrics, script output) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub device_id: i64,
    pub seed: u64,
    pub hostname: String,
}

/// What one agent of the fleet does once enrolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Stays,
    Leaves(Duration),
    Flaps(Flap),
}

/// The life of agent `i` of `count`: the first flaps (when asked), the
/// last `leaving` leave, the rest stay; flapping wins where they meet.
fn life(i: usize, count: usize, churn: &Churn) -> Life {
    match churn.flapping {
        Some(f) if i == 0 => Life::Flaps(f),
        _ if i + churn.leaving >= count => Life::Leaves(churn.leave_after),
        _ => Life::Stays,
    }
}

/// Runs a steady fleet.
pub async fn run(server: &str, token: &str, pin: &str, opts: Options) -> Result<(), String> {
    run_with(server, token, pin, opts, Churn::default()).await
}

/// Runs a fleet that comes and goes as `churn` says.
pub async fn run_with(server: &str, token: &str, pin: &str, opts: Options, churn: Churn) -> Result<(), String> {
    let Options { count, ramp_secs, name_prefix, progress } = opts;
    let pin = crate::normalise_pin(pin)?;
    let enrolled = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let step = if count > 1 { Duration::from_secs_f64(ramp_secs.max(0.0) / count as f64) } else { Duration::ZERO };
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let (server, token, pin, enrolled, failed) = (server.to_string(), token.to_string(), pin.clone(), enrolled.clone(), failed.clone());
        let (name, life, told) = (format!("{name_prefix}{i:05}"), life(i, count, &churn), churn.enrolled.clone());
        tasks.push(tokio::spawn(async move {
            let cfg = match crate::enroll(&server, &pin, &token, name.clone(), "Simulated Linux".into()).await {
                Ok(c) => c,
                Err(e) => {
                    if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("steward-agent simulate: enrolment failed: {e}");
                    }
                    return;
                }
            };
            enrolled.fetch_add(1, Ordering::Relaxed);
            let seed = cfg.device_id as u64;
            if let Some(told) = told {
                let _ = told.send(Enrolled { device_id: cfg.device_id, seed, hostname: name.clone() });
            }
            live(&cfg, seed, &name, life).await;
        }));
        tokio::time::sleep(step).await;
    }
    // Report progress until every agent enrolled or failed, then keep running.
    loop {
        let (e, f) = (enrolled.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
        if progress {
            println!("simulate: {e} enrolled, {f} failed, of {count}");
        }
        if e + f >= count {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if failed.load(Ordering::Relaxed) == count {
        return Err("no simulated agent could enrol".into());
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// One enrolled agent's life. Leaving or going away drops its connection
/// as a machine switched off would: no goodbye.
async fn live(cfg: &crate::config::AgentConfig, seed: u64, name: &str, life: Life) {
    match life {
        Life::Stays => connected(cfg, seed, name).await,
        Life::Leaves(after) => {
            let _ = tokio::time::timeout(after, connected(cfg, seed, name)).await;
        }
        Life::Flaps(Flap { up, down }) => loop {
            let _ = tokio::time::timeout(up, connected(cfg, seed, name)).await;
            tokio::time::sleep(down).await;
        },
    }
}

/// Keeps the agent connected, reporting its made-up machine.
async fn connected(cfg: &crate::config::AgentConfig, seed: u64, name: &str) {
    let machine = crate::report::Machine::Simulated { seed, hostname: name.to_string() };
    let spool = crate::report::spool::Spool::open(None, crate::report::spool::DEFAULT_MAX);
    if let Err(e) = crate::link::keep_connected(cfg, machine, spool, None, false).await {
        eprintln!("steward-agent simulate: {name} stopped: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The first agent flaps when asked, exactly `leaving` others
        /// (as many as there are) leave, every other agent stays.
        #[test]
        fn a_fleet_has_the_churn_it_was_asked_for(count in 0usize..40, leaving in 0usize..50, flaps in any::<bool>()) {
            let f = Flap { up: Duration::from_secs(60), down: Duration::from_secs(20) };
            let churn = Churn { leaving, leave_after: Duration::from_secs(5), flapping: flaps.then_some(f), enrolled: None };
            let lives: Vec<Life> = (0..count).map(|i| life(i, count, &churn)).collect();
            let flapping = usize::from(flaps && count > 0);
            prop_assert_eq!(lives.iter().filter(|l| matches!(l, Life::Flaps(_))).count(), flapping);
            prop_assert_eq!(lives.iter().filter(|l| matches!(l, Life::Leaves(_))).count(), leaving.min(count - flapping));
            if flapping == 1 {
                prop_assert_eq!(lives[0], Life::Flaps(f));
            }
        }
    }

    #[test]
    fn a_steady_fleet_by_default() {
        let churn = Churn::default();
        assert!((0..10).all(|i| life(i, 10, &churn) == Life::Stays));
    }
}
