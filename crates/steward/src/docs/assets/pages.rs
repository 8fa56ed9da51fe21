//! Assets on the pages: `/docs/assets` (every asset the user sees, by type
//! and client), an asset's page (its values, the form generated from its
//! type, its relationships both ways, and for a configuration of a managed
//! device the live inventory beside the documented fields), the form for a
//! new one, a client's configurations, the expiry list, and the asset type
//! editor under `/settings/asset-types` (what assets add to other pages
//! is in `panels`).

use super::expiry::{self, Expiry, ExpiryFilter};
use super::model::{shown, FieldDef, FieldInput, FieldKind};
use super::ops::{self, Asset, AssetPatch, ConfigurationItem, NewAsset};
use super::relations::{self, End, NewRelation, Relation, RelationsOf};
use super::store::{self, Filter};
use super::types::{self, AssetType, AssetTypePatch, NewAssetType};
use crate::app::domain::{get, post, Need, PageRoute};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::{ApiPath, PageQuery};
use crate::http::page::html_status;
use crate::web::error::{form_error, see_other, status_for, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};

pub fn routes(read: Need, write: Need) -> Vec<PageRoute> {
    let admin = Need::Perm(Permission::SettingsWrite);
    vec![
        get("/docs/assets", read, list),
        get("/docs/assets/new", write, new_redirect),
        get("/docs/expiries", read, expiries),
        get("/clients/{id}/assets/new", write, new_form),
        post("/clients/{id}/assets", write, create),
        get("/clients/{id}/assets/{asset_id}", read, show),
        post("/clients/{id}/assets/{asset_id}", write, update),
        post("/clients/{id}/assets/{asset_id}/relations", write, relate),
        post("/clients/{id}/assets/{asset_id}/relations/{relation_id}/delete", write, unrelate),
        get("/clients/{id}/configurations", read, configurations),
        post("/clients/{id}/devices/{device_id}/configuration", write, document_device),
        get("/settings/asset-types", admin, types_page),
        post("/settings/asset-types", admin, create_type),
        get("/settings/asset-types/{type_id}", admin, type_page),
        post("/settings/asset-types/{type_id}", admin, update_type),
    ]
}

fn url(client: i64, id: i64) -> String {
    format!("/clients/{client}/assets/{id}")
}

/// The names of the clients the user sees (archived ones too).
async fn client_names(app: &App, p: &Principal) -> Result<Vec<(i64, String, bool)>, ApiError> {
    let query = crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: true, search: None };
    let (all, _) = crate::tenancy::store::list_clients(&mut app.store.snapshot().await?, &query, 10_000, 0).await?;
    Ok(all.into_iter().map(|c| (c.id, c.name, c.archived)).collect())
}

/// The filters of `/docs/assets`.
#[derive(Debug, Default, Deserialize)]
pub struct AssetsQuery {
    client_id: Option<i64>,
    type_id: Option<i64>,
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "assets.html")]
struct AssetsPage {
    l: Layout,
    lines: Vec<(Asset, String)>,
    total: String,
    f: AssetsQuery,
    clients: Vec<(i64, String)>,
    types: Vec<AssetType>,
    can_write: bool,
}

impl AssetsPage {
    fn client_is(&self, id: &&i64) -> bool {
        self.f.client_id == Some(**id)
    }
    fn type_is(&self, id: impl std::borrow::Borrow<i64>) -> bool {
        self.f.type_id == Some(*id.borrow())
    }
}

