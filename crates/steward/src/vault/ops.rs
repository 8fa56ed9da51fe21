//! What people do with the vault: add an entry, change it (the previous
//! version is kept, sealed), archive it, list its versions and restore
//! one, and reveal its secrets. Each change is audited with the plain
//! fields only; a secret never reaches a log line, an error message, the
//! audit log or any answer but the reveal's.
//!
//! A reveal needs the `vault:reveal` permission, an interactive session
//! (never an API token) that proved its second factor within
//! `vault_reveal_mfa_minutes` (`403 mfa_required` otherwise: the page asks
//! for a fresh code), and stays under a per-user rate (a burst is refused
//! and the administrators are told). Each reveal is audited and logged
//! with its fields and address.

use super::model::{context, may_reveal, RevealRefused, Secrets};
use super::store::{self, EntryRow, Plain, SealedSecrets};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use crate::validate::{Long, Name, Short};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// Reveals one user may make in [`REVEAL_WINDOW_US`].
pub const REVEALS_PER_WINDOW: i64 = 30;
/// The window of the reveal rate.
pub const REVEAL_WINDOW_US: i64 = 10 * 60 * 1_000_000;

/// A new entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewVaultEntry)]
pub struct NewEntry {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub username: String,
    /// The secret; may be empty for an entry that is only a TOTP seed or fields.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub password: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub url: String,
    /// A TOTP seed in base32, as the service showed it (spaces allowed).
    pub totp_secret: Option<String>,
    #[serde(default)]
    #[schema(value_type = crate::validate::Long)]
    pub notes: String,
    /// Custom secret fields by name (at most 20, each at most 4,000
    /// characters), e.g. a recovery key.
    #[serde(default)]
    #[schema(value_type = crate::validate::shapes::StringMap<20, 4000>)]
    pub fields: BTreeMap<String, String>,
    /// A folder to file it under, e.g. `Network` (default: none).
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub folder: String,
}

/// Changes to an entry: each field left out stays. Secrets given replace
/// the old ones (`totp_secret: ""` removes the seed; `fields` replaces all).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VaultEntryPatch)]
pub struct EntryPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::Short>)]
    pub username: Option<String>,
    #[schema(max_length = 1000)]
    pub password: Option<String>,
    #[schema(value_type = Option<crate::validate::Short>)]
    pub url: Option<String>,
    pub totp_secret: Option<String>,
    #[schema(value_type = Option<crate::validate::Long>)]
    pub notes: Option<String>,
    #[schema(value_type = Option<crate::validate::shapes::StringMap<20, 4000>>)]
    pub fields: Option<BTreeMap<String, String>>,
    #[schema(value_type = Option<crate::validate::Short>)]
    pub folder: Option<String>,
    /// `false` brings an archived entry back.
    pub archived: Option<bool>,
}

/// An entry as every answer but the reveal shows it: no secret, only
/// whether there is one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = VaultEntry)]
pub struct Entry {
    pub id: i64,
    pub client_id: i64,
    pub folder: String,
    pub name: String,
    pub username: String,
    pub url: String,
    pub notes: String,
    pub has_totp: bool,
    /// The custom fields' names (their values are secrets).
    pub field_names: Vec<String>,
    /// Starts at 1; each change adds one (earlier ones are kept).
    pub version: i64,
    pub password_changed_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
}

impl From<&EntryRow> for Entry {
    fn from(r: &EntryRow) -> Self {
        Entry {
            id: r.id,
            client_id: r.client_id,
            folder: r.folder.clone(),
            name: r.name.clone(),
            username: r.username.clone(),
            url: r.url.clone(),
            notes: r.notes.clone(),
            has_totp: r.has_totp,
            field_names: serde_json::from_str(&r.field_names).unwrap_or_default(),
            version: r.version,
            password_changed_at: Timestamp(r.password_changed_at),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            archived_at: r.archived_at.map(Timestamp),
        }
    }
}

/// What a reveal answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = VaultRevealed)]
pub struct Revealed {
    pub password: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// The TOTP code now, and how many seconds it stays valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_seconds_left: Option<u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// The version revealed.
    pub version: i64,
}

