//! The agent gateway: one WebSocket per agent at `/agent/v1/connect`.
//!
//! Every connection starts with a fresh server nonce. The agent answers with
//! `Enroll` (a site's token plus its new public key, first contact) or
//! `Hello` (its device id), each carrying a signature over the nonce that
//! proves it holds the private key. Only then is it welcome. The registry
//! maps each online device to its connection, so revoking a device closes
//! its socket at once, and commands can be pushed to it.
//!
//! Everything an agent sends is untrusted: frames are size-limited, names
//! are validated and length-capped before they are stored.

use super::agent_settings::model::Effective;
use super::enrollment::store::{self as enrollment, Refusal};
use super::inventory::runtime::Report;
use super::presence::model::Change;
use super::runtime::registry::{refused, Closing, Mailbox, Outbound};
use super::store::{self as devices, NewDevice};
use crate::app::App;
use crate::audit::store::{Actor, Event as Audited};
use crate::events::Event;
use crate::scripts::store::Outcome as ScriptOutcome;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use steward_protocol::messages::{proof_bytes, AgentMsg, Purpose, ServerMsg};
use steward_protocol::PROTOCOL_VERSION;

/// A key that no agent holds (its private half was never kept), to check
/// proofs for device ids that do not exist exactly like real ones.
static UNKNOWN_DEVICE: std::sync::LazyLock<VerifyingKey> =
    std::sync::LazyLock::new(|| ed25519_dalek::SigningKey::from_bytes(&crate::crypto::random_bytes::<32>()).verifying_key());

/// Largest frame an agent may send (an inventory with thousands of
/// packages, or a batch of buffered samples, fits).
pub const MAX_FRAME: usize = 1024 * 1024;
/// Samples per `Metrics` message at most (a day of one a minute).
pub const MAX_SAMPLES: usize = 1440;
/// How long an agent has to answer the challenge.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// Cleans an agent-supplied label: trimmed, control characters removed,
/// at most `max` characters; never empty.
pub fn clean_label(s: &str, max: usize) -> String {
    let t: String = s.chars().filter(|c| !c.is_control()).take(max).collect::<String>().trim().to_string();
    if t.is_empty() {
        "unknown".into()
    } else {
        t
    }
}

pub async fn connect(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    pending: Option<axum::Extension<crate::http::pending::Pending>>,
    ws: WebSocketUpgrade,
) -> Response {
    let pending = pending.map(|axum::Extension(p)| p);
    // Small buffers: an idle connection should cost kilobytes, not the
    // 128 KiB the defaults reserve (issue 4 targets 100,000 per node).
    // The read buffer grows to the largest frame received and keeps that
    // size, so agents send long messages in fragments of this size.
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .read_buffer_size(steward_protocol::FRAGMENT)
        .write_buffer_size(0)
        .on_upgrade(move |socket| session(app, socket, addr.ip().to_string(), pending))
}

async fn send(socket: &mut WebSocket, m: &ServerMsg) -> bool {
    let text = serde_json::to_string(m).expect("messages serialise");
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Sends a refusal and closes. Returns `None`, for the handshake's sake.
async fn refuse<T>(socket: &mut WebSocket, code: &str, message: &str) -> Option<T> {
    close_with(socket, &refused(code, message)).await;
    None
}

async fn close_with(socket: &mut WebSocket, refusal: &ServerMsg) {
    let _ = send(socket, refusal).await;
    let _ = socket.send(Message::Close(None)).await;
}

fn decode_key(b64: &str) -> Option<VerifyingKey> {
    let raw: [u8; 32] = B64.decode(b64).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&raw).ok()
}

fn proof_ok(key: &VerifyingKey, proof: &str, msg: &[u8]) -> bool {
    let Some(raw) = B64.decode(proof).ok().and_then(|r| <[u8; 64]>::try_from(r).ok()) else { return false };
    key.verify(msg, &Signature::from_bytes(&raw)).is_ok()
}