pub async fn list(State(app): State<App>, p: Principal, PageQuery(f): PageQuery<AssetsQuery>) -> PageResult {
    p.require(Permission::DocsRead)?;
    let clients: Vec<(i64, String, bool)> = client_names(&app, &p).await?;
    let scope = match f.client_id {
        Some(c) => Some(vec![p.client(c)?.id()]),
        None => p.clients.clone(),
    };
    let filter = Filter { clients: scope, type_id: f.type_id, text: f.q.clone(), include_archived: false };
    let mut db = app.store.snapshot().await?;
    let (rows, total) = store::list(&mut db, &filter, 200, 0).await?;
    let assets = ops::answers(&mut db, &rows).await?;
    let name = |id: i64| clients.iter().find(|c| c.0 == id).map(|c| c.1.clone()).unwrap_or_default();
    let lines = assets.into_iter().map(|a| {
        let n = name(a.client_id);
        (a, n)
    });
    let page = AssetsPage {
        l: Layout::new(&app, &p, "Assets", "assets"),
        lines: lines.collect(),
        total: total.to_string(),
        types: types::list(&app, &p, false).await?,
        clients: clients.iter().filter(|c| !c.2).map(|c| (c.0, c.1.clone())).collect(),
        f,
        can_write: p.can(Permission::DocsWrite),
    };
    Ok(html_status(axum::http::StatusCode::OK, &page))
}

/// A field on a form: its definition, its value as typed, and for a link
/// the records it may name.
pub struct FormField {
    pub def: FieldDef,
    pub value: String,
    pub choices: Vec<(i64, String)>,
}

impl FormField {
    pub fn kind(&self) -> &'static str {
        self.def.kind.as_str()
    }
    pub fn chosen(&self, id: &i64) -> bool {
        self.value == id.to_string()
    }
    pub fn is(&self, option: &str) -> bool {
        self.value == option
    }
}

/// The form's fields for a type, filled from `values`.
async fn form_fields(app: &App, client: i64, defs: &[FieldDef], values: &Map<String, Value>) -> Result<Vec<FormField>, ApiError> {
    let mut db = app.store.snapshot().await?;
    let mut out = vec![];
    for d in defs {
        let choices = if d.kind.is_reference() { store::choices(&mut db, d.kind.as_str(), client, 500).await? } else { vec![] };
        out.push(FormField { def: d.clone(), value: values.get(&d.key).map(shown).unwrap_or_default(), choices });
    }
    Ok(out)
}

/// The values a form sent: every `f.<key>` (an empty one empties it).
fn form_values(form: &[(String, String)]) -> Map<String, Value> {
    form.iter().filter_map(|(k, v)| k.strip_prefix("f.").map(|k| (k.to_string(), Value::String(v.clone())))).collect()
}

fn form_value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[derive(Template)]
#[template(path = "asset_new.html")]
struct NewAssetPage {
    l: Layout,
    client_id: i64,
    client_name: String,
    t: AssetType,
    name: String,
    notes: String,
    fields: Vec<FormField>,
}

/// Which type a new asset is of.
#[derive(Debug, Deserialize)]
pub struct NewQuery {
    type_id: i64,
}

async fn new_page(app: &App, p: &Principal, client: i64, type_id: i64, form: &[(String, String)], error: Option<String>) -> PageResult {
    let scope = p.client(client)?;
    p.require(Permission::DocsWrite)?;
    let c = crate::tenancy::store::get_client(&mut app.store.clone(), scope).await?.ok_or(ApiError::NotFound)?;
    let t = types::get_plain(app, p, type_id).await?;
    let fields = form_fields(app, client, &t.fields, &form_values(form)).await?;
    Ok(html_status(
        status_for(&error),
        &NewAssetPage {
            l: Layout::new(app, p, format!("New {}", t.name), "assets").with_error(error),
            client_id: client,
            client_name: c.name,
            name: form_value(form, "name").unwrap_or_default().to_string(),
            notes: form_value(form, "notes").unwrap_or_default().to_string(),
            t,
            fields,
        },
    ))
}

/// The new-asset form of `/docs/assets`: which client, which type.
#[derive(Debug, Deserialize)]
pub struct NewWhere {
    client_id: i64,
    type_id: i64,
}

pub async fn new_redirect(p: Principal, PageQuery(q): PageQuery<NewWhere>) -> PageResult {
    let client = p.client(q.client_id)?;
    Ok(see_other(&format!("/clients/{}/assets/new?type_id={}", client.id(), q.type_id)))
}

