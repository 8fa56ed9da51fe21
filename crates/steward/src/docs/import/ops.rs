//! A CSV import of a client's assets (of one type) or passwords: every row
//! goes through the same operations as the API's, inside one audited
//! transaction. A dry run rolls it back and answers what each row would
//! do (create, change, nothing, skip, or its errors); a commit keeps it
//! only when no row has an error: all or nothing. A row whose name
//! matches a live asset of the type (or a vault entry) changes it; a row
//! of another organization (an export of a whole account) is skipped.

use super::model::{self, configuration_kind, map_columns, parse, recognise, valid_target, values, Kind};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::docs::assets::model::{fields_of, FieldDef, FieldKind};
use crate::docs::assets::ops::{self as assets, AssetPatch, NewAsset};
use crate::docs::assets::store as asset_store;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::now_us;
use crate::vault::ops::{self as vault, EntryPatch, NewEntry};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What to import.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// `assets` or `passwords`.
    #[schema(value_type = ImportKind)]
    pub kind: String,
    /// For assets: the type every row is of.
    pub type_id: Option<i64>,
    /// The file's text (UTF-8, with a header row).
    #[schema(max_length = 1048576)]
    pub csv: String,
    /// Column header → target (a field key of the type, `name`, `notes`,
    /// `organization`; for passwords `username`, `password`, `url`,
    /// `totp_secret`, `folder`), `""` to leave a column out; unnamed
    /// columns are matched by the recognised format.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub mapping: BTreeMap<String, String>,
    /// `false` (the default): a dry run, nothing is kept.
    #[serde(default)]
    pub commit: bool,
}

crate::choice!(
    /// What an import holds.
    ImportKind: "assets", "passwords"
);

/// A column and what it fills.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportColumn {
    pub header: String,
    /// `null`: not imported.
    pub target: Option<String>,
}

/// What went wrong with one value of a row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub field: String,
    pub message: String,
}

/// What one row does.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportRow {
    /// Its line in the file (the header is line 1).
    pub line: usize,
    /// `create`, `change`, `unchanged`, `skip` or `error`.
    pub action: String,
    pub name: String,
    /// The asset or vault entry it made or changed (on a commit, or in a
    /// dry run an id that will not be kept).
    pub id: Option<i64>,
    pub errors: Vec<RowError>,
    /// Why it is skipped, or a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The answer: the format recognised, how columns were mapped, each row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// `itflow`, `itglue`, `hudu` or `generic`.
    pub format: String,
    pub kind: String,
    pub columns: Vec<ImportColumn>,
    pub rows: Vec<ImportRow>,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub errors: usize,
    /// Whether it was kept: only a commit with no row in error is.
    pub committed: bool,
}

fn row_error(e: ApiError) -> Result<Vec<RowError>, ApiError> {
    match e {
        ApiError::Invalid { field, message } | ApiError::Refused { field, message } => {
            let message = message.strip_prefix(&format!("{field}: ")).unwrap_or(&message).to_string();
            Ok(vec![RowError { field, message }])
        }
        ApiError::Conflict(m) => Ok(vec![RowError { field: "name".into(), message: m }]),
        ApiError::NotFound => Ok(vec![RowError { field: "id".into(), message: "not found".into() }]),
        other => Err(other),
    }
}