async fn next_text(socket: &mut WebSocket) -> Option<String> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => continue,
            _ => return None,
        }
    }
}

/// One agent connection, from the challenge to the last message.
///
/// This future lives as long as the connection, once per online device, so
/// its size is a per-connection cost: everything that runs only now and
/// then (the handshake, database writes, reports) is boxed, and takes its
/// memory only while it runs.
async fn session(app: App, mut socket: WebSocket, ip: String, pending: Option<crate::http::pending::Pending>) {
    let Some((id, client_id, reported_version, settings, checks_version)) = Box::pin(handshake(&app, &mut socket, &ip)).await else {
        return;
    };
    // The agent proved who it is: its connection no longer counts as
    // unauthenticated (and holds nothing more for it).
    if let Some(p) = pending {
        p.authenticated();
    }
    let mailbox = Arc::new(Mailbox::default());
    let Some(conn) = app.agents.insert(id, mailbox.clone()) else {
        // Revoked between the handshake's check and now.
        return Box::pin(close_with(&mut socket, &Closing::Revoked.refusal())).await;
    };
    Box::pin(came_online(&app, id, client_id, reported_version, &ip)).await;
    if let Some(version) = checks_version {
        // The checks domain sends its set if it runs another one.
        app.checks.want(id, version);
    }
    let why = run(&app, &mut socket, (id, client_id), &mailbox, Duration::from_secs(settings.offline_after_secs.into())).await;
    app.agents.remove(id, conn);
    Box::pin(went_offline(&app, id, client_id, why)).await;
}

/// The challenge, then `Enroll` or `Hello` with a valid proof, then
/// `Welcome`: the device's id and client, the agent version it reported,
/// the settings it runs with and the version of the check set it runs (if
/// it runs checks), or `None` when the connection was refused.
async fn handshake(app: &App, socket: &mut WebSocket, ip: &str) -> Option<(i64, i64, Option<String>, Effective, Option<String>)> {
    let nonce = crate::crypto::random_bytes::<32>();
    if !send(socket, &ServerMsg::Challenge { protocol: PROTOCOL_VERSION, nonce: B64.encode(nonce) }).await {
        return None;
    }
    let first = match tokio::time::timeout(HANDSHAKE_TIMEOUT, next_text(socket)).await {
        Ok(Some(t)) => t,
        _ => return refuse(socket, "bad_message", "no answer to the challenge").await,
    };
    let Ok(msg) = serde_json::from_str::<AgentMsg>(&first) else {
        return refuse(socket, "bad_message", "expected enroll or hello").await;
    };
    let command_keys = vec![B64.encode(app.command_key.verifying_key().as_bytes())];
    let mut reported_version = None;
    let mut checks_version = None;
    let device = match msg {
        AgentMsg::Enroll { protocol, token, public_key, proof, hostname, os, agent_version } => {
            if steward_protocol::negotiate(protocol).is_none() {
                return refuse(socket, "protocol", "agent protocol too old").await;
            }
            let Some(key) = decode_key(&public_key) else {
                return refuse(socket, "bad_message", "public_key is not an Ed25519 key").await;
            };
            if !proof_ok(&key, &proof, &proof_bytes(Purpose::Enroll, &nonce, 0)) {
                return refuse(socket, "bad_proof", "the proof does not verify").await;
            }
            match enroll(app, ip, &token, &public_key, &hostname, &os, &agent_version).await {
                Ok(d) => {
                    if !send(socket, &ServerMsg::Enrolled { device_id: d.id, command_keys: command_keys.clone() }).await {
                        return None;
                    }
                    match devices::with_settings(&mut app.store.clone(), d.id).await {
                        Ok(Some(d)) => d,
                        _ => return refuse(socket, "unavailable", "try again later").await,
                    }
                }
                Err((code, message)) => return refuse(socket, code, &message).await,
            }
        }
        AgentMsg::Hello { protocol, device_id, proof, agent_version, checks_version: runs } => {
            if steward_protocol::negotiate(protocol).is_none() {
                return refuse(socket, "protocol", "agent protocol too old").await;
            }
            let d = match devices::with_settings(&mut app.store.clone(), device_id).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "gateway: device lookup failed");
                    return refuse(socket, "unavailable", "try again later").await;
                }
            };
            // The proof is checked first, and an unknown device is checked
            // against a key no agent holds: whoever has not proved they are
            // the device learns nothing of it (whether it exists, or was
            // removed) from the one refusal they get.
            let key = d.as_ref().and_then(|d| decode_key(&d.device.public_key)).unwrap_or_else(|| *UNKNOWN_DEVICE);
            let proved = proof_ok(&key, &proof, &proof_bytes(Purpose::Connect, &nonce, device_id));
            let Some(d) = d.filter(|_| proved) else {
                return refuse(socket, "not_accepted", "this agent is not accepted: enrol it again").await;
            };
            if d.device.revoked_at.is_some() {
                // It proved it is the device: it may know it was removed, and stop.
                close_with(socket, &Closing::Revoked.refusal()).await;
                return None;
            }
            reported_version = Some(clean_label(&agent_version, 64));
            checks_version = runs.map(|v| clean_label(&v, 64)).map(|v| if v == "unknown" { String::new() } else { v });
            d
        }
        _ => return refuse(socket, "bad_message", "authenticate first").await,
    };
    let settings = device.effective(app.cfg.agent_defaults());
    let (id, client_id) = (device.device.id, device.device.client_id);
    let welcome = ServerMsg::Welcome {
        device_id: id,
        heartbeat_secs: settings.heartbeat_secs,
        command_keys,
        metrics_secs: settings.metrics_secs,
        inventory_hash: device.inventory_hash,
    };
    send(socket, &welcome).await.then_some((id, client_id, reported_version, settings, checks_version))
}