pub async fn new_form(
    State(app): State<App>,
    p: Principal,
    ApiPath(client): ApiPath<i64>,
    PageQuery(q): PageQuery<NewQuery>,
) -> PageResult {
    new_page(&app, &p, client, q.type_id, &[], None).await
}

pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(client): ApiPath<i64>,
    WebForm(form): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let type_id = form_value(&form, "type_id").and_then(|t| t.parse().ok()).ok_or_else(|| ApiError::invalid("type_id", "choose a type"))?;
    let input = NewAsset {
        type_id,
        name: form_value(&form, "name").unwrap_or_default().to_string(),
        fields: form_values(&form),
        notes: form_value(&form, "notes").unwrap_or_default().to_string(),
        device_id: None,
    };
    match ops::create(&app, &p, client, input).await {
        Ok(a) => Ok(see_other(&url(client, a.id))),
        Err(e) => new_page(&app, &p, client, type_id, &form, Some(form_error(e)?)).await,
    }
}

/// A relationship as the asset's page shows it: the other end.
struct RelLine {
    r: Relation,
    /// "runs on" read from this asset's side, or "← runs on" from the other.
    label: String,
    other: End,
    other_label: String,
    other_url: Option<String>,
}

fn end_url(client: i64, e: &End) -> Option<String> {
    match e.kind.as_str() {
        "asset" => Some(url(client, e.id)),
        "device" => Some(format!("/clients/{client}/devices/{}", e.id)),
        "article" => Some(format!("/clients/{client}/articles/{}", e.id)),
        "vault" => Some(format!("/clients/{client}/vault/{}", e.id)),
        _ => None,
    }
}

/// A device's live facts, beside its documented fields.
struct Live {
    device_id: i64,
    hostname: String,
    os: String,
    online: bool,
    facts: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "asset.html")]
struct AssetPage {
    l: Layout,
    a: Asset,
    client_name: String,
    /// The documented values, labelled, in the type's order.
    values: Vec<(String, String, Option<String>)>,
    fields: Vec<FormField>,
    relations: Vec<RelLine>,
    /// What a relationship may point to: (kind, id, label) of the client's records.
    targets: Vec<(&'static str, i64, String)>,
    live: Option<Live>,
    can_write: bool,
}

async fn asset_page(
    app: &App,
    p: &Principal,
    client: i64,
    id: i64,
    form: Option<&[(String, String)]>,
    error: Option<String>,
) -> PageResult {
    let a = ops::get(app, p, client, id).await?;
    let t = types::get_plain(app, p, a.type_id).await?;
    let mut db = app.store.snapshot().await?;
    let client_name = crate::tenancy::store::get_client(&mut db, p.client(client)?).await?.map(|c| c.name).unwrap_or_default();
    let values = t
        .fields
        .iter()
        .filter_map(|f| {
            let v = a.fields.get(&f.key)?;
            let link = a.links.iter().find(|l| l.key == f.key);
            let text = match link {
                Some(l) => l.label.clone().unwrap_or_else(|| format!("{} {} (gone)", l.kind.as_str(), l.id)),
                None => shown(v),
            };
            let href = match (link, f.kind) {
                (Some(l), _) if l.label.is_some() => end_url(client, &End { kind: l.kind.as_str().into(), id: l.id }),
                (None, FieldKind::Url) => Some(shown(v)),
                _ => None,
            };
            Some((f.label.clone(), text, href))
        })
        .collect();
    let typed: Map<String, Value> = match form {
        Some(f) => a.fields.clone().into_iter().chain(form_values(f)).collect(),
        None => a.fields.clone(),
    };
    let fields = form_fields(app, client, &t.fields, &typed).await?;
    let relations = relations::of(app, p, client, &RelationsOf { kind: Some("asset".into()), id: Some(id) })
        .await?
        .into_iter()
        .map(|r| {
            let outgoing = r.from.kind == "asset" && r.from.id == id;
            let (other, other_label) = if outgoing { (r.to.clone(), r.to_label.clone()) } else { (r.from.clone(), r.from_label.clone()) };
            let label = match (outgoing, r.label.is_empty()) {
                (true, true) => "related to".to_string(),
                (true, false) => r.label.clone(),
                (false, true) => "related to".to_string(),
                (false, false) => format!("← {}", r.label),
            };
            RelLine { other_url: end_url(client, &other), other_label: other_label.unwrap_or_else(|| "(gone)".into()), label, other, r }
        })
        .collect();
    let can_write = p.can(Permission::DocsWrite);
    let mut targets = vec![];
    if can_write {
        for kind in ["asset", "device", "contact", "vault", "article"] {
            for (tid, label) in store::choices(&mut db, kind, client, 300).await? {
                if !(kind == "asset" && tid == id) {
                    targets.push((kind, tid, label));
                }
            }
        }
    }
    let live = match a.device_id {
        Some(d) => live(&mut db, d).await?,
        None => None,
    };
    Ok(html_status(
        status_for(&error),
        &AssetPage {
            l: Layout::new(app, p, a.name.clone(), "assets").with_error(error),
            a,
            client_name,
            values,
            fields,
            relations,
            targets,
            live,
            can_write,
        },
    ))
}

async fn live(db: &mut crate::store::Tx<'static>, device: i64) -> Result<Option<Live>, ApiError> {
    let Some(d) = crate::devices::store::by_id(db, device).await? else { return Ok(None) };
    let now = crate::devices::store::query::now_of(db, device).await?;
    let mut facts = vec![];
    let mut fact = |name: &'static str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            facts.push((name, v));
        }
    };
    fact("Addresses", now.addresses);
    fact("Serial", now.serial);
    fact("Users", now.users);
    fact("CPU", now.cpu.map(|c| format!("{c:.0} %")));
    fact("Memory", now.mem.map(|m| format!("{m:.0} %")));
    fact("Disk", now.disk.map(|x| format!("{x:.0} % used{}", now.disk_mount.map(|m| format!(" on {m}")).unwrap_or_default())));
    fact("Agent", Some(d.agent_version.clone()));
    Ok(Some(Live { device_id: d.id, hostname: d.hostname, os: d.os, online: d.online, facts }))
}

