//! Test harness: starts the real `steward` binary on port 0 with a fresh
//! database (SQLite in a temporary data dir, or a fresh PostgreSQL database
//! when `STEWARD_TEST_DATABASE_URL` is set) and talks to it over HTTPS.
#![allow(dead_code)]

pub mod agents;
pub mod mail;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub const ADMIN_EMAIL: &str = "admin@msp.example";
pub const PASSWORD: &str = "correct horse battery staple";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_steward")
}

static BANNER: Once = Once::new();

/// The PostgreSQL server URL to create test databases on, if any.
pub fn pg_admin_url() -> Option<String> {
    let url = std::env::var("STEWARD_TEST_DATABASE_URL").ok().filter(|s| !s.is_empty());
    BANNER.call_once(|| match &url {
        Some(_) => eprintln!("steward tests: storage backend = PostgreSQL (STEWARD_TEST_DATABASE_URL)"),
        None => eprintln!(
            "steward tests: storage backend = SQLite. PostgreSQL is NOT being tested in this run: set STEWARD_TEST_DATABASE_URL=postgres://… (CI does)."
        ),
    });
    url
}

/// True when CI demands every component (nothing may be skipped).
pub fn require_all() -> bool {
    std::env::var("STEWARD_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Whether a command-line tool a test needs is installed; when it is not,
/// says so loudly (and fails under STEWARD_TEST_REQUIRE_ALL).
pub fn have_tool(name: &str) -> bool {
    let ok = std::process::Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        let msg = format!("`{name}` is missing (apt-get install {name}): a test that needs it did NOT run");
        assert!(!require_all(), "{msg}");
        eprintln!("\n!!! {msg} !!!\n");
    }
    ok
}

/// Creates a fresh PostgreSQL database and returns its URL.
pub async fn fresh_pg_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("steward_test_{}", hex::encode(rand::random::<[u8; 6]>()));
    let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connect to STEWARD_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    conn.close().await.ok();
    let (base, _) = admin_url.rsplit_once('/').expect("database URL ends in /dbname");
    let (_, query) = admin_url.split_once('?').map(|(a, q)| (a, format!("?{q}"))).unwrap_or((admin_url, String::new()));
    format!("{base}/{name}{query}")
}

/// Where a test server keeps its data.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
}

impl Env {
    pub async fn new() -> Env {
        let database_url = match pg_admin_url() {
            Some(admin) => Some(fresh_pg_database(&admin).await),
            None => None,
        };
        Env { dir: tempfile::tempdir().expect("tempdir"), database_url }
    }