/// Queues the device's coming online (after it is registered, so that a
/// previous connection's teardown can tell it has been replaced). Once it
/// is stored the bus tells the other domains (scripts send what waited).
async fn came_online(app: &App, id: i64, client_id: i64, reported_version: Option<String>, ip: &str) {
    app.presence.record(Change::online(id, client_id, reported_version, format!("connected from {ip}"))).await;
}

/// Queues the device's going offline, unless a newer connection took over
/// (one that registers after this check still wins: see `presence::settle`).
async fn went_offline(app: &App, id: i64, client_id: i64, why: &str) {
    if app.agents.is_online(id) {
        return;
    }
    app.presence.record(Change::offline(id, client_id, why)).await;
}

/// What woke the connection up.
enum Wake {
    Timer,
    Received(Option<Result<Message, axum::Error>>),
    Outbound(Outbound),
}

/// Serves an authenticated connection; returns why it ended.
async fn run(
    app: &App,
    socket: &mut WebSocket,
    (device, client): (i64, i64),
    mailbox: &Arc<Mailbox>,
    mut silence: Duration,
) -> &'static str {
    // Silence this long (by default three heartbeat periods) means the agent
    // is gone. Messages only note the time; the one timer is moved when it
    // fires, not on every message.
    let mut last_heard = tokio::time::Instant::now();
    let timer = tokio::time::sleep(silence);
    tokio::pin!(timer);
    let (began, mut budget) = (tokio::time::Instant::now(), super::rate::Budget::default());
    loop {
        let wake = tokio::select! {
            _ = &mut timer => Wake::Timer,
            m = socket.recv() => Wake::Received(m),
            o = mailbox.next() => Wake::Outbound(o),
        };
        match wake {
            Wake::Timer => {
                let due = last_heard + silence;
                if due > tokio::time::Instant::now() {
                    timer.as_mut().reset(due);
                    continue;
                }
                Box::pin(refuse::<()>(socket, "silent", "no heartbeat")).await;
                return "silent";
            }
            Wake::Received(Some(Ok(Message::Text(t)))) => {
                last_heard = tokio::time::Instant::now();
                match budget.take(began.elapsed().as_millis() as u64) {
                    super::rate::Verdict::Take => {}
                    super::rate::Verdict::Drop => {
                        if budget.dropped() == 1 {
                            tracing::warn!(device, "agent over its message budget: dropping its messages");
                        }
                        continue;
                    }
                    super::rate::Verdict::Disconnect => {
                        tracing::warn!(device, "agent far over its message budget: disconnected");
                        Box::pin(refuse::<()>(socket, "rate_limited", "too many messages")).await;
                        return "rate limited";
                    }
                }
                match serde_json::from_str::<AgentMsg>(&t) {
                    // The common case, handled here without a database round trip.
                    Ok(AgentMsg::Heartbeat { .. }) => app.heartbeats.seen(device),
                    Ok(AgentMsg::Metrics { samples, dropped }) => metrics(app, device, mailbox, &samples, dropped),
                    // From a newer agent: skipped, so that it keeps working with us.
                    Ok(AgentMsg::Unknown) => {}
                    Ok(m) => {
                        if let Err(why) = Box::pin(report(app, (device, client), m)).await {
                            Box::pin(refuse::<()>(socket, "bad_message", why)).await;
                            return "protocol error";
                        }
                    }
                    Err(_) => {
                        Box::pin(refuse::<()>(socket, "bad_message", "unexpected message")).await;
                        return "protocol error";
                    }
                }
            }
            Wake::Received(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Wake::Received(_) => return "disconnected",
            Wake::Outbound(Outbound::Msg(m)) => {
                if !Box::pin(send(socket, &m)).await {
                    return "disconnected";
                }
            }
            Wake::Outbound(Outbound::Settings(s)) => {
                let m = ServerMsg::Settings { heartbeat_secs: s.heartbeat_secs, metrics_secs: s.metrics_secs };
                if !Box::pin(send(socket, &m)).await {
                    return "disconnected";
                }
                silence = Duration::from_secs(s.offline_after_secs.into());
                timer.as_mut().reset(last_heard + silence);
            }
            Wake::Outbound(Outbound::Close(why)) => {
                Box::pin(close_with(socket, &why.refusal())).await;
                return why.reason();
            }
        }
    }
}