pub async fn show(State(app): State<App>, p: Principal, ApiPath((client, id)): ApiPath<(i64, i64)>) -> PageResult {
    asset_page(&app, &p, client, id, None, None).await
}

pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, id)): ApiPath<(i64, i64)>,
    WebForm(form): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let archived = match form_value(&form, "archived") {
        None | Some("") => None,
        v => Some(crate::web::error::checkbox("archived", v)?),
    };
    let patch = AssetPatch {
        name: form_value(&form, "name").map(str::to_string),
        fields: Some(form_values(&form)),
        notes: form_value(&form, "notes").map(str::to_string),
        archived,
        ..Default::default()
    };
    match ops::update(&app, &p, client, id, patch).await {
        Ok(_) if archived == Some(true) => Ok(see_other(&format!("/docs/assets?client_id={client}"))),
        Ok(_) => Ok(see_other(&url(client, id))),
        Err(e) => asset_page(&app, &p, client, id, Some(&form), Some(form_error(e)?)).await,
    }
}

/// The form that relates an asset to something: `to` is `kind:id`.
#[derive(Debug, Deserialize)]
pub struct RelateForm {
    to: String,
    #[serde(default)]
    label: String,
}

pub async fn relate(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<RelateForm>,
) -> PageResult {
    let to = f.to.split_once(':').and_then(|(k, i)| Some(End { kind: k.to_string(), id: i.parse().ok()? }));
    let made = match to {
        Some(to) => relations::create(&app, &p, client, NewRelation { from: End { kind: "asset".into(), id }, to, label: f.label })
            .await
            .map(|_| ()),
        None => Err(ApiError::invalid("to", "choose what it is related to")),
    };
    match made {
        Ok(()) => Ok(see_other(&format!("{}#relations", url(client, id)))),
        Err(e) => asset_page(&app, &p, client, id, None, Some(form_error(e)?)).await,
    }
}

