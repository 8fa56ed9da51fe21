//! Sign-in (with the TOTP step), sign-out, the profile page (password, MFA,
//! sessions) and the API tokens page.

use super::api::{change_password, create_token_for, revoke_session_of, revoke_token_of, NewToken, TokenInfo};
use super::login::{self, PasswordStep};
use super::{
    mfa,
    principal::{Ctx, Principal},
    sessions, tokens,
};
use crate::app::App;
use crate::audit::store::Event;
use crate::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::page::{html, html_status};
use crate::time::fmt_time;
use crate::users;
use crate::web::{
    error::{form_error, see_other, PageError, PageResult, WebForm},
    layout::Layout,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde::Deserialize;

/// How long the password-verified, second-factor-pending state lasts.
const PENDING_US: i64 = 5 * 60 * 1_000_000;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "login_mfa.html")]
struct MfaPage {
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site relative paths are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n']) => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn login_form(ctx: Ctx, ApiQuery(q): ApiQuery<NextQuery>) -> Response {
    if ctx.principal.is_some() {
        return see_other(&safe_next(q.next.as_deref()));
    }
    html(&LoginPage { email: String::new(), next: safe_next(q.next.as_deref()), error: None })
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn with_cookie(mut resp: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn auth_error_page(e: ApiError, email: String, next: String) -> PageResult {
    let status = e.status();
    match e {
        ApiError::AuthFailed(..) | ApiError::Throttled(_) => {
            let mut resp = html_status(status, &LoginPage { email, next, error: Some(e.to_string()) });
            if let ApiError::Throttled(s) = e {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            Ok(resp)
        }
        other => Err(PageError(other)),
    }
}

pub async fn login_submit(State(app): State<App>, ctx: Ctx, WebForm(f): WebForm<LoginForm>) -> PageResult {
    let next = safe_next(f.next.as_deref());
    match login::password_step(&app, &ctx, &f.email, &f.password).await {
        Ok(PasswordStep::Done(user)) => {
            let (token, _) = login::start_session(&app, &ctx, &user, "password").await?;
            Ok(with_cookie(see_other(&next), login::session_cookie(&app.cfg, Some(&token), app.cfg.session_absolute_hours * 3600)))
        }
        Ok(PasswordStep::NeedsSecondFactor(user)) => {
            let (_, token, _) = sessions::create(&mut app.store.clone(), user.id, true, PENDING_US, &ctx.ip, &ctx.user_agent).await?;
            let to = format!("/login/mfa?{}", serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default());
            Ok(with_cookie(see_other(&to), login::session_cookie(&app.cfg, Some(&token), 300)))
        }
        Err(e) => auth_error_page(e, f.email.chars().take(254).collect(), next),
    }
}

async fn pending_session(app: &App, headers: &HeaderMap) -> Result<Option<sessions::Session>, ApiError> {
    let Some(token) = super::guard::cookie(headers, super::principal::session_cookie_name(&app.cfg)) else { return Ok(None) };
    let s = sessions::by_token(&mut app.store.clone(), token).await?;
    Ok(s.filter(|s| s.mfa_pending && s.revoked_at.is_none() && crate::time::now_us() < s.expires_at))
}

pub async fn mfa_form(State(app): State<App>, headers: HeaderMap, ApiQuery(q): ApiQuery<NextQuery>) -> PageResult {
    if pending_session(&app, &headers).await?.is_none() {
        return Ok(see_other("/login"));
    }
    Ok(html(&MfaPage { next: safe_next(q.next.as_deref()), error: None }))
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    next: Option<String>,
}

pub async fn mfa_submit(State(app): State<App>, ctx: Ctx, headers: HeaderMap, WebForm(f): WebForm<CodeForm>) -> PageResult {
    let next = safe_next(f.next.as_deref());
    let Some(pending) = pending_session(&app, &headers).await? else { return Ok(see_other("/login")) };
    let user =
        users::store::by_id(&mut app.store.clone(), pending.user_id).await?.filter(|u| !u.disabled).ok_or(ApiError::Unauthenticated)?;
    match login::second_factor(&app, &ctx, &user, &f.code).await {
        Ok(method) => {
            sessions::revoke(&mut app.store.clone(), user.id, pending.id).await?;
            let m = if method == "totp" { "password+totp" } else { "password+recovery_code" };
            let (token, _) = login::start_session(&app, &ctx, &user, m).await?;
            Ok(with_cookie(see_other(&next), login::session_cookie(&app.cfg, Some(&token), app.cfg.session_absolute_hours * 3600)))
        }
        Err(e @ (ApiError::AuthFailed(..) | ApiError::Throttled(_))) => {
            let status = e.status();
            let mut resp = html_status(status, &MfaPage { next, error: Some(e.to_string()) });
            if let ApiError::Throttled(s) = e {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(State(app): State<App>, p: Principal) -> PageResult {
    if let Some(id) = p.session_id() {
        let mut tx = app.store.begin_audited().await?;
        sessions::revoke(tx.tx(), p.user.id, id).await?;
        tx.commit(&p.actor(), Event::new("auth.logout", "session", id)).await?;
    }
    Ok(with_cookie(see_other("/login"), login::session_cookie(&app.cfg, None, 0)))
}

struct SessionRow {
    id: i64,
    current: bool,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
}

struct MfaSetup {
    secret: String,
    qr_data_uri: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    l: Layout,
    mfa_enabled: bool,
    must_enroll: bool,
    recovery_left: i64,
    setup: Option<MfaSetup>,
    recovery_codes: Vec<String>,
    sessions: Vec<SessionRow>,
}

async fn profile_page(app: &App, p: &Principal, l: Layout, setup: Option<MfaSetup>, codes: Vec<String>) -> PageResult {
    let user = users::store::by_id(&mut app.store.clone(), p.user.id).await?.ok_or(ApiError::NotFound)?;
    let cur = p.session_id();
    let sessions = sessions::list_for_user(&mut app.store.clone(), p.user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: Some(s.id) == cur,
            id: s.id,
            created: fmt_time(s.created_at),
            last_seen: fmt_time(s.last_seen_at),
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    let status = if l.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(html_status(
        status,
        &ProfilePage {
            l,
            mfa_enabled: user.totp_enabled,
            must_enroll: p.must_enroll_mfa && !user.totp_enabled,
            recovery_left: mfa::recovery_codes_left(&app.store, user.id).await?,
            setup,
            recovery_codes: codes,
            sessions,
        },
    ))
}

#[derive(Deserialize)]
pub struct ProfileQuery {
    done: Option<String>,
}

pub async fn profile(State(app): State<App>, p: Principal, ApiQuery(q): ApiQuery<ProfileQuery>) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("password") => Some("Password changed. Your other sessions were signed out.".to_string()),
        Some("revoked") => Some("Session signed out.".to_string()),
        _ => None,
    };
    profile_page(&app, &p, Layout::new(&app, &p, "Profile", "profile").with_notice(notice), None, vec![]).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    /// A checkbox: present means revoke the user's API tokens too.
    revoke_tokens: Option<String>,
}

pub async fn password(State(app): State<App>, p: Principal, WebForm(f): WebForm<PasswordForm>) -> PageResult {
    match change_password(
        &app,
        &p,
        &f.current_password,
        &f.new_password,
        crate::web::error::checkbox("revoke_tokens", f.revoke_tokens.as_deref())?,
    )
    .await
    {
        Ok(()) => Ok(see_other("/profile?done=password")),
        Err(e) => {
            let msg = form_error(e)?;
            profile_page(&app, &p, Layout::new(&app, &p, "Profile", "profile").with_error(Some(msg)), None, vec![]).await
        }
    }
}

pub async fn mfa_start(State(app): State<App>, p: Principal) -> PageResult {
    let e = mfa::start(&app, &p.actor(), &p.user).await?;
    let qr = format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(e.qr_svg));
    profile_page(&app, &p, Layout::new(&app, &p, "Profile", "profile"), Some(MfaSetup { secret: e.secret_base32, qr_data_uri: qr }), vec![])
        .await
}

pub async fn mfa_confirm(State(app): State<App>, p: Principal, WebForm(f): WebForm<CodeForm>) -> PageResult {
    let user = users::store::by_id(&mut app.store.clone(), p.user.id).await?.ok_or(ApiError::NotFound)?;
    match mfa::confirm(&app, &p.actor(), &user, &f.code).await {
        Ok(codes) => {
            let l = Layout::new(&app, &p, "Profile", "profile").with_notice(Some("Two-factor authentication is on.".into()));
            profile_page(&app, &p, l, None, codes).await
        }
        Err(e) => {
            let msg = form_error(e)?;
            profile_page(&app, &p, Layout::new(&app, &p, "Profile", "profile").with_error(Some(msg)), None, vec![]).await
        }
    }
}

pub async fn revoke_session(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    revoke_session_of(&app, &p, id).await?;
    Ok(see_other("/profile?done=revoked"))
}

struct ScopeOption {
    scope: &'static str,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    l: Layout,
    tokens: Vec<TokenInfo>,
    scopes: Vec<ScopeOption>,
    created: Option<String>,
}

async fn tokens_page(app: &App, p: &Principal, l: Layout, created: Option<String>) -> PageResult {
    let tokens = tokens::list(&mut app.store.clone(), Some(p.user.id)).await?.into_iter().map(TokenInfo::from).collect();
    let scopes = p.role.permissions().iter().map(|p| ScopeOption { scope: p.scope() }).collect();
    Ok(html(&TokensPage { l, tokens, scopes, created }))
}

pub async fn tokens(State(app): State<App>, p: Principal) -> PageResult {
    tokens_page(&app, &p, Layout::new(&app, &p, "API tokens", "tokens"), None).await
}

pub async fn create_token(State(app): State<App>, p: Principal, body: Bytes) -> PageResult {
    let pairs = super::guard::form_urlencoded_pairs(&body);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let req = NewToken {
        name: get("name").unwrap_or_default(),
        scopes: pairs.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.clone()).collect(),
        expires_in_days: get("expires_in_days").and_then(|d| d.trim().parse().ok()),
    };
    match create_token_for(&app, &p, req).await {
        Ok(t) => tokens_page(&app, &p, Layout::new(&app, &p, "API tokens", "tokens"), Some(t.token)).await,
        Err(e) => {
            let msg = form_error(e)?;
            tokens_page(&app, &p, Layout::new(&app, &p, "API tokens", "tokens").with_error(Some(msg)), None).await
        }
    }
}

pub async fn revoke_token(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    revoke_token_of(&app, &p, id).await?;
    Ok(see_other("/tokens"))
}
