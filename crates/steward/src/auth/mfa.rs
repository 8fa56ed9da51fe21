//! TOTP enrolment, recovery codes and MFA reset.
//!
//! Enrolment is two steps: [`start`] stores a fresh secret (encrypted, not yet
//! enabled) and returns it for the authenticator app; [`confirm`] enables it
//! once the user proves a working code, and returns ten recovery codes that
//! are shown once and stored only as hashes.

use super::{sessions, totp};
use crate::app::App;
use crate::audit::store::{Actor, Event};
use crate::error::ApiError;
use crate::store::{Db, Store};
use crate::users::{
    self,
    store::{User, Users},
};
use sea_query::{Expr, Iden, Query};

#[derive(Iden)]
pub(crate) enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

/// What the database keeps of a recovery code: a keyed hash (the key is
/// derived from the master key), so a copy of the database is no help in
/// guessing the codes.
pub fn recovery_hash(master: &crate::crypto::MasterKey, code: &str) -> String {
    master.keyed_hash("recovery codes", totp::normalise_recovery_code(code).as_bytes())
}

/// The associated data binding a TOTP secret to its user row.
pub fn secret_context(user_id: i64) -> String {
    format!("users.totp_secret:{user_id}")
}

/// What the user needs to add the account to an authenticator app.
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// Generates and stores a new (not yet active) secret; audited, since it
/// replaces whatever secret was stored.
pub async fn start(state: &App, actor: &Actor, user: &User) -> Result<Enrolment, ApiError> {
    if user.totp_enabled {
        return Err(ApiError::Conflict("two-factor authentication is already on; reset it first".into()));
    }
    let secret = totp::new_secret();
    let sealed = state.master.seal(&secret_context(user.id), &secret);
    let mut tx = state.store.begin_audited().await?;
    users::store::update(tx.tx(), user.id, vec![(Users::TotpSecretEnc, sealed.into())]).await?;
    tx.commit(actor, Event::new("user.mfa_start", "user", user.id)).await?;
    let uri = totp::otpauth_uri(&secret, &user.email, "Steward");
    Ok(Enrolment { secret_base32: totp::secret_base32(&secret), qr_svg: qr_svg(&uri), otpauth_uri: uri })
}

fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build(),
        Err(_) => String::new(),
    }
}

/// Turns MFA on after a correct code; returns the recovery codes (shown once).
pub async fn confirm(state: &App, actor: &Actor, user: &User, code: &str) -> Result<Vec<String>, ApiError> {
    if user.totp_enabled {
        return Err(ApiError::Conflict("two-factor authentication is already on".into()));
    }
    let enc = user.totp_secret_enc.as_ref().ok_or_else(|| ApiError::BadRequest("start enrolment first".into()))?;
    let secret = state.master.open(&secret_context(user.id), enc).map_err(ApiError::internal)?;
    let now = chrono::Utc::now().timestamp() as u64;
    let step = totp::verify(&secret, code, now, user.totp_last_step)
        .ok_or_else(|| ApiError::refused("code", "does not match; check the time on your device"))?;
    let codes = totp::new_recovery_codes();
    let mut tx = state.store.begin_audited().await?;
    users::store::update(tx.tx(), user.id, vec![(Users::TotpEnabled, true.into()), (Users::TotpLastStep, step.into())]).await?;
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(&state.master, c)).collect();
    replace_recovery_codes(tx.tx(), user.id, &hashes).await?;
    tx.commit(actor, Event::new("user.mfa_enabled", "user", user.id)).await?;
    Ok(codes)
}

async fn replace_recovery_codes(db: &mut impl Db, user_id: i64, hashes: &[String]) -> crate::store::Result<()> {
    db.execute(Query::delete().from_table(RecoveryCodes::Table).and_where(Expr::col(RecoveryCodes::UserId).eq(user_id))).await?;
    for h in hashes {
        db.execute(
            Query::insert()
                .into_table(RecoveryCodes::Table)
                .columns([RecoveryCodes::UserId, RecoveryCodes::CodeHash])
                .values_panic([user_id.into(), h.clone().into()]),
        )
        .await?;
    }
    Ok(())
}

/// Unused recovery codes left.
pub async fn recovery_codes_left(store: &Store, user_id: i64) -> crate::store::Result<i64> {
    let n: crate::store::Count = store
        .fetch_one(
            Query::select()
                .expr_as(Expr::col(RecoveryCodes::Id).count(), crate::store::n())
                .from(RecoveryCodes::Table)
                .and_where(Expr::col(RecoveryCodes::UserId).eq(user_id))
                .and_where(Expr::col(RecoveryCodes::UsedAt).is_null()),
        )
        .await?;
    Ok(n.n)
}

/// Removes a user's second factor and signs them out everywhere (the
/// administrator's recovery path: `steward admin reset-mfa`, or the users API).
pub async fn reset(store: &Store, actor: &Actor, user_id: i64) -> Result<(), ApiError> {
    let mut tx = store.begin_audited().await?;
    users::store::update(tx.tx(), user_id, vec![(Users::TotpEnabled, false.into()), (Users::TotpSecretEnc, Option::<String>::None.into())])
        .await?;
    replace_recovery_codes(tx.tx(), user_id, &[]).await?;
    sessions::revoke_all(tx.tx(), user_id, None).await?;
    tx.commit(actor, Event::new("user.mfa_reset", "user", user_id)).await?;
    Ok(())
}
