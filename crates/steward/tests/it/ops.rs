//! Running Steward: TLS and its pin, bounded handshakes, health and readiness, graceful shutdown,
//! crash safety of acknowledged writes, online backup under write load and
//! restore, configuration precedence, and the OpenAPI document.

use crate::common::*;
use serde_json::json;
use sqlx::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test]
async fn serves_tls_with_a_generated_certificate_whose_pin_it_prints() {
    let s = Server::start().await;
    assert!(s.base.starts_with("https://127.0.0.1:"), "{}", s.base);
    assert_eq!(s.spki.len(), 64, "SPKI SHA-256 printed in hex: {}", s.spki);
    let pem = std::fs::read(s.env.data_dir().join("tls/cert.pem")).unwrap();
    let der = rustls_pemfile::certs(&mut pem.as_slice()).next().unwrap().unwrap();
    // Cross-checked with an independent X.509 parser (the pin code is a minimal DER walk).
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let expected = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(cert.tbs_certificate.subject_pki.raw));
    assert_eq!(s.spki, expected);
    // Plain HTTP on the TLS port is not served.
    let plain = s.base.replace("https://", "http://");
    let r = reqwest::Client::new().get(format!("{plain}/healthz")).send().await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    let c = s.client();
    assert_eq!(c.get_text("/healthz").await, (200, "ok".to_string()));
    assert_eq!(c.get_text("/readyz").await, (200, "ready".to_string()));
}

/// A fresh client whose connections come from `source` (any 127.x.y.z is
/// loopback on Linux, so one machine can be several addresses).
fn from(source: &str) -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).local_address(source.parse::<std::net::IpAddr>().ok()).build().unwrap()
}

/// A TCP connection from `source` to the server.
async fn tcp_from(source: &str, server: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(server).await.unwrap()
}

#[tokio::test]
async fn silent_or_stalled_handshakes_hold_up_only_their_own_address() {
    use tokio::io::AsyncWriteExt;
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--tls-handshakes-in-flight", "4", "--tls-handshakes-per-address", "2"]).await;
    let server: std::net::SocketAddr = s.base.trim_start_matches("https://").parse().unwrap();
    let healthz = s.url("/healthz");
    let answers = |source: &'static str| {
        let url = healthz.clone();
        async move {
            let r = tokio::time::timeout(Duration::from_secs(5), from(source).get(url).send()).await;
            matches!(r, Ok(Ok(r)) if r.status() == 200)
        }
    };

    // Far more silent connections than turns: a peer that says nothing holds none.
    let mut silent = vec![];
    for _ in 0..50 {
        silent.push(tcp_from("127.0.0.1", server).await);
    }
    assert!(answers("127.0.0.1").await, "silent peers do not hold up a handshake");

    // Two peers at 127.0.0.2 begin a handshake (a record header promising a
    // 512-byte ClientHello, then a few bytes of it) and stall: that address's share.
    let mut stalled = vec![];
    for _ in 0..2 {
        let mut c = tcp_from("127.0.0.2", server).await;
        c.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]).await.unwrap();
        stalled.push(c);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(answers("127.0.0.1").await, "another address is not held up");
    // The stalling address's next handshake waits for a turn...
    let waiting = tokio::spawn(answers("127.0.0.2"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "a third handshake from 127.0.0.2 ran beside two stalled ones");
    // ...and runs once one is given back (the peer hangs up; otherwise after the 10 s handshake limit).
    drop(stalled.pop());
    assert!(waiting.await.unwrap(), "the waiting handshake ran when a turn came free");
    drop((silent, stalled));
}