/// The less frequent reports: inventory, command and script results.
/// `Err` names a message the agent should not have sent.
async fn report(app: &App, (device, client): (i64, i64), m: AgentMsg) -> Result<(), &'static str> {
    match m {
        AgentMsg::CommandResult { id, ok, output } => {
            let output: String = output.chars().take(64 * 1024).collect();
            app.agents.resolve(device, &id, ok, output);
        }
        AgentMsg::CommandRefused { reason } => {
            tracing::warn!(device, reason = %clean_label(&reason, 200), "agent refused a command");
        }
        AgentMsg::Inventory { collected_at, inventory } => {
            let now = chrono::Utc::now().timestamp();
            let sent_hash = inventory.sent_hash();
            let inventory = super::inventory::model::clean(*inventory, now);
            let collected_at = collected_at.clamp(0, now) * 1_000_000;
            app.inventories.submit(Report { device, client, collected_at, inventory, sent_hash }).await;
        }
        AgentMsg::ScriptResult { id, exit_code, stdout, stderr, stdout_truncated, stderr_truncated, duration_ms, error } => {
            let outcome = ScriptOutcome {
                exit_code: exit_code.map(i64::from),
                stdout,
                stderr,
                stdout_truncated,
                stderr_truncated,
                error,
                duration_ms: duration_ms.min(i64::MAX as u64) as i64,
            };
            // The scripts domain checks it was sent to this very device.
            app.bus.publish(Event::ScriptFinished { device, command_id: clean_label(&id, 64), outcome: Box::new(outcome) }).await;
        }
        AgentMsg::CheckResults { sent_at, results, version } => {
            let now = chrono::Utc::now().timestamp();
            let results = results
                .into_iter()
                .take(steward_protocol::checks::MAX_RESULTS)
                .map(|mut r| {
                    r.key = clean_label(&r.key, 200);
                    r.output = r.output.chars().filter(|c| *c == '\n' || *c == '\t' || !c.is_control()).take(4096).collect();
                    r
                })
                .collect();
            let drift_secs = sent_at.clamp(now - 10 * 365 * 86_400, now + 10 * 365 * 86_400) - now;
            let received_at = crate::time::now_us();
            let runs = version.map(|v| clean_label(&v, 64));
            app.checks.submit(crate::monitoring::checks::runtime::Reported { device, client, drift_secs, received_at, results, runs });
        }
        _ => return Err("unexpected message"),
    }
    Ok(())
}

