//! What agents report, end to end: the real agent's inventory and metrics
//! reach the API and the device page; hostile reports (script tags, huge
//! strings, numbers out of range, invalid UTF-8, unknown message types)
//! are cleaned or refused and break nothing.

use crate::common::agents::*;
use crate::common::*;
use base64::Engine as _;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_real_agent_reports_inventory_and_metrics_that_the_api_and_page_show() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--agent-metrics-secs", "1"]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Contoso").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "Europe/Berlin"})).await;
    let tok = token(&a, client, site["id"].as_i64().unwrap(), json!({})).await;
    let (_dir, cfg) = install(&s, &tok);
    let _run = KillOnDrop(
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
    );
    let (_, list) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    let device = list["items"][0]["id"].as_i64().unwrap();
    let base = format!("/api/v1/clients/{client}/devices/{device}");

    let inv = wait_for(&a, &format!("{base}/inventory"), "the inventory", |v| !v["inventory"].is_null()).await;
    let i = &inv["inventory"];
    assert_eq!(i["os"]["family"], "linux", "{inv}");
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(i["os"]["kernel"], kernel.trim(), "the kernel this machine runs");
    assert!(i["hardware"]["memory_bytes"].as_u64().unwrap() > 0 && i["boot_time"].as_i64().unwrap() > 0, "{inv}");
    assert!(inv["uptime_secs"].as_i64().unwrap() >= 0);
    let (_, hist) = a.get(&format!("{base}/inventory/changes")).await;
    assert_eq!((hist["total"].as_i64(), hist["items"][0]["first"].as_bool()), (Some(1), Some(true)), "{hist}");

    // Samples once a second: CPU and memory appear as raw points.
    let m = wait_for(&a, &format!("{base}/metrics?range=1h"), "two samples of cpu and mem", |v| {
        let n = |name: &str| {
            v["series"].as_array().and_then(|s| s.iter().find(|x| x["name"] == name)).map(|x| x["t"].as_array().unwrap().len()).unwrap_or(0)
        };
        n("cpu") >= 2 && n("mem") >= 2
    })
    .await;
    assert_eq!(m["resolution_secs"], 0, "an hour reads raw samples");
    let mem = m["series"].as_array().unwrap().iter().find(|x| x["name"] == "mem").unwrap();
    assert!(mem["avg"].as_array().unwrap().iter().all(|v| (0.0..=100.0).contains(&v.as_f64().unwrap())));
    // The same samples, rolled up: a week reads 5-minute buckets with min ≤ avg ≤ max.
    let (_, week) = a.get(&format!("{base}/metrics?range=7d")).await;
    assert_eq!(week["resolution_secs"], 300);
    let cpu = week["series"].as_array().unwrap().iter().find(|x| x["name"] == "cpu").expect("cpu rolled up");
    for k in 0..cpu["t"].as_array().unwrap().len() {
        let (lo, avg, hi) = (cpu["min"][k].as_f64().unwrap(), cpu["avg"][k].as_f64().unwrap(), cpu["max"][k].as_f64().unwrap());
        assert!(lo <= avg + 1e-9 && avg <= hi + 1e-9, "{cpu}");
    }
    let (st, e) = a.get(&format!("{base}/metrics?range=2w")).await;
    assert_eq!((st, error_code(&e).as_str(), e["error"]["field"].as_str()), (400, "invalid_field", Some("range")), "{e}");

    // The device page shows the inventory and a chart container for the metrics.
    let (st, html) = a.get_text(&format!("/clients/{client}/devices/{device}")).await;
    assert_eq!(st, 200);
    assert!(html.contains(kernel.trim()) && html.contains("First inventory received"), "inventory on the page");
    assert!(html.contains(&format!("data-metrics=\"{base}/metrics\"")), "chart container");
    let (st, js) = a.get_text("/assets/uPlot.iife.min.js").await;
    assert!(st == 200 && js.contains("uPlot"), "uPlot is served from the binary");
}