/// Runs an import (or its dry run) for `client`.
pub async fn run(app: &App, p: &Principal, client: i64, req: ImportRequest) -> Result<ImportReport, ApiError> {
    let kind = match req.kind.as_str() {
        "assets" => Kind::Assets,
        "passwords" => Kind::Passwords,
        _ => return Err(ApiError::invalid("kind", "assets or passwords")),
    };
    p.require(if kind == Kind::Assets { Permission::DocsWrite } else { Permission::VaultWrite })?;
    let scope = p.client(client)?;
    let table = parse(&req.csv).map_err(|e| ApiError::refused("csv", e.0))?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let c = crate::tenancy::store::get_client(tx.tx(), scope).await?.ok_or(ApiError::NotFound)?;
    let (type_id, fields, configuration) = match (kind, req.type_id) {
        (Kind::Assets, Some(t)) => {
            let t = asset_store::get_type_plain(tx.tx(), t).await?.filter(|t| t.archived_at.is_none());
            let t = t.ok_or_else(|| ApiError::refused("type_id", "no such asset type"))?;
            (t.id, fields_of(&t.fields), t.configuration)
        }
        (Kind::Assets, None) => return Err(ApiError::refused("type_id", "an asset import needs the type of its rows")),
        (Kind::Passwords, _) => (0, vec![], false),
    };
    for (header, target) in &req.mapping {
        if !target.is_empty() && !valid_target(kind, target, &fields) {
            return Err(ApiError::refused(&format!("mapping.{header}"), format!("{target:?} is not something this import can fill")));
        }
    }
    let format = recognise(kind, &table.headers);
    let targets = map_columns(kind, &table.headers, &fields, &req.mapping);
    if !targets.iter().any(|t| t.as_deref() == Some("name")) {
        return Err(ApiError::refused("mapping", "no column gives the name: map one to `name`"));
    }
    let mut report = ImportReport {
        format: format.into(),
        kind: req.kind.clone(),
        columns: table.written.iter().zip(&targets).map(|(h, t)| ImportColumn { header: h.clone(), target: t.clone() }).collect(),
        rows: vec![],
        created: 0,
        changed: 0,
        unchanged: 0,
        skipped: 0,
        errors: 0,
        committed: false,
    };
    let ctx = RowCtx { app, p, client: scope, client_name: c.name.clone(), type_id, fields: &fields, configuration, now };
    let mut events = vec![];
    for (i, cells) in table.rows.iter().enumerate() {
        let v = values(cells, &targets, format);
        let (mut row, event) = match kind {
            Kind::Assets => asset_row(&ctx, tx.tx(), i + 2, &v).await?,
            Kind::Passwords => password_row(&ctx, tx.tx(), i + 2, &v).await?,
        };
        let guarded = cells.iter().zip(&targets).any(|(c, t)| t.is_some() && model::unformula(format, c.trim()) != c.trim());
        if guarded && row.note.is_none() {
            row.note = Some("a value began with ' in the file (ITFlow's guard against spreadsheet formulas): it was taken off".into());
        }
        match row.action.as_str() {
            "create" => report.created += 1,
            "change" => report.changed += 1,
            "unchanged" => report.unchanged += 1,
            "skip" => report.skipped += 1,
            _ => report.errors += 1,
        }
        events.extend(event);
        report.rows.push(row);
    }
    if !req.commit || report.errors > 0 {
        // Rolled back: nothing of a dry run, nor of a refused commit, is kept.
        drop(tx);
        return Ok(report);
    }
    let actor = p.actor();
    for e in events {
        tx.append(&actor, e).await?;
    }
    let details = json!({"kind": report.kind, "format": report.format, "type_id": (type_id > 0).then_some(type_id),
        "created": report.created, "changed": report.changed, "skipped": report.skipped, "rows": table.rows.len()});
    tx.commit(&actor, Event::new("import.commit", "client", client).client(client).details(details)).await?;
    report.committed = true;
    Ok(report)
}

struct RowCtx<'a> {
    app: &'a App,
    p: &'a Principal,
    client: ScopedClient,
    client_name: String,
    type_id: i64,
    fields: &'a [FieldDef],
    configuration: bool,
    now: i64,
}

impl RowCtx<'_> {
    /// The row's name; or the row as reported when it is another
    /// organization's (the file names one that is not this client) or has
    /// no name.
    fn named(&self, line: usize, v: &BTreeMap<String, String>) -> Result<String, ImportRow> {
        let name = v.get("name").cloned().unwrap_or_default();
        if let Some(o) = v.get("organization").filter(|o| !o.trim().eq_ignore_ascii_case(self.client_name.trim())) {
            let mut r = row(line, "skip", &name);
            r.note = Some(format!("another organization ({o})"));
            return Err(r);
        }
        if name.trim().is_empty() {
            let mut r = row(line, "error", "");
            r.errors.push(RowError { field: "name".into(), message: "is empty".into() });
            return Err(r);
        }
        Ok(name)
    }
}