/// What to reveal: the current version, or an earlier one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VaultRevealInput)]
pub struct RevealInput {
    #[schema(minimum = 1)]
    pub version: Option<i64>,
}

/// An earlier version, without its secrets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = VaultVersion)]
pub struct Version {
    pub version: i64,
    pub name: String,
    pub username: String,
    pub url: String,
    pub folder: String,
    pub changed_by: Option<String>,
    pub changed_at: Timestamp,
}

fn plain(name: &str, username: &str, url: &str, notes: &str, folder: &str) -> Result<Plain, ApiError> {
    let short = |field: &str, v: &str| Short::parse(v).map(Short::into_string).map_err(|m| ApiError::invalid(field, m));
    Ok(Plain {
        name: Name::parse(name).map_err(|m| ApiError::invalid("name", m))?.into_string(),
        username: short("username", username)?,
        url: short("url", url)?,
        notes: Long::parse(notes).map_err(|m| ApiError::invalid("notes", m))?.into_string(),
        folder: short("folder", folder)?,
    })
}

/// The secrets, checked. A password or fields past their documented
/// lengths break the schema (400); a seed that is not base32 or a blank
/// field name is well-formed JSON the server cannot keep (422).
fn secrets(s: Secrets) -> Result<Secrets, ApiError> {
    use super::model::{MAX_FIELDS, MAX_SECRET};
    if s.fields.len() > MAX_FIELDS || s.fields.values().any(|v| v.chars().count() > MAX_SECRET) {
        return Err(ApiError::invalid("fields", format!("at most {MAX_FIELDS} fields of at most {MAX_SECRET} characters")));
    }
    let s = s.checked().map_err(|(f, m)| if f == "password" { ApiError::invalid(f, m) } else { ApiError::refused(f, m) })?;
    if let Some(seed) = &s.totp_secret {
        crate::auth::totp::seed_bytes(seed).ok_or_else(|| ApiError::refused("totp_secret", "not a base32 seed"))?;
    }
    Ok(s)
}

/// The sealed form of `s` for version `version` of entry `id` of `client`.
fn seal(app: &App, id: i64, client: i64, version: i64, s: &Secrets, password_changed: Option<i64>) -> Result<SealedSecrets, ApiError> {
    let doc = serde_json::to_vec(s).map_err(ApiError::internal)?;
    Ok(SealedSecrets {
        sealed: app.master.seal(&context(id, client, version), &doc),
        has_totp: s.totp_secret.is_some(),
        field_names: serde_json::to_string(&s.fields.keys().collect::<Vec<_>>()).map_err(ApiError::internal)?,
        password_hash: if s.password.is_empty() { String::new() } else { app.master.keyed_hash("vault password", s.password.as_bytes()) },
        password_changed_at: password_changed,
    })
}

/// Opens a sealed version. A value that does not open (copied from another
/// row, or a master key that is not the one it was sealed with) is an
/// internal error whose message names the entry, never the value.
fn open(app: &App, id: i64, client: i64, version: i64, sealed: &str) -> Result<Secrets, ApiError> {
    let doc = app
        .master
        .open(&context(id, client, version), sealed)
        .map_err(|e| ApiError::internal(format!("vault entry {id} version {version} does not open: {e}")))?;
    serde_json::from_slice(&doc).map_err(|_| ApiError::internal(format!("vault entry {id} version {version} is not a secrets document")))
}

