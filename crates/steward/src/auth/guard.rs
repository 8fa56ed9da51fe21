//! The one middleware every request passes through (see the `auth` module doc).

use super::principal::{ct_eq, Ctx, Principal, Via};
use super::roles::{self, Perms};
use super::{sessions, tokens};
use crate::app::App;
use crate::error::{error_response, ApiError};
use crate::users::{self, store::User};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;

fn always_open(path: &str) -> bool {
    // Agents authenticate inside their own protocol (devices::gateway).
    path == "/healthz"
        || path == "/readyz"
        || path.starts_with("/assets/")
        || path.starts_with("/agent/")
        || path == "/api/v1/openapi.json"
        || path == "/favicon.ico"
}

/// Paths a user who must enrol MFA may still use.
fn mfa_enrollment_allowed(path: &str) -> bool {
    path == "/profile"
        || path.starts_with("/profile/mfa")
        || path == "/logout"
        || path == "/api/v1/me"
        || path.starts_with("/api/v1/me/mfa")
        || path == "/api/v1/auth/logout"
}

/// The client id in `/clients/{id}/…` or `/api/v1/clients/{id}/…`, if the
/// path is one of those. `Some(None)` means the segment is not a valid id.
pub(crate) fn client_in_path(path: &str) -> Option<Option<i64>> {
    let rest = path.strip_prefix("/api/v1/clients/").or_else(|| path.strip_prefix("/clients/"))?;
    let seg = rest.split('/').next().unwrap_or("");
    if seg.is_empty() || seg == "new" {
        return None;
    }
    Some(seg.parse::<i64>().ok())
}

pub(crate) fn client_ip(state: &App, req: &Request) -> String {
    if state.cfg.trust_forwarded_for {
        if let Some(ff) = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            if let Some(first) = ff.split(',').next() {
                return first.trim().chars().take(64).collect();
            }
        }
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

pub(crate) fn cookie<'a>(req_headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    req_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Resolves a principal for a user (shared by sessions and tokens).
pub(crate) async fn principal_for(state: &App, user: User, via: Via, ip: String, perms: Option<Perms>) -> Result<Principal, ApiError> {
    let role = user.role();
    let clients = if user.clients_limited && role.can_be_client_limited() {
        Some(users::store::client_ids(&mut state.store.clone(), user.id).await?)
    } else {
        None
    };
    let require = crate::settings::store::require_mfa(&state.store).await?;
    // A token of a user who has not enrolled is held like their session:
    // the installation's MFA rule covers every way in.
    let must_enroll_mfa = require && !user.totp_enabled;
    Ok(Principal { perms: perms.unwrap_or_else(|| role.permissions()), role, clients, via, ip, must_enroll_mfa, user })
}

/// Authenticates a request from its bearer token or session cookie.
/// `Err` means credentials were presented but are not valid.
async fn resolve(state: &App, headers: &axum::http::HeaderMap, ip: &str) -> Result<Option<Principal>, ApiError> {
    let now = crate::time::now_us();
    let mut db = state.store.clone();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let secret = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).ok_or(ApiError::Unauthenticated)?;
        let t = tokens::by_secret(&mut db, secret).await?.filter(|t| t.live(now)).ok_or(ApiError::Unauthenticated)?;
        let user = users::store::by_id(&mut db, t.user_id).await?.filter(|u| !u.disabled).ok_or(ApiError::Unauthenticated)?;
        tokens::touch(&mut db, &t, now).await?;
        let perms = roles::effective_token_perms(user.role(), roles::parse_scopes(&t.scope_list()));
        let via = Via::Token { id: t.id, name: t.name.clone() };
        return principal_for(state, user, via, ip.to_string(), Some(perms)).await.map(Some);
    }
    let Some(token) = cookie(headers, super::principal::session_cookie_name(&state.cfg)) else { return Ok(None) };
    let Some(s) = sessions::by_token(&mut db, token).await? else { return Ok(None) };
    if s.mfa_pending || !s.live(now, state.cfg.session_lifetimes()) {
        return Ok(None);
    }
    let Some(user) = users::store::by_id(&mut db, s.user_id).await?.filter(|u| !u.disabled) else { return Ok(None) };
    sessions::touch(&mut db, &s, now, state.cfg.session_lifetimes()).await?;
    let via = Via::Session { id: s.id, csrf: s.csrf_token.clone(), mfa_at: s.mfa_at };
    principal_for(state, user, via, ip.to_string(), None).await.map(Some)
}