#[tokio::test]
async fn hostile_reports_are_cleaned_refused_and_shown_escaped() {
    use ed25519_dalek::Signer;
    use steward_protocol::messages::{proof_bytes, Purpose};
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (s, a, client, site) = setup().await;
    let tok = token(&a, client, site, json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    let (mut ws, device, _) = raw_enroll(&s.base, &tok, &key, "h").await;

    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let huge = "é".repeat(100_000);
    let software: Vec<Value> =
        (0..30_000).map(|n| json!({"name": if n == 0 { evil.to_string() } else { format!("pkg{n}") }, "version": "1"})).collect();
    raw_send(
        &mut ws,
        json!({"type": "inventory", "collected_at": 9_999_999_999i64, "inventory": {
            "hostname": format!("{evil}{huge}\u{0}"),
            "os": {"family": "linux", "name": evil, "kernel": huge},
            "hardware": {"memory_bytes": u64::MAX, "cpu_cores": 4_000_000_000u32},
            "software": software[..5000],
            "services": [{"name": evil, "state": "running"}],
            "boot_time": i64::MAX,
            "added_by_a_future_agent": {"x": 1}
        }}),
    )
    .await;
    // Out-of-range, unknown and future-dated values are refused; the good one is kept.
    let now = chrono::Utc::now().timestamp();
    raw_send(
        &mut ws,
        json!({"type": "metrics", "samples": [
            {"at": now, "values": {"cpu": 1e300, "mem": -4, "disk:/": 50.5, "<b>bold</b>": 1, "net_rx": 1e15}},
            {"at": now + 86_400, "values": {"cpu": 5}}
        ]}),
    )
    .await;
    // A message type from a newer agent is skipped, and the connection stays up.
    raw_send(&mut ws, json!({"type": "from_the_future", "payload": [1, 2, 3]})).await;
    let ack = raw_recv(&mut ws).await;
    assert_eq!((ack["type"].as_str(), ack["upto"].as_i64()), (Some("metrics_stored"), Some(now + 86_400)), "{ack}");

    let base = format!("/api/v1/clients/{client}/devices/{device}");
    let inv = wait_for(&a, &format!("{base}/inventory"), "the inventory", |v| !v["inventory"].is_null()).await;
    let i = &inv["inventory"];
    assert!(i["hostname"].as_str().unwrap().chars().count() <= 253 && !i["hostname"].as_str().unwrap().contains('\u{0}'));
    assert!(i["os"]["kernel"].as_str().unwrap().chars().count() <= 200);
    assert!(i["hardware"]["memory_bytes"].as_u64().unwrap() <= (1u64 << 53) && i["hardware"]["cpu_cores"].as_u64().unwrap() <= 65_536);
    assert_eq!(i["boot_time"], 0, "an impossible boot time is dropped");
    assert_eq!(i["software"].as_array().unwrap().len(), 5000);
    let (_, m) = a.get(&format!("{base}/metrics?range=1h")).await;
    let names: Vec<&str> = m["series"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["disk:/"], "{m}");
    assert_eq!(m["series"][0]["avg"][0], 50.5);

    for page in [format!("/clients/{client}/devices/{device}"), "/devices".to_string(), format!("/clients/{client}")] {
        let (st, html) = a.get_text(&page).await;
        assert_eq!(st, 200, "{page}");
        assert!(!html.contains("<script>alert(1)") && !html.contains("<img src=x"), "{page} shows agent-reported text escaped");
    }
    let (_, html) = a.get_text(&format!("/clients/{client}/devices/{device}")).await;
    assert!(html.contains("&#60;script&#62;alert(1)") || html.contains("&lt;script&gt;alert(1)"));

    // Invalid UTF-8 in a text frame ends that connection, and nothing else.
    use futures_util::SinkExt;
    let frame = tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
        vec![0x7b, 0xff, 0xfe, 0x7d],
        tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
            tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Text,
        ),
        true,
    );
    let _ = ws.send(tokio_tungstenite::tungstenite::Message::Frame(frame)).await;
    let closed = raw_recv(&mut ws).await;
    assert!(closed.get("closed").is_some() || closed["type"] == "refused", "{closed}");
    let (st, _) = a.get(&format!("{base}/inventory")).await;
    assert_eq!(st, 200, "the server carries on");
    // A 2 MiB frame is over the limit: that connection ends, the server stays up.
    let (mut ws, nonce) = raw_connect(&s.base).await;
    raw_send(
        &mut ws,
        json!({"type": "hello", "protocol": 1, "device_id": device, "agent_version": "1",
        "proof": b64(&key.sign(&proof_bytes(Purpose::Connect, &nonce, device)).to_bytes())}),
    )
    .await;
    assert_eq!(raw_recv(&mut ws).await["type"], "welcome");
    let _ = ws.send(tokio_tungstenite::tungstenite::Message::Text("x".repeat(2 << 20).into())).await;
    let closed = raw_recv(&mut ws).await;
    assert!(closed.get("closed").is_some(), "{closed}");
    assert_eq!(a.get("/healthz").await.0, 200);
}

