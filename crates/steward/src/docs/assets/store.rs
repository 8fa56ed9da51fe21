//! Asset types, assets, their relationships and expiry dates in the
//! database. A type's fields and an asset's values are JSON text (their
//! rules are `model`'s); a client's asset is only reached through a
//! [`ScopedClient`]. Links named by values are checked here against the
//! tables they point into, always within the asset's client.

use crate::auth::principal::ScopedClient;
use crate::store::{Db, IdRow, Result, Total};
use crate::users::store::Users;
use sea_query::{Alias, Expr, Iden, Order, Query, SelectStatement};

#[derive(Iden, Clone, Copy)]
pub(crate) enum AssetTypes {
    Table,
    Id,
    Name,
    NameKey,
    Description,
    Fields,
    Configuration,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum Assets {
    Table,
    Id,
    ClientId,
    TypeId,
    Name,
    Fields,
    Notes,
    DeviceId,
    ArchivedAt,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(Iden, Clone, Copy)]
enum AssetExpiries {
    Table,
    AssetId,
    FieldKey,
    ClientId,
    ExpiresOn,
    WarnedDays,
}

#[derive(Iden, Clone, Copy)]
enum DocRelations {
    Table,
    Id,
    ClientId,
    FromKind,
    FromId,
    ToKind,
    ToId,
    Label,
    CreatedBy,
    CreatedAt,
}

/// A type as stored; `fields` is the JSON list of `model::FieldDef`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TypeRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub fields: String,
    pub configuration: bool,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// How many live assets are of it.
    pub assets: i64,
}

/// Types as stored; with `count`, how many live assets each has (read
/// through the partial index of live assets, and only where shown: it is
/// the costly part of a type read).
fn select_types_counted(count: bool) -> SelectStatement {
    let t = |c: AssetTypes| (AssetTypes::Table, c);
    let assets = if count {
        let q = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(Assets::Table)
            .and_where(Expr::col((Assets::Table, Assets::TypeId)).equals(t(AssetTypes::Id)))
            .and_where(Expr::col((Assets::Table, Assets::ArchivedAt)).is_null())
            .to_owned();
        sea_query::SimpleExpr::SubQuery(None, Box::new(q.into_sub_query_statement()))
    } else {
        Expr::val(0i64).into()
    };
    Query::select()
        .columns([
            t(AssetTypes::Id),
            t(AssetTypes::Name),
            t(AssetTypes::Description),
            t(AssetTypes::Fields),
            t(AssetTypes::Configuration),
            t(AssetTypes::ArchivedAt),
            t(AssetTypes::CreatedAt),
            t(AssetTypes::UpdatedAt),
        ])
        .expr_as(assets, Alias::new("assets"))
        .from(AssetTypes::Table)
        .to_owned()
}

fn select_types() -> SelectStatement {
    select_types_counted(false)
}

/// Every type, by name (archived ones too when asked).
pub async fn types(db: &mut impl Db, include_archived: bool) -> Result<Vec<TypeRow>> {
    let mut q = select_types_counted(true);
    q.order_by((AssetTypes::Table, AssetTypes::Name), Order::Asc);
    if !include_archived {
        q.and_where(Expr::col((AssetTypes::Table, AssetTypes::ArchivedAt)).is_null());
    }
    db.fetch_all(&q).await
}

/// A type with its count of live assets.
pub async fn get_type(db: &mut impl Db, id: i64) -> Result<Option<TypeRow>> {
    db.fetch_optional(select_types_counted(true).and_where(Expr::col((AssetTypes::Table, AssetTypes::Id)).eq(id))).await
}

/// A type without counting its assets (`assets` is 0): for checking and
/// showing an asset.
pub async fn get_type_plain(db: &mut impl Db, id: i64) -> Result<Option<TypeRow>> {
    db.fetch_optional(select_types().and_where(Expr::col((AssetTypes::Table, AssetTypes::Id)).eq(id))).await
}

