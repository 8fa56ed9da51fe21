//! The real `steward-agent` process against the real server: enrollment with
//! good, revoked, used-up and unknown tokens; a wrong pin refused; presence
//! online and offline; a revoked device cut off at once; and forged or
//! replayed handshake proofs refused (by a hand-made client); what agents
//! sent just before a clean stop is still written.

use crate::common::agents::*;
use crate::common::*;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_agent_enrols_connects_and_is_cut_off_when_revoked() {
    let (s, a, client, site) = setup().await;
    let tok = token(&a, client, site, json!({"max_uses": 1})).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().display().to_string();
    let (code, out) = agent(&["install", "--server", &s.base, "--token", &tok, "--pin", &s.spki, "--config-dir", &cfg, "--no-service"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("enrolled as device"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("agent.json")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is readable by its owner only");
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("agent.json")).unwrap()).unwrap();
    let device = saved["device_id"].as_i64().unwrap();

    // The single-use token is spent: a second install is refused, clearly.
    let other = tempfile::tempdir().unwrap();
    let (code, out) = agent(&[
        "install",
        "--server",
        &s.base,
        "--token",
        &tok,
        "--pin",
        &s.spki,
        "--config-dir",
        &other.path().display().to_string(),
        "--no-service",
    ]);
    assert_ne!(code, 0);
    assert!(out.contains("token_used_up"), "{out}");

    // The server knows the device; the server never saw the private key.
    let (_, list) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], device);
    assert_eq!(list["items"][0]["online"], false);
    assert!(!list.to_string().contains(saved["private_key"].as_str().unwrap()));

    // The install's own short connection has come and gone.
    wait_for(&a, &format!("/api/v1/clients/{client}/devices/{device}/presence"), "install connection closed", |v| v["total"] == 2).await;
    // Run it: online within moments.
    let mut run =
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for(&a, &format!("/api/v1/clients/{client}/devices"), "online", |v| v["items"][0]["online"] == true).await;

    // A signed command makes the round trip through the real agent.
    let (st, pong) = a.post(&format!("/api/v1/clients/{client}/devices/{device}/ping"), json!({})).await;
    assert_eq!(st, 200, "{pong}");
    assert_eq!((pong["ok"].as_bool(), pong["output"].as_str()), (Some(true), Some("pong")));
    assert!(pong["round_trip_ms"].as_f64().unwrap() > 0.0);
    let (_, log) = a.get("/api/v1/audit?action=device.command").await;
    assert_eq!(log["total"], 1, "every action on an endpoint is audited");
    // The pages show it online, and ping it too.
    wait_page(&a, "/devices?state=online", "the device list", |html| html.contains(">online<") && html.contains("Northwind")).await;
    // Post/redirect/get: the answer is shown on the device page, which a
    // reload does not ping again; a made-up link cannot put words there.
    let (st, loc, _) = a.form(&format!("/clients/{client}/devices/{device}/ping"), &[]).await;
    assert_eq!(st, 303);
    assert!(loc.starts_with(&format!("/clients/{client}/devices/{device}?ping_ms=")), "{loc}");
    let (_, html) = a.get_text(&loc).await;
    assert!(html.contains("The device answered the ping in"), "ping from the page");
    let (st, html) = a.get_text(&format!("/clients/{client}/devices/{device}?ping=Call+us+at+555")).await;
    assert_eq!(st, 200);
    assert!(!html.contains("Call us") && !html.contains("answered the ping"), "{html}");

    // Revoke: the open connection is closed at once and the agent stops for good.
    assert_eq!(a.delete(&format!("/api/v1/clients/{client}/devices/{device}")).await.0, 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = run.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the agent kept running after its device was revoked");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(run.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("device_revoked"), "{err}");
    let v = wait_for(&a, "/api/v1/devices", "offline", |v| v["items"][0]["online"] == false).await;
    assert_eq!(v["items"][0]["revoked"], true);
    // Commands to it are refused.
    let (st, _) = a.post(&format!("/api/v1/clients/{client}/devices/{device}/ping"), json!({})).await;
    assert_eq!(st, 404);
    // The presence history kept every transition, newest first: the install's
    // short connection, then the service's until it was revoked (written as
    // the connection closes, so it may land just after the device's flag).
    let hist = wait_for(&a, &format!("/api/v1/clients/{client}/devices/{device}/presence"), "the revocation in the history", |v| {
        v["items"][0]["reason"] == "revoked"
    })
    .await;
    let seen: Vec<(bool, String)> = hist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["online"].as_bool().unwrap(), e["reason"].as_str().unwrap().split(" from ").next().unwrap().to_string()))
        .collect();
    let expected = [(false, "revoked"), (true, "connected"), (false, "disconnected"), (true, "connected")];
    assert_eq!(seen, expected.map(|(o, r)| (o, r.to_string())).to_vec(), "{hist}");
    // And it cannot come back.
    let (code, out) = agent(&["run", "--config-dir", &cfg]);
    assert_ne!(code, 0);
    assert!(out.contains("device_revoked"), "{out}");
    // Enrolment and revocation are audited under the client.
    let (_, log) = a.get(&format!("/api/v1/audit?action=device.&client_id={client}")).await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"device.enroll") && actions.contains(&"device.revoke"), "{actions:?}");
}

