//! The sign-in decision, shared by the JSON API and the web form.
//!
//! Order matters: throttling is checked before the password (so a throttled
//! attacker learns nothing), an unknown email costs a full argon2 verify (so
//! timing does not reveal which emails exist), and every failure is recorded
//! for throttling and in the audit log.

use super::mfa::RecoveryCodes;
use super::{principal::Ctx, sessions, throttle, totp};
use crate::app::App;
use crate::audit::store::Event;
use crate::error::ApiError;
use crate::users::{
    self,
    store::{User, Users},
};
use sea_query::{Expr, Query};

/// What the password step decided.
pub enum PasswordStep {
    /// Correct, and no second factor is set up.
    Done(User),
    /// Correct; a TOTP or recovery code is still needed.
    NeedsSecondFactor(User),
}

const BAD_CREDENTIALS: &str = "wrong email or password";

async fn fail(state: &App, ctx: &Ctx, email: &str, reason: &str, user: Option<&User>) -> Result<(), ApiError> {
    throttle::record(&mut state.store.clone(), email, &ctx.ip, false).await?;
    let mut actor = ctx.anonymous_actor(email);
    actor.user_id = user.map(|u| u.id);
    state.failures.fail(&actor, Event::new("auth.login_failed", "user", email).details(serde_json::json!({"reason": reason}))).await;
    Ok(())
}

/// Refuses with 429 when this address may not try now (audited, counted);
/// `Some(secs)` when only a fully right answer may get through (the
/// account is throttled, this address is clean): a wrong one gets 429.
pub async fn check_throttle(state: &App, ctx: &Ctx, email: &str) -> Result<Option<u64>, ApiError> {
    match throttle::check(&mut state.store.clone(), email, &ctx.ip).await? {
        throttle::Throttle::Allow => Ok(None),
        throttle::Throttle::RightAnswerOnly(secs) => Ok(Some(secs)),
        throttle::Throttle::Blocked(secs) => {
            let event = Event::new("auth.throttled", "user", email).details(serde_json::json!({"retry_after_secs": secs}));
            state.failures.fail(&ctx.anonymous_actor(email), event).await;
            Err(ApiError::Throttled(secs))
        }
    }
}

/// The answer to a wrong attempt: 429 while the account is throttled.
fn wrong(account_throttled: Option<u64>, e: ApiError) -> ApiError {
    account_throttled.map(ApiError::Throttled).unwrap_or(e)
}

/// Checks email and password.
pub async fn password_step(state: &App, ctx: &Ctx, email: &str, password: &str) -> Result<PasswordStep, ApiError> {
    let email = email.trim().to_lowercase();
    let throttled = check_throttle(state, ctx, &email).await?;
    let user = users::store::by_email(&mut state.store.clone(), &email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| super::password::dummy_hash().to_string());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || super::password::verify(&pw, &hash)).await.map_err(ApiError::internal)?;
    match user {
        Some(u) if ok && !u.disabled => Ok(if u.totp_enabled { PasswordStep::NeedsSecondFactor(u) } else { PasswordStep::Done(u) }),
        Some(u) if ok => {
            fail(state, ctx, &email, "account disabled", Some(&u)).await?;
            Err(wrong(throttled, ApiError::AuthFailed("invalid_credentials", BAD_CREDENTIALS.into())))
        }
        u => {
            fail(state, ctx, &email, "bad password or unknown email", u.as_ref()).await?;
            Err(wrong(throttled, ApiError::AuthFailed("invalid_credentials", BAD_CREDENTIALS.into())))
        }
    }
}

/// Checks a TOTP code (once only) or an unused recovery code.
/// Returns the method used ("totp" or "recovery_code").
pub async fn second_factor(state: &App, ctx: &Ctx, user: &User, code: &str) -> Result<&'static str, ApiError> {
    let throttled = check_throttle(state, ctx, &user.email).await?;
    let db = state.store.clone();
    if let Some(enc) = &user.totp_secret_enc {
        let secret = state.master.open(&super::mfa::secret_context(user.id), enc).map_err(ApiError::internal)?;
        let now = chrono::Utc::now().timestamp() as u64;
        if let Some(step) = totp::verify(&secret, code, now, user.totp_last_step) {
            // Compare-and-set, so two concurrent uses of one code cannot both win.
            let n = db
                .execute(
                    Query::update()
                        .table(Users::Table)
                        .value(Users::TotpLastStep, step)
                        .and_where(Expr::col(Users::Id).eq(user.id))
                        .and_where(Expr::col(Users::TotpLastStep).lt(step)),
                )
                .await?;
            if n == 1 {
                return Ok("totp");
            }
        }
    }
    if totp::normalise_recovery_code(code).len() == 16 {
        let hash = super::mfa::recovery_hash(&state.master, code);
        let n = db
            .execute(
                Query::update()
                    .table(RecoveryCodes::Table)
                    .value(RecoveryCodes::UsedAt, crate::time::now_us())
                    .and_where(Expr::col(RecoveryCodes::UserId).eq(user.id))
                    .and_where(Expr::col(RecoveryCodes::CodeHash).eq(hash))
                    .and_where(Expr::col(RecoveryCodes::UsedAt).is_null()),
            )
            .await?;
        if n >= 1 {
            return Ok("recovery_code");
        }
    }
    fail(state, ctx, &user.email, "wrong or reused second-factor code", Some(user)).await?;
    Err(wrong(throttled, ApiError::AuthFailed("invalid_mfa_code", "wrong or already used authentication code".into())))
}

/// Creates a full session for a signed-in user and audits the sign-in, in
/// one transaction. Returns (cookie token, csrf token).
pub async fn start_session(state: &App, ctx: &Ctx, user: &User, method: &str) -> Result<(String, String), ApiError> {
    throttle::record(&mut state.store.clone(), &user.email, &ctx.ip, true).await?;
    let mut tx = state.store.begin_audited().await?;
    let (id, token, csrf) =
        sessions::create(tx.tx(), user.id, false, state.cfg.session_lifetimes().absolute_us, &ctx.ip, &ctx.user_agent).await?;
    if method != "password" {
        sessions::mark_mfa(tx.tx(), id, crate::time::now_us()).await?;
    }
    let actor = crate::audit::store::Actor { user_id: Some(user.id), label: user.email.clone(), ip: ctx.ip.clone() };
    tx.commit(&actor, Event::new("auth.login", "session", id).details(serde_json::json!({"method": method, "user_agent": ctx.user_agent})))
        .await?;
    Ok((token, csrf))
}

/// The Set-Cookie value for a session token (`None` clears it): `Secure`
/// unless browsers reach this server over plain HTTP (the demo).
pub fn session_cookie(cfg: &crate::config::Config, token: Option<&str>, max_age_secs: u64) -> String {
    let name = super::principal::session_cookie_name(cfg);
    let secure = if cfg.browsers_on_plain_http { "" } else { " Secure;" };
    match token {
        Some(t) => format!("{name}={t}; Path=/;{secure} HttpOnly; SameSite=Lax; Max-Age={max_age_secs}"),
        None => format!("{name}=; Path=/;{secure} HttpOnly; SameSite=Lax; Max-Age=0"),
    }
}