/// The fields of these types, by type id (one query).
pub async fn type_fields(
    db: &mut impl Db,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, Vec<super::model::FieldDef>>> {
    let ids: std::collections::BTreeSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<TypeRow> = db.fetch_all(select_types().and_where(Expr::col((AssetTypes::Table, AssetTypes::Id)).is_in(ids))).await?;
    Ok(rows.into_iter().map(|t| (t.id, super::model::fields_of(&t.fields))).collect())
}

/// The type configurations are of (the shipped one, marked).
pub async fn configuration_type(db: &mut impl Db) -> Result<Option<TypeRow>> {
    db.fetch_optional(
        select_types()
            .and_where(Expr::col((AssetTypes::Table, AssetTypes::Configuration)).eq(true))
            .order_by((AssetTypes::Table, AssetTypes::Id), Order::Asc)
            .limit(1),
    )
    .await
}

/// What a type holds.
pub struct TypeContent<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// JSON list of the fields.
    pub fields: &'a str,
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Another type's id with this name (names are unique, any case).
pub async fn type_named(db: &mut impl Db, name: &str) -> Result<Option<i64>> {
    let r: Option<IdRow> = db
        .fetch_optional(
            Query::select().column(AssetTypes::Id).from(AssetTypes::Table).and_where(Expr::col(AssetTypes::NameKey).eq(name_key(name))),
        )
        .await?;
    Ok(r.map(|r| r.id))
}

pub async fn insert_type(db: &mut impl Db, c: &TypeContent<'_>, configuration: bool, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(AssetTypes::Table)
                .columns([
                    AssetTypes::Name,
                    AssetTypes::NameKey,
                    AssetTypes::Description,
                    AssetTypes::Fields,
                    AssetTypes::Configuration,
                    AssetTypes::CreatedAt,
                    AssetTypes::UpdatedAt,
                ])
                .values_panic([
                    c.name.into(),
                    name_key(c.name).into(),
                    c.description.into(),
                    c.fields.into(),
                    configuration.into(),
                    now.into(),
                    now.into(),
                ])
                .returning_col(AssetTypes::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn update_type(db: &mut impl Db, id: i64, c: &TypeContent<'_>, archived_at: Option<i64>, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(AssetTypes::Table)
            .values([
                (AssetTypes::Name, c.name.into()),
                (AssetTypes::NameKey, name_key(c.name).into()),
                (AssetTypes::Description, c.description.into()),
                (AssetTypes::Fields, c.fields.into()),
                (AssetTypes::ArchivedAt, archived_at.into()),
                (AssetTypes::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(AssetTypes::Id).eq(id)),
    )
    .await?;
    Ok(())
}

/// An asset as stored, with its type's name and the device's host name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetRow {
    pub id: i64,
    pub client_id: i64,
    pub type_id: i64,
    pub type_name: String,
    pub name: String,
    /// JSON object: field key → value.
    pub fields: String,
    pub notes: String,
    pub device_id: Option<i64>,
    pub device_hostname: Option<String>,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by_name: Option<String>,
}

fn a(c: Assets) -> (Assets, Assets) {
    (Assets::Table, c)
}

fn select_assets() -> SelectStatement {
    let devices = Alias::new("devices");
    Query::select()
        .columns([
            a(Assets::Id),
            a(Assets::ClientId),
            a(Assets::TypeId),
            a(Assets::Name),
            a(Assets::Fields),
            a(Assets::Notes),
            a(Assets::DeviceId),
            a(Assets::ArchivedAt),
            a(Assets::CreatedAt),
            a(Assets::UpdatedAt),
        ])
        .expr_as(Expr::col((AssetTypes::Table, AssetTypes::Name)), Alias::new("type_name"))
        .expr_as(Expr::col((devices.clone(), Alias::new("hostname"))), Alias::new("device_hostname"))
        .expr_as(Expr::col((Users::Table, Users::Name)), Alias::new("updated_by_name"))
        .from(Assets::Table)
        .inner_join(AssetTypes::Table, Expr::col((AssetTypes::Table, AssetTypes::Id)).equals(a(Assets::TypeId)))
        .left_join(devices.clone(), Expr::col((devices, Alias::new("id"))).equals(a(Assets::DeviceId)))
        .left_join(Users::Table, Expr::col((Users::Table, Users::Id)).equals(a(Assets::UpdatedBy)))
        .to_owned()
}

/// What an asset holds (its values already checked).
pub struct AssetContent<'a> {
    pub type_id: i64,
    pub name: &'a str,
    /// JSON object of the values.
    pub fields: &'a str,
    pub notes: &'a str,
    pub device_id: Option<i64>,
}

pub async fn insert(db: &mut impl Db, client: ScopedClient, c: &AssetContent<'_>, user: Option<i64>, now: i64) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Assets::Table)
                .columns([
                    Assets::ClientId,
                    Assets::TypeId,
                    Assets::Name,
                    Assets::Fields,
                    Assets::Notes,
                    Assets::DeviceId,
                    Assets::CreatedBy,
                    Assets::CreatedAt,
                    Assets::UpdatedBy,
                    Assets::UpdatedAt,
                ])
                .values_panic([
                    client.id().into(),
                    c.type_id.into(),
                    c.name.into(),
                    c.fields.into(),
                    c.notes.into(),
                    c.device_id.into(),
                    user.into(),
                    now.into(),
                    user.into(),
                    now.into(),
                ])
                .returning_col(Assets::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn update(db: &mut impl Db, id: i64, c: &AssetContent<'_>, archived_at: Option<i64>, user: Option<i64>, now: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(Assets::Table)
            .values([
                (Assets::Name, c.name.into()),
                (Assets::Fields, c.fields.into()),
                (Assets::Notes, c.notes.into()),
                (Assets::DeviceId, c.device_id.into()),
                (Assets::ArchivedAt, archived_at.into()),
                (Assets::UpdatedBy, user.into()),
                (Assets::UpdatedAt, now.into()),
            ])
            .and_where(Expr::col(Assets::Id).eq(id)),
    )
    .await?;
    Ok(())
}

pub async fn get(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<AssetRow>> {
    db.fetch_optional(select_assets().and_where(Expr::col(a(Assets::Id)).eq(id)).and_where(Expr::col(a(Assets::ClientId)).eq(client.id())))
        .await
}

/// The asset documenting a device, if any (archived ones too).
pub async fn of_device(db: &mut impl Db, device_id: i64) -> Result<Option<AssetRow>> {
    db.fetch_optional(select_assets().and_where(Expr::col(a(Assets::DeviceId)).eq(device_id))).await
}

/// What a list of assets asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The clients to look in (`None`: every client).
    pub clients: Option<Vec<i64>>,
    pub type_id: Option<i64>,
    /// Words of the name.
    pub text: Option<String>,
    pub include_archived: bool,
}

fn filter(q: &mut SelectStatement, f: &Filter) {
    if let Some(ids) = &f.clients {
        q.and_where(Expr::col(a(Assets::ClientId)).is_in(ids.iter().copied()));
    }
    if let Some(t) = f.type_id {
        q.and_where(Expr::col(a(Assets::TypeId)).eq(t));
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        for w in t.split_whitespace().take(8) {
            q.and_where(
                Expr::expr(sea_query::Func::lower(Expr::col(a(Assets::Name)))).like(crate::store::like_contains(&w.to_lowercase())),
            );
        }
    }
    if !f.include_archived {
        q.and_where(Expr::col(a(Assets::ArchivedAt)).is_null());
    }
}

/// A page of assets by type and name, and how many match (to 10,000).
pub async fn list(db: &mut impl Db, f: &Filter, limit: u64, offset: u64) -> Result<(Vec<AssetRow>, Total)> {
    let mut q = select_assets();
    q.order_by((AssetTypes::Table, AssetTypes::Name), Order::Asc)
        .order_by(a(Assets::Name), Order::Asc)
        .order_by(a(Assets::Id), Order::Asc)
        .limit(limit)
        .offset(offset);
    filter(&mut q, f);
    let rows = db.fetch_all(&q).await?;
    let mut matching = Query::select();
    matching.expr(Expr::val(1)).from(Assets::Table);
    filter(&mut matching, f);
    let total = crate::store::count_capped(db, matching, 10_000u64.max(offset.saturating_add(limit))).await?;
    Ok((rows, total))
}

/// Rows for the search index: these assets (any client).
pub async fn by_ids(db: &mut impl Db, ids: &[i64]) -> Result<Vec<AssetRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(select_assets().and_where(Expr::col(a(Assets::Id)).is_in(ids.iter().copied()))).await
}

/// Up to `limit` assets after id `after`, by id.
pub async fn after(db: &mut impl Db, after: i64, limit: u64) -> Result<Vec<AssetRow>> {
    db.fetch_all(select_assets().and_where(Expr::col(a(Assets::Id)).gt(after)).order_by(a(Assets::Id), Order::Asc).limit(limit)).await
}

/// Ids of live assets of a type (to re-index them when the type changes).
pub async fn ids_of_type(db: &mut impl Db, type_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<IdRow> =
        db.fetch_all(Query::select().column(Assets::Id).from(Assets::Table).and_where(Expr::col(Assets::TypeId).eq(type_id))).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Where records of a linkable kind live.
struct Target {
    table: &'static str,
    /// The column that is set once the record is gone.
    gone: Option<&'static str>,
    /// The column that names it.
    label: &'static str,
    /// Records of no client (global articles) may be linked from any.
    global: bool,
}

/// The kinds a link or a relationship may point to: `vault`, `asset`,
/// `device`, `contact`, `article`.
fn target(kind: &str) -> Option<Target> {
    let t = |table, gone, label, global| Some(Target { table, gone, label, global });
    match kind {
        "vault" => t("vault_entries", Some("archived_at"), "name", false),
        "asset" => t("assets", Some("archived_at"), "name", false),
        "device" => t("devices", Some("revoked_at"), "hostname", false),
        "contact" => t("contacts", None, "name", false),
        "article" => t("articles", Some("archived_at"), "title", true),
        _ => None,
    }
}

/// The names of live records of one kind seen from `client`, by id (gone
/// ones and other clients' left out). The table comes from a closed
/// list, never from input.
pub async fn labels(db: &mut impl Db, kind: &str, ids: &[i64], client: i64) -> Result<Vec<(i64, String)>> {
    #[derive(sqlx::FromRow)]
    struct Label {
        id: i64,
        label: String,
    }
    let Some(t) = target(kind) else { return Ok(vec![]) };
    let owner = Expr::col(Alias::new("client_id"));
    let mut q = Query::select();
    q.column(Alias::new("id"))
        .expr_as(Expr::col(Alias::new(t.label)), Alias::new("label"))
        .from(Alias::new(t.table))
        .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
        .cond_where(if t.global {
            sea_query::Cond::any().add(owner.clone().eq(client)).add(owner.is_null())
        } else {
            sea_query::Cond::all().add(owner.eq(client))
        });
    if let Some(g) = t.gone {
        q.and_where(Expr::col(Alias::new(g)).is_null());
    }
    let rows: Vec<Label> = db.fetch_all(&q).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.label)).collect())
}

