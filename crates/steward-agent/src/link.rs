//! Staying connected to the server: reconnecting forever with full-jitter
//! backoff, and on each connection the handshake, heartbeats, the
//! inventory (on connecting, then whenever it changes), metric samples
//! from the buffer (removed only once the server says they are stored), and
//! signed commands, each checked before anything is done.

use crate::config::AgentConfig;
use crate::conn;
use crate::report::spool::Spool;
use crate::report::Machine;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use steward_protocol::command::{accept, Command, CommandBody, ReplayGuard};
use steward_protocol::envelope::TrustedKeys;
use steward_protocol::messages::{AgentMsg, Purpose, ServerMsg};
use steward_protocol::PROTOCOL_VERSION;
use tokio::sync::{mpsc, watch, Notify};

/// How often the inventory is read again to see whether it changed.
const INVENTORY_EVERY: Duration = Duration::from_secs(15 * 60);
/// Samples per `Metrics` message (the server takes up to a day's worth).
const BATCH: usize = 500;
/// How long check results gather before they are sent: twenty checks
/// finishing within a second or two go in one message, not twenty.
const CHECKS_GATHER: Duration = Duration::from_secs(2);

/// Full-jitter exponential backoff: a random wait in [0, min(cap, base·2^n)].
pub fn backoff(attempt: u32) -> Duration {
    let cap_ms: u64 = 300_000;
    let ceiling = 1_000u64.saturating_mul(1u64 << attempt.min(16)).min(cap_ms);
    let mut b = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    Duration::from_millis(u64::from_le_bytes(b) % (ceiling + 1))
}

/// Errors after which retrying cannot help.
fn fatal(e: &str) -> bool {
    e.contains("(device_revoked)") || e.contains("(device_unknown)") || e.contains("(not_accepted)") || e.contains("pin mismatch")
}

/// Unix seconds by this machine's clock.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// What a connection shares with the sampler, which runs whether or not
/// the server is reachable.
struct Reporting {
    machine: Machine,
    spool: Arc<Mutex<Spool>>,
    fresh: Arc<Notify>,
    /// Seconds between samples, as the server last said.
    metrics_secs: watch::Sender<u64>,
    /// Results of scripts still running or not yet sent; they wait here
    /// across reconnections.
    results_tx: mpsc::UnboundedSender<AgentMsg>,
    results_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<AgentMsg>>,
    /// Where the replay memory is kept (`None`: memory only).
    replay_file: Option<std::path::PathBuf>,
    /// The monitoring checks this agent runs, and their unsent results.
    checks: Arc<crate::checks::Checks>,
}

/// The replay memory survives a restart of the agent, so a captured command
/// cannot be replayed by restarting it within the command's validity.
pub const REPLAY_FILE: &str = "replay.json";

