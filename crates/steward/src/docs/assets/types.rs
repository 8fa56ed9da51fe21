//! Asset types (global, for every client): read by everyone with
//! `docs:read`, defined and changed by administrators (`settings:write`).
//! A change of fields re-checks nothing already stored, but refuses to
//! change the kind of a field some asset has a value in, and brings every
//! asset of the type back into the search index and the expiry list (a
//! field may have stopped or started expiring).

use super::model::{check_fields, fields_of, values_of, FieldDef, FieldInput, KIND};
use super::store::{self, TypeContent, TypeRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use crate::validate::{Medium, Name};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An asset type with its fields.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssetType {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub fields: Vec<FieldDef>,
    /// The type configurations are of (matched to managed devices).
    pub configuration: bool,
    /// Live assets of this type.
    pub assets: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
}

impl From<&TypeRow> for AssetType {
    fn from(r: &TypeRow) -> Self {
        AssetType {
            id: r.id,
            name: r.name.clone(),
            description: r.description.clone(),
            fields: fields_of(&r.fields),
            configuration: r.configuration,
            assets: r.assets,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            archived_at: r.archived_at.map(Timestamp),
        }
    }
}

/// A new asset type.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssetType {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Medium)]
    pub description: String,
    #[schema(max_items = 60)]
    pub fields: Vec<FieldInput>,
}

/// Changes to a type; each field left out stays. `fields` replaces the
/// whole list (keys name the fields that stay).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetTypePatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::Medium>)]
    pub description: Option<String>,
    #[schema(max_items = 60)]
    pub fields: Option<Vec<FieldInput>>,
    /// `true` hides it from new assets (its assets stay).
    pub archived: Option<bool>,
}

fn checked(name: &str, description: &str, fields: &[FieldInput]) -> Result<(String, String, Vec<FieldDef>), ApiError> {
    let name = Name::parse(name).map_err(|m| ApiError::invalid("name", m))?.into_string();
    let description = Medium::parse(description).map_err(|m| ApiError::invalid("description", m))?.into_string();
    let fields = check_fields(fields).map_err(|(f, m)| ApiError::refused(&f, m))?;
    Ok((name, description, fields))
}

async fn name_free(db: &mut impl Db, name: &str, except: Option<i64>) -> Result<(), ApiError> {
    match store::type_named(db, name).await? {
        Some(id) if Some(id) != except => Err(ApiError::Conflict(format!("an asset type named {name:?} exists already"))),
        _ => Ok(()),
    }
}

pub async fn list(app: &App, p: &Principal, include_archived: bool) -> Result<Vec<AssetType>, ApiError> {
    p.require(Permission::DocsRead)?;
    Ok(store::types(&mut app.store.clone(), include_archived).await?.iter().map(AssetType::from).collect())
}

pub async fn get(app: &App, p: &Principal, id: i64) -> Result<AssetType, ApiError> {
    p.require(Permission::DocsRead)?;
    Ok(AssetType::from(&store::get_type(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?))
}

/// A type without its count of assets (`assets` is 0): for a form or a page
/// of one asset, where counting would be the slowest part.
pub async fn get_plain(app: &App, p: &Principal, id: i64) -> Result<AssetType, ApiError> {
    p.require(Permission::DocsRead)?;
    Ok(AssetType::from(&store::get_type_plain(&mut app.store.clone(), id).await?.ok_or(ApiError::NotFound)?))
}

pub async fn create(app: &App, p: &Principal, input: NewAssetType) -> Result<AssetType, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let (name, description, fields) = checked(&input.name, &input.description, &input.fields)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    name_free(tx.tx(), &name, None).await?;
    let json = serde_json::to_string(&fields).map_err(ApiError::internal)?;
    let id = store::insert_type(tx.tx(), &TypeContent { name: &name, description: &description, fields: &json }, false, now).await?;
    let t = AssetType::from(&store::get_type(tx.tx(), id).await?.ok_or(ApiError::NotFound)?);
    tx.commit(&p.actor(), Event::new("asset_type.create", "asset_type", id).details(json!({"name": name, "fields": fields.len()}))).await?;
    Ok(t)
}

