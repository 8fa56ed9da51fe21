//! Who is asking: the authenticated [`Principal`] a request carries, how it
//! authenticated ([`Via`]), and the per-request [`Ctx`] the guard attaches.
//! Plain data: the guard (`auth::guard`) builds them, handlers read them.

use crate::audit::store::Actor;
use crate::auth::roles::{Permission, Perms, Role};
use crate::error::ApiError;
use crate::users::store::User;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

/// Name of the session cookie. `__Host-` makes browsers insist on Secure,
/// Path=/ and no Domain, so no sibling host can set or read it.
pub const SESSION_COOKIE: &str = "__Host-steward_session";

/// The session cookie's name where browsers speak plain HTTP (the demo),
/// which cannot carry the `__Host-` prefix.
pub const PLAIN_HTTP_SESSION_COOKIE: &str = "steward_session";

/// The session cookie's name on this server.
pub fn session_cookie_name(cfg: &crate::config::Config) -> &'static str {
    if cfg.browsers_on_plain_http {
        PLAIN_HTTP_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// Constant-time string comparison for secrets.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A client id the caller may see. Made only by [`Principal::client`] (or,
/// for the server's own jobs, [`ScopedClient::system`]), and required by the
/// store's functions that read one client's records, so another client's
/// id that arrives in a query string or a body cannot reach them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopedClient(i64);

impl ScopedClient {
    pub fn id(self) -> i64 {
        self.0
    }

    /// For the server itself (jobs, the scheduler), which acts for every client.
    pub fn system(client_id: i64) -> ScopedClient {
        ScopedClient(client_id)
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// `mfa_at`: when this session last proved its second factor.
    Session {
        id: i64,
        csrf: String,
        mfa_at: Option<i64>,
    },
    Token {
        id: i64,
        name: String,
    },
}

/// An authenticated caller and what they may do.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub role: Role,
    pub perms: Perms,
    /// `None`: every client; `Some(ids)`: only these clients exist for them.
    pub clients: Option<Vec<i64>>,
    pub via: Via,
    pub ip: String,
    /// MFA is required by policy and this user has not enrolled yet.
    pub must_enroll_mfa: bool,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        let label = match &self.via {
            Via::Session { .. } => self.user.email.clone(),
            Via::Token { name, .. } => format!("{} (token {name})", self.user.email),
        };
        Actor { user_id: Some(self.user.id), label, ip: self.ip.clone() }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.perms.has(p)
    }

    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this needs the {} permission", p.scope())))
        }
    }

    pub fn sees_client(&self, client_id: i64) -> bool {
        self.clients.as_ref().is_none_or(|ids| ids.contains(&client_id))
    }

    /// The one way a client id becomes a [`ScopedClient`]: wherever it came
    /// from (the path, a query parameter, a form field, a JSON body), a
    /// client outside the caller's set is not found, exactly like one that
    /// does not exist.
    pub fn client(&self, client_id: i64) -> Result<ScopedClient, ApiError> {
        if self.sees_client(client_id) {
            Ok(ScopedClient(client_id))
        } else {
            Err(ApiError::NotFound)
        }
    }

    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }

    /// When this session last proved its second factor (never for a token).
    pub fn mfa_at(&self) -> Option<i64> {
        match self.via {
            Via::Session { mfa_at, .. } => mfa_at,
            Via::Token { .. } => None,
        }
    }

    pub fn session_id(&self) -> Option<i64> {
        match self.via {
            Via::Session { id, .. } => Some(id),
            Via::Token { .. } => None,
        }
    }
}

/// Per-request context the guard attaches to every request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub ip: String,
    pub principal: Option<Principal>,
    pub user_agent: String,
}

impl Ctx {
    /// The actor for audit entries of unauthenticated actions (sign-in).
    pub fn anonymous_actor(&self, label: &str) -> Actor {
        Actor { user_id: None, label: label.chars().take(200).collect(), ip: self.ip.clone() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| ApiError::internal("guard did not run"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Ctx>().and_then(|c| c.principal.clone()) {
            Some(p) => Ok(p),
            None if parts.uri.path().starts_with("/api/") => Err(ApiError::Unauthenticated.into_response()),
            None => Err(Redirect::to(&login_url(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))).into_response()),
        }
    }
}

/// The sign-in page, coming back to `next` afterwards.
pub fn login_url(next: &str) -> String {
    format!("/login?{}", serde_urlencoded::to_string([("next", next)]).unwrap_or_default())
}
