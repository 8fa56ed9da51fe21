//! User administration pages.

use super::ops::{self, NewUserRequest, UserInfo, UserPatch};
use crate::app::App;
use crate::auth::roles::{Permission, Role};
use crate::auth::{guard::form_urlencoded_pairs, mfa, principal::Principal};
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html_status;
use crate::tenancy::store::{Client, ClientQuery};
use crate::web::{
    error::{form_error, see_other, PageResult},
    layout::Layout,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;

struct RoleOption {
    value: &'static str,
    label: &'static str,
}

fn role_options() -> Vec<RoleOption> {
    Role::ALL.iter().map(|r| RoleOption { value: r.as_str(), label: r.label() }).collect()
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<UserInfo>,
    roles: Vec<RoleOption>,
    can_write: bool,
}

async fn users_page(app: &App, p: &Principal, error: Option<String>) -> PageResult {
    p.require(Permission::UsersRead)?;
    let mut db = app.store.clone();
    let (rows, _) = super::store::list(&mut db, 500, 0).await?;
    let mut users = vec![];
    for u in &rows {
        users.push(ops::info(&mut db, u).await?);
    }
    let status = crate::web::error::status_for(&error);
    Ok(html_status(
        status,
        &UsersPage {
            l: Layout::new(app, p, "Users", "users").with_error(error),
            users,
            roles: role_options(),
            can_write: p.can(Permission::UsersWrite),
        },
    ))
}

pub async fn list(State(app): State<App>, p: Principal) -> PageResult {
    users_page(&app, &p, None).await
}

fn pairs_get(pairs: &[(String, String)], k: &str) -> Option<String> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn parse_role(s: Option<String>) -> Result<Role, ApiError> {
    s.as_deref().and_then(Role::parse).ok_or_else(|| ApiError::invalid("role", "choose a role"))
}

/// The client limit from the form: `limit=on` plus `client=ID` checkboxes.
fn parse_clients(pairs: &[(String, String)]) -> Result<Option<Vec<i64>>, ApiError> {
    if pairs_get(pairs, "limit").is_none() {
        return Ok(None);
    }
    pairs
        .iter()
        .filter(|(k, _)| k == "client")
        .map(|(_, v)| v.parse::<i64>().map_err(|_| ApiError::invalid("clients", "is not a client")))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub async fn create(State(app): State<App>, p: Principal, body: Bytes) -> PageResult {
    p.require(Permission::UsersWrite)?;
    let pairs = form_urlencoded_pairs(&body);
    let req = parse_role(pairs_get(&pairs, "role")).map(|role| NewUserRequest {
        email: pairs_get(&pairs, "email").unwrap_or_default(),
        name: pairs_get(&pairs, "name").unwrap_or_default(),
        password: pairs_get(&pairs, "password").unwrap_or_default(),
        role,
        clients: None,
    });
    match async { ops::create(&app.store, &p.actor(), req?).await }.await {
        Ok(u) => Ok(see_other(&format!("/users/{}", u.id))),
        Err(e) => users_page(&app, &p, Some(form_error(e)?)).await,
    }
}

struct ClientChoice {
    c: Client,
    checked: bool,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    l: Layout,
    u: UserInfo,
    roles: Vec<RoleOption>,
    role_value: &'static str,
    limited: bool,
    clients: Vec<ClientChoice>,
    can_write: bool,
    is_self: bool,
}

async fn user_page(app: &App, p: &Principal, id: i64, error: Option<String>, notice: Option<String>) -> PageResult {
    p.require(Permission::UsersRead)?;
    let mut db = app.store.clone();
    let user = super::store::by_id(&mut db, id).await?.ok_or(ApiError::NotFound)?;
    let u = ops::info(&mut db, &user).await?;
    let (all, _) = crate::tenancy::store::list_clients(&mut db, &ClientQuery::default(), 500, 0).await?;
    let limit = u.clients.clone().unwrap_or_default();
    let status = crate::web::error::status_for(&error);
    Ok(html_status(
        status,
        &UserPage {
            l: Layout::new(app, p, format!("User {}", u.email), "users").with_error(error).with_notice(notice),
            roles: role_options(),
            role_value: u.role.as_str(),
            limited: u.clients.is_some(),
            clients: all.into_iter().map(|c| ClientChoice { checked: limit.contains(&c.id), c }).collect(),
            can_write: p.can(Permission::UsersWrite),
            is_self: p.user.id == id,
            u,
        },
    ))
}

pub async fn show(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    user_page(&app, &p, id, None, None).await
}

pub async fn update(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, body: Bytes) -> PageResult {
    p.require(Permission::UsersWrite)?;
    let pairs = form_urlencoded_pairs(&body);
    let patch = (|| {
        Ok::<_, ApiError>(UserPatch {
            name: pairs_get(&pairs, "name"),
            role: Some(parse_role(pairs_get(&pairs, "role"))?),
            disabled: Some(crate::web::error::checkbox("disabled", pairs_get(&pairs, "disabled").as_deref())?),
            password: pairs_get(&pairs, "password").filter(|s| !s.is_empty()),
            clients: Some(parse_clients(&pairs)?),
        })
    })();
    match async { ops::update(&app.store, &p.actor(), Some(p.user.id), id, patch?).await }.await {
        Ok(_) => user_page(&app, &p, id, None, Some("Saved.".into())).await,
        Err(e) => user_page(&app, &p, id, Some(form_error(e)?), None).await,
    }
}

pub async fn reset_mfa(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    p.require(Permission::UsersWrite)?;
    super::store::by_id(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?;
    mfa::reset(&app.store, &p.actor(), id).await?;
    user_page(&app, &p, id, None, Some("Two-factor authentication was reset and the user was signed out everywhere.".into())).await
}

pub async fn revoke_tokens(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    let n = super::ops::revoke_tokens(&app.store, &p, id).await?;
    user_page(&app, &p, id, None, Some(format!("{n} API token(s) revoked."))).await
}