#[tokio::test]
async fn bad_tokens_wrong_pins_and_unreachable_servers_get_clear_messages() {
    let (s, a, client, site) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().display().to_string();
    let install = |tok: &str, pin: &str, server: &str| {
        agent(&["install", "--server", server, "--token", tok, "--pin", pin, "--config-dir", &cfg, "--no-service"])
    };

    let wrong_pin = "0".repeat(64);
    let tok = token(&a, client, site, json!({})).await;
    let (code, out) = install(&tok, &wrong_pin, &s.base);
    assert_ne!(code, 0);
    assert!(out.contains("pin mismatch"), "{out}");

    let (code, out) = install("ste_made-up", &s.spki, &s.base);
    assert_ne!(code, 0);
    assert!(out.contains("token_unknown"), "{out}");

    let revoked = token(&a, client, site, json!({})).await;
    let (_, list) = a.get(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens")).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    a.delete(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens/{id}")).await;
    let (code, out) = install(&revoked, &s.spki, &s.base);
    assert_ne!(code, 0);
    assert!(out.contains("token_revoked"), "{out}");

    let dead = format!("https://127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let (code, out) = install(&tok, &s.spki, &dead);
    assert_ne!(code, 0);
    assert!(out.contains("cannot reach"), "{out}");
    let (code, out) = install(&tok, "not-a-pin", &s.base);
    assert_ne!(code, 0);
    assert!(out.contains("--pin"), "{out}");

    // None of that enrolled anything; refusals are audited (the first from
    // an address at once, the rest of its window as one summary).
    let (_, devices) = a.get("/api/v1/devices").await;
    assert_eq!(devices["total"], 0);
    let (_, log) = a.get("/api/v1/audit?action=device.enroll_refused").await;
    assert!(log["total"].as_i64().unwrap() >= 1, "{log}");
}

