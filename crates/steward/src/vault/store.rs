//! The vault in the database: entries of a client (their plain fields and
//! the sealed secrets, which only `ops` opens), earlier versions, and the
//! reveal log. Every read that names a client takes a [`ScopedClient`].

use crate::auth::principal::ScopedClient;
use crate::store::{Count, Db, IdRow, Result};
use crate::users::store::Users;
use sea_query::{Alias, Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub(crate) enum VaultEntries {
    Table,
    Id,
    ClientId,
    Folder,
    Name,
    Username,
    Url,
    Notes,
    Sealed,
    HasTotp,
    FieldNames,
    PasswordHash,
    PasswordChangedAt,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
    ArchivedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum VaultVersions {
    Table,
    EntryId,
    Version,
    Folder,
    Name,
    Username,
    Url,
    Notes,
    Sealed,
    ChangedBy,
    ChangedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum VaultReveals {
    Table,
    EntryId,
    UserId,
    Fields,
    Ip,
    At,
}

/// An entry as stored (times in UTC µs). `sealed` is opened only to reveal.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub client_id: i64,
    pub folder: String,
    pub name: String,
    pub username: String,
    pub url: String,
    pub notes: String,
    pub sealed: String,
    pub has_totp: bool,
    pub field_names: String,
    pub password_hash: String,
    pub password_changed_at: i64,
    pub version: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_by: Option<i64>,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
}

const COLS: [VaultEntries; 18] = [
    VaultEntries::Id,
    VaultEntries::ClientId,
    VaultEntries::Folder,
    VaultEntries::Name,
    VaultEntries::Username,
    VaultEntries::Url,
    VaultEntries::Notes,
    VaultEntries::Sealed,
    VaultEntries::HasTotp,
    VaultEntries::FieldNames,
    VaultEntries::PasswordHash,
    VaultEntries::PasswordChangedAt,
    VaultEntries::Version,
    VaultEntries::CreatedBy,
    VaultEntries::CreatedAt,
    VaultEntries::UpdatedBy,
    VaultEntries::UpdatedAt,
    VaultEntries::ArchivedAt,
];

/// The plain fields of a new entry or a new version.
#[derive(Debug, Clone)]
pub struct Plain {
    pub folder: String,
    pub name: String,
    pub username: String,
    pub url: String,
    pub notes: String,
}

/// Inserts an entry with `sealed` left empty (its context needs the id);
/// [`set_sealed`] fills it in the same transaction.
pub async fn insert(db: &mut impl Db, client: ScopedClient, p: &Plain, user: i64, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(VaultEntries::Table)
                .columns([
                    VaultEntries::ClientId,
                    VaultEntries::Folder,
                    VaultEntries::Name,
                    VaultEntries::Username,
                    VaultEntries::Url,
                    VaultEntries::Notes,
                    VaultEntries::Sealed,
                    VaultEntries::HasTotp,
                    VaultEntries::PasswordHash,
                    VaultEntries::PasswordChangedAt,
                    VaultEntries::Version,
                    VaultEntries::CreatedBy,
                    VaultEntries::CreatedAt,
                    VaultEntries::UpdatedBy,
                    VaultEntries::UpdatedAt,
                ])
                .values_panic([
                    client.id().into(),
                    p.folder.clone().into(),
                    p.name.clone().into(),
                    p.username.clone().into(),
                    p.url.clone().into(),
                    p.notes.clone().into(),
                    "".into(),
                    false.into(),
                    "".into(),
                    now.into(),
                    1i64.into(),
                    user.into(),
                    now.into(),
                    user.into(),
                    now.into(),
                ])
                .returning_col(VaultEntries::Id),
        )
        .await?;
    Ok(r.id)
}

/// What a (new) version's secrets are stored as.
pub struct SealedSecrets {
    pub sealed: String,
    pub has_totp: bool,
    /// JSON list of the custom fields' names.
    pub field_names: String,
    pub password_hash: String,
    /// Set when the password itself changed.
    pub password_changed_at: Option<i64>,
}

/// Writes an entry's version: its plain fields, its sealed secrets and its
/// version number.
pub async fn set_version(db: &mut impl Db, id: i64, version: i64, p: &Plain, s: &SealedSecrets, user: i64, now: i64) -> Result<()> {
    let mut q = Query::update();
    q.table(VaultEntries::Table)
        .values([
            (VaultEntries::Folder, p.folder.clone().into()),
            (VaultEntries::Name, p.name.clone().into()),
            (VaultEntries::Username, p.username.clone().into()),
            (VaultEntries::Url, p.url.clone().into()),
            (VaultEntries::Notes, p.notes.clone().into()),
            (VaultEntries::Sealed, s.sealed.clone().into()),
            (VaultEntries::HasTotp, s.has_totp.into()),
            (VaultEntries::FieldNames, s.field_names.clone().into()),
            (VaultEntries::PasswordHash, s.password_hash.clone().into()),
            (VaultEntries::Version, version.into()),
            (VaultEntries::UpdatedBy, user.into()),
            (VaultEntries::UpdatedAt, now.into()),
        ])
        .and_where(Expr::col(VaultEntries::Id).eq(id));
    if let Some(at) = s.password_changed_at {
        q.value(VaultEntries::PasswordChangedAt, at);
    }
    db.execute(&q).await?;
    Ok(())
}

/// Keeps the entry's current version among its earlier ones (before a change).
pub async fn keep_version(db: &mut impl Db, e: &EntryRow) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(VaultVersions::Table)
            .columns([
                VaultVersions::EntryId,
                VaultVersions::Version,
                VaultVersions::Folder,
                VaultVersions::Name,
                VaultVersions::Username,
                VaultVersions::Url,
                VaultVersions::Notes,
                VaultVersions::Sealed,
                VaultVersions::ChangedBy,
                VaultVersions::ChangedAt,
            ])
            .values_panic([
                e.id.into(),
                e.version.into(),
                e.folder.clone().into(),
                e.name.clone().into(),
                e.username.clone().into(),
                e.url.clone().into(),
                e.notes.clone().into(),
                e.sealed.clone().into(),
                e.updated_by.into(),
                e.updated_at.into(),
            ]),
    )
    .await?;
    Ok(())
}

