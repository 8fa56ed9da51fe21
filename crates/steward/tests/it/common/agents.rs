//! Helpers for tests that involve agents: the real `steward-agent` binary,
//! enrollment tokens, polling, and a hand-made agent connection that can
//! send what a real agent never would.

use super::*;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// `steward-agent` from the same target directory as this test.
pub fn agent_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join(if cfg!(windows) { "steward-agent.exe" } else { "steward-agent" });
    assert!(bin.exists(), "{} is missing: run `cargo test --workspace` (it builds the agent)", bin.display());
    bin
}

pub fn agent(args: &[&str]) -> (i32, String) {
    let out = Command::new(agent_bin()).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Installs the real agent (no service) with `token` into a new config
/// directory; returns the directory (kept alive by the caller) and its path.
pub fn install(s: &Server, token: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().display().to_string();
    let (code, out) = agent(&["install", "--server", &s.base, "--token", token, "--pin", &s.spki, "--config-dir", &cfg, "--no-service"]);
    assert_eq!(code, 0, "{out}");
    (dir, cfg)
}

/// Runs a Linux install command as a page shows it, in a shell, with the
/// machine-wide parts pointed into `dir` (no root, no service).
pub fn run_install_command(command: &str, dir: &std::path::Path) -> (i32, String) {
    let bin = dir.join("steward-agent");
    let cfg = dir.join("config");
    let command = command.replace("sudo ", "").replace("/usr/local/bin/steward-agent", &bin.display().to_string());
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} --config-dir '{}' --no-service", cfg.display()))
        .output()
        .expect("sh runs");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

pub async fn token(a: &Client, client: i64, site: i64, body: Value) -> String {
    let (st, t) = a.post(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens"), body).await;
    assert_eq!(st, 201, "{t}");
    t["token"].as_str().unwrap().to_string()
}

pub async fn setup() -> (Server, Client, i64, i64) {
    let s = Server::start().await;
    let a = s.admin().await;
    let client = make_client(&a, "Northwind").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Chicago", "timezone": "America/Chicago"})).await;
    let site = site["id"].as_i64().unwrap();
    (s, a, client, site)
}

/// Polls an API path until `f` accepts its JSON.
pub async fn wait_for<F: Fn(&Value) -> bool>(a: &Client, path: &str, what: &str, f: F) -> Value {
    poll(what, async || a.get(path).await.1, |v| f(v)).await
}

/// Polls a page until `f` accepts its HTML (presence reaches the stored
/// flags the pages filter on within a batch, ~0.1 s, after the gateway
/// knows it).
pub async fn wait_page<F: Fn(&str) -> bool>(a: &Client, path: &str, what: &str, f: F) -> String {
    poll(what, async || a.get_text(path).await.1, |h: &String| f(h)).await
}

/// Fetches every 0.1 s until `f` accepts, for at most 30 s (CI machines run
/// a dozen servers, agents and browsers at once on two cores).
async fn poll<T: std::fmt::Display>(what: &str, fetch: impl AsyncFn() -> T, f: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = fetch().await;
        if f(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---- a hand-made client, to send what a real agent never would ----

#[derive(Debug)]
pub struct AnyCert;
impl tokio_rustls::rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        _: &[tokio_rustls::rustls::pki_types::CertificateDer<'_>],
        _: &tokio_rustls::rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: tokio_rustls::rustls::pki_types::UnixTime,
    ) -> Result<tokio_rustls::rustls::client::danger::ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(tokio_rustls::rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        _: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<tokio_rustls::rustls::client::danger::HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        Ok(tokio_rustls::rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        _: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<tokio_rustls::rustls::client::danger::HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        Ok(tokio_rustls::rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<tokio_rustls::rustls::SignatureScheme> {
        tokio_rustls::rustls::crypto::ring::default_provider().signature_verification_algorithms.supported_schemes()
    }
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// A TLS client over `tcp` that trusts any certificate (the tests check
/// the pin elsewhere).
pub async fn tls_over(tcp: tokio::net::TcpStream) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let cfg = tokio_rustls::rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(std::sync::Arc::new(AnyCert))
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg)).connect(name, tcp).await
}

pub async fn raw_connect(base: &str) -> (Ws, Vec<u8>) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let hostport = base.strip_prefix("https://").unwrap().to_string();
    let tcp = tokio::net::TcpStream::connect(&hostport).await.unwrap();
    let tls = tls_over(tcp).await.unwrap();
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("wss://{hostport}/agent/v1/connect").into_client_request().unwrap(), tls).await.unwrap();
    let challenge = raw_recv(&mut ws).await;
    assert_eq!(challenge["type"], "challenge");
    let nonce = base64::engine::general_purpose::STANDARD.decode(challenge["nonce"].as_str().unwrap()).unwrap();
    (ws, nonce)
}

pub async fn raw_recv(ws: &mut Ws) -> Value {
    loop {
        match ws.next().await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(_)) => continue,
            other => return json!({"closed": format!("{other:?}")}),
        }
    }
}

