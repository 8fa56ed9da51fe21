//! What people do with a client's assets: document one of a type, change
//! it (values merged field by field), archive it, and document a managed
//! device as its configuration. Every value is checked against the type
//! (`model`), every link against the client's own records, every change
//! audited with the values before and after and queued for the search
//! index, and the dates that expire kept on the expiry list, all in the
//! change's transaction.
//!
//! Reading needs `docs:read`, changing `docs:write`, and both the client.

pub use super::model::KIND;
use super::model::{check_values, fields_of, values_of, FieldDef, FieldKind};
use super::store::{self, AssetContent, AssetRow, Filter};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::list::{PageParams, Paged};
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use crate::validate::{Name, Text};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Longest notes of an asset.
pub const MAX_NOTES: usize = 20_000;

/// A value that links to another record, with that record's name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldLink {
    pub key: String,
    pub kind: FieldKind,
    pub id: i64,
    /// Its name (a device's host name); `null` when it is gone or archived.
    pub label: Option<String>,
}

/// A documented asset.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Asset {
    pub id: i64,
    pub client_id: i64,
    pub type_id: i64,
    pub type_name: String,
    pub name: String,
    /// Field key → value, as the type's kinds say (links as ids).
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// The records the link fields name.
    pub links: Vec<FieldLink>,
    pub notes: String,
    /// For a configuration: the managed device it documents.
    pub device_id: Option<i64>,
    pub device_hostname: Option<String>,
    pub updated_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
}

/// A new asset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAsset {
    pub type_id: i64,
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// Field key → value.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    #[serde(default)]
    #[schema(value_type = crate::validate::Long)]
    pub notes: String,
    /// Only for a configuration: the device it documents.
    pub device_id: Option<i64>,
}

/// Changes to an asset; each field left out stays. `fields` is merged:
/// the keys given replace their values (`null` or `""` empties one).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
    #[schema(value_type = Option<crate::validate::Long>)]
    pub notes: Option<String>,
    /// Match a configuration to a device (`null`: to none).
    #[serde(default, with = "crate::validate::double_option")]
    pub device_id: Option<Option<i64>>,
    /// `true` archives it (gone from lists, the search and the expiry list).
    pub archived: Option<bool>,
}

/// Turns rows into answers, naming every linked record (one query per
/// kind and client).
pub async fn answers(db: &mut impl Db, rows: &[AssetRow]) -> Result<Vec<Asset>, ApiError> {
    let types: HashMap<i64, Vec<FieldDef>> = store::type_fields(db, rows.iter().map(|r| r.type_id)).await?;
    let none = vec![];
    let defs_of = |t: i64| types.get(&t).unwrap_or(&none);
    let mut wanted: HashMap<(FieldKind, i64), Vec<i64>> = HashMap::new();
    for r in rows {
        for (key, v) in values_of(&r.fields) {
            if let (Some(f), Some(id)) = (defs_of(r.type_id).iter().find(|f| f.key == key && f.kind.is_reference()), v.as_i64()) {
                wanted.entry((f.kind, r.client_id)).or_default().push(id);
            }
        }
    }
    let mut labels: HashMap<(FieldKind, i64), String> = HashMap::new();
    for ((kind, client), ids) in wanted {
        for (id, label) in store::labels(db, kind.as_str(), &ids, client).await? {
            labels.insert((kind, id), label);
        }
    }
    Ok(rows
        .iter()
        .map(|r| {
            let fields = values_of(&r.fields);
            let links = defs_of(r.type_id)
                .iter()
                .filter(|f| f.kind.is_reference())
                .filter_map(|f| fields.get(&f.key).and_then(Value::as_i64).map(|id| (f, id)))
                .map(|(f, id)| FieldLink { key: f.key.clone(), kind: f.kind, id, label: labels.get(&(f.kind, id)).cloned() })
                .collect();
            Asset {
                id: r.id,
                client_id: r.client_id,
                type_id: r.type_id,
                type_name: r.type_name.clone(),
                name: r.name.clone(),
                fields,
                links,
                notes: r.notes.clone(),
                device_id: r.device_id,
                device_hostname: r.device_hostname.clone(),
                updated_by: r.updated_by_name.clone(),
                created_at: Timestamp(r.created_at),
                updated_at: Timestamp(r.updated_at),
                archived_at: r.archived_at.map(Timestamp),
            }
        })
        .collect())
}