/// The origin this server is reached at, for the Origin check.
fn expected_origin(state: &App, req: &Request) -> Option<String> {
    if let Some(u) = &state.cfg.public_url {
        return Some(u.clone());
    }
    // HTTP/2 carries the host as the `:authority` pseudo-header (in the URI),
    // HTTP/1.1 as the Host header.
    let host = match req.uri().authority() {
        Some(a) => a.as_str(),
        None => req.headers().get(header::HOST)?.to_str().ok()?,
    };
    let scheme = if state.cfg.plain_http { "http" } else { "https" };
    Some(format!("{scheme}://{host}"))
}

fn origin_ok(state: &App, req: &Request) -> bool {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        return match expected_origin(state, req) {
            // Behind a proxy the scheme we see may differ; the host must match.
            Some(exp) => {
                origin == exp || (state.cfg.plain_http && origin.split_once("://").map(|x| x.1) == exp.split_once("://").map(|x| x.1))
            }
            None => false,
        };
    }
    // No Origin: not a browser cross-site request, unless Fetch metadata says so.
    !matches!(req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()), Some("cross-site"))
}

fn web_or_api(path: &str, err: ApiError) -> Response {
    if crate::http::is_api(path) {
        err.into_response()
    } else {
        crate::web::error::error_page(err)
    }
}

/// The most of a multipart body read to find its token.
const MULTIPART_PEEK: usize = 4096;

/// What the start of a multipart body says about its token.
#[derive(Debug, PartialEq, Eq)]
enum Peek {
    Token(String),
    /// The first part is something else (or the start is not multipart).
    Absent,
    NeedMore,
}

/// The token, when the first part of `start` is the `_csrf` field.
fn peek_csrf(start: &[u8], boundary: &str) -> Peek {
    let open = format!("--{boundary}\r\n");
    if start.len() < open.len() {
        return if open.as_bytes().starts_with(start) { Peek::NeedMore } else { Peek::Absent };
    }
    let Some(rest) = start.strip_prefix(open.as_bytes()) else { return Peek::Absent };
    let Some(head_end) = rest.windows(4).position(|w| w == b"\r\n\r\n") else { return Peek::NeedMore };
    let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
    let named = head.lines().any(|l| l.starts_with("content-disposition:") && l.contains("form-data") && l.contains("name=\"_csrf\""));
    if !named || head.contains("filename") {
        return Peek::Absent;
    }
    let value = &rest[head_end + 4..];
    let close = format!("\r\n--{boundary}");
    match value.windows(close.len()).position(|w| w == close.as_bytes()) {
        Some(end) => String::from_utf8(value[..end].to_vec()).map(Peek::Token).unwrap_or(Peek::Absent),
        None => Peek::NeedMore,
    }
}

/// Reads the token of a multipart form from its first part (every form of
/// ours puts the hidden `_csrf` input first) without reading the rest: a
/// 25 MiB upload passes through unbuffered, the part read is put back.
async fn multipart_csrf(req: Request, boundary: &str) -> Result<(Request, Option<String>), ApiError> {
    use futures_util::StreamExt;
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut start = Vec::new();
    let token = loop {
        match peek_csrf(&start, boundary) {
            Peek::Token(t) => break Some(t),
            Peek::Absent => break None,
            Peek::NeedMore if start.len() > MULTIPART_PEEK => break None,
            Peek::NeedMore => match stream.next().await {
                Some(Ok(chunk)) => start.extend_from_slice(&chunk),
                Some(Err(_)) => return Err(ApiError::BadRequest("the request body broke off".into())),
                None => break None,
            },
        }
    };
    let head = futures_util::stream::once(async move { Ok::<_, axum::Error>(axum::body::Bytes::from(start)) });
    Ok((Request::from_parts(parts, Body::from_stream(head.chain(stream))), token))
}