/// Whether the server has closed `c`: a read that ends (or fails) within `wait`.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(c: &mut S, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(wait, c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Past TLS, a connection that sends nothing, or half a request header, is
/// closed once the header timeout passes; one address may hold only its
/// share of connections that have not authenticated, and never holds up
/// another address (the attack pass held 1,004 such connections from one
/// address and took the server down for everyone).
#[tokio::test]
async fn idle_and_half_header_connections_are_closed_and_hold_up_only_their_address() {
    use crate::common::agents::tls_over;
    use tokio::io::AsyncWriteExt;
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--http-header-timeout-secs", "2", "--unauthenticated-per-address", "20"]).await;
    let server: std::net::SocketAddr = s.base.trim_start_matches("https://").parse().unwrap();
    let mut idle = vec![];
    for _ in 0..15 {
        idle.push(tls_over(tcp_from("127.0.0.2", server).await).await.expect("TLS"));
    }
    let mut half = vec![];
    for _ in 0..5 {
        let mut c = tls_over(tcp_from("127.0.0.2", server).await).await.expect("TLS");
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        c.flush().await.unwrap();
        half.push(c);
    }
    // The address's share is taken: its next connection is closed at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = tls_over(tcp_from("127.0.0.2", server).await).await.expect("TLS");
    over.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.ok();
    assert!(closed_within(&mut over, Duration::from_secs(1)).await, "a connection past the address's share was served");
    // Another address is served meanwhile, and so is a signed-in user from 127.0.0.2.
    let r = tokio::time::timeout(Duration::from_secs(5), from("127.0.0.1").get(s.url("/healthz")).send()).await;
    assert!(matches!(r, Ok(Ok(ref r)) if r.status() == 200), "127.0.0.1 is held up: {r:?}");
    // Within the header timeout (2 s) and a little, every one of them is closed.
    for (i, c) in idle.iter_mut().enumerate() {
        assert!(closed_within(c, Duration::from_secs(5)).await, "idle connection {i} still open");
    }
    for (i, c) in half.iter_mut().enumerate() {
        assert!(closed_within(c, Duration::from_secs(5)).await, "half-header connection {i} still open");
    }
    // A kept-alive connection that has had its answer and then idles is
    // closed too.
    let mut kept = tls_over(tcp_from("127.0.0.3", server).await).await.expect("TLS");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"ok") {
        let mut b = [0u8; 512];
        let n = tokio::time::timeout(Duration::from_secs(5), tokio::io::AsyncReadExt::read(&mut kept, &mut b)).await.unwrap().unwrap();
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&b[..n]);
    }
    assert!(closed_within(&mut kept, Duration::from_secs(5)).await, "an idle kept-alive connection stays open");
    // Their places are free again.
    let mut again = tls_over(tcp_from("127.0.0.2", server).await).await.expect("TLS");
    again.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut reply = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut again, &mut reply).await.ok();
    assert!(reply.starts_with("HTTP/1.1 200"), "127.0.0.2 is served again once its idle connections are gone: {reply}");
}