pub async fn unrelate(State(app): State<App>, p: Principal, ApiPath((client, id, relation)): ApiPath<(i64, i64, i64)>) -> PageResult {
    relations::delete(&app, &p, client, relation).await?;
    Ok(see_other(&format!("{}#relations", url(client, id))))
}

#[derive(Template)]
#[template(path = "configurations.html")]
struct ConfigurationsPage {
    l: Layout,
    client_id: i64,
    client_name: String,
    items: Vec<ConfigurationItem>,
    type_id: Option<i64>,
    can_write: bool,
}

pub async fn configurations(State(app): State<App>, p: Principal, ApiPath(client): ApiPath<i64>) -> PageResult {
    let items = ops::configurations(&app, &p, client).await?;
    let mut db = app.store.snapshot().await?;
    let client_name = crate::tenancy::store::get_client(&mut db, p.client(client)?).await?.map(|c| c.name).unwrap_or_default();
    let type_id = store::configuration_type(&mut db).await?.map(|t| t.id);
    Ok(html_status(
        axum::http::StatusCode::OK,
        &ConfigurationsPage {
            l: Layout::new(&app, &p, format!("Configurations of {client_name}"), "assets"),
            client_id: client,
            client_name,
            items,
            type_id,
            can_write: p.can(Permission::DocsWrite),
        },
    ))
}

pub async fn document_device(State(app): State<App>, p: Principal, ApiPath((client, device)): ApiPath<(i64, i64)>) -> PageResult {
    let a = ops::document_device(&app, &p, client, device, ops::DeviceDocs::default()).await?;
    Ok(see_other(&url(client, a.id)))
}

#[derive(Template)]
#[template(path = "expiries.html")]
struct ExpiriesPage {
    l: Layout,
    items: Vec<Expiry>,
    within: u32,
    thresholds: String,
}

/// The filters of `/docs/expiries`.
#[derive(Debug, Default, Deserialize)]
pub struct ExpiriesQuery {
    within_days: Option<u32>,
    client_id: Option<i64>,
}

pub async fn expiries(State(app): State<App>, p: Principal, PageQuery(q): PageQuery<ExpiriesQuery>) -> PageResult {
    let within = q.within_days.unwrap_or(90);
    let items = expiry::list(&app, &p, &ExpiryFilter { within_days: Some(within), client_id: q.client_id }).await?;
    let thresholds = expiry::thresholds(&app).await?.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    Ok(html_status(
        axum::http::StatusCode::OK,
        &ExpiriesPage { l: Layout::new(&app, &p, "Expiring", "expiries"), items, within, thresholds },
    ))
}

#[derive(Template)]
#[template(path = "asset_types.html")]
struct TypesPage {
    l: Layout,
    types: Vec<AssetType>,
}

pub async fn types_page(State(app): State<App>, p: Principal) -> PageResult {
    types_page_with(&app, &p, None).await
}

async fn types_page_with(app: &App, p: &Principal, error: Option<String>) -> PageResult {
    let list = types::list(app, p, true).await?;
    Ok(html_status(status_for(&error), &TypesPage { l: Layout::new(app, p, "Asset types", "settings").with_error(error), types: list }))
}

pub async fn create_type(State(app): State<App>, p: Principal, WebForm(form): WebForm<Vec<(String, String)>>) -> PageResult {
    let input = NewAssetType {
        name: form_value(&form, "name").unwrap_or_default().to_string(),
        description: form_value(&form, "description").unwrap_or_default().to_string(),
        fields: vec![FieldInput {
            key: None,
            label: "Notes".into(),
            kind: FieldKind::Multiline,
            required: false,
            options: vec![],
            expires: false,
            help: String::new(),
        }],
    };
    match types::create(&app, &p, input).await {
        Ok(t) => Ok(see_other(&format!("/settings/asset-types/{}", t.id))),
        Err(e) => types_page_with(&app, &p, Some(form_error(e)?)).await,
    }
}

/// A row of the type editor.
pub struct FieldRow {
    pub i: usize,
    pub f: FieldDef,
    /// An empty row for adding a field.
    pub blank: bool,
}

