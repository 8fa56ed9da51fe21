//! The web UI's shell: the page layout, the route table, the home page, the
//! global search, error pages and form handling shared by every domain's
//! `pages` module.
//!
//! Pages are server-rendered (askama) and progressively enhanced with htmx
//! (`hx-boost` turns links and forms into partial page swaps). Every form
//! carries the session's CSRF token; the guard checks it.

use crate::auth::roles::Permission;
use crate::auth::{Ctx, Principal};
use crate::http::error::ApiError;
use crate::http::page::{html, html_status};
use crate::http::App;
use askama::Template;
use axum::extract::{FromRequest, Query, Request, State};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// What the layout needs on every page.
pub struct Layout {
    pub title: String,
    pub active: &'static str,
    pub user_name: String,
    pub user_email: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub can_users: bool,
    pub can_audit: bool,
    pub can_settings: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub version: &'static str,
}

impl Layout {
    pub fn new(p: &Principal, title: impl Into<String>, active: &'static str) -> Layout {
        Layout {
            title: title.into(),
            active,
            user_name: p.user.name.clone(),
            user_email: p.user.email.clone(),
            role_label: p.role.label(),
            csrf: p.csrf().to_string(),
            can_users: p.can(Permission::UsersRead),
            can_audit: p.can(Permission::AuditRead),
            can_settings: p.can(Permission::SettingsWrite),
            notice: None,
            error: None,
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    pub fn with_error(mut self, e: Option<String>) -> Layout {
        self.error = e;
        self
    }

    pub fn with_notice(mut self, n: Option<String>) -> Layout {
        self.notice = n;
        self
    }
}

/// Every web route. Built as a table so tests can walk it.
pub fn routes() -> Vec<(&'static str, MethodRouter<App>)> {
    use crate::{audit, auth, devices, settings, tenancy, users};
    vec![
        ("/", get(home)),
        ("/search", get(search)),
        ("/login", get(auth::pages::login_form).post(auth::pages::login_submit)),
        ("/login/mfa", get(auth::pages::mfa_form).post(auth::pages::mfa_submit)),
        ("/logout", post(auth::pages::logout)),
        ("/profile", get(auth::pages::profile)),
        ("/profile/password", post(auth::pages::password)),
        ("/profile/mfa/start", post(auth::pages::mfa_start)),
        ("/profile/mfa/confirm", post(auth::pages::mfa_confirm)),
        ("/profile/sessions/{id}/revoke", post(auth::pages::revoke_session)),
        ("/tokens", get(auth::pages::tokens).post(auth::pages::create_token)),
        ("/tokens/{id}/revoke", post(auth::pages::revoke_token)),
        ("/clients", get(tenancy::pages::list).post(tenancy::pages::create)),
        ("/clients/{id}", get(tenancy::pages::show).post(tenancy::pages::update)),
        ("/clients/{id}/archive", post(tenancy::pages::archive)),
        ("/clients/{id}/agent-settings", post(tenancy::pages::update_agent_settings)),
        ("/clients/{id}/sites", post(tenancy::pages::create_site)),
        ("/clients/{id}/sites/{site_id}", get(tenancy::pages::site_form).post(tenancy::pages::update_site)),
        ("/clients/{id}/sites/{site_id}/enrollment-tokens", post(tenancy::pages::create_enrollment_token)),
        ("/clients/{id}/sites/{site_id}/enrollment-tokens/{token_id}/revoke", post(tenancy::pages::revoke_enrollment_token)),
        ("/clients/{id}/contacts", post(tenancy::pages::create_contact)),
        ("/clients/{id}/devices/{device_id}", get(devices::pages::show)),
        ("/clients/{id}/devices/{device_id}/revoke", post(devices::pages::revoke)),
        ("/clients/{id}/devices/{device_id}/ping", post(devices::pages::ping)),
        ("/clients/{id}/devices/{device_id}/agent-settings", post(devices::pages::update_agent_settings)),
        ("/devices", get(devices::pages::list)),
        ("/devices/events", get(devices::live::events)),
        ("/clients/{id}/devices/{device_id}/run-script", post(crate::scripts::pages::run_on_device)),
        ("/scripts", get(crate::scripts::pages::list).post(crate::scripts::pages::create)),
        ("/scripts/{id}", get(crate::scripts::pages::show).post(crate::scripts::pages::update)),
        ("/scripts/{id}/run", post(crate::scripts::pages::run)),
        ("/script-runs/{id}", get(crate::scripts::pages::show_run)),
        ("/script-runs/{id}/approve", post(crate::scripts::pages::approve)),
        ("/script-runs/{id}/reject", post(crate::scripts::pages::reject)),
        ("/script-runs/{id}/cancel", post(crate::scripts::pages::cancel)),
        ("/clients/{id}/contacts/{contact_id}", get(tenancy::pages::contact_form).post(tenancy::pages::update_contact)),
        ("/users", get(users::pages::list).post(users::pages::create)),
        ("/users/{id}", get(users::pages::show).post(users::pages::update)),
        ("/users/{id}/reset-mfa", post(users::pages::reset_mfa)),
        ("/audit", get(audit::pages::list)),
        ("/settings", get(settings::pages::show).post(settings::pages::update)),
    ]
}

/// The paths of [`routes`], for tests and docs.
pub fn paths() -> Vec<&'static str> {
    routes().into_iter().map(|(p, _)| p).collect()
}

pub fn router() -> Router<App> {
    routes().into_iter().fold(Router::new(), |r, (p, m)| r.route(p, m))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage;

/// An HTML page for an error (the web counterpart of the JSON error body).
pub fn error_page(e: ApiError) -> Response {
    if let ApiError::SetupRequired = e {
        return html_status(e.status(), &SetupPage);
    }
    if let ApiError::Internal(detail) = &e {
        tracing::error!(%detail, "internal error");
    }
    let status = e.status();
    let title = status.canonical_reason().unwrap_or("Error").to_string();
    let message = match &e {
        ApiError::NotFound => "There is nothing here, or you do not have access to it.".to_string(),
        other => other.to_string(),
    };
    html_status(status, &ErrorPage { status: status.as_u16(), title, message })
}

/// Web handlers return this: an HTML page, or an HTML error page.
pub type PageResult = Result<Response, PageError>;

/// Wraps [`ApiError`] so it renders as HTML.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        PageError(e.into())
    }
}