fn load_guard(path: Option<&std::path::Path>) -> ReplayGuard {
    path.and_then(|p| std::fs::read_to_string(p).ok()).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

fn save_guard(path: Option<&std::path::Path>, guard: &ReplayGuard) {
    let Some(p) = path else { return };
    let tmp = p.with_extension("tmp");
    if std::fs::write(&tmp, serde_json::to_vec(guard).expect("serialises")).is_ok() {
        let _ = std::fs::rename(&tmp, p);
    }
}

/// Stops the sampler when the agent stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Stays connected forever (reconnecting with backoff); returns only on a
/// refusal that retrying cannot fix.
pub async fn keep_connected(
    cfg: &AgentConfig,
    machine: Machine,
    spool: Spool,
    state_dir: Option<&std::path::Path>,
    verbose: bool,
) -> Result<(), String> {
    let raw: [u8; 32] =
        B64.decode(&cfg.private_key).ok().and_then(|k| k.try_into().ok()).ok_or("the private key in the configuration is damaged")?;
    let key = SigningKey::from_bytes(&raw);
    let mut trusted = TrustedKeys::new();
    for k in &cfg.command_keys {
        let raw: [u8; 32] = B64.decode(k).ok().and_then(|k| k.try_into().ok()).ok_or("a command key in the configuration is damaged")?;
        trusted.add(VerifyingKey::from_bytes(&raw).map_err(|_| "a command key in the configuration is not an Ed25519 key")?);
    }
    let (results_tx, results_rx) = mpsc::unbounded_channel();
    let rep = Reporting {
        spool: Arc::new(Mutex::new(spool)),
        fresh: Arc::new(Notify::new()),
        metrics_secs: watch::Sender::new(60),
        machine,
        results_tx,
        results_rx: tokio::sync::Mutex::new(results_rx),
        replay_file: state_dir.map(|d| d.join(REPLAY_FILE)),
        checks: crate::checks::Checks::load(state_dir),
    };
    let _sampler =
        AbortOnDrop(tokio::spawn(sample_forever(rep.machine.clone(), rep.spool.clone(), rep.fresh.clone(), rep.metrics_secs.subscribe())));
    let _checks = AbortOnDrop(tokio::spawn(crate::checks::run_forever(rep.machine.clone(), rep.checks.clone())));
    // Survives reconnections (and, on disk, restarts), so a command cannot
    // be replayed on a new connection.
    let mut guard = load_guard(rep.replay_file.as_deref());
    let mut attempt = 0u32;
    loop {
        match session(cfg, &key, &trusted, &mut guard, &rep, verbose).await {
            Ok(()) => attempt = 0,
            Err(e) if fatal(&e) => return Err(e),
            Err(e) => {
                if verbose {
                    eprintln!("steward-agent: {e}");
                }
                attempt = attempt.saturating_add(1);
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// Takes a sample every period into the buffer, connected or not.
async fn sample_forever(machine: Machine, spool: Arc<Mutex<Spool>>, fresh: Arc<Notify>, mut secs: watch::Receiver<u64>) {
    let mut sampler = machine.sampler();
    loop {
        let period = Duration::from_secs((*secs.borrow_and_update()).max(1));
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            // A new period from the server starts a fresh wait.
            _ = secs.changed() => continue,
        }
        if let Some(s) = sampler.sample(now()) {
            spool.lock().expect("spool lock").push(s);
            fresh.notify_one();
        }
    }
}

async fn read_inventory(machine: &Machine) -> steward_protocol::report::Inventory {
    match machine {
        // Runs commands (dpkg-query, systemctl): off the async threads.
        Machine::Real => {
            let m = machine.clone();
            tokio::task::spawn_blocking(move || m.inventory()).await.unwrap_or_default()
        }
        Machine::Simulated { .. } => machine.inventory(),
    }
}

/// Sends buffered samples newer than `sent_upto`; returns the newest sent.
async fn send_pending(ws: &mut conn::Ws, spool: &Mutex<Spool>, mut sent_upto: i64) -> Result<i64, String> {
    loop {
        let (samples, dropped) = {
            let mut s = spool.lock().expect("spool lock");
            let batch = s.after(sent_upto, BATCH);
            let dropped = if batch.is_empty() { 0 } else { s.take_dropped() };
            (batch, dropped)
        };
        let Some(last) = samples.last().map(|s| s.at) else { return Ok(sent_upto) };
        conn::send(ws, &AgentMsg::Metrics { samples, dropped }).await?;
        sent_upto = last;
    }
}

async fn session(
    cfg: &AgentConfig,
    key: &SigningKey,
    trusted: &TrustedKeys,
    guard: &mut ReplayGuard,
    rep: &Reporting,
    verbose: bool,
) -> Result<(), String> {
    let (mut ws, nonce) = conn::open(&cfg.server, &cfg.pin).await?;
    conn::send(
        &mut ws,
        &AgentMsg::Hello {
            protocol: PROTOCOL_VERSION,
            device_id: cfg.device_id,
            proof: conn::sign(key, Purpose::Connect, &nonce, cfg.device_id),
            agent_version: crate::VERSION.into(),
            checks_version: Some(rep.checks.version()),
        },
    )
    .await?;
    let (heartbeat, held_inventory) = match conn::recv(&mut ws).await? {
        ServerMsg::Welcome { heartbeat_secs, metrics_secs, inventory_hash, .. } => {
            (apply_periods(rep, heartbeat_secs, metrics_secs), inventory_hash)
        }
        ServerMsg::Refused { code, message } => return Err(conn::refusal_text(&code, &message)),
        other => return Err(format!("unexpected answer: {other:?}")),
    };
    if verbose {
        eprintln!("steward-agent: connected to {} as device {}", cfg.server, cfg.device_id);
    }
    let inventory = read_inventory(&rep.machine).await;
    let mut last_inventory = serde_json::to_string(&inventory).unwrap_or_default();
    // The server says which inventory it holds: the same one is not sent
    // again (a fleet reconnecting after a server restart sends nothing).
    if held_inventory.as_deref() != Some(inventory.sent_hash().as_str()) {
        conn::send(&mut ws, &AgentMsg::Inventory { collected_at: now(), inventory: Box::new(inventory) }).await?;
    } else if verbose {
        eprintln!("steward-agent: inventory unchanged since the server last had it, not sent");
    }
    let mut sent_upto = send_pending(&mut ws, &rep.spool, i64::MIN).await?;
    send_check_results(&mut ws, &rep.checks).await?;
    let mut results = rep.results_rx.lock().await;
    let mut tick = tokio::time::interval(heartbeat);
    let mut inventory_tick = tokio::time::interval_at(tokio::time::Instant::now() + INVENTORY_EVERY, INVENTORY_EVERY);
    let mut seq = 0u64;
    let mut results_due: Option<tokio::time::Instant> = None;
    loop {
        let gathered = results_due.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = tick.tick() => {
                seq += 1;
                conn::send(&mut ws, &AgentMsg::Heartbeat { seq }).await?;
            }
            _ = inventory_tick.tick() => {
                let inventory = read_inventory(&rep.machine).await;
                let text = serde_json::to_string(&inventory).unwrap_or_default();
                if text != last_inventory {
                    last_inventory = text;
                    conn::send(&mut ws, &AgentMsg::Inventory { collected_at: now(), inventory: Box::new(inventory) }).await?;
                }
            }
            _ = rep.fresh.notified() => sent_upto = send_pending(&mut ws, &rep.spool, sent_upto).await?,
            _ = rep.checks.fresh.notified(), if results_due.is_none() => results_due = Some(tokio::time::Instant::now() + CHECKS_GATHER),
            _ = tokio::time::sleep_until(gathered), if results_due.is_some() => {
                results_due = None;
                send_check_results(&mut ws, &rep.checks).await?;
            }
            Some(done) = results.recv() => {
                if let Err(e) = conn::send(&mut ws, &done).await {
                    // Kept for the next connection.
                    let _ = rep.results_tx.send(done);
                    return Err(e);
                }
            }
            m = conn::recv(&mut ws) => match m? {
                ServerMsg::Refused { code, message } => return Err(conn::refusal_text(&code, &message)),
                ServerMsg::MetricsStored { upto } => rep.spool.lock().expect("spool lock").ack(upto),
                ServerMsg::Settings { heartbeat_secs, metrics_secs } => {
                    let period = apply_periods(rep, heartbeat_secs, metrics_secs);
                    if period != tick.period() {
                        tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                    }
                    if verbose {
                        eprintln!("steward-agent: now a heartbeat every {} s, a sample every {} s", period.as_secs(), *rep.metrics_secs.borrow());
                    }
                }
                ServerMsg::Command { envelope } => {
                    let reply = match accept(&envelope, trusted, 1, cfg.device_id, now(), guard) {
                        Ok(cmd) => {
                            save_guard(rep.replay_file.as_deref(), guard);
                            execute(cmd, rep, &cfg.reboot_command)
                        }
                        Err(r) => {
                            eprintln!("steward-agent: refused a command: {r}");
                            Some(AgentMsg::CommandRefused { reason: r.to_string() })
                        }
                    };
                    if let Some(reply) = reply {
                        conn::send(&mut ws, &reply).await?;
                    }
                }
                // From a newer server: skipped, so that this agent keeps working.
                ServerMsg::Unknown => {}
                other => eprintln!("steward-agent: ignoring {other:?}"),
            }
        }
    }
}

/// Sends the check results waiting, in batches; on a failed send they
/// wait for the next connection.
async fn send_check_results(ws: &mut conn::Ws, checks: &crate::checks::Checks) -> Result<(), String> {
    loop {
        let results = checks.take();
        if results.is_empty() {
            return Ok(());
        }
        let m = AgentMsg::CheckResults { sent_at: now(), results, version: Some(checks.version()) };
        if let Err(e) = conn::send(ws, &m).await {
            let AgentMsg::CheckResults { results, .. } = m else { unreachable!() };
            checks.put_back(results);
            return Err(e);
        }
    }
}

/// Adopts the reporting periods the server sets (kept to the ranges this
/// agent accepts, whatever a server sends); returns the heartbeat period.
fn apply_periods(rep: &Reporting, heartbeat_secs: u32, metrics_secs: u32) -> Duration {
    rep.metrics_secs.send_if_modified(|v| std::mem::replace(v, metrics_secs.clamp(1, 3600) as u64) != *v);
    Duration::from_secs(heartbeat_secs.clamp(5, 3600) as u64)
}

/// Carries out an accepted command: answers at once, or (a script) starts
/// it and answers through `results` when it ends.
fn execute(cmd: Command, rep: &Reporting, reboot_command: &[String]) -> Option<AgentMsg> {
    let (machine, results) = (&rep.machine, &rep.results_tx);
    match cmd.body {
        CommandBody::Checks(set) => {
            let (ok, output) = rep.checks.replace(set);
            Some(AgentMsg::CommandResult { id: cmd.id, ok, output })
        }
        CommandBody::Ping => Some(AgentMsg::CommandResult { id: cmd.id, ok: true, output: "pong".into() }),
        // A simulated machine never runs anything on the machine it lives on.
        CommandBody::RunScript(s) => match machine {
            Machine::Simulated { seed, hostname } => Some(crate::report::simulated::script_result(*seed, hostname, cmd.id, &s)),
            Machine::Real => {
                let results = results.clone();
                tokio::spawn(async move {
                    let _ = results.send(crate::scripts::run(cmd.id, s).await);
                });
                None
            }
        },
        CommandBody::Reboot(r) if matches!(machine, Machine::Simulated { .. }) => {
            Some(AgentMsg::CommandResult { id: cmd.id, ok: true, output: format!("restart scheduled in {} s (simulated)", r.delay_secs) })
        }
        // A restart now answers first: `shutdown -r now` may take this agent
        // down before an answer after it would leave.
        CommandBody::Reboot(r) if r.delay_secs == 0 => {
            let custom = reboot_command.to_vec();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let (ok, output) = crate::reboot::schedule(&custom, &r.reason, 0).await;
                if !ok {
                    eprintln!("steward-agent: the restart failed: {output}");
                }
            });
            Some(AgentMsg::CommandResult { id: cmd.id, ok: true, output: "restarting now".into() })
        }
        CommandBody::Reboot(r) => {
            let (results, custom) = (results.clone(), reboot_command.to_vec());
            tokio::spawn(async move {
                let (ok, output) = crate::reboot::schedule(&custom, &r.reason, r.delay_secs).await;
                let _ = results.send(AgentMsg::CommandResult { id: cmd.id, ok, output });
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_ceiling() {
        for attempt in 0..40 {
            let ceiling = Duration::from_millis((1_000u64 << attempt.min(16)).min(300_000));
            for _ in 0..50 {
                assert!(backoff(attempt) <= ceiling);
            }
        }
    }
}