async fn answer(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Asset, ApiError> {
    let r = store::get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    Ok(answers(db, &[r]).await?.remove(0))
}

fn scoped(p: &Principal, client: i64, change: bool) -> Result<ScopedClient, ApiError> {
    p.require(if change { Permission::DocsWrite } else { Permission::DocsRead })?;
    p.client(client)
}

/// Everything an asset's content must satisfy beyond its values' shapes:
/// links within the client, a device only on a configuration and only one
/// configuration per device. Returns the content as stored.
struct Checked {
    name: String,
    fields: String,
    notes: String,
    device_id: Option<i64>,
    expiries: Vec<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
async fn check(
    db: &mut impl Db,
    client: ScopedClient,
    asset: Option<i64>,
    type_row: &store::TypeRow,
    name: &str,
    values: &Map<String, Value>,
    notes: &str,
    device_id: Option<i64>,
) -> Result<Checked, ApiError> {
    let name = Name::parse(name).map_err(|m| ApiError::invalid("name", m))?.into_string();
    let notes = Text::<MAX_NOTES>::parse(&notes.replace("\r\n", "\n")).map_err(|m| ApiError::invalid("notes", m))?.into_string();
    let defs = fields_of(&type_row.fields);
    let c = check_values(&defs, values).map_err(|(f, m)| ApiError::refused(&f, m))?;
    for r in &c.references {
        if asset == Some(r.id) && r.kind == FieldKind::Asset {
            return Err(ApiError::refused(&format!("fields.{}", r.key), "an asset cannot link to itself"));
        }
        if !store::belongs(db, r.kind.as_str(), r.id, client.id()).await? {
            return Err(ApiError::refused(&format!("fields.{}", r.key), format!("this client has no {} {}", r.kind.as_str(), r.id)));
        }
    }
    if let Some(d) = device_id {
        if !type_row.configuration {
            return Err(ApiError::refused("device_id", "only a configuration is matched to a device"));
        }
        if !store::belongs(db, "device", d, client.id()).await? {
            return Err(ApiError::refused("device_id", format!("this client has no managed device {d}")));
        }
        if let Some(other) = store::of_device(db, d).await?.filter(|o| Some(o.id) != asset) {
            return Err(ApiError::Conflict(format!("device {d} is documented by configuration {} already", other.id)));
        }
    }
    Ok(Checked {
        name,
        fields: Value::Object(c.values).to_string(),
        notes,
        device_id,
        expiries: c.expiries.into_iter().map(|(k, d)| (k, d.format("%Y-%m-%d").to_string())).collect(),
    })
}

async fn live_type(db: &mut impl Db, id: i64) -> Result<store::TypeRow, ApiError> {
    match store::get_type_plain(db, id).await? {
        Some(t) if t.archived_at.is_none() => Ok(t),
        Some(_) => Err(ApiError::refused("type_id", "the asset type is archived")),
        None => Err(ApiError::refused("type_id", format!("there is no asset type {id}"))),
    }
}

fn event(action: &str, client: ScopedClient, id: i64, details: Value) -> Event {
    Event::new(action, "asset", id).client(client.id()).details(details)
}

pub async fn create(app: &App, p: &Principal, client: i64, input: NewAsset) -> Result<Asset, ApiError> {
    let client = scoped(p, client, true)?;
    let mut tx = app.store.begin_audited().await?;
    let (a, event) = create_in(tx.tx(), p, client, input, now_us()).await?;
    tx.commit(&p.actor(), event).await?;
    Ok(a)
}

/// Makes an asset inside the caller's transaction (an import's); returns
/// it with the audit entry to write.
pub async fn create_in(
    db: &mut impl Db,
    p: &Principal,
    client: ScopedClient,
    input: NewAsset,
    now: i64,
) -> Result<(Asset, Event), ApiError> {
    crate::tenancy::store::get_client(db, client).await?.ok_or(ApiError::NotFound)?;
    let t = live_type(db, input.type_id).await?;
    let c = check(db, client, None, &t, &input.name, &input.fields, &input.notes, input.device_id).await?;
    let content = AssetContent { type_id: t.id, name: &c.name, fields: &c.fields, notes: &c.notes, device_id: c.device_id };
    let id = store::insert(db, client, &content, Some(p.user.id), now).await?;
    store::set_expiries(db, id, client.id(), &c.expiries).await?;
    crate::search::store::enqueue(db, KIND, id, now).await?;
    let a = answer(db, client, id).await?;
    let e = event("asset.create", client, id, json!({"type": t.name, "name": a.name, "fields": a.fields}));
    Ok((a, e))
}

pub async fn update(app: &App, p: &Principal, client: i64, id: i64, patch: AssetPatch) -> Result<Asset, ApiError> {
    let client = scoped(p, client, true)?;
    let mut tx = app.store.begin_audited().await?;
    let (a, event) = update_in(tx.tx(), p, client, id, patch, now_us()).await?;
    if let Some(event) = event {
        tx.commit(&p.actor(), event).await?;
    }
    Ok(a)
}

/// Changes an asset inside the caller's transaction; the audit entry to
/// write (with the values before and after), or none when nothing changed.
pub async fn update_in(
    db: &mut impl Db,
    p: &Principal,
    client: ScopedClient,
    id: i64,
    patch: AssetPatch,
    now: i64,
) -> Result<(Asset, Option<Event>), ApiError> {
    let r = store::get(db, client, id).await?.ok_or(ApiError::NotFound)?;
    let t = store::get_type_plain(db, r.type_id).await?.ok_or(ApiError::NotFound)?;
    let before = answers(db, std::slice::from_ref(&r)).await?.remove(0);
    // Values of fields the type no longer has are dropped on the next save.
    let defs = fields_of(&t.fields);
    let mut values: Map<String, Value> = values_of(&r.fields).into_iter().filter(|(k, _)| defs.iter().any(|d| &d.key == k)).collect();
    for (k, v) in patch.fields.unwrap_or_default() {
        values.insert(k, v);
    }
    let device = patch.device_id.unwrap_or(r.device_id);
    let name = patch.name.as_deref().unwrap_or(&r.name);
    let c = check(db, client, Some(id), &t, name, &values, patch.notes.as_deref().unwrap_or(&r.notes), device).await?;
    let archived_at = match patch.archived {
        Some(true) => r.archived_at.or(Some(now)),
        Some(false) => None,
        None => r.archived_at,
    };
    let same = c.name == r.name && c.fields == r.fields && c.notes == r.notes && c.device_id == r.device_id && archived_at == r.archived_at;
    if same {
        return Ok((before, None));
    }
    let content = AssetContent { type_id: r.type_id, name: &c.name, fields: &c.fields, notes: &c.notes, device_id: c.device_id };
    store::update(db, id, &content, archived_at, Some(p.user.id), now).await?;
    store::set_expiries(db, id, client.id(), if archived_at.is_some() { &[] } else { &c.expiries }).await?;
    crate::search::store::enqueue(db, KIND, id, now).await?;
    let after = answer(db, client, id).await?;
    let snapshot = |a: &Asset| json!({"name": a.name, "fields": a.fields, "notes": a.notes, "device_id": a.device_id});
    let details = json!({"name": after.name, "archived": archived_at.is_some(), "before": snapshot(&before), "after": snapshot(&after)});
    Ok((after, Some(event("asset.update", client, id, details))))
}

/// The live asset of a type named `name` (any case), for an import to change.
pub async fn named(db: &mut impl Db, client: ScopedClient, type_id: i64, name: &str) -> Result<Option<i64>, ApiError> {
    let f = Filter { clients: Some(vec![client.id()]), type_id: Some(type_id), text: Some(name.to_string()), include_archived: false };
    let (rows, _) = store::list(db, &f, 100, 0).await?;
    Ok(rows.into_iter().find(|r| r.name.trim().eq_ignore_ascii_case(name.trim())).map(|r| r.id))
}

pub async fn get(app: &App, p: &Principal, client: i64, id: i64) -> Result<Asset, ApiError> {
    let client = scoped(p, client, false)?;
    answer(&mut app.store.snapshot().await?, client, id).await
}

/// What a list of a client's assets asks for.
pub struct ListAsk {
    pub type_id: Option<i64>,
    pub text: Option<String>,
    pub include_archived: bool,
    pub page: PageParams,
}

pub async fn list(app: &App, p: &Principal, client: i64, ask: ListAsk) -> Result<Paged<Asset>, ApiError> {
    let client = scoped(p, client, false)?;
    let f = Filter { clients: Some(vec![client.id()]), type_id: ask.type_id, text: ask.text, include_archived: ask.include_archived };
    let mut db = app.store.snapshot().await?;
    let (rows, total) = store::list(&mut db, &f, ask.page.limit(), ask.page.offset()).await?;
    Ok(Paged::counted(answers(&mut db, &rows).await?, total, &ask.page))
}

/// A device's documentation: the values of its configuration.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceDocs {
    /// Field key → value of the configuration type, merged as on a PATCH.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    #[schema(value_type = Option<crate::validate::Long>)]
    pub notes: Option<String>,
}

/// Documents a managed device: changes its configuration, or makes one
/// (named after the host) the first time.
pub async fn document_device(app: &App, p: &Principal, client: i64, device_id: i64, input: DeviceDocs) -> Result<Asset, ApiError> {
    let scope = scoped(p, client, true)?;
    let mut db = app.store.clone();
    if !store::belongs(&mut db, "device", device_id, scope.id()).await? {
        return Err(ApiError::NotFound);
    }
    if let Some(existing) = store::of_device(&mut db, device_id).await? {
        let patch = AssetPatch { fields: Some(input.fields), notes: input.notes, archived: Some(false), ..Default::default() };
        return update(app, p, client, existing.id, patch).await;
    }
    let t = store::configuration_type(&mut db).await?.ok_or_else(|| ApiError::Conflict("there is no configuration asset type".into()))?;
    let hostname = store::label_of(&mut db, "device", device_id, scope.id()).await?.unwrap_or_else(|| format!("device {device_id}"));
    let new = NewAsset {
        type_id: t.id,
        name: hostname,
        fields: input.fields,
        notes: input.notes.unwrap_or_default(),
        device_id: Some(device_id),
    };
    create(app, p, client, new).await
}

/// A row of a client's configurations: a managed device, its documentation,
/// or both.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConfigurationItem {
    pub device: Option<ConfigDevice>,
    /// `null`: a managed device nobody has documented yet.
    pub asset: Option<Asset>,
}