/// One record's name (`None` when gone or another client's).
pub async fn label_of(db: &mut impl Db, kind: &str, id: i64, client: i64) -> Result<Option<String>> {
    Ok(labels(db, kind, &[id], client).await?.pop().map(|(_, l)| l))
}

/// Up to `limit` live records of `kind` seen from `client`, by name: the
/// choices of a link field.
pub async fn choices(db: &mut impl Db, kind: &str, client: i64, limit: u64) -> Result<Vec<(i64, String)>> {
    #[derive(sqlx::FromRow)]
    struct Label {
        id: i64,
        label: String,
    }
    let Some(t) = target(kind) else { return Ok(vec![]) };
    let mut q = Query::select();
    q.column(Alias::new("id"))
        .expr_as(Expr::col(Alias::new(t.label)), Alias::new("label"))
        .from(Alias::new(t.table))
        .and_where(Expr::col(Alias::new("client_id")).eq(client))
        .order_by(Alias::new(t.label), Order::Asc)
        .limit(limit);
    if let Some(g) = t.gone {
        q.and_where(Expr::col(Alias::new(g)).is_null());
    }
    let rows: Vec<Label> = db.fetch_all(&q).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.label)).collect())
}

/// Whether record `id` of `kind` is live and seen from `client`.
pub async fn belongs(db: &mut impl Db, kind: &str, id: i64, client: i64) -> Result<bool> {
    Ok(label_of(db, kind, id, client).await?.is_some())
}