/// The server tells a connecting agent which inventory it holds (the hash
/// of what the agent last sent); an agent with nothing new does not send
/// it again, so a fleet reconnecting after a restart resends nothing.
#[tokio::test]
async fn an_unchanged_inventory_is_not_sent_again_on_reconnect() {
    use ed25519_dalek::Signer;
    use steward_protocol::messages::{proof_bytes, Purpose};
    let (s, a, client, site) = setup().await;
    // A hand-made agent: the hash in Welcome is the hash of what it sent.
    let tok = token(&a, client, site, json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[51; 32]);
    let (mut ws, device, welcome) = raw_enroll(&s.base, &tok, &key, "raw-1").await;
    assert!(welcome.get("inventory_hash").is_none(), "no inventory yet: {welcome}");
    let sent = json!({"hostname": "raw-1", "boot_time": 1_700_000_000, "software": [{"name": "zsh", "version": "5.9"}, {"name": "bash", "version": "5.2"}]});
    raw_send(&mut ws, json!({"type": "inventory", "collected_at": 1_700_000_100, "inventory": sent})).await;
    let base = format!("/api/v1/clients/{client}/devices/{device}");
    wait_for(&a, &format!("{base}/inventory"), "the raw inventory", |v| !v["inventory"].is_null()).await;
    drop(ws);
    let expected = serde_json::from_value::<steward_protocol::report::Inventory>(sent).unwrap().sent_hash();
    let (mut ws, nonce) = raw_connect(&s.base).await;
    let proof = base64::engine::general_purpose::STANDARD.encode(key.sign(&proof_bytes(Purpose::Connect, &nonce, device)).to_bytes());
    raw_send(&mut ws, json!({"type": "hello", "protocol": 1, "device_id": device, "proof": proof, "agent_version": "1"})).await;
    let welcome = raw_recv(&mut ws).await;
    assert_eq!(welcome["inventory_hash"].as_str(), Some(expected.as_str()), "{welcome}");
    drop(ws);

    // The real agent: its second connection sends no inventory (the one
    // the server holds is unchanged, its receipt time stays).
    let (dir, cfg) = install(&s, &tok);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("agent.json")).unwrap()).unwrap();
    let base = format!("/api/v1/clients/{client}/devices/{}", saved["device_id"]);
    let run = || {
        KillOnDrop(
            Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
        )
    };
    let first = run();
    wait_for(&a, &format!("{base}/presence"), "the agent online", |v| v["items"][0]["online"] == true).await;
    let inv = wait_for(&a, &format!("{base}/inventory"), "the inventory", |v| !v["inventory"].is_null()).await;
    let received = inv["received_at"].clone();
    drop(first);
    wait_for(&a, &format!("{base}/presence"), "the agent gone", |v| v["items"][0]["online"] == false).await;
    let mut second = KillOnDrop(
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap(),
    );
    let stderr = second.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut said = vec![];
    while !said.iter().any(|l: &String| l.contains("inventory unchanged")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => said.push(line),
            Err(_) => panic!("the agent did not say it kept its unchanged inventory: {said:?}"),
        }
    }
    let (_, again) = a.get(&format!("{base}/inventory")).await;
    assert_eq!(again["received_at"], received, "no inventory was sent on reconnect: {again}");
    assert_eq!(again["inventory"], inv["inventory"]);
}