/// Reads the `_csrf` field of a form body and puts the body back.
async fn form_csrf(req: Request, limit: usize) -> Result<(Request, Option<String>), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::BadRequest("request body too large".into()))?;
    let token = serde_urlencoded_field(&bytes, "_csrf");
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

fn serde_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded_pairs(body).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// `application/x-www-form-urlencoded` pairs of a body (empty when malformed).
pub(crate) fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The guard (see the module doc). Runs on every route.
pub async fn guard(axum::extract::State(state): axum::extract::State<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if always_open(&path) {
        return next.run(req).await;
    }
    let ip = client_ip(&state, &req);
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();

    match state.has_admin().await {
        Ok(true) => {}
        Ok(false) => return web_or_api(&path, ApiError::SetupRequired),
        Err(e) => return web_or_api(&path, e),
    }

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !origin_ok(&state, &req) {
        return web_or_api(&path, ApiError::Forbidden("cross-origin request refused".into()));
    }

    let headers = req.headers().clone();
    let principal = match resolve(&state, &headers, &ip).await {
        Ok(p) => p,
        Err(e) => return web_or_api(&path, e),
    };

    let mut req = req;
    if let (Some(_), Some(pending)) = (&principal, req.extensions().get::<crate::http::pending::Pending>()) {
        // Who is on this connection is known: it no longer counts against
        // its address's share of unauthenticated connections.
        pending.authenticated();
    }
    if let Some(p) = &principal {
        if let Via::Session { csrf, .. } = &p.via {
            if unsafe_method {
                let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
                let is_form = req
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
                let boundary = req
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| v.starts_with("multipart/form-data"))
                    .and_then(|v| multer::parse_boundary(v).ok());
                let presented = match (header_token, boundary) {
                    (Some(t), _) => Some(t),
                    (None, Some(b)) => match multipart_csrf(req, &b).await {
                        Ok((r, t)) => {
                            req = r;
                            t
                        }
                        Err(e) => return web_or_api(&path, e),
                    },
                    (None, None) if is_form => match form_csrf(req, state.cfg.body_limit_bytes).await {
                        Ok((r, t)) => {
                            req = r;
                            t
                        }
                        Err(e) => return web_or_api(&path, e),
                    },
                    (None, None) => None,
                };
                if !presented.is_some_and(|t| ct_eq(&t, csrf)) {
                    return web_or_api(&path, ApiError::Forbidden("missing or wrong CSRF token".into()));
                }
            }
        }
        if p.must_enroll_mfa && !mfa_enrollment_allowed(&path) {
            if crate::http::is_api(&path) {
                return error_response(
                    StatusCode::FORBIDDEN,
                    "mfa_enrollment_required",
                    "set up two-factor authentication first (your administrator requires it)",
                );
            }
            return Redirect::to("/profile?mfa=required").into_response();
        }
        match client_in_path(&path) {
            Some(None) => return web_or_api(&path, ApiError::invalid("id", "is not a valid id")),
            Some(Some(id)) if !p.sees_client(id) => return web_or_api(&path, ApiError::NotFound),
            _ => {}
        }
    }

    req.extensions_mut().insert(Ctx { ip, principal, user_agent });
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::{peek_csrf, Peek};

    #[test]
    fn a_multipart_token_is_read_from_the_first_part_only() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhi\r\n--XyZ--\r\n";
        assert_eq!(peek_csrf(body, "XyZ"), Peek::Token("abc123".into()));
        for cut in [0, 3, 20, 60] {
            assert_eq!(peek_csrf(&body[..cut], "XyZ"), Peek::NeedMore, "{cut}");
        }
        let later = b"--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhi\r\n--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n--XyZ--";
        assert_eq!(peek_csrf(later, "XyZ"), Peek::Absent);
        let file = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"; filename=\"x\"\r\n\r\nabc\r\n--XyZ--";
        assert_eq!(peek_csrf(file, "XyZ"), Peek::Absent);
        assert_eq!(peek_csrf(b"garbage that is long enough", "XyZ"), Peek::Absent);
    }
}