#[tokio::test]
async fn forged_and_replayed_handshake_proofs_are_refused() {
    use ed25519_dalek::Signer;
    use steward_protocol::messages::{proof_bytes, Purpose};
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (s, a, client, site) = setup().await;
    let tok = token(&a, client, site, json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);

    // Enrol with a proof made by a different key: refused, and the token is not spent.
    let (mut ws, nonce) = raw_connect(&s.base).await;
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    raw_send(
        &mut ws,
        json!({"type": "enroll", "protocol": 1, "token": tok, "public_key": b64(key.verifying_key().as_bytes()),
        "proof": b64(&other.sign(&proof_bytes(Purpose::Enroll, &nonce, 0)).to_bytes()), "hostname": "h", "os": "o", "agent_version": "1"}),
    )
    .await;
    assert_eq!(raw_recv(&mut ws).await["code"], "bad_proof");

    // A proper enrolment, with hostile, oversized labels.
    let (mut ws, nonce) = raw_connect(&s.base).await;
    let evil = format!("<script>alert(1)</script>{}\u{0}\u{7}", "x".repeat(10_000));
    raw_send(
        &mut ws,
        json!({"type": "enroll", "protocol": 1, "token": tok, "public_key": b64(key.verifying_key().as_bytes()),
        "proof": b64(&key.sign(&proof_bytes(Purpose::Enroll, &nonce, 0)).to_bytes()), "hostname": evil, "os": evil, "agent_version": evil}),
    )
    .await;
    let enrolled = raw_recv(&mut ws).await;
    assert_eq!(enrolled["type"], "enrolled", "{enrolled}");
    let device = enrolled["device_id"].as_i64().unwrap();
    assert_eq!(raw_recv(&mut ws).await["type"], "welcome");
    drop(ws);
    let (_, d) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    let host = d["items"][0]["hostname"].as_str().unwrap();
    assert!(host.chars().count() <= 253 && !host.contains('\u{0}') && !host.contains('\u{7}'), "labels are capped and cleaned");
    assert!(d["items"][0]["agent_version"].as_str().unwrap().chars().count() <= 64);
    for page in ["/devices".to_string(), format!("/clients/{client}")] {
        let (st, html) = a.get_text(&page).await;
        assert_eq!(st, 200);
        assert!(!html.contains("<script>alert(1)"), "{page} shows agent-reported text escaped");
        assert!(html.contains("&#60;script&#62;alert(1)") || html.contains("&lt;script&gt;alert(1)"), "{page}");
    }

    // Hello with a proof for another connection's nonce (a replay): refused.
    let (mut ws1, nonce1) = raw_connect(&s.base).await;
    let captured = b64(&key.sign(&proof_bytes(Purpose::Connect, &nonce1, device)).to_bytes());
    raw_send(&mut ws1, json!({"type": "hello", "protocol": 1, "device_id": device, "proof": captured, "agent_version": "1"})).await;
    assert_eq!(raw_recv(&mut ws1).await["type"], "welcome");
    // Heartbeats on the open connection land (batched) within about a second.
    let seen = |v: &Value| v["items"][0]["last_seen_at"].as_str().map(str::to_string);
    let (_, before) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    raw_send(&mut ws1, json!({"type": "heartbeat", "seq": 1})).await;
    let before = seen(&before);
    wait_for(&a, &format!("/api/v1/clients/{client}/devices"), "the heartbeat to be recorded", |v| {
        seen(v) != before && v["items"][0]["online"] == true
    })
    .await;
    let (mut ws2, _nonce2) = raw_connect(&s.base).await;
    raw_send(&mut ws2, json!({"type": "hello", "protocol": 1, "device_id": device, "proof": captured, "agent_version": "1"})).await;
    let replayed = raw_recv(&mut ws2).await;
    assert_eq!(replayed["code"], "not_accepted", "a proof is bound to its connection's nonce");

    // A proof for another device, an enroll-purpose proof, garbage, and a heartbeat before hello.
    let (mut ws3, nonce3) = raw_connect(&s.base).await;
    raw_send(
        &mut ws3,
        json!({"type": "hello", "protocol": 1, "device_id": device, "agent_version": "1",
        "proof": b64(&key.sign(&proof_bytes(Purpose::Enroll, &nonce3, 0)).to_bytes())}),
    )
    .await;
    assert_eq!(raw_recv(&mut ws3).await, replayed, "a proof for another purpose gets the same answer");
    let (mut ws4, _) = raw_connect(&s.base).await;
    raw_send(&mut ws4, json!({"type": "hello", "protocol": 1, "device_id": 999_999, "proof": captured, "agent_version": "1"})).await;
    assert_eq!(raw_recv(&mut ws4).await, replayed, "an unknown device is indistinguishable from a bad proof");
    let (mut ws5, _) = raw_connect(&s.base).await;
    raw_send(&mut ws5, json!("not a message")).await;
    assert_eq!(raw_recv(&mut ws5).await["code"], "bad_message");
    let (mut ws6, _) = raw_connect(&s.base).await;
    raw_send(&mut ws6, json!({"type": "heartbeat", "seq": 1})).await;
    assert_eq!(raw_recv(&mut ws6).await["code"], "bad_message");
    // An oversized frame is refused by the server (connection closed).
    let (mut ws7, _) = raw_connect(&s.base).await;
    let _ = ws7.send(tokio_tungstenite::tungstenite::Message::Text("x".repeat(200_000).into())).await;
    let answer = raw_recv(&mut ws7).await;
    assert!(answer.get("closed").is_some() || answer["code"] == "bad_message", "{answer}");
    assert!(raw_recv(&mut ws7).await.get("closed").is_some(), "and the connection is closed");
}

// ---- a stand-in server, to send the real agent what a real server never would ----

mod fake_server {
    use super::*;
    use steward_protocol::command::{Command, CommandBody};
    use steward_protocol::envelope::Envelope;
    use tokio_rustls::rustls;

    pub struct Fake {
        pub url: String,
        pub pin: String,
        listener: tokio::net::TcpListener,
        acceptor: tokio_rustls::TlsAcceptor,
    }

    pub type SWs = tokio_tungstenite::WebSocketStream<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>;

