//! `/api/v1/clients[/{id}[/sites|/contacts]]`. Client scoping for limited
//! technicians is enforced by the guard for every `/clients/{id}/…` path and
//! by the list query for `/clients`.

use super::ops::{self, ClientPatch, ContactPatch, NewClient, NewContact, NewSite, SitePatch};
use super::store::{Client, ClientQuery, Contact, Site};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{PageParams, Paged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

/// Filters for listing clients.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    /// Include archived clients.
    #[serde(default)]
    pub archived: bool,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

/// Whether archived records are included, and the page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchivedFilter {
    /// Include archived records.
    #[serde(default)]
    pub archived: bool,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

impl ArchivedFilter {
    fn page(&self) -> PageParams {
        PageParams { limit: self.limit, offset: self.offset }
    }
}

#[utoipa::path(get, path = "/api/v1/clients", tag = "tenancy", params(ClientFilter),
    responses((status = 200, body = Paged<Client>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_clients(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<ClientFilter>) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    let page = PageParams { limit: f.limit, offset: f.offset };
    let q = ClientQuery { scope: p.clients.clone(), include_archived: f.archived, search: f.q };
    let (items, total) = super::store::list_clients(&mut app.store.snapshot().await?, &q, page.limit(), page.offset()).await?;
    Ok(json(Paged::new(items, total, &page)))
}

#[utoipa::path(post, path = "/api/v1/clients", tag = "tenancy", request_body = NewClient,
    responses((status = 201, body = Client), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_client(State(app): State<App>, p: Principal, ApiJson(input): ApiJson<NewClient>) -> ApiResult {
    let c = ops::create_client(&app, &p, input).await?;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "tenancy", params(("id" = i64, Path)),
    responses((status = 200, body = Client), (status = 404, body = ErrorEnvelope)))]
pub async fn get_client(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    Ok(json(super::store::get_client(&mut app.store.clone(), p.client(id)?).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "tenancy", params(("id" = i64, Path)), request_body = ClientPatch,
    responses((status = 200, body = Client), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update_client(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ClientPatch>,
) -> ApiResult {
    Ok(json(ops::update_client(&app, &p, id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}", tag = "tenancy", params(("id" = i64, Path)),
    responses((status = 200, description = "archived", body = Client), (status = 404, body = ErrorEnvelope)))]
pub async fn archive_client(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    Ok(json(ops::update_client(&app, &p, id, ClientPatch { archived: Some(true), ..Default::default() }).await?))
}

async fn existing_client(app: &App, id: i64) -> Result<(), ApiError> {
    if super::store::client_exists(&mut app.store.clone(), id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/sites", tag = "tenancy", params(("id" = i64, Path), ArchivedFilter),
    responses((status = 200, body = Paged<Site>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_sites(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<ArchivedFilter>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    existing_client(&app, id).await?;
    let items = super::store::list_sites(&mut app.store.clone(), p.client(id)?, f.archived).await?;
    Ok(json(Paged::from_all(items, &f.page())))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/sites", tag = "tenancy", params(("id" = i64, Path)), request_body = NewSite,
    responses((status = 201, body = Site), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create_site(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, ApiJson(input): ApiJson<NewSite>) -> ApiResult {
    let s = ops::create_site(&app, &p, id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(s)).into_response())
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/sites/{site_id}", tag = "tenancy", params(("id" = i64, Path), ("site_id" = i64, Path)),
    responses((status = 200, body = Site), (status = 404, body = ErrorEnvelope)))]
pub async fn get_site(State(app): State<App>, p: Principal, ApiPath((id, site_id)): ApiPath<(i64, i64)>) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    Ok(json(super::store::get_site(&mut app.store.clone(), p.client(id)?, site_id).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/sites/{site_id}", tag = "tenancy", params(("id" = i64, Path), ("site_id" = i64, Path)),
    request_body = SitePatch, responses((status = 200, body = Site), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update_site(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, site_id)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<SitePatch>,
) -> ApiResult {
    Ok(json(ops::update_site(&app, &p, id, site_id, patch).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/contacts", tag = "tenancy", params(("id" = i64, Path), ArchivedFilter),
    responses((status = 200, body = Paged<Contact>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_contacts(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<ArchivedFilter>,
) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    existing_client(&app, id).await?;
    let items = super::store::list_contacts(&mut app.store.clone(), p.client(id)?, f.archived).await?;
    Ok(json(Paged::from_all(items, &f.page())))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/contacts", tag = "tenancy", params(("id" = i64, Path)), request_body = NewContact,
    responses((status = 201, body = Contact), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create_contact(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewContact>,
) -> ApiResult {
    let c = ops::create_contact(&app, &p, id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/contacts/{contact_id}", tag = "tenancy", params(("id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = Contact), (status = 404, body = ErrorEnvelope)))]
pub async fn get_contact(State(app): State<App>, p: Principal, ApiPath((id, contact_id)): ApiPath<(i64, i64)>) -> ApiResult {
    p.require(Permission::ClientsRead)?;
    Ok(json(super::store::get_contact(&mut app.store.clone(), p.client(id)?, contact_id).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/contacts/{contact_id}", tag = "tenancy", params(("id" = i64, Path), ("contact_id" = i64, Path)),
    request_body = ContactPatch, responses((status = 200, body = Contact), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update_contact(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, contact_id)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> ApiResult {
    Ok(json(ops::update_contact(&app, &p, id, contact_id, patch).await?))
}