/// One entry of the client (archived ones too).
pub async fn get(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<EntryRow>> {
    db.fetch_optional(
        Query::select()
            .columns(COLS)
            .from(VaultEntries::Table)
            .and_where(Expr::col(VaultEntries::Id).eq(id))
            .and_where(Expr::col(VaultEntries::ClientId).eq(client.id())),
    )
    .await
}

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub folder: Option<String>,
    /// Words of the name, user name or URL.
    pub text: Option<String>,
    pub include_archived: bool,
}

/// The client's entries, by folder and name, one page and the total.
pub async fn list(db: &mut impl Db, client: ScopedClient, f: &Filter, limit: u64, offset: u64) -> Result<(Vec<EntryRow>, i64)> {
    let mut q = Query::select();
    q.from(VaultEntries::Table).and_where(Expr::col(VaultEntries::ClientId).eq(client.id()));
    if !f.include_archived {
        q.and_where(Expr::col(VaultEntries::ArchivedAt).is_null());
    }
    if let Some(folder) = &f.folder {
        q.and_where(Expr::col(VaultEntries::Folder).eq(folder.as_str()));
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = crate::store::like_contains(&t.to_lowercase());
        q.cond_where(
            sea_query::Cond::any()
                .add(Expr::expr(sea_query::Func::lower(Expr::col(VaultEntries::Name))).like(like.clone()))
                .add(Expr::expr(sea_query::Func::lower(Expr::col(VaultEntries::Username))).like(like.clone()))
                .add(Expr::expr(sea_query::Func::lower(Expr::col(VaultEntries::Url))).like(like)),
        );
    }
    let total: Count = db.fetch_one(q.clone().expr_as(Expr::col(VaultEntries::Id).count(), Alias::new("n"))).await?;
    let rows = db
        .fetch_all(
            q.columns(COLS)
                .order_by(VaultEntries::Folder, Order::Asc)
                .order_by(VaultEntries::Name, Order::Asc)
                .order_by(VaultEntries::Id, Order::Asc)
                .limit(limit)
                .offset(offset),
        )
        .await?;
    Ok((rows, total.n))
}

/// An earlier version as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i64,
    pub folder: String,
    pub name: String,
    pub username: String,
    pub url: String,
    pub notes: String,
    pub sealed: String,
    pub changed_by: Option<i64>,
    pub changed_by_name: Option<String>,
    pub changed_at: i64,
}

