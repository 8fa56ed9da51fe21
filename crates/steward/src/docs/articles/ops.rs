//! What people do with knowledge-base articles: write one (for a client, or
//! global for every client), change it (each change a new version, the
//! earlier ones kept), compare two versions, restore an old one (as a new
//! version), archive it. Every change is audited and queued for the search
//! index in its own transaction.
//!
//! Reading needs `docs:read` and, for a client's article, that client;
//! global articles are read by everyone with `docs:read` and changed only
//! by users not limited to some clients (like the script library).

use super::store::{self, ArticleRow, Content, Owner, VersionRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::docs::diff::DiffLine;
use crate::docs::markdown::render;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use crate::validate::{Name, Short, Text};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The outbox's and the index's kind for articles.
pub const KIND: &str = "article";

/// Longest article, in characters.
pub const MAX_BODY: usize = 200_000;

/// A new article.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArticle {
    #[schema(value_type = crate::validate::Name)]
    pub title: String,
    /// CommonMark with tables, strike-through and task lists.
    #[schema(value_type = crate::validate::shapes::Body<200000>)]
    pub body_markdown: String,
    /// A folder to file it under, e.g. `Backup` (default: none).
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub folder: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// Changes to an article: each field left out stays. A change of its text,
/// title, folder or tags is a new version.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub title: Option<String>,
    #[schema(value_type = Option<crate::validate::shapes::Body<200000>>)]
    pub body_markdown: Option<String>,
    #[schema(value_type = Option<crate::validate::Short>)]
    pub folder: Option<String>,
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// `true` archives it (hidden from lists and the search), `false` brings it back.
    pub archived: Option<bool>,
    /// The version this change was made on: when the article has moved on
    /// since (a colleague saved meanwhile), the change is refused (409)
    /// instead of silently replacing theirs.
    #[schema(minimum = 1)]
    pub expected_version: Option<i64>,
}

/// An article with its text, as Markdown and as sanitized HTML.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Article {
    pub id: i64,
    /// `null`: a global article, for every client.
    pub client_id: Option<i64>,
    pub folder: String,
    pub title: String,
    pub body_markdown: String,
    /// The Markdown rendered and sanitized: no script, handler, frame or
    /// `javascript:` link survives.
    pub body_html: String,
    pub tags: Vec<String>,
    /// Starts at 1; each change adds one.
    pub version: i64,
    pub updated_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
}

/// An article in a list (without its text).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleSummary {
    pub id: i64,
    pub client_id: Option<i64>,
    pub folder: String,
    pub title: String,
    pub tags: Vec<String>,
    pub version: i64,
    pub updated_by: Option<String>,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
}

/// A version in an article's history (without its text).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleVersionInfo {
    pub version: i64,
    pub title: String,
    pub folder: String,
    pub tags: Vec<String>,
    /// Why it exists beyond an edit, e.g. `restored version 2`.
    pub note: String,
    pub author: Option<String>,
    pub created_at: Timestamp,
}

impl From<&VersionRow> for ArticleVersionInfo {
    fn from(v: &VersionRow) -> Self {
        ArticleVersionInfo {
            version: v.version,
            title: v.title.clone(),
            folder: v.folder.clone(),
            tags: tags_of(&v.tags),
            note: v.note.clone(),
            author: v.author_name.clone(),
            created_at: Timestamp(v.created_at),
        }
    }
}

/// One version of an article, with its text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleVersion {
    pub version: i64,
    pub title: String,
    pub folder: String,
    pub tags: Vec<String>,
    pub body_markdown: String,
    pub body_html: String,
    /// Why it exists beyond an edit, e.g. `restored version 2`.
    pub note: String,
    pub author: Option<String>,
    pub created_at: Timestamp,
}

/// Two versions compared line by line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArticleDiff {
    pub from: i64,
    pub to: i64,
    pub title_from: String,
    pub title_to: String,
    pub lines: Vec<DiffLine>,
}

fn tags_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl From<&ArticleRow> for Article {
    fn from(r: &ArticleRow) -> Self {
        Article {
            id: r.id,
            client_id: r.client_id,
            folder: r.folder.clone(),
            title: r.title.clone(),
            body_markdown: r.body_markdown.clone(),
            body_html: render(&r.body_markdown),
            tags: tags_of(&r.tags),
            version: r.version,
            updated_by: r.updated_by_name.clone(),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            archived_at: r.archived_at.map(Timestamp),
        }
    }
}

