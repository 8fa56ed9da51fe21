//! The knowledge base on the pages: `/docs` (every article the user sees,
//! global and per client, by folder, tag and title, with the form for a
//! new one), an article (`/articles/{id}` for a global one,
//! `/clients/{id}/articles/{id}` for a client's: the rendered text, the
//! edit form with a live preview, the versions with compare and restore),
//! a comparison of two versions, and the panel on a client's page.

use super::ops::{self, Article, ArticleDiff, ArticlePatch, ArticleSummary, ArticleVersionInfo, NewArticle};
use super::store::{self, Filter, Owner, Which};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::{ApiPath, PageQuery};
use crate::http::page::{html, html_status};
use crate::web::error::{form_error, see_other, status_for, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// Where an article's page is.
fn url(client: Option<i64>, id: i64) -> String {
    match client {
        Some(c) => format!("/clients/{c}/articles/{id}"),
        None => format!("/articles/{id}"),
    }
}

/// Tags as typed: separated by commas or spaces.
fn split_tags(s: &str) -> Vec<String> {
    s.split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()
}

/// The list's filters, from the query string.
#[derive(Debug, Default, Deserialize)]
pub struct DocsQuery {
    /// `global`, a client id, or nothing (everything).
    owner: Option<String>,
    folder: Option<String>,
    tag: Option<String>,
    q: Option<String>,
}

/// One line of the list.
struct Line {
    a: ArticleSummary,
    url: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    l: Layout,
    lines: Vec<Line>,
    total: String,
    f: DocsQuery,
    clients: Vec<(i64, String)>,
    folders: Vec<String>,
    can_write: bool,
    can_write_global: bool,
}

impl DocsPage {
    fn owner_is(&self, v: &str) -> bool {
        self.f.owner.as_deref() == Some(v)
    }
}

async fn docs_page(app: &App, p: &Principal, f: DocsQuery, error: Option<String>) -> PageResult {
    p.require(Permission::DocsRead)?;
    let which = match f.owner.as_deref() {
        Some("global") => Which::Only(Owner::Global),
        Some(c) => Which::Only(Owner::Client(p.client(c.parse().map_err(|_| ApiError::invalid("owner", "global or a client"))?)?)),
        None => Which::Visible(p.clients.clone()),
    };
    let mut db = app.store.snapshot().await?;
    let filter = Filter {
        which: which.clone(),
        folder: f.folder.clone(),
        tag: f.tag.as_deref().map(|t| t.trim().to_lowercase()),
        text: f.q.clone(),
        include_archived: false,
    };
    let (rows, total) = store::list(&mut db, &filter, 200, 0).await?;
    // Archived clients too, so their articles still say whose they are.
    let query = crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: true, search: None };
    let (all, _) = crate::tenancy::store::list_clients(&mut db, &query, 10_000, 0).await?;
    let name = |id: i64| all.iter().find(|c| c.id == id).map(|c| c.name.clone()).unwrap_or_default();
    let lines = rows
        .iter()
        .map(|r| Line {
            a: ArticleSummary::from(r),
            url: url(r.client_id, r.id),
            owner: r.client_id.map(name).unwrap_or_else(|| "Global".into()),
        })
        .collect();
    let clients: Vec<(i64, String)> = all.iter().filter(|c| !c.archived).map(|c| (c.id, c.name.clone())).collect();
    Ok(html_status(
        status_for(&error),
        &DocsPage {
            l: Layout::new(app, p, "Knowledge base", "docs").with_error(error),
            lines,
            total: total.to_string(),
            folders: store::folders(&mut db, Which::Visible(p.clients.clone())).await?,
            f,
            clients,
            can_write: p.can(Permission::DocsWrite),
            can_write_global: p.can(Permission::DocsWrite) && p.clients.is_none(),
        },
    ))
}

pub async fn list(State(app): State<App>, p: Principal, PageQuery(f): PageQuery<DocsQuery>) -> PageResult {
    docs_page(&app, &p, f, None).await
}

/// The form of a new article or a change.
#[derive(Debug, Deserialize)]
pub struct ArticleForm {
    /// On a new one: `global` or a client id.
    #[serde(default)]
    owner: String,
    title: Option<String>,
    body_markdown: Option<String>,
    folder: Option<String>,
    tags: Option<String>,
    /// `1` archives, `0` brings back.
    archived: Option<String>,
    /// The version the edit form was filled from.
    version: Option<i64>,
}

