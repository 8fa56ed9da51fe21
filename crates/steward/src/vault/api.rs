//! `/api/v1/clients/{id}/vault…`: a client's credentials (never a secret in
//! a list or an entry), their versions, the reveal, and the password
//! report; `/api/v1/vault/password` generates a password.

use super::model::{generate, passphrase, Classes, GENERATED_LENGTH};
use super::ops::{self, Entry, EntryPatch, NewEntry, PasswordAge, RevealInput, Revealed, Version};
use super::store::Filter;
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{Limit, Offset, Paged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

/// What a list of entries asks for.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryFilter {
    /// Only this folder (`""` for entries outside any folder).
    #[param(max_length = 200)]
    pub folder: Option<String>,
    /// Words of the name, user name or URL.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Include archived entries (default `false`).
    pub archived: Option<bool>,
    #[param(inline)]
    pub limit: Option<Limit>,
    #[param(inline)]
    pub offset: Option<Offset>,
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/vault", tag = "vault", params(("id" = i64, Path), EntryFilter),
    responses((status = 200, body = Paged<Entry>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<EntryFilter>,
) -> ApiResult<Json<Paged<Entry>>> {
    p.require(Permission::VaultRead)?;
    let client = p.client(id)?;
    for (field, v) in [("folder", &f.folder), ("q", &f.q)] {
        if v.as_deref().is_some_and(|v| v.chars().count() > 200) {
            return Err(ApiError::invalid(field, "at most 200 characters"));
        }
    }
    let page = crate::http::list::PageParams { limit: f.limit, offset: f.offset };
    let filter = Filter { folder: f.folder, text: f.q, include_archived: f.archived.unwrap_or(false) };
    let (rows, total) = super::store::list(&mut app.store.snapshot().await?, client, &filter, page.limit(), page.offset()).await?;
    Ok(Json(Paged::new(rows.iter().map(Entry::from).collect(), total, &page)))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/vault", tag = "vault", params(("id" = i64, Path)), request_body = NewEntry,
    responses((status = 201, body = Entry), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewEntry>,
) -> ApiResult<(StatusCode, Json<Entry>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, id, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/vault/{entry_id}", tag = "vault", params(("id" = i64, Path), ("entry_id" = i64, Path)),
    responses((status = 200, body = Entry), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, entry_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Entry>> {
    p.require(Permission::VaultRead)?;
    let row = super::store::get(&mut app.store.clone(), p.client(id)?, entry_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(Entry::from(&row)))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/vault/{entry_id}", tag = "vault", params(("id" = i64, Path), ("entry_id" = i64, Path)),
    request_body = EntryPatch, responses((status = 200, body = Entry), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, entry_id)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<EntryPatch>,
) -> ApiResult<Json<Entry>> {
    Ok(Json(ops::update(&app, &p, id, entry_id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/vault/{entry_id}", tag = "vault", params(("id" = i64, Path), ("entry_id" = i64, Path)),
    responses((status = 204, description = "Archived (kept with its versions)"), (status = 404, body = ErrorEnvelope)))]
pub async fn archive(State(app): State<App>, p: Principal, ApiPath((id, entry_id)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    ops::archive(&app, &p, id, entry_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/vault/{entry_id}/reveal", tag = "vault", params(("id" = i64, Path), ("entry_id" = i64, Path)),
    request_body = RevealInput,
    responses((status = 200, body = Revealed), (status = 400, body = ErrorEnvelope),
        (status = 403, description = "`mfa_required`: prove the second factor (`POST /api/v1/me/mfa/verify`) and ask again; `forbidden` for an API token", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn reveal(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, entry_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<RevealInput>,
) -> ApiResult<Json<Revealed>> {
    Ok(Json(ops::reveal(&app, &p, id, entry_id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/vault/{entry_id}/versions", tag = "vault", params(("id" = i64, Path), ("entry_id" = i64, Path)),
    responses((status = 200, body = Vec<Version>), (status = 404, body = ErrorEnvelope)))]
pub async fn versions(State(app): State<App>, p: Principal, ApiPath((id, entry_id)): ApiPath<(i64, i64)>) -> ApiResult<Json<Vec<Version>>> {
    Ok(Json(ops::versions(&app, &p, id, entry_id).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/vault/{entry_id}/versions/{version}/restore", tag = "vault",
    params(("id" = i64, Path), ("entry_id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = Entry), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn restore(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, entry_id, version)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<Entry>> {
    Ok(Json(ops::restore(&app, &p, id, entry_id, version).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/vault-report", tag = "vault", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PasswordAge>), (status = 404, body = ErrorEnvelope)))]
pub async fn report(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<PasswordAge>>> {
    Ok(Json(ops::password_report(&app, &p, id).await?))
}

/// What a generated password is made of.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Recipe {
    /// Characters, 8–128 (default 20).
    #[param(minimum = 8, maximum = 128)]
    pub length: Option<usize>,
    /// A passphrase of this many words (3–12) instead.
    #[param(minimum = 3, maximum = 12)]
    pub words: Option<usize>,
    /// Each class defaults to `true`.
    pub lower: Option<bool>,
    pub upper: Option<bool>,
    pub digits: Option<bool>,
    pub symbols: Option<bool>,
}

/// A generated password.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GeneratedPassword)]
pub struct Generated {
    pub password: String,
}

#[utoipa::path(get, path = "/api/v1/vault/password", tag = "vault", params(Recipe),
    responses((status = 200, body = Generated), (status = 400, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn password(ApiQuery(r): ApiQuery<Recipe>) -> ApiResult<Json<Generated>> {
    let mut rng = rand::rngs::OsRng;
    let made = match r.words {
        Some(w) => passphrase(&mut rng, w).ok_or_else(|| ApiError::invalid("words", "3–12 words"))?,
        None => {
            let length = r.length.unwrap_or(20);
            if !GENERATED_LENGTH.contains(&length) {
                return Err(ApiError::invalid("length", "8–128 characters"));
            }
            let c = Classes {
                lower: r.lower.unwrap_or(true),
                upper: r.upper.unwrap_or(true),
                digits: r.digits.unwrap_or(true),
                symbols: r.symbols.unwrap_or(true),
            };
            generate(&mut rng, length, c).ok_or_else(|| ApiError::refused("lower", "choose at least one kind of character"))?
        }
    };
    Ok(Json(Generated { password: made }))
}
