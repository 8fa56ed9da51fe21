//! `/api/v1/auth/*`, `/api/v1/me*` and `/api/v1/tokens*`.

use super::login::{self, PasswordStep};
use super::roles::{self, Role};
use super::{
    mfa,
    principal::{Ctx, Principal, Via},
    sessions, tokens,
};
use crate::app::App;
use crate::audit::store::Event;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use crate::time::{now_us, rfc3339};
use crate::users::{self, store::Users};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Sign-in request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// A TOTP code or a recovery code, when the account has MFA.
    pub totp: Option<String>,
}

/// The signed-in user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Token scopes this user (or token) holds.
    pub permissions: Vec<String>,
    /// `null`: every client; otherwise the only client ids visible.
    pub clients: Option<Vec<i64>>,
    pub mfa_enabled: bool,
    pub must_enroll_mfa: bool,
    /// Send as `X-CSRF-Token` on state-changing requests made with the session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

fn me_of(p: &Principal) -> Me {
    Me {
        id: p.user.id,
        email: p.user.email.clone(),
        name: p.user.name.clone(),
        role: p.role,
        permissions: p.perms.scopes(),
        clients: p.clients.clone(),
        mfa_enabled: p.user.totp_enabled,
        must_enroll_mfa: p.must_enroll_mfa,
        csrf_token: match &p.via {
            Via::Session { csrf, .. } => Some(csrf.clone()),
            Via::Token { .. } => None,
        },
    }
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me, description = "signed in; the session cookie is set"),
        (status = 401, body = ErrorEnvelope, description = "invalid_credentials, mfa_required or invalid_mfa_code"),
        (status = 429, body = ErrorEnvelope, description = "throttled; see Retry-After")))]
pub async fn login(State(app): State<App>, ctx: Ctx, ApiJson(req): ApiJson<LoginRequest>) -> ApiResult {
    let (user, method) = match login::password_step(&app, &ctx, &req.email, &req.password).await? {
        PasswordStep::Done(u) => (u, "password"),
        PasswordStep::NeedsSecondFactor(u) => match req.totp.as_deref().filter(|t| !t.trim().is_empty()) {
            None => return Err(ApiError::AuthFailed("mfa_required", "this account needs a TOTP or recovery code".into())),
            Some(code) => {
                let m = login::second_factor(&app, &ctx, &u, code).await?;
                (u, if m == "totp" { "password+totp" } else { "password+recovery_code" })
            }
        },
    };
    let (token, _csrf) = login::start_session(&app, &ctx, &user, method).await?;
    // Build the response from the fresh session, exactly as later requests see it.
    let mut db = app.store.clone();
    let s = sessions::by_token(&mut db, &token).await?.ok_or_else(|| ApiError::internal("session vanished"))?;
    let p = super::guard::principal_for(&app, user, Via::Session { id: s.id, csrf: s.csrf_token, mfa_at: s.mfa_at }, ctx.ip.clone(), None)
        .await?;
    let cookie = login::session_cookie(&app.cfg, Some(&token), app.cfg.session_absolute_hours * 3600);
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(me_of(&p))).into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "signed out"), (status = 401, body = ErrorEnvelope)))]
pub async fn logout(State(app): State<App>, p: Principal) -> ApiResult {
    if let Some(id) = p.session_id() {
        let mut tx = app.store.begin_audited().await?;
        sessions::revoke(tx.tx(), p.user.id, id).await?;
        tx.commit(&p.actor(), Event::new("auth.logout", "session", id)).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, login::session_cookie(&app.cfg, None, 0))]).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorEnvelope)))]
pub async fn me(p: Principal) -> ApiResult {
    Ok(json(me_of(&p)))
}

/// Password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters, not a common password.
    #[schema(min_length = 12, max_length = 1024)]
    pub new_password: String,
    /// Also revoke every API token you made (a leaked password may have
    /// been used to make one).
    #[serde(default)]
    pub revoke_tokens: bool,
}