pub async fn create(State(app): State<App>, p: Principal, WebForm(f): WebForm<ArticleForm>) -> PageResult {
    let client = match f.owner.as_str() {
        "global" => Ok(None),
        c => c.parse::<i64>().map(Some).map_err(|_| ApiError::invalid("owner", "choose Global or a client")),
    };
    let made = match client {
        Ok(client) => {
            let input = NewArticle {
                title: f.title.clone().unwrap_or_default(),
                body_markdown: f.body_markdown.clone().unwrap_or_default(),
                folder: f.folder.clone().unwrap_or_default(),
                tags: split_tags(f.tags.as_deref().unwrap_or("")),
            };
            ops::create(&app, &p, client, input).await
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(a) => Ok(see_other(&url(a.client_id, a.id))),
        Err(e) => docs_page(&app, &p, DocsQuery::default(), Some(form_error(e)?)).await,
    }
}

/// A version in the history table.
struct VersionLine {
    v: ArticleVersionInfo,
    /// The one before it, to compare with.
    previous: Option<i64>,
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage {
    l: Layout,
    a: Article,
    here: String,
    owner: String,
    owner_url: String,
    versions: Vec<VersionLine>,
    can_write: bool,
}

impl ArticlePage {
    fn tags_text(&self) -> String {
        self.a.tags.join(", ")
    }
}

async fn owner_name(app: &App, p: &Principal, client: Option<i64>) -> Result<(String, String), ApiError> {
    Ok(match client {
        Some(c) => {
            let row = crate::tenancy::store::get_client(&mut app.store.clone(), p.client(c)?).await?.ok_or(ApiError::NotFound)?;
            (row.name, format!("/clients/{c}"))
        }
        None => ("Global".into(), "/docs?owner=global".into()),
    })
}

async fn article_page(app: &App, p: &Principal, client: Option<i64>, id: i64, error: Option<String>) -> PageResult {
    let a = ops::get(app, p, client, id).await?;
    let versions = ops::versions(app, p, client, id).await?;
    let previous: Vec<Option<i64>> = versions.iter().skip(1).map(|v| Some(v.version)).chain([None]).collect();
    let versions = versions.into_iter().zip(previous).map(|(v, previous)| VersionLine { v, previous }).collect();
    let (owner, owner_url) = owner_name(app, p, client).await?;
    let can_write = p.can(Permission::DocsWrite) && (client.is_some() || p.clients.is_none());
    Ok(html_status(
        status_for(&error),
        &ArticlePage {
            l: Layout::new(app, p, a.title.clone(), "docs").with_error(error),
            here: url(client, id),
            a,
            owner,
            owner_url,
            versions,
            can_write,
        },
    ))
}

pub async fn show(State(app): State<App>, p: Principal, ApiPath((client, id)): ApiPath<(i64, i64)>) -> PageResult {
    article_page(&app, &p, Some(client), id, None).await
}

pub async fn show_global(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    article_page(&app, &p, None, id, None).await
}

async fn update_for(app: &App, p: &Principal, client: Option<i64>, id: i64, f: ArticleForm) -> PageResult {
    let archived = match f.archived.as_deref() {
        None | Some("") => None,
        v => Some(crate::web::error::checkbox("archived", v)?),
    };
    let patch = ArticlePatch {
        title: f.title,
        body_markdown: f.body_markdown,
        folder: f.folder,
        tags: f.tags.as_deref().map(split_tags),
        archived,
        expected_version: f.version,
    };
    match ops::update(app, p, client, id, patch).await {
        // Archived by this very request: back to the list it has left.
        Ok(_) if archived == Some(true) => Ok(see_other(&format!("/docs{}", client.map(|c| format!("?owner={c}")).unwrap_or_default()))),
        Ok(_) => Ok(see_other(&url(client, id))),
        Err(e) => article_page(app, p, client, id, Some(form_error(e)?)).await,
    }
}

pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<ArticleForm>,
) -> PageResult {
    update_for(&app, &p, Some(client), id, f).await
}

pub async fn update_global(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    WebForm(f): WebForm<ArticleForm>,
) -> PageResult {
    update_for(&app, &p, None, id, f).await
}

pub async fn restore(State(app): State<App>, p: Principal, ApiPath((client, id, v)): ApiPath<(i64, i64, i64)>) -> PageResult {
    ops::restore(&app, &p, Some(client), id, v).await?;
    Ok(see_other(&url(Some(client), id)))
}

pub async fn restore_global(State(app): State<App>, p: Principal, ApiPath((id, v)): ApiPath<(i64, i64)>) -> PageResult {
    ops::restore(&app, &p, None, id, v).await?;
    Ok(see_other(&url(None, id)))
}

/// Which versions a comparison shows.
#[derive(Debug, Default, Deserialize)]
pub struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
}