/// A managed device as the configuration list shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConfigDevice {
    pub id: i64,
    pub hostname: String,
    pub os: String,
    pub online: bool,
    pub last_seen_at: Option<Timestamp>,
}

/// Every configuration of a client: documented ones (matched to a device
/// or not) and managed devices not documented yet, by name.
pub async fn configurations(app: &App, p: &Principal, client: i64) -> Result<Vec<ConfigurationItem>, ApiError> {
    let scope = scoped(p, client, false)?;
    let mut db = app.store.snapshot().await?;
    let Some(t) = store::configuration_type(&mut db).await? else { return Ok(vec![]) };
    let f = Filter { clients: Some(vec![scope.id()]), type_id: Some(t.id), text: None, include_archived: false };
    let (rows, _) = store::list(&mut db, &f, 10_000, 0).await?;
    let assets = answers(&mut db, &rows).await?;
    let devices = crate::devices::store::list(&mut db, Some(&[scope.id()])).await?;
    let mut items: Vec<ConfigurationItem> = devices
        .iter()
        .filter(|d| d.revoked_at.is_none())
        .map(|d| ConfigurationItem {
            device: Some(ConfigDevice {
                id: d.id,
                hostname: d.hostname.clone(),
                os: d.os.clone(),
                online: d.online,
                last_seen_at: d.last_seen_at.map(Timestamp),
            }),
            asset: assets.iter().find(|a| a.device_id == Some(d.id)).cloned(),
        })
        .collect();
    let matched: std::collections::HashSet<i64> = items.iter().filter_map(|i| i.device.as_ref().map(|d| d.id)).collect();
    let by_hand = assets.iter().filter(|a| a.device_id.is_none_or(|d| !matched.contains(&d)));
    items.extend(by_hand.map(|a| ConfigurationItem { device: None, asset: Some(a.clone()) }));
    let name = |i: &ConfigurationItem| {
        i.asset.as_ref().map(|a| a.name.to_lowercase()).or_else(|| i.device.as_ref().map(|d| d.hostname.to_lowercase()))
    };
    items.sort_by_key(name);
    Ok(items)
}