pub async fn raw_send(ws: &mut Ws, v: Value) {
    ws.send(tokio_tungstenite::tungstenite::Message::Text(v.to_string().into())).await.unwrap();
}

/// Enrolls a hand-made agent with `key` as `hostname`; returns the open
/// connection, the new device's id and the server's `Welcome`.
pub async fn raw_enroll(base: &str, token: &str, key: &ed25519_dalek::SigningKey, hostname: &str) -> (Ws, i64, Value) {
    use ed25519_dalek::Signer;
    use steward_protocol::messages::{proof_bytes, Purpose};
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (mut ws, nonce) = raw_connect(base).await;
    let proof = b64(&key.sign(&proof_bytes(Purpose::Enroll, &nonce, 0)).to_bytes());
    raw_send(
        &mut ws,
        json!({"type": "enroll", "protocol": 1, "token": token, "public_key": b64(key.verifying_key().as_bytes()),
        "proof": proof, "hostname": hostname, "os": "o", "agent_version": "1"}),
    )
    .await;
    let enrolled = raw_recv(&mut ws).await;
    let device = enrolled["device_id"].as_i64().unwrap_or_else(|| panic!("not enrolled: {enrolled}"));
    let welcome = raw_recv(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    (ws, device, welcome)
}

/// Connects an enrolled hand-made agent again (`hello` with a fresh
/// proof, saying it runs the check set `checks` if any); returns the open
/// connection once welcomed.
pub async fn raw_hello(base: &str, device: i64, key: &ed25519_dalek::SigningKey, checks: Option<&str>) -> Ws {
    use ed25519_dalek::Signer;
    use steward_protocol::messages::{proof_bytes, Purpose};
    let (mut ws, nonce) = raw_connect(base).await;
    let proof = base64::engine::general_purpose::STANDARD.encode(key.sign(&proof_bytes(Purpose::Connect, &nonce, device)).to_bytes());
    raw_send(
        &mut ws,
        json!({"type": "hello", "protocol": 1, "device_id": device, "proof": proof, "agent_version": "1", "checks_version": checks}),
    )
    .await;
    let welcome = raw_recv(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws
}

/// The next message a hand-made agent gets, within a few seconds.
pub async fn next_within(ws: &mut Ws, what: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(5), raw_recv(ws)).await.unwrap_or_else(|_| panic!("no message: {what}"))
}

/// A child process killed when the test ends, pass or fail (no orphan agents).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The agent installed in `cfg` running (`steward-agent run`); with
/// `path_first`, that folder leads its program search path (a stand-in
/// `systemctl`, say).
pub fn run_agent(cfg: &str, path_first: Option<&std::path::Path>) -> KillOnDrop {
    let mut c = Command::new(agent_bin());
    c.args(["run", "--config-dir", cfg]).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(p) = path_first {
        c.env("PATH", format!("{}:{}", p.display(), std::env::var("PATH").unwrap_or_default()));
    }
    KillOnDrop(c.spawn().unwrap())
}

/// `n` simulated agents enrolling with `token` (the token needs `n` uses).
pub fn simulate(s: &Server, token: &str, n: usize) -> KillOnDrop {
    KillOnDrop(
        Command::new(agent_bin())
            .args(["simulate", "--server", &s.base, "--token", token, "--pin", &s.spki, "--count", &n.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}