/// Checks a batch of samples and hands it to the metric writer, which
/// acknowledges it to the agent once stored.
fn metrics(app: &App, device: i64, mailbox: &Arc<Mailbox>, samples: &[steward_protocol::report::Sample], dropped: u64) {
    let now = chrono::Utc::now().timestamp();
    let oldest = now - app.cfg.metrics_raw_days as i64 * 86_400;
    let samples = &samples[..samples.len().min(MAX_SAMPLES)];
    let (points, refused) = crate::monitoring::model::check(device, samples, now, oldest);
    if refused > 0 || dropped > 0 {
        tracing::info!(device, refused, dropped_by_agent = dropped, "metric values refused or lost");
    }
    // Acknowledge up to the newest sample sent, refused ones included:
    // sending them again would not make them acceptable.
    let Some(upto) = samples.iter().map(|s| s.at).max() else { return };
    let mailbox = mailbox.clone();
    let ack = Box::new(move |upto: i64| {
        mailbox.push(ServerMsg::MetricsStored { upto });
    });
    app.metrics.submit(points, upto, ack);
}

#[allow(clippy::too_many_arguments)]
async fn enroll(
    app: &App,
    ip: &str,
    token: &str,
    public_key: &str,
    hostname: &str,
    os: &str,
    agent_version: &str,
) -> Result<devices::Device, (&'static str, String)> {
    let internal = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "gateway: enrollment failed");
        ("unavailable", "try again later".to_string())
    };
    let mut tx = app.store.begin_audited().await.map_err(internal)?;
    let t = match enrollment::consume(tx.tx(), token).await.map_err(internal)? {
        Ok(t) => t,
        Err(r) => {
            let code = match r {
                Refusal::Revoked => "token_revoked",
                Refusal::Expired => "token_expired",
                Refusal::UsedUp => "token_used_up",
                Refusal::Unknown => "token_unknown",
            };
            drop(tx);
            let actor = Actor { user_id: None, label: "agent".into(), ip: ip.into() };
            // Counted and summarised: anyone can send refused enrolments.
            let prefix: String = token.chars().take(12).collect();
            app.failures
                .fail(
                    &actor,
                    Audited::new("device.enroll_refused", "enrollment_token", prefix).details(serde_json::json!({"reason": code})),
                )
                .await;
            return Err((code, r.to_string()));
        }
    };
    let (hostname, os, agent_version) = (clean_label(hostname, 253), clean_label(os, 200), clean_label(agent_version, 64));
    let new = NewDevice {
        client_id: t.client_id,
        site_id: t.site_id,
        token_id: t.id,
        hostname: &hostname,
        os: &os,
        agent_version: &agent_version,
        public_key,
    };
    let d = match devices::insert(tx.tx(), new).await {
        Ok(d) => d,
        Err(crate::store::StoreError::Conflict) => return Err(("bad_message", "this key is already enrolled".into())),
        Err(e) => return Err(internal(e)),
    };
    let actor = Actor { user_id: None, label: format!("agent:{hostname}"), ip: ip.into() };
    tx.commit(
        &actor,
        Audited::new("device.enroll", "device", d.id)
            .client(d.client_id)
            .details(serde_json::json!({"site_id": d.site_id, "hostname": hostname, "os": os, "token_prefix": t.prefix})),
    )
    .await
    .map_err(internal)?;
    Ok(d)
}
