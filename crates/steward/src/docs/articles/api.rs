//! `/api/v1/clients/{id}/articles…` (a client's articles) and
//! `/api/v1/articles…` (global ones, for every client): list, write,
//! change, versions, diff, restore; and a preview of Markdown as the
//! article page will show it. Thin: the rules are in `ops`.

use super::ops::{self, Article, ArticleDiff, ArticlePatch, ArticleSummary, ArticleVersion, ArticleVersionInfo, NewArticle};
use super::store::{Filter, Which};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::list::{Limit, Offset, PageParams, Paged};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

/// What a list of articles asks for.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleFilter {
    /// Only this folder (`""`: articles outside any folder).
    #[param(max_length = 200)]
    pub folder: Option<String>,
    /// Only articles with this tag.
    #[param(max_length = 40)]
    pub tag: Option<String>,
    /// Words of the title (the global search finds words of the text).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Include archived articles (default `false`).
    pub archived: Option<bool>,
    /// On `/api/v1/articles`: also every article of the clients you see.
    pub include_clients: Option<bool>,
    #[param(inline)]
    pub limit: Option<Limit>,
    #[param(inline)]
    pub offset: Option<Offset>,
}

/// Which two versions to compare.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version (default: the one before `to`).
    #[param(minimum = 1)]
    pub from: Option<i64>,
    /// The newer version (default: the current one).
    #[param(minimum = 1)]
    pub to: Option<i64>,
}

async fn list_for(app: &App, p: &Principal, client: Option<i64>, f: ArticleFilter) -> ApiResult<Json<Paged<ArticleSummary>>> {
    let owner = ops::owner(p, client, false)?;
    for (field, v, max) in [("folder", &f.folder, 200), ("tag", &f.tag, 40), ("q", &f.q, 200)] {
        if v.as_deref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::invalid(field, format!("at most {max} characters")));
        }
    }
    let which = match (client, f.include_clients.unwrap_or(false)) {
        (None, true) => Which::Visible(p.clients.clone()),
        _ => Which::Only(owner),
    };
    let page = PageParams { limit: f.limit, offset: f.offset };
    let filter = Filter {
        which,
        folder: f.folder,
        tag: f.tag.map(|t| t.trim().to_lowercase()),
        text: f.q,
        include_archived: f.archived.unwrap_or(false),
    };
    let (rows, total) = super::store::list(&mut app.store.snapshot().await?, &filter, page.limit(), page.offset()).await?;
    Ok(Json(Paged::counted(rows.iter().map(ArticleSummary::from).collect(), total, &page)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/articles", tag = "docs", params(("id" = i64, Path), ArticleFilter),
    responses((status = 200, body = Paged<ArticleSummary>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<ArticleFilter>,
) -> ApiResult<Json<Paged<ArticleSummary>>> {
    list_for(&app, &p, Some(id), f).await
}

#[utoipa::path(get, path = "/api/v1/articles", tag = "docs", params(ArticleFilter),
    responses((status = 200, body = Paged<ArticleSummary>), (status = 400, body = ErrorEnvelope)))]
pub async fn list_global(
    State(app): State<App>,
    p: Principal,
    ApiQuery(f): ApiQuery<ArticleFilter>,
) -> ApiResult<Json<Paged<ArticleSummary>>> {
    list_for(&app, &p, None, f).await
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/articles", tag = "docs", params(("id" = i64, Path)), request_body = NewArticle,
    responses((status = 201, body = Article), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewArticle>,
) -> ApiResult<(StatusCode, Json<Article>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, Some(id), input).await?)))
}