/// Replaces an asset's expiry dates; a date that stays keeps the warning
/// already sent for it.
pub async fn set_expiries(db: &mut impl Db, asset_id: i64, client_id: i64, dates: &[(String, String)]) -> Result<()> {
    #[derive(sqlx::FromRow)]
    struct Kept {
        field_key: String,
        expires_on: String,
        warned_days: Option<i64>,
    }
    let before: Vec<Kept> = db
        .fetch_all(
            Query::select()
                .columns([AssetExpiries::FieldKey, AssetExpiries::ExpiresOn, AssetExpiries::WarnedDays])
                .from(AssetExpiries::Table)
                .and_where(Expr::col(AssetExpiries::AssetId).eq(asset_id)),
        )
        .await?;
    db.execute(Query::delete().from_table(AssetExpiries::Table).and_where(Expr::col(AssetExpiries::AssetId).eq(asset_id))).await?;
    for (key, day) in dates {
        let warned = before.iter().find(|k| &k.field_key == key && &k.expires_on == day).and_then(|k| k.warned_days);
        db.execute(
            Query::insert()
                .into_table(AssetExpiries::Table)
                .columns([
                    AssetExpiries::AssetId,
                    AssetExpiries::FieldKey,
                    AssetExpiries::ClientId,
                    AssetExpiries::ExpiresOn,
                    AssetExpiries::WarnedDays,
                ])
                .values_panic([asset_id.into(), key.clone().into(), client_id.into(), day.clone().into(), warned.into()]),
        )
        .await?;
    }
    Ok(())
}

