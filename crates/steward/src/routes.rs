//! The server's composition root: every domain's [`Domain`] merged into one
//! router (API, pages, the agent channel, assets, health), its navigation,
//! search sources and panels handed to the application state, and its jobs
//! and listeners handed to `server`. A new domain is one line in
//! [`domains`].
//!
//! Layers, outermost first: security headers → body limit → `auth::guard`
//! (who is asking; CSRF; client scope) → the route's own [`Need`] → handler.

use crate::app::domain::{Domain, Job, Listener, Need, Registered};
use crate::app::App;
use crate::error::ApiError;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// Every domain, in the order their navigation and panels appear.
pub fn domains() -> Vec<Domain> {
    vec![
        crate::web::domain(),
        crate::search::domain(),
        crate::devices::domain(),
        crate::monitoring::domain(),
        crate::webhooks::domain(),
        crate::mail::domain(),
        crate::scripts::domain(),
        crate::tickets::domain(),
        crate::recurring::domain(),
        crate::timesheets::domain(),
        crate::canned::domain(),
        crate::sla::domain(),
        crate::reports::domain(),
        crate::vault::domain(),
        crate::docs::domain(),
        crate::tenancy::domain(),
        crate::billing::domain(),
        crate::users::domain(),
        crate::auth::domain(),
        crate::audit::domain(),
        crate::settings::domain(),
        crate::notifications::domain(),
    ]
}

/// Every domain's records in the full-text index (for `steward search reindex`).
pub fn indexers() -> Vec<crate::app::search::Indexer> {
    domains().into_iter().flat_map(|d| d.indexers).collect()
}

/// One page route as declared: for tests and documentation.
#[derive(Debug, Clone, Copy)]
pub struct PageInfo {
    pub path: &'static str,
    pub method: &'static str,
    pub need: Need,
}

/// Every page route with what it needs.
pub fn page_table() -> Vec<PageInfo> {
    domains().into_iter().flat_map(|d| d.pages).map(|p| PageInfo { path: p.path, method: p.method, need: p.need }).collect()
}

/// The OpenAPI document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut api = crate::http::openapi::frame();
    for d in domains() {
        api = api.merge(d.api);
    }
    let mut doc = api.into_openapi();
    crate::http::openapi::complete(&mut doc);
    doc
}

/// The server, assembled.
pub struct Assembled {
    pub router: Router,
    pub jobs: Vec<Job>,
    pub listeners: Vec<Listener>,
}

/// Builds the router from every domain and hands their registrations to
/// `app`.
pub fn assemble(app: &App) -> Assembled {
    let mut api = crate::http::openapi::frame();
    let mut pages = Router::new();
    let (mut registered, mut jobs, mut listeners) = (Registered::default(), vec![], vec![]);
    for d in domains() {
        api = api.merge(d.api);
        for p in d.pages {
            pages = pages.route(p.path, p.router);
        }
        registered.nav.extend(d.nav);
        registered.search.extend(d.search);
        registered.indexers.extend(d.indexers);
        registered.panels.extend(d.panels);
        jobs.extend(d.jobs);
        listeners.extend(d.listeners);
    }
    app.register(registered);
    let (api, mut spec) = api.split_for_parts();
    crate::http::openapi::complete(&mut spec);
    let spec_json: Arc<str> = spec.to_pretty_json().expect("OpenAPI document serialises").into();
    let router = Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let s = spec_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], s.to_string()) }
            }),
        )
        .merge(pages)
        .merge(crate::http::assets::router())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(fallback)
        .layer(from_fn_with_state(app.clone(), crate::auth::guard::guard))
        .layer(DefaultBodyLimit::max(app.cfg.body_limit_bytes))
        .layer(from_fn(crate::http::headers::security_headers))
        .layer(from_fn_with_state(app.cfg.body_limit_bytes, crate::http::body::read_declared))
        .with_state(app.clone());
    Assembled { router, jobs, listeners }
}

async fn fallback(req: Request) -> Response {
    if crate::http::is_api(req.uri().path()) {
        ApiError::NotFound.into_response()
    } else {
        crate::web::error::error_page(ApiError::NotFound)
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<App>) -> Response {
    if app.store.ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable or migrations pending").into_response()
    }
}