#[utoipa::path(post, path = "/api/v1/articles", tag = "docs", request_body = NewArticle,
    responses((status = 201, body = Article), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_global(
    State(app): State<App>,
    p: Principal,
    ApiJson(input): ApiJson<NewArticle>,
) -> ApiResult<(StatusCode, Json<Article>)> {
    Ok((StatusCode::CREATED, Json(ops::create(&app, &p, None, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/articles/{article_id}", tag = "docs", params(("id" = i64, Path), ("article_id" = i64, Path)),
    responses((status = 200, body = Article), (status = 404, body = ErrorEnvelope)))]
pub async fn get(State(app): State<App>, p: Principal, ApiPath((id, article)): ApiPath<(i64, i64)>) -> ApiResult<Json<Article>> {
    Ok(Json(ops::get(&app, &p, Some(id), article).await?))
}

#[utoipa::path(get, path = "/api/v1/articles/{article_id}", tag = "docs", params(("article_id" = i64, Path)),
    responses((status = 200, body = Article), (status = 404, body = ErrorEnvelope)))]
pub async fn get_global(State(app): State<App>, p: Principal, ApiPath(article): ApiPath<i64>) -> ApiResult<Json<Article>> {
    Ok(Json(ops::get(&app, &p, None, article).await?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/articles/{article_id}", tag = "docs", params(("id" = i64, Path), ("article_id" = i64, Path)),
    request_body = ArticlePatch,
    responses((status = 200, body = Article), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, article)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<ArticlePatch>,
) -> ApiResult<Json<Article>> {
    Ok(Json(ops::update(&app, &p, Some(id), article, patch).await?))
}

#[utoipa::path(patch, path = "/api/v1/articles/{article_id}", tag = "docs", params(("article_id" = i64, Path)), request_body = ArticlePatch,
    responses((status = 200, body = Article), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_global(
    State(app): State<App>,
    p: Principal,
    ApiPath(article): ApiPath<i64>,
    ApiJson(patch): ApiJson<ArticlePatch>,
) -> ApiResult<Json<Article>> {
    Ok(Json(ops::update(&app, &p, None, article, patch).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/articles/{article_id}/versions", tag = "docs", params(("id" = i64, Path), ("article_id" = i64, Path)),
    responses((status = 200, body = Vec<ArticleVersionInfo>), (status = 404, body = ErrorEnvelope)))]
pub async fn versions(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, article)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Vec<ArticleVersionInfo>>> {
    Ok(Json(ops::versions(&app, &p, Some(id), article).await?))
}

#[utoipa::path(get, path = "/api/v1/articles/{article_id}/versions", tag = "docs", params(("article_id" = i64, Path)),
    responses((status = 200, body = Vec<ArticleVersionInfo>), (status = 404, body = ErrorEnvelope)))]
pub async fn versions_global(
    State(app): State<App>,
    p: Principal,
    ApiPath(article): ApiPath<i64>,
) -> ApiResult<Json<Vec<ArticleVersionInfo>>> {
    Ok(Json(ops::versions(&app, &p, None, article).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/articles/{article_id}/versions/{version}", tag = "docs",
    params(("id" = i64, Path), ("article_id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = ArticleVersion), (status = 404, body = ErrorEnvelope)))]
pub async fn version(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, article, v)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<ArticleVersion>> {
    Ok(Json(ops::version(&app, &p, Some(id), article, v).await?))
}

#[utoipa::path(get, path = "/api/v1/articles/{article_id}/versions/{version}", tag = "docs", params(("article_id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = ArticleVersion), (status = 404, body = ErrorEnvelope)))]
pub async fn version_global(
    State(app): State<App>,
    p: Principal,
    ApiPath((article, v)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<ArticleVersion>> {
    Ok(Json(ops::version(&app, &p, None, article, v).await?))
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/articles/{article_id}/diff", tag = "docs", params(("id" = i64, Path), ("article_id" = i64, Path), DiffQuery),
    responses((status = 200, body = ArticleDiff), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn diff(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, article)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<ArticleDiff>> {
    Ok(Json(ops::diff(&app, &p, Some(id), article, q.from, q.to).await?))
}

#[utoipa::path(get, path = "/api/v1/articles/{article_id}/diff", tag = "docs", params(("article_id" = i64, Path), DiffQuery),
    responses((status = 200, body = ArticleDiff), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn diff_global(
    State(app): State<App>,
    p: Principal,
    ApiPath(article): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<ArticleDiff>> {
    Ok(Json(ops::diff(&app, &p, None, article, q.from, q.to).await?))
}

#[utoipa::path(post, path = "/api/v1/clients/{id}/articles/{article_id}/versions/{version}/restore", tag = "docs",
    params(("id" = i64, Path), ("article_id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = Article), (status = 404, body = ErrorEnvelope)))]
pub async fn restore(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, article, v)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<Article>> {
    Ok(Json(ops::restore(&app, &p, Some(id), article, v).await?))
}

#[utoipa::path(post, path = "/api/v1/articles/{article_id}/versions/{version}/restore", tag = "docs",
    params(("article_id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = Article), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn restore_global(State(app): State<App>, p: Principal, ApiPath((article, v)): ApiPath<(i64, i64)>) -> ApiResult<Json<Article>> {
    Ok(Json(ops::restore(&app, &p, None, article, v).await?))
}

/// Markdown to preview.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    #[schema(max_length = 200000)]
    pub body_markdown: String,
}

/// The preview: the HTML an article with this text shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub body_html: String,
}

#[utoipa::path(post, path = "/api/v1/articles/preview", tag = "docs", request_body = PreviewInput,
    responses((status = 200, body = Preview), (status = 400, body = ErrorEnvelope)))]
pub async fn preview(p: Principal, ApiJson(input): ApiJson<PreviewInput>) -> ApiResult<Json<Preview>> {
    p.require(crate::auth::roles::Permission::DocsRead)?;
    if input.body_markdown.chars().count() > ops::MAX_BODY {
        return Err(ApiError::invalid("body_markdown", format!("at most {} characters", ops::MAX_BODY)));
    }
    Ok(Json(Preview { body_html: crate::docs::markdown::render(&input.body_markdown) }))
}