/// Changes the caller's password and signs out their other sessions.
pub async fn change_password(app: &App, p: &Principal, current: &str, new: &str, revoke_tokens: bool) -> Result<(), ApiError> {
    session_only(p)?;
    super::password::check_policy(new).map_err(|e| crate::users::ops::policy_error("new_password", e))?;
    let (cur, hash) = (current.to_string(), p.user.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || super::password::verify(&cur, &hash)).await.map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::refused("current_password", "is wrong"));
    }
    let new = new.to_string();
    let hash = tokio::task::spawn_blocking(move || super::password::hash(&new)).await.map_err(ApiError::internal)?;
    let mut tx = app.store.begin_audited().await?;
    users::store::update(tx.tx(), p.user.id, vec![(Users::PasswordHash, hash.into())]).await?;
    let revoked = sessions::revoke_all(tx.tx(), p.user.id, p.session_id()).await?;
    let tokens_revoked = if revoke_tokens { tokens::revoke_all(tx.tx(), p.user.id).await? } else { 0 };
    tx.commit(
        &p.actor(),
        Event::new("user.password_change", "user", p.user.id)
            .details(json!({"other_sessions_revoked": revoked, "tokens_revoked": tokens_revoked})),
    )
    .await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorEnvelope)))]
pub async fn password(State(app): State<App>, p: Principal, ApiJson(req): ApiJson<PasswordChange>) -> ApiResult {
    change_password(&app, &p, &req.current_password, &req.new_password, req.revoke_tokens).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn session_only(p: &Principal) -> Result<(), ApiError> {
    match p.via {
        Via::Session { .. } => Ok(()),
        Via::Token { .. } => Err(ApiError::Forbidden("API tokens cannot change credentials or manage tokens; sign in".into())),
    }
}

/// A new TOTP secret to add to an authenticator app.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaStart {
    pub secret: String,
    pub otpauth_uri: String,
}

#[utoipa::path(post, path = "/api/v1/me/mfa/start", tag = "auth", responses((status = 200, body = MfaStart), (status = 409, body = ErrorEnvelope)))]
pub async fn mfa_start(State(app): State<App>, p: Principal) -> ApiResult {
    session_only(&p)?;
    let e = mfa::start(&app, &p.actor(), &p.user).await?;
    Ok(json(MfaStart { secret: e.secret_base32, otpauth_uri: e.otpauth_uri }))
}

/// A code from the authenticator app.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaConfirm {
    pub code: String,
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/me/mfa/confirm", tag = "auth", request_body = MfaConfirm,
    responses((status = 200, body = RecoveryCodes), (status = 400, body = ErrorEnvelope)))]
pub async fn mfa_confirm(State(app): State<App>, p: Principal, ApiJson(req): ApiJson<MfaConfirm>) -> ApiResult {
    session_only(&p)?;
    let user = users::store::by_id(&mut app.store.clone(), p.user.id).await?.ok_or(ApiError::NotFound)?;
    let codes = mfa::confirm(&app, &p.actor(), &user, &req.code).await?;
    // The code just proved the second factor for this session too.
    if let Some(sid) = p.session_id() {
        sessions::mark_mfa(&mut app.store.clone(), sid, now_us()).await?;
    }
    Ok(json(RecoveryCodes { recovery_codes: codes }))
}

