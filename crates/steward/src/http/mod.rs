//! The HTTP edge: application state, the router, security headers, TLS and
//! the serve loop with graceful shutdown.
//!
//! Invariant: this tier holds no secrets beyond the master key handle and the
//! TLS key; every request passes [`crate::auth::guard`] before any handler.

pub mod assets;
pub mod error;
pub mod handshake_gate;
pub mod lean_tls;
pub mod list;
pub mod openapi;
pub mod page;
pub mod tls;

use crate::auth::sessions::Lifetimes;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::store::Store;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use error::{error_response, ApiError};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Everything a handler may use.
pub struct AppState {
    pub store: Store,
    pub cfg: Config,
    pub master: MasterKey,
    pub lifetimes: Lifetimes,
    /// SPKI SHA-256 agents pin: `--agent-pin`, else our TLS certificate's.
    pub agent_pin: std::sync::OnceLock<String>,
    /// Signs every command to an agent; sealed in the database by the master key.
    pub command_key: ed25519_dalek::SigningKey,
    /// Connected agents.
    pub agents: crate::devices::registry::Registry,
    /// Batched presence writes from agents' heartbeats.
    pub heartbeats: crate::devices::heartbeats::Heartbeats,
    /// Batched inventory reports.
    pub inventories: crate::devices::inventory_ingest::Inventories,
    /// Batched connects and disconnects: flags, history, live events.
    pub presence: crate::devices::presence::Presence,
    /// Device state changes, streamed to open pages.
    pub live: crate::devices::live::Live,
    /// Batched metric writes, acknowledged to agents once stored.
    pub metrics: crate::monitoring::ingest::MetricsIngest,
    admin_exists: AtomicBool,
}

/// Shared handle to the application state.
pub type App = Arc<AppState>;

impl AppState {
    pub async fn open(store: Store, cfg: Config, master: MasterKey) -> anyhow::Result<App> {
        let command_key = crate::devices::store::command_key(&store, &master).await?;
        crate::devices::store::reset_presence(&store, crate::devices::store::SERVER_RESTARTED).await?;
        let lifetimes = Lifetimes {
            idle_us: cfg.session_idle_minutes as i64 * 60_000_000,
            absolute_us: cfg.session_absolute_hours as i64 * 3_600_000_000,
        };
        let agent_pin = std::sync::OnceLock::new();
        if let Some(pin) = &cfg.agent_pin {
            let _ = agent_pin.set(pin.clone());
        }
        let heartbeats = crate::devices::heartbeats::Heartbeats::start(store.clone());
        let metrics = crate::monitoring::ingest::MetricsIngest::start(store.clone());
        Ok(Arc::new_cyclic(|app| AppState {
            presence: crate::devices::presence::Presence::start(store.clone(), app.clone()),
            inventories: crate::devices::inventory_ingest::Inventories::start(store.clone()),
            store,
            cfg,
            master,
            lifetimes,
            agent_pin,
            command_key,
            agents: Default::default(),
            heartbeats,
            metrics,
            live: Default::default(),
            admin_exists: AtomicBool::new(false),
        }))
    }

    /// Writes everything the batched writers hold (a clean stop): what a
    /// crash would lose is sent again by the agents, but a stop need not.
    pub async fn flush_queues(&self) {
        tokio::join!(self.heartbeats.flush(), self.metrics.flush(), self.inventories.flush(), self.presence.flush());
    }

    /// Whether the first administrator has been created (on the host, with
    /// `steward admin create`). Cached once true: administrators are never
    /// deleted, only disabled.
    pub async fn has_admin(&self) -> Result<bool, ApiError> {
        if self.admin_exists.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let n = crate::users::count(&mut self.store.clone()).await?;
        if n > 0 {
            self.admin_exists.store(true, Ordering::Relaxed);
        }
        Ok(n > 0)
    }
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Strict headers on every response, and JSON for API 404/405s.
async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    if crate::auth::is_api(&path) && resp.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = resp.headers().get(header::ALLOW).cloned();
        resp = error_response(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this resource");
        if let Some(a) = allow {
            resp.headers_mut().insert(header::ALLOW, a);
        }
    }
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    if !path.starts_with("/assets/") {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

async fn fallback(req: Request) -> Response {
    if crate::auth::is_api(req.uri().path()) {
        ApiError::NotFound.into_response()
    } else {
        crate::web::error_page(ApiError::NotFound)
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(axum::extract::State(app): axum::extract::State<App>) -> Response {
    if app.store.ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable or migrations pending").into_response()
    }
}

/// The whole application.
pub fn router(app: App) -> Router {
    let (api, spec) = openapi::api_router().split_for_parts();
    let spec_json = Arc::new(spec.to_pretty_json().expect("OpenAPI document serialises"));
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let s = spec_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], (*s).clone()) }
            }),
        )
        .merge(crate::web::router())
        .merge(assets::router())
        .route("/agent/v1/connect", get(crate::devices::gateway::connect))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(fallback)
        .layer(from_fn_with_state(app.clone(), crate::auth::guard))
        .layer(DefaultBodyLimit::max(app.cfg.body_limit_bytes))
        .layer(from_fn(security_headers))
        .with_state(app)
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Binds, prints the real address, serves until SIGTERM/Ctrl-C, then lets
/// in-flight requests finish (up to 30 s) and closes the database.
pub async fn serve(app: App) -> anyhow::Result<()> {
    let cfg = &app.cfg;
    let listener = std::net::TcpListener::bind(cfg.listen).map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let service = router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let _ = app.has_admin().await;
    let jobs = crate::jobs::spawn(app.clone());

    let h = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("steward: shutting down, letting in-flight requests finish");
        h.graceful_shutdown(Some(Duration::from_secs(30)));
    });

    if cfg.plain_http {
        println!("steward listening on http://{addr} (plain HTTP: put a TLS proxy in front)");
        print_ready(&app);
        axum_server::from_tcp(listener).handle(handle).serve(service).await?;
    } else {
        let tls = tls::load(&cfg.data_dir, cfg.tls_cert.as_deref(), cfg.tls_key.as_deref())?;
        println!("steward TLS certificate {} SPKI SHA-256 {}", tls.cert_path.display(), tls.spki_sha256);
        let _ = app.agent_pin.set(tls.spki_sha256.clone());
        println!("steward listening on https://{addr}");
        print_ready(&app);
        let acceptor = lean_tls::Acceptor::new(tls.config, handshake_gate::HandshakeGate::configured(cfg));
        axum_server::from_tcp(listener).acceptor(acceptor).handle(handle).serve(service).await?;
    }
    jobs.abort();
    // Agents' connections are still open (upgraded sockets outlive the
    // server's graceful wait): write what is queued, then end them in the
    // history as of now, rather than at the next start.
    app.flush_queues().await;
    if let Err(e) = crate::devices::store::reset_presence(&app.store, crate::devices::store::SERVER_STOPPED).await {
        tracing::warn!(error = %e, "connected devices not marked offline at stop; the next start does it");
    }
    app.store.close().await;
    eprintln!("steward: stopped cleanly");
    Ok(())
}

fn print_ready(app: &App) {
    use std::io::Write;
    if !app.admin_exists.load(Ordering::Relaxed) {
        println!(
            "steward: no administrator yet; create one on this host with: steward admin create --email you@example.com --password-stdin"
        );
    }
    let _ = std::io::stdout().flush();
}
