//! Static assets, embedded in the binary: vendored htmx and uPlot (see
//! `assets/vendor/README.md`) and our own CSS and JS.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const HTMX: &[u8] = include_bytes!("../../assets/vendor/htmx-2.0.11/htmx.min.js");
const UPLOT_JS: &[u8] = include_bytes!("../../assets/vendor/uplot-1.6.32/uPlot.iife.min.js");
const UPLOT_CSS: &[u8] = include_bytes!("../../assets/vendor/uplot-1.6.32/uPlot.min.css");
const CHARTS_JS: &[u8] = include_bytes!("../../assets/charts.js");
const APP_JS: &[u8] = include_bytes!("../../assets/app.js");
const VAULT_JS: &[u8] = include_bytes!("../../assets/vault.js");
const APP_CSS: &[u8] = include_bytes!("../../assets/app.css");
const ICON: &[u8] = include_bytes!("../../assets/icon.svg");

fn asset(body: &'static [u8], ctype: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=3600")], body)
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/assets/htmx.min.js", get(|| async { asset(HTMX, "text/javascript; charset=utf-8") }))
        .route("/assets/uPlot.iife.min.js", get(|| async { asset(UPLOT_JS, "text/javascript; charset=utf-8") }))
        .route("/assets/uPlot.min.css", get(|| async { asset(UPLOT_CSS, "text/css; charset=utf-8") }))
        .route("/assets/charts.js", get(|| async { asset(CHARTS_JS, "text/javascript; charset=utf-8") }))
        .route("/assets/app.js", get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }))
        .route("/assets/vault.js", get(|| async { asset(VAULT_JS, "text/javascript; charset=utf-8") }))
        .route("/assets/app.css", get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }))
        .route("/assets/icon.svg", get(|| async { asset(ICON, "image/svg+xml") }))
        .route("/favicon.ico", get(|| async { asset(ICON, "image/svg+xml") }))
}