/// One date on the expiry list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExpiryRow {
    pub asset_id: i64,
    pub asset_name: String,
    pub type_name: String,
    pub field_key: String,
    pub client_id: i64,
    pub client_name: String,
    pub expires_on: String,
    pub warned_days: Option<i64>,
}

/// The dates up to `until` (`YYYY-MM-DD`, past ones included) of the
/// clients `clients` (`None`: all), soonest first.
pub async fn expiries(db: &mut impl Db, clients: Option<&[i64]>, until: &str, limit: u64) -> Result<Vec<ExpiryRow>> {
    let e = |c: AssetExpiries| (AssetExpiries::Table, c);
    let clients_t = Alias::new("clients");
    let mut q = Query::select();
    q.columns([
        e(AssetExpiries::AssetId),
        e(AssetExpiries::FieldKey),
        e(AssetExpiries::ClientId),
        e(AssetExpiries::ExpiresOn),
        e(AssetExpiries::WarnedDays),
    ])
    .expr_as(Expr::col(a(Assets::Name)), Alias::new("asset_name"))
    .expr_as(Expr::col((AssetTypes::Table, AssetTypes::Name)), Alias::new("type_name"))
    .expr_as(Expr::col((clients_t.clone(), Alias::new("name"))), Alias::new("client_name"))
    .from(AssetExpiries::Table)
    .inner_join(Assets::Table, Expr::col(a(Assets::Id)).equals(e(AssetExpiries::AssetId)))
    .inner_join(AssetTypes::Table, Expr::col((AssetTypes::Table, AssetTypes::Id)).equals(a(Assets::TypeId)))
    .inner_join(clients_t.clone(), Expr::col((clients_t, Alias::new("id"))).equals(e(AssetExpiries::ClientId)))
    .and_where(Expr::col(e(AssetExpiries::ExpiresOn)).lte(until))
    .and_where(Expr::col(a(Assets::ArchivedAt)).is_null())
    .order_by(e(AssetExpiries::ExpiresOn), Order::Asc)
    .order_by(e(AssetExpiries::AssetId), Order::Asc)
    .limit(limit);
    if let Some(ids) = clients {
        q.and_where(Expr::col(e(AssetExpiries::ClientId)).is_in(ids.iter().copied()));
    }
    db.fetch_all(&q).await
}