/// An entry's earlier versions, newest first.
pub async fn versions(db: &mut impl Db, entry_id: i64) -> Result<Vec<VersionRow>> {
    db.fetch_all(
        Query::select()
            .columns([
                (VaultVersions::Table, VaultVersions::Version),
                (VaultVersions::Table, VaultVersions::Folder),
                (VaultVersions::Table, VaultVersions::Name),
                (VaultVersions::Table, VaultVersions::Username),
                (VaultVersions::Table, VaultVersions::Url),
                (VaultVersions::Table, VaultVersions::Notes),
                (VaultVersions::Table, VaultVersions::Sealed),
                (VaultVersions::Table, VaultVersions::ChangedBy),
                (VaultVersions::Table, VaultVersions::ChangedAt),
            ])
            .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("changed_by_name"))
            .from(VaultVersions::Table)
            .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((VaultVersions::Table, VaultVersions::ChangedBy)))
            .and_where(Expr::col((VaultVersions::Table, VaultVersions::EntryId)).eq(entry_id))
            .order_by((VaultVersions::Table, VaultVersions::Version), Order::Desc),
    )
    .await
}

/// Marks an entry archived (`Some`) or back in use (`None`).
pub async fn set_archived(db: &mut impl Db, id: i64, at: Option<i64>, user: i64, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(VaultEntries::Table)
            .values([(VaultEntries::ArchivedAt, at.into()), (VaultEntries::UpdatedBy, user.into()), (VaultEntries::UpdatedAt, now.into())])
            .and_where(Expr::col(VaultEntries::Id).eq(id)),
    )
    .await?;
    Ok(())
}

/// Logs a reveal.
pub async fn log_reveal(db: &mut impl Db, entry_id: i64, user_id: i64, fields: &str, ip: &str, at: i64) -> Result<()> {
    db.execute(
        Query::insert()
            .into_table(VaultReveals::Table)
            .columns([VaultReveals::EntryId, VaultReveals::UserId, VaultReveals::Fields, VaultReveals::Ip, VaultReveals::At])
            .values_panic([entry_id.into(), user_id.into(), fields.into(), ip.into(), at.into()]),
    )
    .await?;
    Ok(())
}

/// How many reveals a user made since `since`.
pub async fn reveals_since(db: &mut impl Db, user_id: i64, since: i64) -> Result<i64> {
    let c: Count = db
        .fetch_one(
            Query::select()
                .expr_as(Expr::col(VaultReveals::EntryId).count(), Alias::new("n"))
                .from(VaultReveals::Table)
                .and_where(Expr::col(VaultReveals::UserId).eq(user_id))
                .and_where(Expr::col(VaultReveals::At).gte(since)),
        )
        .await?;
    Ok(c.n)
}

/// A reveal as the entry page lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RevealRow {
    pub user_name: String,
    pub fields: String,
    pub ip: String,
    pub at: i64,
}

/// The latest reveals of an entry, newest first.
pub async fn reveals(db: &mut impl Db, entry_id: i64, limit: u64) -> Result<Vec<RevealRow>> {
    db.fetch_all(
        Query::select()
            .columns([
                (VaultReveals::Table, VaultReveals::Fields),
                (VaultReveals::Table, VaultReveals::Ip),
                (VaultReveals::Table, VaultReveals::At),
            ])
            .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("user_name"))
            .from(VaultReveals::Table)
            .inner_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals((VaultReveals::Table, VaultReveals::UserId)))
            .and_where(Expr::col((VaultReveals::Table, VaultReveals::EntryId)).eq(entry_id))
            .order_by((VaultReveals::Table, VaultReveals::At), Order::Desc)
            .limit(limit),
    )
    .await
}

/// The client's live entries' password hashes, for the reuse report:
/// (entry id, name, keyed hash, password changed at).
pub async fn password_hashes(db: &mut impl Db, client: ScopedClient) -> Result<Vec<(i64, String, String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Hashed {
        id: i64,
        name: String,
        password_hash: String,
        password_changed_at: i64,
    }
    let rows: Vec<Hashed> = db
        .fetch_all(
            Query::select()
                .columns([VaultEntries::Id, VaultEntries::Name, VaultEntries::PasswordHash, VaultEntries::PasswordChangedAt])
                .from(VaultEntries::Table)
                .and_where(Expr::col(VaultEntries::ClientId).eq(client.id()))
                .and_where(Expr::col(VaultEntries::ArchivedAt).is_null())
                .order_by(VaultEntries::Name, Order::Asc),
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name, r.password_hash, r.password_changed_at)).collect())
}
