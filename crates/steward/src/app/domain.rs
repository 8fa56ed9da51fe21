//! What a domain hands the server: its API routes and pages, each with what
//! it needs from the caller ([`Need`]), its navigation entries, its jobs, its
//! event listeners, its search sources and the panels it adds to other
//! domains' pages. `routes` merges every domain's [`Domain`]; a new domain is
//! a folder and one line there.
//!
//! A route's [`Need`] is enforced by a layer on that very route (so a
//! handler cannot be reached without it) and written into the OpenAPI
//! document (`x-steward-needs` and the operation's security), which is how
//! the scoping tests walk every route's declaration.

pub use super::future::BoxFut;
use super::panels::Panel;
use super::search::{Indexer, SearchSource};
use super::App;
use crate::auth::principal::{Ctx, Principal};
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::events::Event;
use axum::extract::Request;
use axum::handler::Handler;
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Redirect};
use axum::routing::MethodRouter;
use std::time::Duration;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// What a route needs from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not (the sign-in form and its API).
    Anyone,
    /// Any signed-in caller: what they see is their own (their profile,
    /// their sessions when through a session).
    SignedIn,
    /// A permission; an API token also needs it among its scopes.
    Perm(Permission),
    /// An interactive sign-in (a browser session), never an API token:
    /// changing credentials, managing tokens and sessions.
    Session,
}

impl Need {
    /// Whether `p` (or nobody) may use a route that needs this.
    pub fn check(self, p: Option<&Principal>) -> Result<(), ApiError> {
        match (self, p) {
            (Need::Anyone, _) => Ok(()),
            (_, None) => Err(ApiError::Unauthenticated),
            (Need::SignedIn, Some(_)) => Ok(()),
            (Need::Perm(perm), Some(p)) => p.require(perm),
            (Need::Session, Some(p)) if p.session_id().is_some() => Ok(()),
            (Need::Session, Some(_)) => Err(ApiError::Forbidden(
                "this needs an interactive sign-in; API tokens cannot change credentials, tokens or sessions".into(),
            )),
        }
    }

    /// The declaration as written into the OpenAPI document.
    pub fn label(self) -> String {
        match self {
            Need::Anyone => "anyone".into(),
            Need::SignedIn => "signed-in".into(),
            Need::Perm(p) => p.scope().into(),
            Need::Session => "session".into(),
        }
    }

    /// The layer that enforces it on one route.
    fn layer(self, router: MethodRouter<App>) -> MethodRouter<App> {
        router.route_layer(from_fn(move |req: Request, next: Next| async move {
            let principal = req.extensions().get::<Ctx>().and_then(|c| c.principal.as_ref());
            match self.check(principal) {
                Ok(()) => next.run(req).await,
                Err(ApiError::Unauthenticated) if !crate::http::is_api(req.uri().path()) => {
                    let next = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                    Redirect::to(&format!("/login?{q}")).into_response()
                }
                Err(e) if crate::http::is_api(req.uri().path()) => e.into_response(),
                Err(e) => crate::web::error::error_page(e),
            }
        }))
    }
}

/// An API route with what it needs: the layer enforcing it, and the
/// declaration in the document.
pub fn api(need: Need, (schemas, mut paths, router): UtoipaMethodRouter<App>) -> UtoipaMethodRouter<App> {
    use utoipa::openapi::security::SecurityRequirement;
    for item in paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            op.security = Some(match need {
                Need::Anyone => vec![SecurityRequirement::default()],
                Need::SignedIn => {
                    vec![SecurityRequirement::new::<_, _, &str>("bearer", []), SecurityRequirement::new::<_, _, &str>("session", [])]
                }
                Need::Perm(p) => vec![SecurityRequirement::new("bearer", [p.scope()]), SecurityRequirement::new("session", [p.scope()])],
                Need::Session => vec![SecurityRequirement::new::<_, _, &str>("session", [])],
            });
            let ext = op.extensions.get_or_insert_with(Default::default);
            ext.insert("x-steward-needs".into(), serde_json::Value::String(need.label()));
        }
    }
    (schemas, paths, need.layer(router))
}