#[derive(Template)]
#[template(path = "article_diff.html")]
struct DiffPage {
    l: Layout,
    d: ArticleDiff,
    title: String,
    here: String,
}

async fn diff_page(app: &App, p: &Principal, client: Option<i64>, id: i64, q: DiffQuery) -> PageResult {
    let a = ops::get(app, p, client, id).await?;
    let d = ops::diff(app, p, client, id, q.from, q.to).await?;
    Ok(html(&DiffPage {
        l: Layout::new(app, p, format!("{} · versions {} and {}", a.title, d.from, d.to), "docs"),
        d,
        title: a.title,
        here: url(client, id),
    }))
}

pub async fn diff(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, id)): ApiPath<(i64, i64)>,
    PageQuery(q): PageQuery<DiffQuery>,
) -> PageResult {
    diff_page(&app, &p, Some(client), id, q).await
}

pub async fn diff_global(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    PageQuery(q): PageQuery<DiffQuery>,
) -> PageResult {
    diff_page(&app, &p, None, id, q).await
}

#[derive(Template)]
#[template(source = r#"<div class="article">{{ body_html|safe }}</div>"#, ext = "html")]
struct PreviewFragment {
    body_html: String,
}

/// The editor's preview (htmx): the text as the article will show it.
pub async fn preview(p: Principal, WebForm(f): WebForm<ArticleForm>) -> PageResult {
    p.require(Permission::DocsRead)?;
    let md = f.body_markdown.unwrap_or_default();
    if md.chars().count() > ops::MAX_BODY {
        return Err(ApiError::invalid("body_markdown", format!("at most {} characters", ops::MAX_BODY)).into());
    }
    Ok(html(&PreviewFragment { body_html: crate::docs::markdown::render(&md) }))
}

#[derive(Template)]
#[template(path = "articles_related.html")]
struct RelatedPanel {
    client_id: i64,
    lines: Vec<(String, ArticleSummary)>,
}

pub const TICKET_PANEL: Panel = Panel { slot: Slot::Ticket, order: 20, render: ticket_panel };

/// The articles (the client's and global ones) that share the most words
/// with the ticket's subject: what a technician opening it should read.
fn ticket_panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client), Some(ticket)) = (ctx.client, ctx.ticket) else { return Ok(None) };
        if !p.can(Permission::DocsRead) {
            return Ok(None);
        }
        let mut db = app.store.snapshot().await?;
        let Some(t) = crate::tickets::store::get(&mut db, p.client(client)?, ticket).await? else { return Ok(None) };
        // Words only: the subject is not query syntax.
        let text: String = t.subject.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
        let r = crate::search::runtime::Request {
            text,
            scope: Some(vec![client, 0]),
            kinds: vec![ops::KIND],
            limit: 5,
            any_word: true,
            ..Default::default()
        };
        let found = app.search.search_blocking(r).await?;
        let ids: Vec<i64> = found.iter().map(|f| f.id).collect();
        let mut rows = store::by_ids(&mut db, &ids).await?;
        rows.retain(|r| r.archived_at.is_none() && r.client_id.is_none_or(|c| c == client));
        rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
        let lines = rows.iter().map(|r| (url(r.client_id, r.id), ArticleSummary::from(r))).collect();
        Fragment::render(&RelatedPanel { client_id: client, lines }).map(Some)
    })
}

#[derive(Template)]
#[template(path = "articles_panel.html")]
struct ArticlesPanel {
    client_id: i64,
    lines: Vec<(String, ArticleSummary)>,
    total: String,
}

pub const CLIENT_PANEL: Panel = Panel { slot: Slot::Client, order: 30, render: client_panel };

fn client_panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(client) = ctx.client else { return Ok(None) };
        if !p.can(Permission::DocsRead) {
            return Ok(None);
        }
        let f =
            Filter { which: Which::Only(Owner::Client(p.client(client)?)), folder: None, tag: None, text: None, include_archived: false };
        let (rows, total) = store::list(&mut app.store.snapshot().await?, &f, 20, 0).await?;
        let lines = rows.iter().map(|r| (url(r.client_id, r.id), ArticleSummary::from(r))).collect();
        Fragment::render(&ArticlesPanel { client_id: client, lines, total: total.to_string() }).map(Some)
    })
}
