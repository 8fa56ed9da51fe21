//! `/api/v1/asset-types…` (global), `/api/v1/clients/{id}/assets…`,
//! `…/configurations`, `…/devices/{device_id}/configuration`,
//! `…/relations…` and `/api/v1/expiries`. Thin: the rules are in `types`,
//! `ops`, `relations` and `expiry`.

use super::expiry::{self, Expiry, ExpiryFilter};
use super::ops::{self, Asset, AssetPatch, ConfigurationItem, DeviceDocs, ListAsk, NewAsset};
use super::relations::{self, NewRelation, Relation, RelationsOf};
use super::types::{self, AssetType, AssetTypePatch, NewAssetType};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{Limit, Offset, PageParams, Paged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// Whether archived ones are wanted too.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Archived {
    /// Include archived ones (default `false`).
    pub archived: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/asset-types", tag = "docs", params(Archived),
    responses((status = 200, body = Vec<AssetType>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_types(State(app): State<App>, p: Principal, ApiQuery(a): ApiQuery<Archived>) -> ApiResult<Json<Vec<AssetType>>> {
    Ok(Json(types::list(&app, &p, a.archived.unwrap_or(false)).await?))
}

#[utoipa::path(post, path = "/api/v1/asset-types", tag = "docs", request_body = NewAssetType,
    responses((status = 201, body = AssetType), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_type(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewAssetType>,
) -> ApiResult<(StatusCode, Json<AssetType>)> {
    Ok((StatusCode::CREATED, Json(types::create(&app, &p, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/asset-types/{type_id}", tag = "docs", params(("type_id" = i64, Path)),
    responses((status = 200, body = AssetType), (status = 404, body = ErrorEnvelope)))]
pub async fn get_type(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<AssetType>> {
    Ok(Json(types::get(&app, &p, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/asset-types/{type_id}", tag = "docs", params(("type_id" = i64, Path)), request_body = AssetTypePatch,
    responses((status = 200, body = AssetType), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_type(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<AssetTypePatch>,
) -> ApiResult<Json<AssetType>> {
    Ok(Json(types::update(&app, &p, id, patch).await?))
}

/// What a list of assets asks for.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetFilter {
    /// Only assets of this type.
    pub type_id: Option<i64>,
    /// Words of the name (the global search finds words of the values).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Include archived assets (default `false`).
    pub archived: Option<bool>,
    #[param(inline)]
    pub limit: Option<Limit>,
    #[param(inline)]
    pub offset: Option<Offset>,
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/assets", tag = "docs", params(("id" = i64, Path), AssetFilter),
    responses((status = 200, body = Paged<Asset>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<AssetFilter>,
) -> ApiResult<Json<Paged<Asset>>> {
    if f.q.as_deref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::invalid("q", "at most 200 characters"));
    }
    let ask = ListAsk {
        type_id: f.type_id,
        text: f.q,
        include_archived: f.archived.unwrap_or(false),
        page: PageParams { limit: f.limit, offset: f.offset },
    };
    Ok(Json(ops::list(&app, &p, id, ask).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/assets", tag = "docs", params(("id" = i64, Path)), request_body = NewAsset,
    responses((status = 201, body = Asset), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewAsset>,
) -> ApiResult<(StatusCode, Json<Asset>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, id, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/assets/{asset_id}", tag = "docs", params(("id" = i64, Path), ("asset_id" = i64, Path)),
    responses((status = 200, body = Asset), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, asset)): ApiPath<(i64, i64)>) -> ApiResult<Json<Asset>> {
    Ok(Json(ops::get(&app, &p, id, asset).await?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/assets/{asset_id}", tag = "docs", params(("id" = i64, Path), ("asset_id" = i64, Path)),
    request_body = AssetPatch,
    responses((status = 200, body = Asset), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, asset)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<AssetPatch>,
) -> ApiResult<Json<Asset>> {
    Ok(Json(ops::update(&app, &p, id, asset, patch).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/configurations", tag = "docs", params(("id" = i64, Path)),
    responses((status = 200, description = "managed devices and documented configurations, by name", body = Vec<ConfigurationItem>),
        (status = 404, body = ErrorEnvelope)))]
pub async fn configurations(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<ConfigurationItem>>> {
    Ok(Json(ops::configurations(&app, &p, id).await?))
}

#[utoipa::path(put, path = "/api/v1/clients/{id}/devices/{device_id}/configuration", tag = "docs",
    params(("id" = i64, Path), ("device_id" = i64, Path)), request_body = DeviceDocs,
    responses((status = 200, body = Asset), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn document_device(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, device)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<DeviceDocs>,
) -> ApiResult<Json<Asset>> {
    Ok(Json(ops::document_device(&app, &p, id, device, input).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/relations", tag = "docs", params(("id" = i64, Path), RelationsOf),
    responses((status = 200, description = "from either end, oldest first", body = Vec<Relation>), (status = 400, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn relations_of(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(of): ApiQuery<RelationsOf>,
) -> ApiResult<Json<Vec<Relation>>> {
    Ok(Json(relations::of(&app, &p, id, &of).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/relations", tag = "docs", params(("id" = i64, Path)), request_body = NewRelation,
    responses((status = 201, body = Relation), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn relate(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewRelation>,
) -> ApiResult<(StatusCode, Json<Relation>)> {
    Ok((StatusCode::CREATED, Json(relations::create(&app, &p, id, input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}/relations/{relation_id}", tag = "docs", params(("id" = i64, Path), ("relation_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn unrelate(State(app): State<App>, p: Principal, ApiPath((id, relation)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    relations::delete(&app, &p, id, relation).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/expiries", tag = "docs", params(ExpiryFilter),
    responses((status = 200, description = "soonest first; past dates included", body = Vec<Expiry>), (status = 400, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn expiries(State(app): State<App>, p: Principal, ApiQuery(f): ApiQuery<ExpiryFilter>) -> ApiResult<Json<Vec<Expiry>>> {
    Ok(Json(expiry::list(&app, &p, &f).await?))
}