async fn entry(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<EntryRow, ApiError> {
    store::get(db, client, id).await?.ok_or(ApiError::NotFound)
}

pub async fn create(app: &App, p: &Principal, client_id: i64, input: NewEntry) -> Result<Entry, ApiError> {
    p.require(Permission::VaultWrite)?;
    let client = p.client(client_id)?;
    let mut tx = app.store.begin_audited().await?;
    let (e, event) = create_in(app, tx.tx(), p, client, input, now_us()).await?;
    tx.commit(&p.actor(), event).await?;
    Ok(e)
}

/// Makes an entry inside the caller's transaction (an import's); returns it
/// with the audit entry to write. The caller has checked `vault:write`.
pub async fn create_in(
    app: &App,
    db: &mut impl crate::store::Db,
    p: &Principal,
    client: ScopedClient,
    input: NewEntry,
    now: i64,
) -> Result<(Entry, Event), ApiError> {
    let plain = plain(&input.name, &input.username, &input.url, &input.notes, &input.folder)?;
    let s = secrets(Secrets { password: input.password, totp_secret: input.totp_secret, fields: input.fields })?;
    crate::tenancy::store::get_client(db, client).await?.ok_or(ApiError::NotFound)?;
    let id = store::insert(db, client, &plain, p.user.id, now).await?;
    store::set_version(db, id, 1, &plain, &seal(app, id, client.id(), 1, &s, Some(now))?, p.user.id, now).await?;
    let e = Entry::from(&entry(db, client, id).await?);
    let event = Event::new("vault.create", "vault_entry", id).client(client.id()).details(json!({"name": e.name, "folder": e.folder}));
    Ok((e, event))
}

/// The live entry of a client named `name` (any case), for an import to change.
pub async fn named(db: &mut impl Db, client: ScopedClient, name: &str) -> Result<Option<i64>, ApiError> {
    let f = store::Filter { folder: None, text: Some(name.to_string()), include_archived: false };
    let (rows, _) = store::list(db, client, &f, 100, 0).await?;
    Ok(rows.into_iter().find(|r| r.name.trim().eq_ignore_ascii_case(name.trim())).map(|r| r.id))
}

pub async fn update(app: &App, p: &Principal, client_id: i64, id: i64, patch: EntryPatch) -> Result<Entry, ApiError> {
    p.require(Permission::VaultWrite)?;
    let client = p.client(client_id)?;
    let mut tx = app.store.begin_audited().await?;
    let (e, event) = update_in(app, tx.tx(), p, client, id, patch, now_us()).await?;
    if let Some(event) = event {
        tx.commit(&p.actor(), event).await?;
    }
    Ok(e)
}

/// Changes an entry inside the caller's transaction (a new sealed version
/// when its content changes); the audit entry to write, with the entry
/// before and after (never a secret), or none when nothing changed.
pub async fn update_in(
    app: &App,
    db: &mut impl crate::store::Db,
    p: &Principal,
    client: ScopedClient,
    id: i64,
    patch: EntryPatch,
    now: i64,
) -> Result<(Entry, Option<Event>), ApiError> {
    let client_id = client.id();
    let row = entry(db, client, id).await?;
    let before = Entry::from(&row);
    let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.to_string());
    let plain = plain(
        &pick(&patch.name, &row.name),
        &pick(&patch.username, &row.username),
        &pick(&patch.url, &row.url),
        &pick(&patch.notes, &row.notes),
        &pick(&patch.folder, &row.folder),
    )?;
    let changes_secrets = patch.password.is_some() || patch.totp_secret.is_some() || patch.fields.is_some();
    let changes_plain = plain.name != row.name
        || plain.username != row.username
        || plain.url != row.url
        || plain.notes != row.notes
        || plain.folder != row.folder;
    let mut changed_fields: Vec<&str> = vec![];
    if changes_secrets || changes_plain {
        let old = open(app, id, client_id, row.version, &row.sealed)?;
        let new = secrets(Secrets {
            password: patch.password.clone().unwrap_or_else(|| old.password.clone()),
            totp_secret: match &patch.totp_secret {
                Some(t) => Some(t.clone()),
                None => old.totp_secret.clone(),
            },
            fields: patch.fields.clone().unwrap_or_else(|| old.fields.clone()),
        })?;
        for (f, differs) in [
            ("password", new.password != old.password),
            ("totp_secret", new.totp_secret != old.totp_secret),
            ("fields", new.fields != old.fields),
        ] {
            if differs {
                changed_fields.push(f);
            }
        }
        // The same secrets and names again (a re-import) make no version.
        if changes_plain || !changed_fields.is_empty() {
            store::keep_version(db, &row).await?;
            let version = row.version + 1;
            let password_changed = (new.password != old.password).then_some(now);
            store::set_version(db, id, version, &plain, &seal(app, id, client_id, version, &new, password_changed)?, p.user.id, now)
                .await?;
        }
    }
    if let Some(archived) = patch.archived {
        if archived != row.archived_at.is_some() {
            store::set_archived(db, id, archived.then_some(now), p.user.id, now).await?;
        }
    }
    let after = Entry::from(&entry(db, client, id).await?);
    if after == before {
        return Ok((after, None));
    }
    let details = json!({"secrets_changed": changed_fields, "before": before, "after": after});
    Ok((after, Some(Event::new("vault.update", "vault_entry", id).client(client_id).details(details))))
}