impl From<&ArticleRow> for ArticleSummary {
    fn from(r: &ArticleRow) -> Self {
        ArticleSummary {
            id: r.id,
            client_id: r.client_id,
            folder: r.folder.clone(),
            title: r.title.clone(),
            tags: tags_of(&r.tags),
            version: r.version,
            updated_by: r.updated_by_name.clone(),
            updated_at: Timestamp(r.updated_at),
            archived_at: r.archived_at.map(Timestamp),
        }
    }
}

impl From<&VersionRow> for ArticleVersion {
    fn from(v: &VersionRow) -> Self {
        ArticleVersion {
            version: v.version,
            title: v.title.clone(),
            folder: v.folder.clone(),
            tags: tags_of(&v.tags),
            body_markdown: v.body_markdown.clone(),
            body_html: render(&v.body_markdown),
            note: v.note.clone(),
            author: v.author_name.clone(),
            created_at: Timestamp(v.created_at),
        }
    }
}

/// Whose article `client` names, for reading or changing. A global article
/// is changed only by a user who sees every client.
pub fn owner(p: &Principal, client: Option<i64>, change: bool) -> Result<Owner, ApiError> {
    p.require(if change { Permission::DocsWrite } else { Permission::DocsRead })?;
    match client {
        Some(c) => Ok(Owner::Client(p.client(c)?)),
        None if change && p.clients.is_some() => {
            Err(ApiError::Forbidden("global articles are changed only by users who see every client".into()))
        }
        None => Ok(Owner::Global),
    }
}

/// The checked content of a new version.
fn content(title: &str, body: &str, folder: &str, tags: &[String]) -> Result<Content, ApiError> {
    let title = Name::parse(title).map_err(|m| ApiError::invalid("title", m))?.into_string();
    // One line ending: a form sends CR LF, the API usually LF; the same text
    // must not become a new version with every line changed.
    let body = Text::<MAX_BODY>::parse(&body.replace("\r\n", "\n")).map_err(|m| ApiError::invalid("body_markdown", m))?.into_string();
    if body.is_empty() {
        return Err(ApiError::refused("body_markdown", "must not be empty"));
    }
    let folder = Short::parse(folder).map_err(|m| ApiError::invalid("folder", m))?.into_string();
    let tags = crate::validate::tags::tags(tags).map_err(|m| ApiError::refused("tags", m))?;
    Ok(Content { folder, title, body_markdown: body, tags })
}

async fn row(db: &mut impl Db, owner: Owner, id: i64) -> Result<ArticleRow, ApiError> {
    store::get(db, owner, id).await?.ok_or(ApiError::NotFound)
}

fn event(action: &str, owner: Owner, id: i64, details: serde_json::Value) -> Event {
    let e = Event::new(action, "article", id).details(details);
    match owner.client_id() {
        Some(c) => e.client(c),
        None => e,
    }
}

pub async fn create(app: &App, p: &Principal, client: Option<i64>, input: NewArticle) -> Result<Article, ApiError> {
    let owner = owner(p, client, true)?;
    let c = content(&input.title, &input.body_markdown, &input.folder, &input.tags)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    if let Owner::Client(c) = owner {
        crate::tenancy::store::get_client(db, c).await?.ok_or(ApiError::NotFound)?;
    }
    let id = store::insert(db, owner, &c, p.user.id, now).await?;
    crate::search::store::enqueue(db, KIND, id, now).await?;
    let a = Article::from(&row(db, owner, id).await?);
    tx.commit(&p.actor(), event("article.create", owner, id, json!({"title": a.title, "folder": a.folder, "tags": a.tags}))).await?;
    Ok(a)
}