/// One page route: a path, a method, what it needs, the handler.
pub struct PageRoute {
    pub path: &'static str,
    pub method: &'static str,
    pub need: Need,
    pub router: MethodRouter<App>,
}

/// `GET path`, needing `need`.
pub fn get<H: Handler<T, App>, T: 'static>(path: &'static str, need: Need, h: H) -> PageRoute {
    PageRoute { path, method: "GET", need, router: need.layer(axum::routing::get(h)) }
}

/// `POST path`, needing `need` (a form: the guard checks its CSRF token).
pub fn post<H: Handler<T, App>, T: 'static>(path: &'static str, need: Need, h: H) -> PageRoute {
    PageRoute { path, method: "POST", need, router: need.layer(axum::routing::post(h)) }
}

/// Where a navigation entry goes in the side bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NavGroup {
    Top,
    Rmm,
    Psa,
    Docs,
    Admin,
}

impl NavGroup {
    pub fn label(self) -> &'static str {
        match self {
            NavGroup::Top => "",
            NavGroup::Rmm => "RMM",
            NavGroup::Psa => "PSA",
            NavGroup::Docs => "Documentation",
            NavGroup::Admin => "Administration",
        }
    }
}

/// A side-bar entry: shown to whoever meets `need`; `g` then `key` goes there.
#[derive(Debug, Clone, Copy)]
pub struct NavItem {
    pub group: NavGroup,
    /// Its place within the group.
    pub order: u16,
    /// What pages name as their section (`Layout::active`).
    pub id: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    pub key: char,
    pub need: Need,
}

/// A job run on a schedule, once per occurrence across all nodes.
pub struct Job {
    pub name: &'static str,
    /// How often, from the configuration (`None`: not on this installation).
    pub every: fn(&crate::config::Config) -> Option<Duration>,
    pub run: fn(App) -> BoxFut<'static, anyhow::Result<()>>,
}

/// A task that hears every event of this node's bus (see `events`).
pub struct Listener {
    pub name: &'static str,
    pub run: fn(App, tokio::sync::mpsc::Receiver<Event>) -> BoxFut<'static, ()>,
}

/// Everything one domain contributes.
pub struct Domain {
    pub name: &'static str,
    pub api: OpenApiRouter<App>,
    pub pages: Vec<PageRoute>,
    pub nav: Vec<NavItem>,
    pub jobs: Vec<Job>,
    pub listeners: Vec<Listener>,
    pub search: Vec<SearchSource>,
    pub indexers: Vec<Indexer>,
    pub panels: Vec<Panel>,
}

impl Domain {
    pub fn new(name: &'static str) -> Domain {
        Domain {
            name,
            api: OpenApiRouter::new(),
            pages: vec![],
            nav: vec![],
            jobs: vec![],
            listeners: vec![],
            search: vec![],
            indexers: vec![],
            panels: vec![],
        }
    }

    /// An API route (`utoipa_axum::routes!(handler)`) and what it needs.
    pub fn api(mut self, need: Need, r: UtoipaMethodRouter<App>) -> Domain {
        self.api = self.api.routes(api(need, r));
        self
    }

    pub fn pages(mut self, pages: impl IntoIterator<Item = PageRoute>) -> Domain {
        self.pages.extend(pages);
        self
    }

    pub fn nav(mut self, item: NavItem) -> Domain {
        self.nav.push(item);
        self
    }

    pub fn job(mut self, job: Job) -> Domain {
        self.jobs.push(job);
        self
    }

    pub fn listener(mut self, l: Listener) -> Domain {
        self.listeners.push(l);
        self
    }

    pub fn search(mut self, s: SearchSource) -> Domain {
        self.search.push(s);
        self
    }

    /// Puts this domain's records in the full-text index.
    pub fn indexer(mut self, i: Indexer) -> Domain {
        self.indexers.push(i);
        self
    }

    pub fn panel(mut self, p: Panel) -> Domain {
        self.panels.push(p);
        self
    }
}

/// What the pages read at request time, kept in the application state.
#[derive(Default)]
pub struct Registered {
    pub nav: Vec<NavItem>,
    pub search: Vec<SearchSource>,
    pub indexers: Vec<Indexer>,
    pub panels: Vec<Panel>,
}
