//! Audited changes to users, shared by the API, the pages and the CLI.

use super::store::{User, Users};
use crate::audit::store::{Actor, Event};
use crate::auth::roles::Role;
use crate::auth::{password, sessions, tokens};
use crate::error::ApiError;
use crate::store::{Db, Store};
use crate::validate::{Email, Name};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A user as the API shows it (never the password hash or TOTP secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserInfo {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub mfa_enabled: bool,
    /// `null`: every client; otherwise the only clients this user may see.
    pub clients: Option<Vec<i64>>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

pub async fn info(db: &mut impl Db, u: &User) -> crate::store::Result<UserInfo> {
    let clients = if u.clients_limited { Some(super::store::client_ids(db, u.id).await?) } else { None };
    Ok(UserInfo {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
        role: u.role(),
        disabled: u.disabled,
        mfa_enabled: u.totp_enabled,
        clients,
        created_at: crate::time::rfc3339(u.created_at),
    })
}

/// A user to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    #[schema(value_type = crate::validate::Email)]
    pub email: String,
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    pub role: Role,
    /// Initial password (the user should change it): at least 12
    /// characters, not a common password.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
    /// Limit the user to these clients (not for administrators).
    pub clients: Option<Vec<i64>>,
}

/// Changes to a user.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Set a new password (signs the user out everywhere): at least 12
    /// characters, not a common password.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    /// `[]` or a list limits the user to those clients; `null` lifts the limit.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<Vec<i64>>)]
    pub clients: Option<Option<Vec<i64>>>,
}

async fn check_clients(db: &mut impl Db, role: Role, ids: &Option<Vec<i64>>) -> Result<(), ApiError> {
    if let Some(ids) = ids {
        if !role.can_be_client_limited() {
            return Err(ApiError::refused("clients", "administrators cannot be limited to clients"));
        }
        for id in ids {
            if !crate::tenancy::store::client_exists(db, *id).await? {
                return Err(ApiError::refused("clients", format!("client {id} does not exist")));
            }
        }
    }
    Ok(())
}

/// A password too short breaks the documented schema (400); a common one
/// is refused for what it is (422).
pub fn policy_error(field: &str, e: password::PolicyError) -> ApiError {
    match e {
        password::PolicyError::TooShort => ApiError::invalid(field, e.to_string()),
        _ => ApiError::refused(field, e.to_string()),
    }
}

async fn hash_new_password(pw: String, field: &str) -> Result<String, ApiError> {
    password::check_policy(&pw).map_err(|e| policy_error(field, e))?;
    tokio::task::spawn_blocking(move || password::hash(&pw)).await.map_err(ApiError::internal)
}

pub async fn create(store: &Store, actor: &Actor, req: NewUserRequest) -> Result<User, ApiError> {
    let email = Email::parse(&req.email).map_err(|m| crate::validate::email_error("email", m))?;
    let name = Name::parse(&req.name).map_err(|m| ApiError::invalid("name", m))?;
    let hash = hash_new_password(req.password, "password").await?;
    let mut tx = store.begin_audited().await?;
    check_clients(tx.tx(), req.role, &req.clients).await?;
    let id = super::store::insert(
        tx.tx(),
        super::store::NewUser { email: &email, name: &name, password_hash: &hash, role: req.role, clients_limited: req.clients.is_some() },
    )
    .await
    .map_err(|e| match e {
        crate::store::StoreError::Conflict => ApiError::Conflict("a user with that email already exists".into()),
        e => e.into(),
    })?;
    if let Some(ids) = &req.clients {
        super::store::set_client_ids(tx.tx(), id, ids).await?;
    }
    let u = super::store::by_id(tx.tx(), id).await?.ok_or_else(|| ApiError::internal("user vanished"))?;
    let after = info(tx.tx(), &u).await?;
    tx.commit(actor, Event::new("user.create", "user", id).details(json!({"after": after}))).await?;
    Ok(u)
}

pub async fn update(store: &Store, actor: &Actor, actor_user_id: Option<i64>, id: i64, patch: UserPatch) -> Result<User, ApiError> {
    let new_hash = match patch.password.clone() {
        Some(pw) => Some(hash_new_password(pw, "password").await?),
        None => None,
    };
    let mut tx = store.begin_audited().await?;
    let before_user = super::store::by_id(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let before = info(tx.tx(), &before_user).await?;
    let role = patch.role.unwrap_or(before_user.role());
    if actor_user_id == Some(id) && (patch.disabled == Some(true) || role != before_user.role()) {
        return Err(ApiError::refused("role", "you cannot disable yourself or change your own role"));
    }
    let limit = match &patch.clients {
        Some(c) => c.clone(),
        None if role.can_be_client_limited() => before.clients.clone(),
        None => None,
    };
    check_clients(tx.tx(), role, &limit).await?;
    let mut sets: Vec<(Users, sea_query::SimpleExpr)> =
        vec![(Users::Role, role.as_str().into()), (Users::ClientsLimited, limit.is_some().into())];
    if let Some(n) = &patch.name {
        sets.push((Users::Name, Name::parse(n).map_err(|m| ApiError::invalid("name", m))?.into()));
    }
    if let Some(d) = patch.disabled {
        sets.push((Users::Disabled, d.into()));
    }
    if let Some(h) = &new_hash {
        sets.push((Users::PasswordHash, h.clone().into()));
    }
    super::store::update(tx.tx(), id, sets).await?;
    super::store::set_client_ids(tx.tx(), id, limit.as_deref().unwrap_or(&[])).await?;
    let mut revoked = json!(null);
    if patch.disabled == Some(true) || new_hash.is_some() {
        let s = sessions::revoke_all(tx.tx(), id, None).await?;
        let t = if patch.disabled == Some(true) { tokens::revoke_all(tx.tx(), id).await? } else { 0 };
        revoked = json!({"sessions": s, "tokens": t});
    }
    let u = super::store::by_id(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let after = info(tx.tx(), &u).await?;
    let action = match patch.disabled {
        Some(true) if !before.disabled => "user.disable",
        Some(false) if before.disabled => "user.enable",
        _ if before.role != after.role => "user.role_change",
        _ => "user.update",
    };
    tx.commit_change(
        actor,
        Event::new(action, "user", id).details(json!({"password_set": new_hash.is_some(), "revoked": revoked})),
        &before,
        &after,
    )
    .await?;
    Ok(u)
}

/// Revokes every API token of a user (an administrator's answer to a
/// leaked credential), audited.
pub async fn revoke_tokens(store: &Store, p: &crate::auth::principal::Principal, id: i64) -> Result<u64, ApiError> {
    p.require(crate::auth::roles::Permission::UsersWrite)?;
    let mut tx = store.begin_audited().await?;
    let u = super::store::by_id(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    let n = tokens::revoke_all(tx.tx(), id).await?;
    tx.commit(&p.actor(), Event::new("user.tokens_revoke", "user", id).details(json!({"email": u.email, "revoked": n}))).await?;
    Ok(n)
}