impl FieldRow {
    pub fn options_text(&self) -> String {
        self.f.options.join("\n")
    }
    pub fn kind_is(&self, k: &FieldKind) -> bool {
        !self.blank && self.f.kind == *k
    }
}

#[derive(Template)]
#[template(path = "asset_type.html")]
struct TypePage {
    l: Layout,
    t: AssetType,
    rows: Vec<FieldRow>,
    kinds: [FieldKind; 12],
}

/// Empty rows under the fields, for adding.
const BLANK_ROWS: usize = 3;

async fn type_page_with(app: &App, p: &Principal, id: i64, error: Option<String>) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    let t = types::get(app, p, id).await?;
    let mut rows: Vec<FieldRow> = t.fields.iter().cloned().enumerate().map(|(i, f)| FieldRow { i, f, blank: false }).collect();
    let blank = FieldDef {
        key: String::new(),
        label: String::new(),
        kind: FieldKind::Text,
        required: false,
        options: vec![],
        expires: false,
        help: String::new(),
    };
    for i in rows.len()..rows.len() + BLANK_ROWS {
        rows.push(FieldRow { i, f: blank.clone(), blank: true });
    }
    Ok(html_status(
        status_for(&error),
        &TypePage {
            l: Layout::new(app, p, format!("Asset type {}", t.name), "settings").with_error(error),
            t,
            rows,
            kinds: FieldKind::ALL,
        },
    ))
}

pub async fn type_page(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    type_page_with(&app, &p, id, None).await
}

/// The editor's rows as fields: `field.<i>.<attr>`, in the order of their
/// `position` (a row whose label is empty is left out).
pub fn fields_from_form(form: &[(String, String)]) -> Result<Vec<FieldInput>, ApiError> {
    let mut rows: std::collections::BTreeMap<usize, Vec<(&str, &str)>> = Default::default();
    for (k, v) in form {
        let Some(rest) = k.strip_prefix("field.") else { continue };
        let Some((i, attr)) = rest.split_once('.') else { continue };
        let Ok(i) = i.parse::<usize>() else { continue };
        if i < 1_000 {
            rows.entry(i).or_default().push((attr, v.as_str()));
        }
    }
    let mut out: Vec<(f64, usize, FieldInput)> = vec![];
    for (i, attrs) in rows {
        let get = |a: &str| attrs.iter().find(|(k, _)| *k == a).map(|(_, v)| *v).unwrap_or("");
        if get("label").trim().is_empty() {
            continue;
        }
        let kind = FieldKind::parse(get("kind")).ok_or_else(|| ApiError::invalid(&format!("fields[{i}].kind"), "choose a kind"))?;
        let key = Some(get("key").trim()).filter(|k| !k.is_empty()).map(str::to_string);
        let options = get("options").split(['\n', ',']).map(str::trim).filter(|o| !o.is_empty()).map(str::to_string).collect();
        let position = get("position").trim().parse::<f64>().unwrap_or(i as f64);
        out.push((
            position,
            i,
            FieldInput {
                key,
                label: get("label").to_string(),
                kind,
                required: get("required") == "1",
                options,
                expires: get("expires") == "1",
                help: get("help").to_string(),
            },
        ));
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(out.into_iter().map(|(_, _, f)| f).collect())
}

pub async fn update_type(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    WebForm(form): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let archived = match form_value(&form, "archived") {
        None | Some("") => None,
        v => Some(crate::web::error::checkbox("archived", v)?),
    };
    let patch = fields_from_form(&form).map(|fields| AssetTypePatch {
        name: form_value(&form, "name").map(str::to_string),
        description: form_value(&form, "description").map(str::to_string),
        fields: Some(fields),
        archived,
    });
    match async { types::update(&app, &p, id, patch?).await }.await {
        Ok(_) => Ok(see_other(&format!("/settings/asset-types/{id}"))),
        Err(e) => type_page_with(&app, &p, id, Some(form_error(e)?)).await,
    }
}