#[tokio::test]
async fn sigterm_finishes_and_closes_cleanly() {
    let mut s = Server::start().await;
    let a = s.admin().await;
    make_client(&a, "Before Shutdown").await;
    let (code, stderr) = s.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
    if s.env.database_url.is_none() {
        // A clean close checkpoints the WAL.
        let wal = s.env.data_dir().join("steward.db-wal");
        assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "WAL left behind after a clean shutdown");
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_a_crash() {
    let mut s = Server::start().await;
    let a = s.admin().await;
    let mut ids = vec![];
    for i in 0..20 {
        ids.push(make_client(&a, &format!("Crash test {i}")).await);
    }
    // SIGKILL: no chance to flush anything.
    let mut child = s.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let env = std::mem::replace(&mut s.env, Env::sqlite());
    let s2 = Server::start_in(env, &[]).await;
    let a2 = s2.admin().await;
    for id in ids {
        assert_eq!(a2.get(&format!("/api/v1/clients/{id}")).await.0, 200, "client {id} lost in the crash");
    }
    let (code, _, _) = s2.env.cli(&["audit", "verify"], "");
    assert_eq!(code, 0);
}

#[tokio::test]
async fn online_backup_under_write_load_restores_every_acknowledged_write() {
    // Backup is the embedded database's feature; this test always uses SQLite.
    let env = Env::sqlite();
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &[]).await;
    let a = Arc::new(s.admin().await);

    let acked: Arc<Mutex<Vec<(std::time::Instant, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = vec![];
    for w in 0..4 {
        let (a, acked, stop) = (a.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 2000 {
                let name = format!("Load {w}-{i}");
                let (st, v) = a.post("/api/v1/clients", json!({"name": name})).await;
                assert_eq!(st, 201, "{v}");
                acked.lock().unwrap().push((std::time::Instant::now(), name));
                i += 1;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let backup = s.env.data_dir().join("backup.db");
    let started = std::time::Instant::now();
    let data_dir = s.env.data_dir().display().to_string();
    let backup_arg = backup.display().to_string();
    let (code, out, err) =
        tokio::task::spawn_blocking(move || run_cli(&["backup".into(), "--data-dir".into(), data_dir, "--to".into(), backup_arg], ""))
            .await
            .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let before: Vec<String> = acked.lock().unwrap().iter().filter(|(t, _)| *t < started).map(|(_, n)| n.clone()).collect();
    let total = acked.lock().unwrap().len();
    assert!(before.len() > 20, "writes happened before the backup ({})", before.len());
    assert!(total > before.len(), "writes continued during the backup");

    // Refuses to overwrite, and restore refuses while a server holds the directory.
    let (code, _, _) = s.env.cli(&["backup", "--to", &backup.display().to_string()], "");
    assert_ne!(code, 0);
    let (code, _, err) = s.env.cli(&["restore", "--from", &backup.display().to_string()], "");
    assert_ne!(code, 0);
    assert!(err.contains("running"), "{err}");

    // Restore into a fresh directory.
    let target = Env::sqlite();
    let (code, out, err) = target.cli(&["restore", "--from", &backup.display().to_string()], "");
    assert_eq!(code, 0, "{out}{err}");
    let url = format!("sqlite://{}", target.data_dir().join("steward.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await.unwrap();
    assert_eq!(check, ["ok"]);
    let names: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT name FROM clients").fetch_all(&mut conn).await.unwrap().into_iter().collect();
    conn.close().await.unwrap();
    let missing: Vec<&String> = before.iter().filter(|n| !names.contains(*n)).collect();
    assert!(missing.is_empty(), "{} acknowledged writes missing from the backup, e.g. {:?}", missing.len(), missing.first());
    // The master key is not in the backup (by design); the operator restores it too.
    std::fs::copy(s.env.data_dir().join("master.key"), target.data_dir().join("master.key")).unwrap();
    // The restored database serves, and its audit chain verifies.
    let (code, out, _) = target.cli(&["audit", "verify"], "");
    assert_eq!(code, 0, "{out}");
    let restored = Server::start_in(target, &[]).await;
    let (_, list) = restored.admin().await.get("/api/v1/clients?limit=1").await;
    assert!(list["total"].as_i64().unwrap() as usize >= before.len());
}

#[tokio::test]
async fn configuration_precedence_is_defaults_file_env_flags() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let cfg = env.data_dir().join("steward.toml");
    std::fs::write(&cfg, "body_limit_bytes = 2048\nsession_idle_minutes = 5\n").unwrap();
    // The file sets 2 KiB; the environment raises it to 4 KiB; no flag.
    let cfg_arg = cfg.display().to_string();
    let s = Server::start_with_env(env, &["--config", &cfg_arg], &[("STEWARD_BODY_LIMIT_BYTES", "4096")]).await;
    let a = s.admin().await;
    let body = |n: usize| json!({"name": format!("x{n}"), "notes": "n".repeat(n)});
    let (st, v) = a.post("/api/v1/clients", body(3000)).await;
    assert_eq!(st, 201, "3 KB passes: env (4 KiB) beat the file (2 KiB): {v}");
    assert_eq!(a.post("/api/v1/clients", body(5000)).await.0, 413);
    drop(a);
    let mut s = s;
    s.terminate();
    let env = std::mem::replace(&mut s.env, Env::sqlite());

    // A flag beats the environment.
    let s =
        Server::start_with_env(env, &["--config", &cfg_arg, "--body-limit-bytes", "100000"], &[("STEWARD_BODY_LIMIT_BYTES", "4096")]).await;
    let a = s.admin().await;
    assert_eq!(a.post("/api/v1/clients", json!({"name": "y", "notes": "n".repeat(15_000)})).await.0, 201);
    // Unknown keys in the file are an error, named.
    let bad = s.env.data_dir().join("bad.toml");
    std::fs::write(&bad, "lisen = \"x\"\n").unwrap();
    let (code, _, err) = run_cli(&["serve".into(), "--config".into(), bad.display().to_string()], "");
    assert_ne!(code, 0);
    assert!(err.contains("lisen"), "{err}");
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_the_contract() {
    let s = Server::start().await;
    let (st, spec) = s.client().get("/api/v1/openapi.json").await;
    assert_eq!(st, 200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"), "{}", spec["openapi"]);
    for p in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/clients",
        "/api/v1/clients/{id}",
        "/api/v1/clients/{id}/sites",
        "/api/v1/clients/{id}/contacts",
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/audit",
    ] {
        assert!(spec["paths"][p].is_object(), "{p} missing from the OpenAPI document");
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    // The CLI prints the same document.
    let (code, out, _) = run_cli(&["openapi".into()], "");
    assert_eq!(code, 0);
    let cli: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cli["paths"], spec["paths"]);
}