impl axum::response::IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0)
    }
}

/// Form body extractor for pages: a malformed form is an HTML 400.
pub struct WebForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for WebForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(WebForm(v)),
            Err(e) => Err(error_page(ApiError::BadRequest(e.body_text()))),
        }
    }
}

/// `303 See Other` to `to`: the post/redirect/get step after a form.
pub fn see_other(to: &str) -> Response {
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(to))
}

/// A form's validation error becomes a message on the re-rendered page;
/// anything else is an error page.
pub fn form_error(e: ApiError) -> Result<String, PageError> {
    match e {
        ApiError::Invalid { message, .. } => Ok(message),
        ApiError::Conflict(m) => Ok(m),
        other => Err(PageError(other)),
    }
}

struct HomeStat {
    label: &'static str,
    value: i64,
    href: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    stats: Vec<HomeStat>,
    recent: Vec<crate::audit::pages::Row>,
    mfa_enabled: bool,
}

async fn home(State(app): State<App>, p: Principal) -> PageResult {
    let mut db = app.store.clone();
    let q = crate::tenancy::ClientQuery { scope: p.clients.clone(), ..Default::default() };
    let (_, clients) = crate::tenancy::list_clients(&mut db, &q, 1, 0).await?;
    let mut stats = vec![HomeStat { label: "Clients", value: clients, href: "/clients" }];
    if p.can(Permission::UsersRead) {
        stats.push(HomeStat { label: "Users", value: crate::users::count(&mut db).await?, href: "/users" });
    }
    let recent = if p.can(Permission::AuditRead) {
        let f = crate::audit::api::filter_for(&p, None, None, None);
        crate::audit::list(&mut app.store.clone(), &f, 10, 0).await?.0.into_iter().map(crate::audit::pages::Row::from).collect()
    } else {
        vec![]
    };
    Ok(html(&HomePage { l: Layout::new(&p, "Home", "home"), stats, recent, mfa_enabled: p.user.totp_enabled }))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    q: String,
    hits: Vec<crate::tenancy::SearchHit>,
}

async fn search(State(app): State<App>, p: Principal, _ctx: Ctx, Query(sq): Query<SearchQuery>) -> PageResult {
    let q: String = sq.q.trim().chars().take(200).collect();
    let hits = if q.is_empty() || !p.can(Permission::ClientsRead) {
        vec![]
    } else {
        crate::tenancy::search(&mut app.store.clone(), p.clients.as_deref(), &q, 20).await?
    };
    Ok(html(&SearchPage { l: Layout::new(&p, "Search", "search"), q, hits }))
}
