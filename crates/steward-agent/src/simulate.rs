//! `steward-agent simulate`: many agents in one process, each with its own
//! Ed25519 identity, speaking the real protocol (enrolment, proofs,
//! heartbeats, signed commands) and reporting a believable made-up machine
//! (`report::simulated`). For tests, the demo and fleet benchmarks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

pub async fn run(server: &str, token: &str, pin: &str, opts: Options) -> Result<(), String> {
    let Options { count, ramp_secs, name_prefix, progress } = opts;
    let pin = crate::normalise_pin(pin)?;
    let enrolled = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let step = if count > 1 { Duration::from_secs_f64(ramp_secs.max(0.0) / count as f64) } else { Duration::ZERO };
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let (server, token, pin, enrolled, failed) = (server.to_string(), token.to_string(), pin.clone(), enrolled.clone(), failed.clone());
        let name = format!("{name_prefix}{i:05}");
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
            let machine = crate::report::Machine::Simulated { seed: cfg.device_id as u64, hostname: name.clone() };
            let spool = crate::report::spool::Spool::open(None, crate::report::spool::DEFAULT_MAX);
            if let Err(e) = crate::link::keep_connected(&cfg, machine, spool, None, false).await {
                eprintln!("steward-agent simulate: {name} stopped: {e}");
            }
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
