//! Knowledge-base articles in the database: the current text on the
//! article row, every version (the current one too) in `article_versions`,
//! tags in `article_tags` for filtering. An article belongs to a client or
//! to nobody (global); every read names which ([`Owner`]), so a client's
//! article is reached only through a [`ScopedClient`].

use crate::auth::principal::ScopedClient;
use crate::store::{Db, IdRow, Result, Total};
use crate::users::store::Users;
use sea_query::{Alias, Cond, Expr, Iden, Order, Query, SelectStatement};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Articles {
    Table,
    Id,
    ClientId,
    Folder,
    Title,
    BodyMarkdown,
    Tags,
    Version,
    ArchivedAt,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
enum ArticleVersions {
    Table,
    ArticleId,
    Version,
    Folder,
    Title,
    BodyMarkdown,
    Tags,
    Note,
    AuthorId,
    CreatedAt,
}

#[derive(Iden, Clone, Copy)]
enum ArticleTags {
    Table,
    ArticleId,
    Tag,
}

/// Whose an article is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Client(ScopedClient),
    /// Everyone's: an SOP for every client.
    Global,
}

impl Owner {
    pub fn client_id(self) -> Option<i64> {
        match self {
            Owner::Client(c) => Some(c.id()),
            Owner::Global => None,
        }
    }

    fn cond(self) -> Cond {
        let col = Expr::col((Articles::Table, Articles::ClientId));
        match self {
            Owner::Client(c) => Cond::all().add(col.eq(c.id())),
            Owner::Global => Cond::all().add(col.is_null()),
        }
    }
}

/// An article as stored (times in UTC µs); `tags` is a JSON array.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArticleRow {
    pub id: i64,
    pub client_id: Option<i64>,
    pub folder: String,
    pub title: String,
    pub body_markdown: String,
    pub tags: String,
    pub version: i64,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by_name: Option<String>,
}

/// One version as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i64,
    pub folder: String,
    pub title: String,
    pub body_markdown: String,
    pub tags: String,
    pub note: String,
    pub author_name: Option<String>,
    pub created_at: i64,
}

/// What a version holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub folder: String,
    pub title: String,
    pub body_markdown: String,
    pub tags: Vec<String>,
}

impl Content {
    fn tags_json(&self) -> String {
        serde_json::to_string(&self.tags).unwrap_or_else(|_| "[]".into())
    }
}

fn select() -> SelectStatement {
    let a = |c: Articles| (Articles::Table, c);
    Query::select()
        .columns([
            a(Articles::Id),
            a(Articles::ClientId),
            a(Articles::Folder),
            a(Articles::Title),
            a(Articles::BodyMarkdown),
            a(Articles::Tags),
            a(Articles::Version),
            a(Articles::ArchivedAt),
            a(Articles::CreatedAt),
            a(Articles::UpdatedAt),
        ])
        .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("updated_by_name"))
        .from(Articles::Table)
        .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals(a(Articles::UpdatedBy)))
        .to_owned()
}

/// Adds an article (its version 1) and returns its id.
pub async fn insert(db: &mut impl Db, owner: Owner, c: &Content, user: i64, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Articles::Table)
                .columns([
                    Articles::ClientId,
                    Articles::Folder,
                    Articles::Title,
                    Articles::BodyMarkdown,
                    Articles::Tags,
                    Articles::Version,
                    Articles::CreatedBy,
                    Articles::CreatedAt,
                    Articles::UpdatedBy,
                    Articles::UpdatedAt,
                ])
                .values_panic([
                    owner.client_id().into(),
                    c.folder.clone().into(),
                    c.title.clone().into(),
                    c.body_markdown.clone().into(),
                    c.tags_json().into(),
                    1i64.into(),
                    user.into(),
                    now.into(),
                    user.into(),
                    now.into(),
                ])
                .returning_col(Articles::Id),
        )
        .await?;
    add_version(db, r.id, 1, c, "", user, now).await?;
    set_tags(db, r.id, &c.tags).await?;
    Ok(r.id)
}