    impl Fake {
        pub async fn start() -> Fake {
            let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
            let der = ck.cert.der().to_vec();
            let pin = steward::http::tls::spki_sha256(&der).unwrap();
            let key = rustls::pki_types::PrivateKeyDer::try_from(ck.key_pair.serialize_der()).unwrap();
            let cfg = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![rustls::pki_types::CertificateDer::from(der)], key)
                .unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("https://{}", listener.local_addr().unwrap());
            Fake { url, pin, listener, acceptor: tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(cfg)) }
        }

        /// Accepts one agent connection and sends the challenge.
        /// Gives up after 30 s, so an agent that never came cannot hang the suite.
        pub async fn accept(&self) -> (SWs, Value) {
            let wait = tokio::time::timeout(Duration::from_secs(30), self.listener.accept());
            let (tcp, _) = wait.await.expect("the agent connected within 30 s").unwrap();
            let tls = self.acceptor.accept(tcp).await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tls).await.unwrap();
            let nonce = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
            ws.send(tokio_tungstenite::tungstenite::Message::Text(
                json!({"type": "challenge", "protocol": 1, "nonce": nonce}).to_string().into(),
            ))
            .await
            .unwrap();
            let first = recv(&mut ws).await;
            (ws, first)
        }
    }

    pub async fn recv(ws: &mut SWs) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match tokio::time::timeout_at(deadline, ws.next()).await.expect("agent answered in time") {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] != "heartbeat" {
                        return v;
                    }
                }
                Some(Ok(_)) => continue,
                other => panic!("agent connection ended: {other:?}"),
            }
        }
    }

    pub async fn send(ws: &mut SWs, v: Value) {
        ws.send(tokio_tungstenite::tungstenite::Message::Text(v.to_string().into())).await.unwrap();
    }

    pub fn command(key: &ed25519_dalek::SigningKey, nonce: &str, device_id: i64, issued_at: i64, ttl: i64) -> Envelope {
        let c = Command {
            id: format!("cmd-{nonce}"),
            nonce: nonce.into(),
            device_id,
            issued_at,
            expires_at: issued_at + ttl,
            body: CommandBody::Ping,
        };
        Envelope::sign(&serde_json::to_vec(&c).unwrap(), key)
    }
}