fn row(line: usize, action: &str, name: &str) -> ImportRow {
    ImportRow { line, action: action.into(), name: name.into(), id: None, errors: vec![], note: None }
}

async fn asset_row(
    ctx: &RowCtx<'_>,
    db: &mut impl Db,
    line: usize,
    v: &BTreeMap<String, String>,
) -> Result<(ImportRow, Option<Event>), ApiError> {
    let name = match ctx.named(line, v) {
        Ok(name) => name,
        Err(r) => return Ok((r, None)),
    };
    let mut fields = Map::new();
    for f in ctx.fields {
        let Some(value) = v.get(&f.key) else { continue };
        // An ITFlow or IT Glue asset type becomes one of the configuration's kinds.
        let value = match (ctx.configuration, f.key.as_str(), f.kind) {
            (true, "kind", FieldKind::Select) if !f.options.iter().any(|o| o.eq_ignore_ascii_case(value)) => configuration_kind(value),
            _ => value.clone(),
        };
        fields.insert(f.key.clone(), Value::String(value));
    }
    let notes = v.get("notes").cloned();
    let existing = assets::named(db, ctx.client, ctx.type_id, &name).await?;
    let outcome = match existing {
        Some(id) => {
            let patch = AssetPatch { fields: Some(fields), notes, ..Default::default() };
            assets::update_in(db, ctx.p, ctx.client, id, patch, ctx.now)
                .await
                .map(|(a, e)| (a.id, if e.is_some() { "change" } else { "unchanged" }, e))
        }
        None => {
            let input = NewAsset { type_id: ctx.type_id, name: name.clone(), fields, notes: notes.unwrap_or_default(), device_id: None };
            assets::create_in(db, ctx.p, ctx.client, input, ctx.now).await.map(|(a, e)| (a.id, "create", Some(e)))
        }
    };
    finish(line, &name, outcome)
}

fn finish(line: usize, name: &str, outcome: Result<(i64, &str, Option<Event>), ApiError>) -> Result<(ImportRow, Option<Event>), ApiError> {
    match outcome {
        Ok((id, action, e)) => {
            let mut r = row(line, action, name);
            r.id = Some(id);
            Ok((r, e))
        }
        Err(e) => {
            let mut r = row(line, "error", name);
            r.errors = row_error(e)?;
            Ok((r, None))
        }
    }
}

async fn password_row(
    ctx: &RowCtx<'_>,
    db: &mut impl Db,
    line: usize,
    v: &BTreeMap<String, String>,
) -> Result<(ImportRow, Option<Event>), ApiError> {
    let name = match ctx.named(line, v) {
        Ok(name) => name,
        Err(r) => return Ok((r, None)),
    };
    let get = |k: &str| v.get(k).cloned();
    let existing = vault::named(db, ctx.client, &name).await?;
    let outcome = match existing {
        Some(id) => {
            let patch = EntryPatch {
                username: get("username"),
                password: get("password"),
                url: get("url"),
                totp_secret: get("totp_secret"),
                notes: get("notes"),
                folder: get("folder"),
                ..Default::default()
            };
            vault::update_in(ctx.app, db, ctx.p, ctx.client, id, patch, ctx.now)
                .await
                .map(|(e, ev)| (e.id, if ev.is_some() { "change" } else { "unchanged" }, ev))
        }
        None => {
            let input = NewEntry {
                name: name.clone(),
                username: get("username").unwrap_or_default(),
                password: get("password").unwrap_or_default(),
                url: get("url").unwrap_or_default(),
                totp_secret: get("totp_secret"),
                notes: get("notes").unwrap_or_default(),
                fields: Default::default(),
                folder: get("folder").unwrap_or_default(),
            };
            vault::create_in(ctx.app, db, ctx.p, ctx.client, input, ctx.now).await.map(|(e, ev)| (e.id, "create", Some(ev)))
        }
    };
    finish(line, &name, outcome)
}