/// Makes `c` the article's version `version` (the caller has checked it is
/// the next one).
pub async fn set_content(db: &mut impl Db, id: i64, version: i64, c: &Content, note: &str, user: i64, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(Articles::Table)
            .values([
                (Articles::Folder, c.folder.clone().into()),
                (Articles::Title, c.title.clone().into()),
                (Articles::BodyMarkdown, c.body_markdown.clone().into()),
                (Articles::Tags, c.tags_json().into()),
                (Articles::Version, version.into()),
                (Articles::UpdatedBy, user.into()),
                (Articles::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Articles::Id).eq(id)),
    )
    .await?;
    add_version(db, id, version, c, note, user, now).await?;
    set_tags(db, id, &c.tags).await
}

async fn add_version(db: &mut impl Db, id: i64, version: i64, c: &Content, note: &str, user: i64, now: i64) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(ArticleVersions::Table)
            .columns([
                ArticleVersions::ArticleId,
                ArticleVersions::Version,
                ArticleVersions::Folder,
                ArticleVersions::Title,
                ArticleVersions::BodyMarkdown,
                ArticleVersions::Tags,
                ArticleVersions::Note,
                ArticleVersions::AuthorId,
                ArticleVersions::CreatedAt,
            ])
            .values_panic([
                id.into(),
                version.into(),
                c.folder.clone().into(),
                c.title.clone().into(),
                c.body_markdown.clone().into(),
                c.tags_json().into(),
                note.into(),
                user.into(),
                now.into(),
            ]),
    )
    .await?;
    Ok(())
}

async fn set_tags(db: &mut impl Db, id: i64, tags: &[String]) -> Result<()> {
    db.execute(Query::delete().from_table(ArticleTags::Table).and_where(Expr::col(ArticleTags::ArticleId).eq(id))).await?;
    if !tags.is_empty() {
        let mut q = Query::insert();
        q.into_table(ArticleTags::Table).columns([ArticleTags::ArticleId, ArticleTags::Tag]);
        for t in tags {
            q.values_panic([id.into(), t.clone().into()]);
        }
        db.execute(&q).await?;
    }
    Ok(())
}

pub async fn set_archived(db: &mut impl Db, id: i64, at: Option<i64>, user: i64, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(Articles::Table)
            .values([(Articles::ArchivedAt, at.into()), (Articles::UpdatedBy, user.into()), (Articles::UpdatedAt, now.into())])
            .and_where(Expr::col(Articles::Id).eq(id)),
    )
    .await?;
    Ok(())
}

pub async fn get(db: &mut impl Db, owner: Owner, id: i64) -> Result<Option<ArticleRow>> {
    db.fetch_optional(select().and_where(Expr::col((Articles::Table, Articles::Id)).eq(id)).cond_where(owner.cond())).await
}

/// Every version of an article, newest first.
pub async fn versions(db: &mut impl Db, id: i64) -> Result<Vec<VersionRow>> {
    db.fetch_all(
        version_select()
            .and_where(Expr::col((ArticleVersions::Table, ArticleVersions::ArticleId)).eq(id))
            .order_by((ArticleVersions::Table, ArticleVersions::Version), Order::Desc),
    )
    .await
}

pub async fn version(db: &mut impl Db, id: i64, version: i64) -> Result<Option<VersionRow>> {
    db.fetch_optional(
        version_select()
            .and_where(Expr::col((ArticleVersions::Table, ArticleVersions::ArticleId)).eq(id))
            .and_where(Expr::col((ArticleVersions::Table, ArticleVersions::Version)).eq(version)),
    )
    .await
}

fn version_select() -> SelectStatement {
    let v = |c: ArticleVersions| (ArticleVersions::Table, c);
    Query::select()
        .columns([
            v(ArticleVersions::Version),
            v(ArticleVersions::Folder),
            v(ArticleVersions::Title),
            v(ArticleVersions::BodyMarkdown),
            v(ArticleVersions::Tags),
            v(ArticleVersions::Note),
            v(ArticleVersions::CreatedAt),
        ])
        .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("author_name"))
        .from(ArticleVersions::Table)
        .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals(v(ArticleVersions::AuthorId)))
        .to_owned()
}