/// Archives an entry (kept with its versions; `archived: false` in a
/// change brings it back).
pub async fn archive(app: &App, p: &Principal, client_id: i64, id: i64) -> Result<(), ApiError> {
    update(app, p, client_id, id, EntryPatch { archived: Some(true), ..Default::default() }).await.map(|_| ())
}

pub async fn versions(app: &App, p: &Principal, client_id: i64, id: i64) -> Result<Vec<Version>, ApiError> {
    p.require(Permission::VaultRead)?;
    let client = p.client(client_id)?;
    let mut db = app.store.snapshot().await?;
    entry(&mut db, client, id).await?;
    Ok(store::versions(&mut db, id)
        .await?
        .into_iter()
        .map(|v| Version {
            version: v.version,
            name: v.name,
            username: v.username,
            url: v.url,
            folder: v.folder,
            changed_by: v.changed_by_name,
            changed_at: Timestamp(v.changed_at),
        })
        .collect())
}

/// Makes an earlier version current again, as a new version.
pub async fn restore(app: &App, p: &Principal, client_id: i64, id: i64, version: i64) -> Result<Entry, ApiError> {
    p.require(Permission::VaultWrite)?;
    let client = p.client(client_id)?;
    let old = {
        let mut db = app.store.snapshot().await?;
        entry(&mut db, client, id).await?;
        store::versions(&mut db, id)
            .await?
            .into_iter()
            .find(|v| v.version == version)
            .ok_or_else(|| ApiError::refused("version", "no such earlier version"))?
    };
    let s = open(app, id, client_id, old.version, &old.sealed)?;
    let patch = EntryPatch {
        name: Some(old.name),
        username: Some(old.username),
        url: Some(old.url),
        notes: Some(old.notes),
        folder: Some(old.folder),
        password: Some(s.password),
        totp_secret: Some(s.totp_secret.unwrap_or_default()),
        fields: Some(s.fields),
        archived: None,
    };
    update(app, p, client_id, id, patch).await
}

/// Whether `p` may reveal now; the refusal the page acts on.
fn reveal_allowed(app: &App, p: &Principal, now: i64) -> Result<(), ApiError> {
    p.require(Permission::VaultReveal)?;
    let window = app.cfg.vault_reveal_mfa_minutes as i64 * 60_000_000;
    may_reveal(p.session_id().is_some(), p.mfa_at(), now, window).map_err(|r| match r {
        RevealRefused::NotASession => ApiError::Forbidden("secrets are revealed to a signed-in person, never to an API token".into()),
        RevealRefused::MfaNotRecent => ApiError::MfaRequired(format!(
            "enter a code from your authenticator app first (a reveal needs a second factor proven in the last {} minutes)",
            app.cfg.vault_reveal_mfa_minutes
        )),
    })
}