/// Proves the second factor again with a fresh code, for what needs a
/// recent proof (revealing a vault secret). Audited.
#[utoipa::path(post, path = "/api/v1/me/mfa/verify", tag = "auth", request_body = MfaConfirm,
    responses((status = 204, description = "Proven; the session may reveal secrets for a while"), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn mfa_verify(State(app): State<App>, ctx: Ctx, p: Principal, ApiJson(req): ApiJson<MfaConfirm>) -> Result<StatusCode, ApiError> {
    session_only(&p)?;
    let sid = p.session_id().ok_or_else(|| ApiError::Forbidden("only a signed-in session proves a second factor".into()))?;
    let user = users::store::by_id(&mut app.store.clone(), p.user.id).await?.ok_or(ApiError::NotFound)?;
    if !user.totp_enabled {
        return Err(ApiError::Conflict("set up two-factor authentication first (Profile)".into()));
    }
    let method = login::second_factor(&app, &ctx, &user, &req.code).await?;
    let mut tx = app.store.begin_audited().await?;
    sessions::mark_mfa(tx.tx(), sid, now_us()).await?;
    tx.commit(&p.actor(), Event::new("auth.mfa_verify", "session", sid).details(json!({"method": method}))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A signed-in session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", params(PageParams), responses((status = 200, body = Paged<SessionInfo>)))]
pub async fn list_sessions(State(app): State<App>, p: Principal, ApiQuery(page): ApiQuery<PageParams>) -> ApiResult {
    let rows = sessions::list_for_user(&mut app.store.clone(), p.user.id).await?;
    let cur = p.session_id();
    Ok(json(Paged::from_all(
        rows.into_iter()
            .map(|s| SessionInfo {
                current: Some(s.id) == cur,
                id: s.id,
                created_at: rfc3339(s.created_at),
                last_seen_at: rfc3339(s.last_seen_at),
                expires_at: rfc3339(s.expires_at),
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect::<Vec<_>>(),
        &page,
    )))
}

/// Revokes one of the caller's sessions.
pub async fn revoke_session_of(app: &App, p: &Principal, id: i64) -> Result<(), ApiError> {
    let mut tx = app.store.begin_audited().await?;
    if !sessions::revoke(tx.tx(), p.user.id, id).await? {
        return Err(ApiError::NotFound);
    }
    tx.commit(&p.actor(), Event::new("auth.session_revoke", "session", id)).await?;
    Ok(())
}

#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_session(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    revoke_session_of(&app, &p, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An API token (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub scopes: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

impl From<tokens::Token> for TokenInfo {
    fn from(t: tokens::Token) -> Self {
        TokenInfo {
            scopes: t.scope_list(),
            id: t.id,
            user_id: t.user_id,
            name: t.name,
            prefix: t.prefix,
            created_at: rfc3339(t.created_at),
            expires_at: rfc3339(t.expires_at),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked: t.revoked_at.is_some(),
        }
    }
}

/// A token to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// Scopes such as `clients:read`; none may exceed your role.
    #[schema(value_type = Vec<super::roles::Scope>)]
    pub scopes: Vec<String>,
    /// Lifetime in days (1–365, default 90).
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<u32>,
}

/// A created token: `token` is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// Creates a token for the caller (shared with the tokens page).
pub async fn create_token_for(app: &App, p: &Principal, req: NewToken) -> Result<CreatedToken, ApiError> {
    session_only(p)?;
    let name = crate::validate::Name::parse(&req.name).map_err(|m| ApiError::invalid("name", m))?;
    let perms = roles::token_scopes(p.role, &req.scopes).map_err(|e| ApiError::refused("scopes", e.to_string()))?;
    let days = req.expires_in_days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        return Err(ApiError::invalid("expires_in_days", "must be between 1 and 365"));
    }
    let expires = now_us() + days as i64 * 86_400_000_000;
    let mut tx = app.store.begin_audited().await?;
    let (id, secret) = tokens::create(tx.tx(), p.user.id, &name, &perms.scopes(), expires).await?;
    let t = tokens::by_id(tx.tx(), id).await?.ok_or_else(|| ApiError::internal("token vanished"))?;
    tx.commit(
        &p.actor(),
        Event::new("token.create", "token", id).details(json!({"name": name, "scopes": perms.scopes(), "expires_at": rfc3339(expires)})),
    )
    .await?;
    Ok(CreatedToken { token: secret, info: t.into() })
}

/// Revokes a token the caller owns (or any, for an administrator).
pub async fn revoke_token_of(app: &App, p: &Principal, id: i64) -> Result<(), ApiError> {
    session_only(p)?;
    let mut tx = app.store.begin_audited().await?;
    let t = tokens::by_id(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    if t.user_id != p.user.id && p.role != Role::Admin {
        return Err(ApiError::NotFound);
    }
    tokens::revoke(tx.tx(), id).await?;
    tx.commit(&p.actor(), Event::new("token.revoke", "token", id).details(json!({"name": t.name, "owner_user_id": t.user_id}))).await?;
    Ok(())
}

/// Listing options for tokens.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenFilter {
    /// Administrators: list every user's tokens.
    #[serde(default)]
    pub all: bool,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", params(TokenFilter), responses((status = 200, body = Paged<TokenInfo>)))]
pub async fn list_tokens(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<TokenFilter>) -> ApiResult {
    let owner = if f.all && p.role == Role::Admin { None } else { Some(p.user.id) };
    let rows = tokens::list(&mut app.store.clone(), owner).await?;
    let page = PageParams { limit: f.limit, offset: f.offset };
    Ok(json(Paged::from_all(rows.into_iter().map(TokenInfo::from).collect(), &page)))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn create_token(State(app): State<App>, p: Principal, ApiJson(req): ApiJson<NewToken>) -> ApiResult {
    let t = create_token_for(&app, &p, req).await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_token(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    revoke_token_of(&app, &p, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