pub async fn update(app: &App, p: &Principal, id: i64, patch: AssetTypePatch) -> Result<AssetType, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let r = store::get_type_plain(db, id).await?.ok_or(ApiError::NotFound)?;
    let old = fields_of(&r.fields);
    let as_input: Vec<FieldInput> = old
        .iter()
        .map(|f| FieldInput {
            key: Some(f.key.clone()),
            label: f.label.clone(),
            kind: f.kind,
            required: f.required,
            options: f.options.clone(),
            expires: f.expires,
            help: f.help.clone(),
        })
        .collect();
    let (name, description, fields) = checked(
        patch.name.as_deref().unwrap_or(&r.name),
        patch.description.as_deref().unwrap_or(&r.description),
        patch.fields.as_deref().unwrap_or(&as_input),
    )?;
    if r.configuration && fields.is_empty() {
        return Err(ApiError::refused("fields", "the configuration type keeps at least one field"));
    }
    name_free(db, &name, Some(id)).await?;
    let assets = store::ids_of_type(db, id).await?;
    for f in &fields {
        if let Some(was) = old.iter().find(|o| o.key == f.key).filter(|o| o.kind != f.kind) {
            let used = assets_with_value(db, &assets, &f.key).await?;
            if used > 0 {
                return Err(ApiError::Conflict(format!(
                    "{used} assets have a value in {:?} ({}): its kind cannot become {} (add a new field instead)",
                    f.label,
                    was.kind.as_str(),
                    f.kind.as_str()
                )));
            }
        }
    }
    let archived_at = match patch.archived {
        Some(true) => r.archived_at.or(Some(now)),
        Some(false) => None,
        None => r.archived_at,
    };
    let json = serde_json::to_string(&fields).map_err(ApiError::internal)?;
    store::update_type(db, id, &TypeContent { name: &name, description: &description, fields: &json }, archived_at, now).await?;
    // What expires and what is searchable may have changed with the fields.
    for asset in &assets {
        refresh_derived(db, *asset, &fields, now).await?;
    }
    let t = AssetType::from(&store::get_type(db, id).await?.ok_or(ApiError::NotFound)?);
    let details = json!({"name": name, "fields": fields.len(), "archived": archived_at.is_some(), "assets": assets.len()});
    tx.commit_change(&p.actor(), Event::new("asset_type.update", "asset_type", id).details(details), &old, &fields).await?;
    Ok(t)
}

async fn assets_with_value(db: &mut impl Db, ids: &[i64], key: &str) -> Result<usize, ApiError> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += store::by_ids(db, chunk)
            .await?
            .iter()
            .filter(|a| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&a.fields).is_ok_and(|m| m.contains_key(key)))
            .count();
    }
    Ok(n)
}

/// After its type changed: an asset's expiry dates (by the type's new
/// fields, from its stored values) and its search document again.
async fn refresh_derived(db: &mut impl Db, id: i64, defs: &[FieldDef], now: i64) -> Result<(), ApiError> {
    let Some(r) = store::by_ids(db, &[id]).await?.pop() else { return Ok(()) };
    let values = values_of(&r.fields);
    let dated = |d: &FieldDef| {
        let v = values.get(&d.key).and_then(serde_json::Value::as_str)?;
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().map(|_| (d.key.clone(), v.to_string()))
    };
    let dates: Vec<(String, String)> =
        if r.archived_at.is_some() { vec![] } else { defs.iter().filter(|d| d.expires).filter_map(dated).collect() };
    store::set_expiries(db, id, r.client_id, &dates).await?;
    crate::search::store::enqueue(db, KIND, id, now).await?;
    Ok(())
}