#[tokio::test]
async fn the_real_agent_refuses_unsigned_tampered_expired_misaddressed_and_replayed_commands() {
    use fake_server::*;
    let fake = Fake::start().await;
    let server_key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().display().to_string();

    // Enrol against the stand-in, which hands out its command key.
    let (url, pin, cfg2) = (fake.url.clone(), fake.pin.clone(), cfg.clone());
    let install = std::thread::spawn(move || {
        agent(&["install", "--server", &url, "--token", "ste_x", "--pin", &pin, "--config-dir", &cfg2, "--no-service"])
    });
    let (mut ws, first) = fake.accept().await;
    assert_eq!(first["type"], "enroll");
    send(&mut ws, json!({"type": "enrolled", "device_id": 77, "command_keys": [b64(server_key.verifying_key().as_bytes())]})).await;
    let (code, out) = tokio::task::spawn_blocking(move || install.join().unwrap()).await.unwrap();
    assert_eq!(code, 0, "{out}");

    let mut run =
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let (mut ws, hello) = fake.accept().await;
    assert_eq!((hello["type"].as_str(), hello["device_id"].as_i64()), (Some("hello"), Some(77)));
    // An hour between samples: only the inventory comes before the commands.
    send(&mut ws, json!({"type": "welcome", "device_id": 77, "heartbeat_secs": 30, "command_keys": [], "metrics_secs": 3600})).await;
    assert_eq!(recv(&mut ws).await["type"], "inventory");
    let now = chrono::Utc::now().timestamp();

    // A good command is carried out.
    let good = command(&server_key, "n1", 77, now, 60);
    send(&mut ws, json!({"type": "command", "envelope": good})).await;
    let r = recv(&mut ws).await;
    assert_eq!((r["type"].as_str(), r["id"].as_str(), r["output"].as_str()), (Some("command_result"), Some("cmd-n1"), Some("pong")));

    // The same envelope again: replayed.
    send(&mut ws, json!({"type": "command", "envelope": good})).await;
    let r = recv(&mut ws).await;
    assert_eq!(r["type"], "command_refused");
    assert!(r["reason"].as_str().unwrap().contains("replayed"), "{r}");

    // Tampered: another payload under the good signature.
    let other = command(&server_key, "n2", 77, now, 60);
    let tampered = json!({"payload": other.payload, "signatures": good.signatures});
    // Unsigned, signed by a stranger, expired, for another device, and too long-lived.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let mut unsigned = command(&server_key, "n3", 77, now, 60);
    unsigned.signatures.clear();
    let cases = [
        (tampered, "signature"),
        (serde_json::to_value(unsigned).unwrap(), "signature"),
        (serde_json::to_value(command(&stranger, "n4", 77, now, 60)).unwrap(), "signature"),
        (serde_json::to_value(command(&server_key, "n5", 77, now - 4000, 60)).unwrap(), "expired"),
        (serde_json::to_value(command(&server_key, "n6", 78, now, 60)).unwrap(), "device 78"),
        (serde_json::to_value(command(&server_key, "n7", 77, now, 86_400)).unwrap(), "too long"),
    ];
    for (envelope, why) in cases {
        send(&mut ws, json!({"type": "command", "envelope": envelope})).await;
        let r = recv(&mut ws).await;
        assert_eq!(r["type"], "command_refused", "{why}: {r}");
        assert!(r["reason"].as_str().unwrap().contains(why), "expected {why}: {r}");
    }

    // A fresh, valid command still works, and each refusal was logged by the agent.
    send(&mut ws, json!({"type": "command", "envelope": command(&server_key, "n8", 77, now, 60)})).await;
    assert_eq!(recv(&mut ws).await["type"], "command_result");
    run.kill().unwrap();
    let _ = run.wait();
    let mut err = String::new();
    std::io::Read::read_to_string(run.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(err.matches("refused a command").count(), 7, "{err}");

    // The replay memory is on disk: a restarted agent still refuses the first command again.
    assert!(dir.path().join("replay.json").exists());
    let _run = KillOnDrop(
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
    );
    let (mut ws, _) = fake.accept().await;
    send(&mut ws, json!({"type": "welcome", "device_id": 77, "heartbeat_secs": 30, "command_keys": [], "metrics_secs": 3600})).await;
    assert_eq!(recv(&mut ws).await["type"], "inventory");
    send(&mut ws, json!({"type": "command", "envelope": good})).await;
    let r = recv(&mut ws).await;
    assert!(r["type"] == "command_refused" && r["reason"].as_str().unwrap().contains("replayed"), "{r}");
}

#[tokio::test]
async fn the_fleet_simulator_brings_many_real_protocol_agents_online() {
    let (s, a, client, site) = setup().await;
    let n = 25;
    let tok = token(&a, client, site, json!({"max_uses": n})).await;
    let mut sim = Command::new(agent_bin())
        .args(["simulate", "--server", &s.base, "--token", &tok, "--pin", &s.spki, "--count", &n.to_string(), "--ramp-secs", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let all_online = |v: &Value| v["total"] == n && v["items"].as_array().unwrap().iter().all(|d| d["online"] == true);
    let v = wait_for(&a, "/api/v1/devices?limit=500", "every simulated agent online", all_online).await;
    assert!(v["items"][0]["hostname"].as_str().unwrap().starts_with("sim-"));
    // Each has its own identity and answers signed commands.
    let keys: std::collections::HashSet<String> = {
        let store = steward::store::Store::open(s.env.data_dir(), s.env.database_url.as_deref()).await.unwrap();
        steward::devices::store::list(&mut store.clone(), None).await.unwrap().into_iter().map(|d| d.public_key).collect()
    };
    assert_eq!(keys.len(), n as usize, "one key per simulated agent");
    // Their first inventories, arriving together, are each stored with its
    // own history ("history starts here") under its own device.
    for d in v["items"].as_array().unwrap() {
        let base = format!("/api/v1/clients/{client}/devices/{}", d["id"]);
        let inv = wait_for(&a, &format!("{base}/inventory"), "every first inventory", |v| !v["inventory"].is_null()).await;
        assert_eq!(inv["inventory"]["hostname"], d["hostname"], "{inv}");
        let (_, hist) = a.get(&format!("{base}/inventory/changes")).await;
        assert_eq!(hist["total"], 1, "{hist}");
    }
    let id = v["items"][7]["id"].as_i64().unwrap();
    let (st, pong) = a.post(&format!("/api/v1/clients/{client}/devices/{id}/ping"), json!({})).await;
    assert_eq!((st, pong["output"].as_str()), (200, Some("pong")), "{pong}");
    // The token is spent; stopping the process takes the whole fleet offline.
    let (_, t) = a.get(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens")).await;
    assert_eq!(t["items"][0]["state"], "used up");
    sim.kill().unwrap();
    let _ = sim.wait();
    wait_for(&a, "/api/v1/devices?limit=500", "the fleet offline", |v| v["items"].as_array().unwrap().iter().all(|d| d["online"] == false))
        .await;
}

#[tokio::test]
async fn metric_samples_are_kept_on_disk_until_the_server_says_they_are_stored() {
    use fake_server::*;
    let fake = Fake::start().await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let server_key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().display().to_string();
    let (url, pin, cfg2) = (fake.url.clone(), fake.pin.clone(), cfg.clone());
    let install = std::thread::spawn(move || {
        agent(&["install", "--server", &url, "--token", "ste_x", "--pin", &pin, "--config-dir", &cfg2, "--no-service"])
    });
    let (mut ws, _) = fake.accept().await;
    send(&mut ws, json!({"type": "enrolled", "device_id": 5, "command_keys": [b64(server_key.verifying_key().as_bytes())]})).await;
    assert_eq!(tokio::task::spawn_blocking(move || install.join().unwrap()).await.unwrap().0, 0);

    let start = || {
        KillOnDrop(
            Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
        )
    };
    // Connects, says hello, gets a one-second sample period, sends its inventory.
    async fn open(fake: &Fake) -> SWs {
        let (mut ws, hello) = fake.accept().await;
        assert_eq!(hello["type"], "hello");
        send(&mut ws, json!({"type": "welcome", "device_id": 5, "heartbeat_secs": 30, "command_keys": [], "metrics_secs": 1})).await;
        assert_eq!(recv(&mut ws).await["type"], "inventory");
        ws
    }
    let times = |m: &Value| -> Vec<i64> {
        assert_eq!(m["type"], "metrics", "{m}");
        m["samples"].as_array().unwrap().iter().map(|s| s["at"].as_i64().unwrap()).collect()
    };

    // Three samples arrive and are not acknowledged; the connection drops.
    let mut agent_proc = start();
    let mut ws = open(&fake).await;
    let mut unacked = vec![];
    while unacked.len() < 3 {
        unacked.extend(times(&recv(&mut ws).await));
    }
    drop(ws);
    // On the next connection they come again, oldest first.
    let mut ws = open(&fake).await;
    let mut again = vec![];
    while again.len() < unacked.len() {
        again.extend(times(&recv(&mut ws).await));
    }
    assert_eq!(again[..unacked.len()], unacked[..], "unacknowledged samples are sent again");
    let upto = *again.last().unwrap();
    send(&mut ws, json!({"type": "metrics_stored", "upto": upto})).await;
    // The acknowledgement reaches the disk buffer: give the agent a moment, then restart it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(ws);
    drop(agent_proc);
    assert!(dir.path().join("metrics.spool").exists(), "the buffer lives beside the configuration");
    agent_proc = start();
    let mut ws = open(&fake).await;
    let after = times(&recv(&mut ws).await);
    assert!(after.iter().all(|t| *t > upto), "acknowledged samples are not sent again after a restart: {after:?} vs {upto}");
    drop(agent_proc);
}

#[tokio::test]
async fn a_silent_device_is_cut_off_and_marked_offline_after_the_configured_silence() {
    let env = crate::common::Env::new().await;
    env.create_admin(crate::common::ADMIN_EMAIL);
    let s = crate::common::Server::start_in(env, &["--agent-heartbeat-secs", "5", "--agent-offline-after-secs", "10"]).await;
    let a = s.admin().await;
    let client = crate::common::make_client(&a, "Quiet Co").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let tok = token(&a, client, site["id"].as_i64().unwrap(), json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[21; 32]);
    let (mut ws, device, welcome) = raw_enroll(&s.base, &tok, &key, "quiet").await;
    assert_eq!(welcome["heartbeat_secs"].as_u64(), Some(5), "{welcome}");
    // Talking keeps it connected well past the silence window (the server's
    // one timer re-arms from the last message it heard).
    for _ in 0..5 {
        raw_send(&mut ws, json!({"type": "heartbeat", "seq": 1})).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    raw_send(&mut ws, json!({"type": "heartbeat", "seq": 2})).await;
    let quiet = tokio::time::timeout(Duration::from_millis(200), raw_recv(&mut ws)).await;
    assert!(quiet.is_err(), "a device that heartbeats is not cut off: {quiet:?}");
    // Then say nothing: 10 s after the last heartbeat the server gives up on the device.
    let start = Instant::now();
    let bye = tokio::time::timeout(Duration::from_secs(20), raw_recv(&mut ws)).await.expect("the server ended the silence");
    assert_eq!(bye["code"], "silent", "{bye}");
    assert!(start.elapsed() >= Duration::from_secs(9), "not before the configured silence after the last heartbeat");
    let v = wait_for(&a, &format!("/api/v1/clients/{client}/devices/{device}/presence"), "the offline transition", |v| {
        v["items"][0]["online"] == false
    })
    .await;
    assert_eq!(v["items"][0]["reason"], "silent");
    let (_, list) = a.get("/api/v1/devices?state=offline").await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn a_stop_or_a_crash_ends_each_connection_once_in_the_history() {
    let env = crate::common::Env::new().await;
    env.create_admin(crate::common::ADMIN_EMAIL);
    let mut s = crate::common::Server::start_in(env, &[]).await;
    let a = s.admin().await;
    let client = crate::common::make_client(&a, "Restart Co").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let tok = token(&a, client, site["id"].as_i64().unwrap(), json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[33; 32]);
    let (ws, device, _) = raw_enroll(&s.base, &tok, &key, "steady").await;
    let presence = format!("/api/v1/clients/{client}/devices/{device}/presence");
    wait_page(&a, "/devices?state=online", "the device online", |html| html.contains("steady")).await;
    let reasons = |hist: &Value| -> Vec<(bool, String)> {
        hist["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["online"].as_bool().unwrap(), e["reason"].as_str().unwrap().split(" from ").next().unwrap().to_string()))
            .collect()
    };

    // A clean stop (SIGTERM) while the device is connected: its connection
    // ends in the history at the stop, not at the next start.
    s.restart();
    drop(ws);
    let a = s.admin().await;
    let (_, list) = a.get("/api/v1/devices?state=online").await;
    assert_eq!(list["total"], 0, "nobody is connected to a fresh process: {list}");
    let (_, hist) = a.get(&presence).await;
    assert_eq!(reasons(&hist), [(false, "server stopped".to_string()), (true, "connected".to_string())], "{hist}");

    // A crash (SIGKILL) leaves the flag set: the next start ends it.
    let ws = raw_hello(&s.base, device, &key, None).await;
    wait_page(&a, "/devices?state=online", "the device online again", |html| html.contains("steady")).await;
    let mut child = s.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    drop(ws);
    let env = std::mem::replace(&mut s.env, crate::common::Env::sqlite());
    let s = crate::common::Server::start_in(env, &[]).await;
    let a = s.admin().await;
    let (_, hist) = a.get(&presence).await;
    assert_eq!(
        reasons(&hist),
        [(false, "server restarted"), (true, "connected"), (false, "server stopped"), (true, "connected")].map(|(o, r)| (o, r.to_string())),
        "{hist}"
    );
}

#[tokio::test]
async fn a_clean_stop_writes_the_heartbeats_still_waiting_for_their_batch() {
    let (mut s, a, client, site) = setup().await;
    let tok = token(&a, client, site, json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[34; 32]);
    let (mut ws, _, _) = raw_enroll(&s.base, &tok, &key, "last-words").await;
    let devices = format!("/api/v1/clients/{client}/devices");
    let seen = |v: &Value| v["items"][0]["last_seen_at"].as_str().map(str::to_string);
    wait_for(&a, &devices, "the device online", |v| v["items"][0]["online"] == true).await;
    // Past the connect's own writes, a heartbeat goes into a batch that is
    // written a second later; the server is stopped before that second is up.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, before) = a.get(&devices).await;
    raw_send(&mut ws, json!({"type": "heartbeat", "seq": 1})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.restart();
    drop(ws);
    let a = s.admin().await;
    let (_, after) = a.get(&devices).await;
    assert_ne!(seen(&after), seen(&before), "the heartbeat queued at the stop was lost: {before} → {after}");
}

/// A connected agent has a message budget: a flood of heartbeats is dropped
/// and then cut off; a burst of different inventories leaves one history
/// entry beside the first, not one per report.
#[tokio::test]
async fn a_flooding_agent_is_cut_off_and_its_inventory_history_coalesces() {
    let s = crate::common::Server::start().await;
    let a = s.admin().await;
    let client = crate::common::make_client(&a, "Noisy Co").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let tok = token(&a, client, site["id"].as_i64().unwrap(), json!({"max_uses": 2})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[44; 32]);
    let (mut ws, device, _) = raw_enroll(&s.base, &tok, &key, "noisy").await;
    let base = format!("/api/v1/clients/{client}/devices/{device}");

    // Fifty inventories, each with a different package: within the burst.
    for i in 0..50 {
        let inv = steward_protocol::report::Inventory {
            hostname: "noisy".into(),
            software: vec![steward_protocol::report::Software { name: format!("pkg-{i}"), version: "1".into(), publisher: String::new() }],
            ..Default::default()
        };
        raw_send(&mut ws, json!({"type": "inventory", "collected_at": chrono::Utc::now().timestamp(), "inventory": inv})).await;
    }
    let changes = wait_for(&a, &format!("{base}/inventory/changes"), "the last inventory stored", |v| {
        v["items"][0]["changes"].as_array().is_some_and(|c| c.iter().any(|x| x["item"] == "pkg-49"))
    })
    .await;
    assert!(changes["total"].as_i64().unwrap() <= 2, "the first inventory and one entry for the rest: {changes}");
    let latest = &changes["items"][0]["changes"];
    assert!(latest.as_array().unwrap().iter().any(|x| x["item"] == "pkg-0" && x["kind"] == "removed"), "{latest}");

    // Thousands of heartbeats as fast as the socket takes them: cut off.
    let mut closed = false;
    for i in 0..5000 {
        if ws.send(tokio_tungstenite::tungstenite::Message::Text(json!({"type": "heartbeat", "seq": i}).to_string().into())).await.is_err()
        {
            closed = true;
            break;
        }
    }
    let last = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let m = raw_recv(&mut ws).await;
            if m["code"] == "rate_limited" || m.get("closed").is_some() {
                return m;
            }
        }
    })
    .await
    .expect("the server answered the flood");
    assert!(closed || last["code"] == "rate_limited" || last.get("closed").is_some(), "{last}");
    wait_for(&a, &format!("{base}/presence"), "the flood to end the connection", |v| {
        v["items"].as_array().unwrap().iter().any(|e| e["reason"] == "rate limited")
    })
    .await;
}

#[tokio::test]
async fn the_install_command_downloads_the_served_agent_pinned_and_checked() {
    use sha2::Digest;
    if !have_tool("curl") {
        return;
    }
    let (s, a, client, site) = setup().await;
    let (st, t) = a.post(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens"), json!({"max_uses": 1})).await;
    assert_eq!(st, 201, "{t}");
    // The server hands out the agent it was built with (a cargo build's own
    // target/debug/steward-agent), with its SHA-256.
    let want = hex::encode(sha2::Sha256::digest(std::fs::read(agent_bin()).unwrap()));
    let linux = t["downloads"].as_array().unwrap().iter().find(|d| d["platform"] == "linux-x86_64").expect("a Linux agent");
    assert_eq!(linux["sha256"], want.as_str());
    assert_eq!(linux["url"], format!("{}/agent/download/linux-x86_64", s.base));
    // Anyone may download it (a machine being installed has no session),
    // as an attachment; an unknown platform or a path trick is a 404.
    let anon = s.client();
    let r = anon.raw(reqwest::Method::GET, "/agent/download/linux-x86_64").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(hex::encode(sha2::Sha256::digest(r.bytes().await.unwrap())), want);
    for path in ["/agent/download/macos-arm64", "/agent/download/..%2F..%2Fsteward.db", "/agent/download/linux-x86_64%2F..%2F..%2Fsteward"]
    {
        let r = anon.raw(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }

    // The command as shown: curl pinned to the server's key, the SHA-256
    // checked, then the enrolment. It works as written.
    let command = t["install_linux"].as_str().unwrap();
    assert!(command.contains("--pinnedpubkey 'sha256//") && command.contains(&want), "{command}");
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_install_command(command, dir.path());
    assert_eq!(code, 0, "{command}\n{out}");
    assert!(out.contains("enrolled as device"), "{out}");

    // Against another key, curl refuses before a byte is read; against
    // another hash, nothing runs.
    let (_, t) = a.post(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens"), json!({})).await;
    let command = t["install_linux"].as_str().unwrap();
    let other_key = steward::devices::enrollment::store::curl_pin(&"ab".repeat(32)).unwrap();
    let pinned = command.split('\'').nth(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_install_command(&command.replace(pinned, &other_key), dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(!dir.path().join("steward-agent").exists() && !out.contains("enrolled"), "{out}");
    let (code, out) = run_install_command(&command.replace(&want, &"0".repeat(64)), dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(!dir.path().join("steward-agent").exists() && !out.contains("enrolled"), "{out}");
    // The Windows command names the same place and checks its own hash.
    let windows = t["install_windows"].as_str().unwrap();
    assert!(windows.contains("install --server") && windows.contains(t["token"].as_str().unwrap()), "{windows}");
    if let Some(w) = t["downloads"].as_array().unwrap().iter().find(|d| d["platform"] == "windows-x86_64") {
        assert!(windows.contains(w["url"].as_str().unwrap()) && windows.contains(w["sha256"].as_str().unwrap()), "{windows}");
    }
}

#[tokio::test]
async fn without_agent_binaries_the_page_says_how_to_get_them() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let empty = tempfile::tempdir().unwrap();
    let s = Server::start_in(env, &["--agent-dir", &empty.path().display().to_string()]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Northwind").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Chicago", "timezone": "America/Chicago"})).await;
    let site = site["id"].as_i64().unwrap();
    let (_, t) = a.post(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens"), json!({})).await;
    assert_eq!(t["downloads"], json!([]));
    assert!(t["install_linux"].as_str().unwrap().starts_with("sudo steward-agent install --server"), "{t}");
    let r = s.client().raw(reqwest::Method::GET, "/agent/download/linux-x86_64").send().await.unwrap();
    assert_eq!(r.status(), 404);
    let (st, _, html) = a.form(&format!("/clients/{client}/sites/{site}/enrollment-tokens"), &[("name", "rollout")]).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("no agent binaries to hand out") && html.contains("cargo build --release -p steward-agent"), "{html}");
}
