//! `steward serve`: binds, prints the real address (and the certificate pin
//! agents need), serves until SIGTERM or Ctrl-C, then lets in-flight
//! requests finish (up to 30 s), writes what the batched writers hold,
//! releases its job leases and closes the database.

use crate::app::App;
use crate::http::pending::Unauthenticated;
use crate::http::{handshake_gate, lean_tls, tls};
use std::net::SocketAddr;
use std::time::Duration;

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

/// Serves `app` until a stop signal.
pub async fn serve(app: App) -> anyhow::Result<()> {
    let cfg = &app.cfg;
    let listener = std::net::TcpListener::bind(cfg.listen).map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let built = crate::routes::assemble(&app);
    let listeners = crate::jobs::start_listeners(&app, built.listeners);
    let service = built.router.into_make_service_with_connect_info::<SocketAddr>();
    let has_admin = app.has_admin().await.unwrap_or(false);
    let scheduler = crate::jobs::spawn(app.clone(), built.jobs);

    let h = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("steward: shutting down, letting in-flight requests finish");
        h.graceful_shutdown(Some(Duration::from_secs(30)));
    });

    if cfg.plain_http {
        println!("steward listening on http://{addr} (plain HTTP: put a TLS proxy in front)");
        print_ready(has_admin);
        let mut server = axum_server::from_tcp(listener).handle(handle);
        timeouts(server.http_builder(), cfg);
        server.serve(service).await?;
    } else {
        let tls = tls::load(&cfg.data_dir, cfg.tls_cert.as_deref(), cfg.tls_key.as_deref())?;
        println!("steward TLS certificate {} SPKI SHA-256 {}", tls.cert_path.display(), tls.spki_sha256);
        let _ = app.agent_pin.set(tls.spki_sha256.clone());
        println!("steward listening on https://{addr}");
        print_ready(has_admin);
        let acceptor = lean_tls::Acceptor::new(
            tls.config,
            handshake_gate::HandshakeGate::configured(cfg),
            Unauthenticated::configured(cfg),
            Duration::from_secs(cfg.http_header_timeout_secs),
        );
        let mut server = axum_server::from_tcp(listener).acceptor(acceptor).handle(handle);
        timeouts(server.http_builder(), cfg);
        server.serve(service).await?;
    }
    scheduler.stop().await;
    for l in listeners {
        l.abort();
    }
    // Agents' connections are still open (upgraded sockets outlive the
    // server's graceful wait): write what is queued, then end them in the
    // history as of now, rather than at the next start.
    app.flush_queues().await;
    if let Err(e) = crate::devices::presence::store::reset(&app.store, crate::devices::presence::store::SERVER_STOPPED).await {
        tracing::warn!(error = %e, "connected devices not marked offline at stop; the next start does it");
    }
    app.store.close().await;
    eprintln!("steward: stopped cleanly");
    Ok(())
}

/// A connection must send its request headers within the timeout, and one
/// that idles between requests is closed after it (hyper applies the
/// header timeout from the moment it waits for a request); HTTP/2
/// connections are pinged and closed when the peer stops answering.
pub fn timeouts(b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>, cfg: &crate::config::Config) {
    let t = Duration::from_secs(cfg.http_header_timeout_secs);
    b.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(t);
    b.http2().timer(hyper_util::rt::TokioTimer::new()).keep_alive_interval(Duration::from_secs(30)).keep_alive_timeout(t);
}

fn print_ready(has_admin: bool) {
    use std::io::Write;
    if !has_admin {
        println!(
            "steward: no administrator yet; create one on this host with: steward admin create --email you@example.com --password-stdin"
        );
    }
    let _ = std::io::stdout().flush();
}