pub async fn update(app: &App, p: &Principal, client: Option<i64>, id: i64, patch: ArticlePatch) -> Result<Article, ApiError> {
    let owner = owner(p, client, true)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let r = row(db, owner, id).await?;
    if patch.expected_version.is_some_and(|v| v != r.version) {
        return Err(ApiError::Conflict(format!(
            "the article was changed meanwhile (it is at version {}): reload it and make your change again",
            r.version
        )));
    }
    let old_tags = tags_of(&r.tags);
    let c = content(
        patch.title.as_deref().unwrap_or(&r.title),
        patch.body_markdown.as_deref().unwrap_or(&r.body_markdown),
        patch.folder.as_deref().unwrap_or(&r.folder),
        patch.tags.as_deref().unwrap_or(&old_tags),
    )?;
    let before = Content { folder: r.folder.clone(), title: r.title.clone(), body_markdown: r.body_markdown.clone(), tags: old_tags };
    let mut details = json!({});
    if c != before {
        store::set_content(db, id, r.version + 1, &c, "", p.user.id, now).await?;
        details["version"] = json!(r.version + 1);
        details["title"] = json!(c.title);
        details["body_changed"] = json!(c.body_markdown != before.body_markdown);
    }
    if let Some(archived) = patch.archived {
        if archived != r.archived_at.is_some() {
            store::set_archived(db, id, archived.then_some(now), p.user.id, now).await?;
            details["archived"] = json!(archived);
        }
    }
    let a = Article::from(&row(db, owner, id).await?);
    if details.as_object().is_some_and(|d| d.is_empty()) {
        // Nothing changed: no version, no audit entry.
        return Ok(a);
    }
    crate::search::store::enqueue(db, KIND, id, now).await?;
    tx.commit(&p.actor(), event("article.update", owner, id, details)).await?;
    Ok(a)
}

/// Makes an earlier version the current text again, as a new version.
pub async fn restore(app: &App, p: &Principal, client: Option<i64>, id: i64, version: i64) -> Result<Article, ApiError> {
    let owner = owner(p, client, true)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let r = row(db, owner, id).await?;
    let v = store::version(db, id, version).await?.ok_or(ApiError::NotFound)?;
    let c = Content { folder: v.folder, title: v.title, body_markdown: v.body_markdown, tags: tags_of(&v.tags) };
    store::set_content(db, id, r.version + 1, &c, &format!("restored version {version}"), p.user.id, now).await?;
    crate::search::store::enqueue(db, KIND, id, now).await?;
    let a = Article::from(&row(db, owner, id).await?);
    tx.commit(&p.actor(), event("article.restore", owner, id, json!({"restored": version, "version": a.version}))).await?;
    Ok(a)
}

pub async fn get(app: &App, p: &Principal, client: Option<i64>, id: i64) -> Result<Article, ApiError> {
    let owner = owner(p, client, false)?;
    Ok(Article::from(&row(&mut app.store.clone(), owner, id).await?))
}

pub async fn versions(app: &App, p: &Principal, client: Option<i64>, id: i64) -> Result<Vec<ArticleVersionInfo>, ApiError> {
    let owner = owner(p, client, false)?;
    let mut db = app.store.snapshot().await?;
    row(&mut db, owner, id).await?;
    Ok(store::versions(&mut db, id).await?.iter().map(ArticleVersionInfo::from).collect())
}

pub async fn version(app: &App, p: &Principal, client: Option<i64>, id: i64, version: i64) -> Result<ArticleVersion, ApiError> {
    let owner = owner(p, client, false)?;
    let mut db = app.store.snapshot().await?;
    row(&mut db, owner, id).await?;
    Ok(ArticleVersion::from(&store::version(&mut db, id, version).await?.ok_or(ApiError::NotFound)?))
}

/// Version `from` against version `to` (default: the one before `to`, and
/// the current one).
pub async fn diff(
    app: &App,
    p: &Principal,
    client: Option<i64>,
    id: i64,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<ArticleDiff, ApiError> {
    let owner = owner(p, client, false)?;
    let mut db = app.store.snapshot().await?;
    let r = row(&mut db, owner, id).await?;
    let to = to.unwrap_or(r.version);
    let from = from.unwrap_or((to - 1).max(1));
    let a = store::version(&mut db, id, from).await?.ok_or_else(|| ApiError::refused("from", format!("there is no version {from}")))?;
    let b = store::version(&mut db, id, to).await?.ok_or_else(|| ApiError::refused("to", format!("there is no version {to}")))?;
    // Off the async workers: a diff of two large texts takes a while.
    let lines = tokio::task::spawn_blocking(move || crate::docs::diff::lines(&a.body_markdown, &b.body_markdown))
        .await
        .map_err(|e| ApiError::internal(format!("diff task: {e}")))?;
    Ok(ArticleDiff { from, to, title_from: a.title, title_to: b.title, lines })
}