/// Which articles a list shows.
#[derive(Debug, Clone)]
pub enum Which {
    Only(Owner),
    /// The global ones and those of these clients (`None`: of every client).
    Visible(Option<Vec<i64>>),
}

/// What a list of articles asks for.
#[derive(Debug, Clone)]
pub struct Filter {
    pub which: Which,
    pub folder: Option<String>,
    pub tag: Option<String>,
    /// Words of the title.
    pub text: Option<String>,
    pub include_archived: bool,
}

fn filter(q: &mut SelectStatement, f: &Filter) {
    let col = |c: Articles| Expr::col((Articles::Table, c));
    match &f.which {
        Which::Only(o) => {
            q.cond_where(o.cond());
        }
        Which::Visible(Some(ids)) => {
            q.cond_where(Cond::any().add(col(Articles::ClientId).is_null()).add(col(Articles::ClientId).is_in(ids.clone())));
        }
        Which::Visible(None) => {}
    }
    if let Some(folder) = &f.folder {
        q.and_where(col(Articles::Folder).eq(folder.as_str()));
    }
    if let Some(tag) = &f.tag {
        q.and_where(
            col(Articles::Id).in_subquery(
                Query::select()
                    .column(ArticleTags::ArticleId)
                    .from(ArticleTags::Table)
                    .and_where(Expr::col(ArticleTags::Tag).eq(tag.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        for w in t.split_whitespace().take(8) {
            q.and_where(Expr::expr(sea_query::Func::lower(col(Articles::Title))).like(crate::store::like_contains(&w.to_lowercase())));
        }
    }
    if !f.include_archived {
        q.and_where(col(Articles::ArchivedAt).is_null());
    }
}

/// A page of articles by folder and title, and how many match (to 10,000).
pub async fn list(db: &mut impl Db, f: &Filter, limit: u64, offset: u64) -> Result<(Vec<ArticleRow>, Total)> {
    let mut q = select();
    q.order_by((Articles::Table, Articles::Folder), Order::Asc)
        .order_by((Articles::Table, Articles::Title), Order::Asc)
        .order_by((Articles::Table, Articles::Id), Order::Asc)
        .limit(limit)
        .offset(offset);
    filter(&mut q, f);
    let rows = db.fetch_all(&q).await?;
    let mut matching = Query::select();
    matching.expr(Expr::val(1)).from(Articles::Table);
    filter(&mut matching, f);
    let total = crate::store::count_capped(db, matching, 10_000u64.max(offset.saturating_add(limit))).await?;
    Ok((rows, total))
}

/// The folders in use among the articles `which` shows.
pub async fn folders(db: &mut impl Db, which: Which) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct Folder {
        folder: String,
    }
    let f = Filter { which, folder: None, tag: None, text: None, include_archived: false };
    let mut q = Query::select();
    q.distinct()
        .column((Articles::Table, Articles::Folder))
        .from(Articles::Table)
        .order_by((Articles::Table, Articles::Folder), Order::Asc);
    filter(&mut q, &f);
    let rows: Vec<Folder> = db.fetch_all(&q).await?;
    Ok(rows.into_iter().map(|r| r.folder).filter(|f| !f.is_empty()).collect())
}

/// Rows for the search index: these articles (any owner).
pub async fn by_ids(db: &mut impl Db, ids: &[i64]) -> Result<Vec<ArticleRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(select().and_where(Expr::col((Articles::Table, Articles::Id)).is_in(ids.iter().copied()))).await
}

/// Up to `limit` articles after id `after`, by id.
pub async fn after(db: &mut impl Db, after: i64, limit: u64) -> Result<Vec<ArticleRow>> {
    db.fetch_all(
        select()
            .and_where(Expr::col((Articles::Table, Articles::Id)).gt(after))
            .order_by((Articles::Table, Articles::Id), Order::Asc)
            .limit(limit),
    )
    .await
}