/// Marks the warning `days` ahead as sent for this date.
pub async fn mark_warned(db: &mut impl Db, asset_id: i64, field_key: &str, days: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(AssetExpiries::Table)
            .value(AssetExpiries::WarnedDays, days)
            .and_where(Expr::col(AssetExpiries::AssetId).eq(asset_id))
            .and_where(Expr::col(AssetExpiries::FieldKey).eq(field_key)),
    )
    .await?;
    Ok(())
}

/// A relationship as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RelationRow {
    pub id: i64,
    pub client_id: i64,
    pub from_kind: String,
    pub from_id: i64,
    pub to_kind: String,
    pub to_id: i64,
    pub label: String,
    pub created_at: i64,
}

fn select_relations() -> SelectStatement {
    Query::select()
        .columns([
            DocRelations::Id,
            DocRelations::ClientId,
            DocRelations::FromKind,
            DocRelations::FromId,
            DocRelations::ToKind,
            DocRelations::ToId,
            DocRelations::Label,
            DocRelations::CreatedAt,
        ])
        .from(DocRelations::Table)
        .to_owned()
}

/// Adds a relationship; `None` when the same one exists already.
pub async fn relate(
    db: &mut impl Db,
    client: ScopedClient,
    from: (&str, i64),
    to: (&str, i64),
    label: &str,
    user: Option<i64>,
    now: i64,
) -> Result<Option<i64>> {
    let exists: Option<IdRow> = db
        .fetch_optional(
            Query::select()
                .column(DocRelations::Id)
                .from(DocRelations::Table)
                .and_where(Expr::col(DocRelations::FromKind).eq(from.0))
                .and_where(Expr::col(DocRelations::FromId).eq(from.1))
                .and_where(Expr::col(DocRelations::ToKind).eq(to.0))
                .and_where(Expr::col(DocRelations::ToId).eq(to.1)),
        )
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(DocRelations::Table)
                .columns([
                    DocRelations::ClientId,
                    DocRelations::FromKind,
                    DocRelations::FromId,
                    DocRelations::ToKind,
                    DocRelations::ToId,
                    DocRelations::Label,
                    DocRelations::CreatedBy,
                    DocRelations::CreatedAt,
                ])
                .values_panic([
                    client.id().into(),
                    from.0.into(),
                    from.1.into(),
                    to.0.into(),
                    to.1.into(),
                    label.into(),
                    user.into(),
                    now.into(),
                ])
                .returning_col(DocRelations::Id),
        )
        .await?;
    Ok(Some(r.id))
}

/// Every relationship with `(kind, id)` at either end, oldest first.
pub async fn relations_of(db: &mut impl Db, client: ScopedClient, kind: &str, id: i64) -> Result<Vec<RelationRow>> {
    let mut q = select_relations();
    q.and_where(Expr::col(DocRelations::ClientId).eq(client.id()))
        .cond_where(
            sea_query::Cond::any()
                .add(Expr::col(DocRelations::FromKind).eq(kind).and(Expr::col(DocRelations::FromId).eq(id)))
                .add(Expr::col(DocRelations::ToKind).eq(kind).and(Expr::col(DocRelations::ToId).eq(id))),
        )
        .order_by(DocRelations::Id, Order::Asc);
    db.fetch_all(&q).await
}

/// A client's relationships, oldest first, at most `limit`.
pub async fn relations_of_client(db: &mut impl Db, client: ScopedClient, limit: u64) -> Result<Vec<RelationRow>> {
    db.fetch_all(
        select_relations().and_where(Expr::col(DocRelations::ClientId).eq(client.id())).order_by(DocRelations::Id, Order::Asc).limit(limit),
    )
    .await
}

pub async fn relation(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<RelationRow>> {
    db.fetch_optional(
        select_relations().and_where(Expr::col(DocRelations::Id).eq(id)).and_where(Expr::col(DocRelations::ClientId).eq(client.id())),
    )
    .await
}

pub async fn unrelate(db: &mut impl Db, id: i64) -> Result<()> {
    db.execute(Query::delete().from_table(DocRelations::Table).and_where(Expr::col(DocRelations::Id).eq(id))).await?;
    Ok(())
}