pub async fn reveal(app: &App, p: &Principal, client_id: i64, id: i64, input: RevealInput) -> Result<Revealed, ApiError> {
    let client = p.client(client_id)?;
    let now = now_us();
    reveal_allowed(app, p, now)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let row = entry(db, client, id).await?;
    let recent = store::reveals_since(db, p.user.id, now - REVEAL_WINDOW_US).await?;
    if recent >= REVEALS_PER_WINDOW {
        // Refused, and kept: the first refusal of a window tells the
        // administrators; later ones count on, so it tells them once.
        store::log_reveal(db, id, p.user.id, "refused: too many reveals", &p.ip, now).await?;
        if recent == REVEALS_PER_WINDOW {
            burst(db, p, recent, now).await?;
        }
        let event = Event::new("vault.reveal_refused", "vault_entry", id)
            .client(client_id)
            .details(json!({"reason": "too many reveals", "recent": recent}));
        tx.commit(&p.actor(), event).await?;
        return Err(ApiError::RateLimited((REVEAL_WINDOW_US / 1_000_000) as u64));
    }
    let (version, sealed) = match input.version {
        None => (row.version, row.sealed.clone()),
        Some(v) if v == row.version => (row.version, row.sealed.clone()),
        Some(v) => {
            let old = store::versions(db, id)
                .await?
                .into_iter()
                .find(|x| x.version == v)
                .ok_or_else(|| ApiError::refused("version", "no such version"))?;
            (old.version, old.sealed)
        }
    };
    let s = open(app, id, client_id, version, &sealed)?;
    let mut fields = vec!["password"];
    if s.totp_secret.is_some() {
        fields.push("totp_secret");
    }
    let field_names: Vec<String> = s.fields.keys().map(|k| format!("field:{k}")).collect();
    fields.extend(field_names.iter().map(String::as_str));
    store::log_reveal(db, id, p.user.id, &fields.join(", "), &p.ip, now).await?;
    tx.commit(
        &p.actor(),
        Event::new("vault.reveal", "vault_entry", id)
            .client(client_id)
            .details(json!({"name": row.name, "version": version, "fields": fields})),
    )
    .await?;
    let unix = (now / 1_000_000) as u64;
    let totp = s.totp_secret.as_deref().and_then(crate::auth::totp::seed_bytes).map(|seed| {
        let step = crate::auth::totp::STEP_SECS;
        (crate::auth::totp::code_at(&seed, unix), step - unix % step)
    });
    Ok(Revealed {
        password: s.password,
        totp_code: totp.as_ref().map(|t| t.0.clone()),
        totp_seconds_left: totp.map(|t| t.1),
        totp_secret: s.totp_secret,
        fields: s.fields,
        version,
    })
}

/// A burst of reveals, told to the administrators.
async fn burst(db: &mut impl Db, p: &Principal, recent: i64, now: i64) -> Result<(), ApiError> {
    let text = format!(
        "{} revealed {recent} vault secrets within {} minutes; further reveals are refused for now.",
        p.user.email,
        REVEAL_WINDOW_US / 60_000_000
    );
    for (admin, _) in crate::users::store::with_permission(db, Permission::AuditRead, None).await? {
        crate::notifications::store::insert(
            db,
            crate::notifications::store::NewNotification {
                user_id: admin,
                client_id: None,
                ticket_id: None,
                kind: "vault.burst",
                text: &text,
                at: now,
            },
        )
        .await?;
    }
    Ok(())
}

/// One entry of the report on a client's passwords.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = VaultPasswordAge)]
pub struct PasswordAge {
    pub entry_id: i64,
    pub name: String,
    pub changed_at: Timestamp,
    pub age_days: i64,
    /// Other entries of the client with the same password.
    pub reused_with: Vec<i64>,
}

/// The client's passwords by age, oldest first, with reuse found by
/// comparing keyed hashes (never the passwords).
pub async fn password_report(app: &App, p: &Principal, client_id: i64) -> Result<Vec<PasswordAge>, ApiError> {
    p.require(Permission::VaultRead)?;
    let client = p.client(client_id)?;
    let rows = store::password_hashes(&mut app.store.snapshot().await?, client).await?;
    let now = now_us();
    let mut out: Vec<PasswordAge> = rows
        .iter()
        .filter(|r| !r.2.is_empty())
        .map(|(id, name, hash, changed)| PasswordAge {
            entry_id: *id,
            name: name.clone(),
            changed_at: Timestamp(*changed),
            age_days: (now - changed) / 86_400_000_000,
            reused_with: rows.iter().filter(|o| o.0 != *id && &o.2 == hash).map(|o| o.0).collect(),
        })
        .collect();
    out.sort_by_key(|a| (-a.age_days, a.entry_id));
    Ok(out)
}