    /// Always the embedded database, for SQLite-only features (backup).
    pub fn sqlite() -> Env {
        Env { dir: tempfile::tempdir().expect("tempdir"), database_url: None }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Args selecting this environment's database for any subcommand.
    pub fn db_args(&self) -> Vec<String> {
        let mut a = vec!["--data-dir".to_string(), self.data_dir().display().to_string()];
        if let Some(u) = &self.database_url {
            a.push("--database-url".into());
            a.push(u.clone());
        }
        a
    }

    /// Runs a `steward` subcommand, feeding `stdin`; returns (status, stdout, stderr).
    pub fn cli(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        full.extend(self.db_args());
        run_cli(&full, stdin)
    }

    pub fn create_admin(&self, email: &str) {
        let (code, out, err) = self.cli(&["admin", "create", "--email", email, "--password-stdin"], &format!("{PASSWORD}\n"));
        assert_eq!(code, 0, "admin create failed: {out} {err}");
    }
}

/// Runs raw SQL on a test database, behind the server's back (to tamper
/// with what the server keeps, as an attacker with the database would).
pub async fn raw_sql(env: &Env, sql: &str) {
    use sqlx::Connection;
    match &env.database_url {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        None => {
            let mut c =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", env.data_dir().join("steward.db").display())).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// A 24x7 UTC calendar and the installation's default SLA policy: P1 answered in 60 min and
/// resolved in 240, P2 in 120/480.
pub async fn standard_sla_policy(a: &Client) -> i64 {
    let (st, cal) = a.post("/api/v1/business-calendars", json!({"name": "Always", "timezone": "UTC", "always": true})).await;
    assert_eq!(st, 201, "{cal}");
    let (st, p) = a
        .post(
            "/api/v1/sla-policies",
            json!({"name": "Standard", "calendar_id": cal["id"], "is_default": true, "targets": [
                {"priority": "P1", "first_response_minutes": 60, "resolution_minutes": 240},
                {"priority": "P2", "first_response_minutes": 120, "resolution_minutes": 480}]}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    assert_eq!(p["warn_at"], 0.75);
    p["id"].as_i64().unwrap()
}

pub fn run_cli(args: &[String], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(bin())
        .args(args)
        .env("STEWARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn steward");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// A running server process.
pub struct Server {
    pub env: Env,
    pub child: Option<Child>,
    pub base: String,
    pub spki: String,
    stderr_path: PathBuf,
    extra: Vec<String>,
    vars: Vec<(String, String)>,
}

/// Starts `steward serve` and waits for the address it prints.
fn spawn(env: &Env, extra: &[String], vars: &[(String, String)], stderr_path: &Path) -> (Child, String, String) {
    let mut cmd = Command::new(bin());
    cmd.arg("serve").args(env.db_args());
    if !extra.iter().any(|a| a == "--listen") {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    // Anchors go next to the data directory by default (/tmp here): keep
    // each test's inside its own.
    if !extra.iter().any(|a| a == "--audit-anchor-file") {
        cmd.arg("--audit-anchor-file").arg(env.data_dir().join("anchors.jsonl"));
    }
    cmd.args(extra).envs(vars.iter().map(|(k, v)| (k, v)));
    // STEWARD_TEST_SERVER_LOG=debug shows more of what a failing test's server did.
    let log = std::env::var("STEWARD_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into());
    let stderr = std::fs::OpenOptions::new().create(true).append(true).open(stderr_path).unwrap();
    cmd.env("STEWARD_LOG", log).stdout(Stdio::piped()).stderr(stderr);
    let mut child = cmd.spawn().expect("spawn steward serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut spki = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("SPKI SHA-256 ").nth(1) {
                spki = rest.trim().to_string();
            }
            if let Some(url) = line.strip_prefix("steward listening on ") {
                let url = url.split_whitespace().next().unwrap().to_string();
                let _ = tx.send((url, spki.clone()));
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok((base, spki)) => (child, base, spki),
        Err(_) => panic!("server did not start: {}", std::fs::read_to_string(stderr_path).unwrap_or_default()),
    }
}

impl Server {
    /// Fresh database, one administrator, server started.
    pub async fn start() -> Server {
        let env = Env::new().await;
        env.create_admin(ADMIN_EMAIL);
        Server::start_in(env, &[]).await
    }

    /// Starts a server on an existing environment with extra flags.
    pub async fn start_in(env: Env, extra: &[&str]) -> Server {
        Server::start_with_env(env, extra, &[]).await
    }

    /// As [`Server::start_in`], with extra environment variables.
    pub async fn start_with_env(env: Env, extra: &[&str], vars: &[(&str, &str)]) -> Server {
        let stderr_path = env.data_dir().join("server.stderr");
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (child, base, spki) = spawn(&env, &extra, &vars, &stderr_path);
        Server { env, child: Some(child), base, spki, stderr_path, extra, vars }
    }

    /// Stops the server (SIGTERM, waiting for a clean exit) and starts it
    /// again on the same address and data: what agents see in an upgrade.
    pub fn restart(&mut self) {
        self.restart_after(Duration::ZERO);
    }

    /// Kills the server (SIGKILL: a crash, nothing flushed); start it again
    /// with [`Server::restart`].
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// As [`Server::restart`], staying down for `down` in between (what
    /// jobs must catch up on). After a [`Server::terminate`], starts it again.
    pub fn restart_after(&mut self, down: Duration) {
        if self.child.is_some() {
            self.terminate();
        }
        std::thread::sleep(down);
        let addr = self.base.trim_start_matches("https://").to_string();
        let mut extra = self.extra.clone();
        extra.extend(["--listen".to_string(), addr]);
        let (child, base, spki) = spawn(&self.env, &extra, &self.vars, &self.stderr_path);
        self.child = Some(child);
        (self.base, self.spki) = (base, spki);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A fresh client (own cookie jar).
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client signed in as the administrator.
    pub async fn admin(&self) -> Client {
        let c = self.client();
        c.login_ok(ADMIN_EMAIL, PASSWORD).await;
        c
    }

    /// Sends SIGTERM and waits for exit; returns (exit code, stderr).
    pub fn terminate(&mut self) -> (i32, String) {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return (s.code().unwrap_or(-1), std::fs::read_to_string(&self.stderr_path).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP client with its own cookie jar; remembers the CSRF token.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: std::sync::Mutex<Option<String>>,
    pub bearer: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client { http, base: base.to_string(), csrf: Default::default(), bearer: None }
    }

    /// A fresh client whose connections come from `source` (any 127.x.y.z
    /// is loopback on Linux: one machine is many addresses).
    pub fn from_address(base: &str, source: &str) -> Client {
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(source.parse::<std::net::IpAddr>().ok())
            .build()
            .unwrap();
        Client { http, base: base.to_string(), csrf: Default::default(), bearer: None }
    }

    /// A cookie-less client that authenticates with an API token.
    pub fn with_token(base: &str, token: &str) -> Client {
        let mut c = Client::new(base);
        c.bearer = Some(token.to_string());
        c
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method.clone(), format!("{}{}", self.base, path));
        if let Some(t) = &self.bearer {
            r = r.bearer_auth(t);
        }
        if method != reqwest::Method::GET {
            if let Some(c) = self.csrf.lock().unwrap().clone() {
                r = r.header("x-csrf-token", c);
            }
            r = r.header("origin", self.base.clone());
        }
        r
    }

    pub fn raw(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.req(method, path)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        into(self.req(reqwest::Method::GET, path).send().await.unwrap()).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        into(self.req(m, path).json(&body).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("PATCH", path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("PUT", path, body).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        into(self.req(reqwest::Method::DELETE, path).send().await.unwrap()).await
    }

    /// POSTs an HTML form (with the CSRF field) and returns (status, location, body).
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let mut all: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if let Some(c) = self.csrf.lock().unwrap().clone() {
            all.push(("_csrf".into(), c));
        }
        let r = self.http.post(format!("{}{}", self.base, path)).header("origin", self.base.clone()).form(&all).send().await.unwrap();
        let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (r.status().as_u16(), loc, r.text().await.unwrap())
    }

    pub async fn login(&self, email: &str, password: &str, totp: Option<&str>) -> (u16, Value) {
        let mut body = json!({"email": email, "password": password});
        if let Some(t) = totp {
            body["totp"] = json!(t);
        }
        let (s, v) = self.post("/api/v1/auth/login", body).await;
        if s == 200 {
            *self.csrf.lock().unwrap() = v["csrf_token"].as_str().map(str::to_string);
        }
        (s, v)
    }

    pub async fn login_ok(&self, email: &str, password: &str) {
        let (s, v) = self.login(email, password, None).await;
        assert_eq!(s, 200, "login failed: {v}");
    }
}

async fn into(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let text = r.text().await.unwrap();
    (s, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Asserts the standard error shape and returns the code.
pub fn error_code(v: &Value) -> String {
    let e = &v["error"];
    assert!(e["code"].is_string() && e["message"].is_string(), "not an error body: {v}");
    e["code"].as_str().unwrap().to_string()
}

/// Creates a user through the API as `admin`; returns its id.
pub async fn make_user(admin: &Client, email: &str, role: &str, clients: Option<Vec<i64>>) -> i64 {
    let mut body = json!({"email": email, "name": email.split('@').next().unwrap(), "role": role, "password": PASSWORD});
    if let Some(c) = clients {
        body["clients"] = json!(c);
    }
    let (s, v) = admin.post("/api/v1/users", body).await;
    assert_eq!(s, 201, "create user: {v}");
    v["id"].as_i64().unwrap()
}

pub async fn make_client(admin: &Client, name: &str) -> i64 {
    let (s, v) = admin.post("/api/v1/clients", json!({"name": name})).await;
    assert_eq!(s, 201, "create client: {v}");
    v["id"].as_i64().unwrap()
}

/// The current TOTP code for a base32 secret, `offset_steps` steps ahead.
pub fn totp_code(secret_b32: &str, offset_steps: i64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_b32.to_string()).to_bytes().unwrap();
    let now = chrono::Utc::now().timestamp() + offset_steps * 30;
    steward::auth::totp::code_at(&secret, now as u64)
}

/// Enrols MFA for the signed-in client; returns (secret, recovery codes).
pub async fn enrol_mfa(c: &Client) -> (String, Vec<String>) {
    let (s, v) = c.post("/api/v1/me/mfa/start", json!({})).await;
    assert_eq!(s, 200, "{v}");
    let secret = v["secret"].as_str().unwrap().to_string();
    let (s, v) = c.post("/api/v1/me/mfa/confirm", json!({"code": totp_code(&secret, 0)})).await;
    assert_eq!(s, 200, "{v}");
    let codes = v["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    (secret, codes)
}
