//! The vault on the pages: a client's entries (`/clients/{id}/vault`, with
//! the form for a new one and a password generator), one entry
//! (`…/vault/{entry_id}`: the plain fields, a Reveal button that asks the
//! API and, when the second factor is not recent, for a fresh code; the
//! versions with restore; who revealed it; the edit form), and the panel
//! on the client's page. No page ever holds a secret: only the reveal's
//! answer does, put into the page as text by `vault.js`.

use super::ops::{self, Entry, EntryPatch, NewEntry};
use super::store::{self, Filter};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html_status;
use crate::time::fmt_time;
use crate::web::error::{form_error, see_other, status_for, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use std::collections::BTreeMap;

fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

/// Custom fields from a form: `field_name` / `field_value` pairs in order.
fn custom_fields(f: &[(String, String)]) -> BTreeMap<String, String> {
    let names = f.iter().filter(|(k, _)| k == "field_name").map(|(_, v)| v.trim().to_string());
    let values = f.iter().filter(|(k, _)| k == "field_value").map(|(_, v)| v.clone());
    names.zip(values).filter(|(n, _)| !n.is_empty()).collect()
}

#[derive(Template)]
#[template(path = "vault.html")]
struct VaultPage {
    l: Layout,
    client_id: i64,
    client_name: String,
    entries: Vec<Entry>,
    total: i64,
    q: String,
    archived: bool,
    can_write: bool,
}

async fn list_page(app: &App, p: &Principal, client_id: i64, q: &str, archived: bool, error: Option<String>) -> PageResult {
    p.require(Permission::VaultRead)?;
    let client = p.client(client_id)?;
    let mut db = app.store.snapshot().await?;
    let c = crate::tenancy::store::get_client(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    let f = Filter { text: Some(q.to_string()).filter(|s| !s.trim().is_empty()), include_archived: archived, ..Default::default() };
    let (rows, total) = store::list(&mut db, client, &f, 500, 0).await?;
    Ok(html_status(
        status_for(&error),
        &VaultPage {
            l: Layout::new(app, p, format!("Vault · {}", c.name), "clients").with_error(error),
            client_id,
            client_name: c.name,
            entries: rows.iter().map(Entry::from).collect(),
            total,
            q: q.to_string(),
            archived,
            can_write: p.can(Permission::VaultWrite),
        },
    ))
}

pub async fn list(
    State(app): State<App>,
    p: Principal,
    ApiPath(client_id): ApiPath<i64>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> PageResult {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let text = field(&pairs, "q").unwrap_or("").to_string();
    let archived = field(&pairs, "archived") == Some("1");
    list_page(&app, &p, client_id, &text, archived, None).await
}

pub async fn create(
    State(app): State<App>,
    p: Principal,
    ApiPath(client_id): ApiPath<i64>,
    WebForm(f): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let s = |k: &str| field(&f, k).unwrap_or("").to_string();
    let input = NewEntry {
        name: s("name"),
        username: s("username"),
        password: s("password"),
        url: s("url"),
        totp_secret: Some(s("totp_secret")).filter(|t| !t.trim().is_empty()),
        notes: s("notes"),
        fields: custom_fields(&f),
        folder: s("folder"),
    };
    match ops::create(&app, &p, client_id, input).await {
        Ok(e) => Ok(see_other(&format!("/clients/{client_id}/vault/{}", e.id))),
        Err(e) => list_page(&app, &p, client_id, "", false, Some(form_error(e)?)).await,
    }
}

struct VersionLine {
    version: i64,
    name: String,
    by: String,
    at: String,
}

struct RevealLine {
    who: String,
    fields: String,
    ip: String,
    at: String,
}

#[derive(Template)]
#[template(path = "vault_entry.html")]
struct EntryPage {
    l: Layout,
    client_id: i64,
    client_name: String,
    e: Entry,
    versions: Vec<VersionLine>,
    reveals: Vec<RevealLine>,
    can_write: bool,
    can_reveal: bool,
}

async fn entry_page(app: &App, p: &Principal, client_id: i64, id: i64, error: Option<String>) -> PageResult {
    p.require(Permission::VaultRead)?;
    let client = p.client(client_id)?;
    let mut db = app.store.snapshot().await?;
    let c = crate::tenancy::store::get_client(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    let row = store::get(&mut db, client, id).await?.ok_or(ApiError::NotFound)?;
    let versions = store::versions(&mut db, id)
        .await?
        .into_iter()
        .map(|v| VersionLine { version: v.version, name: v.name, by: v.changed_by_name.unwrap_or_default(), at: fmt_time(v.changed_at) })
        .collect();
    let reveals = store::reveals(&mut db, id, 20)
        .await?
        .into_iter()
        .map(|r| RevealLine { who: r.user_name, fields: r.fields, ip: r.ip, at: fmt_time(r.at) })
        .collect();
    Ok(html_status(
        status_for(&error),
        &EntryPage {
            l: Layout::new(app, p, format!("{} · Vault", row.name), "clients").with_error(error),
            client_id,
            client_name: c.name,
            e: Entry::from(&row),
            versions,
            reveals,
            can_write: p.can(Permission::VaultWrite),
            can_reveal: p.can(Permission::VaultReveal),
        },
    ))
}

pub async fn show(State(app): State<App>, p: Principal, ApiPath((client_id, id)): ApiPath<(i64, i64)>) -> PageResult {
    entry_page(&app, &p, client_id, id, None).await
}

/// The edit form: plain fields always; a secret only when typed (an empty
/// password box keeps the password).
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath((client_id, id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let s = |k: &str| field(&f, k).map(String::from);
    let typed = |k: &str| s(k).filter(|v| !v.is_empty());
    let patch = EntryPatch {
        name: s("name"),
        username: s("username"),
        url: s("url"),
        notes: s("notes"),
        folder: s("folder"),
        password: typed("password"),
        totp_secret: if field(&f, "remove_totp").is_some() { Some(String::new()) } else { typed("totp_secret") },
        fields: None,
        archived: None,
    };
    match ops::update(&app, &p, client_id, id, patch).await {
        Ok(_) => Ok(see_other(&format!("/clients/{client_id}/vault/{id}"))),
        Err(e) => entry_page(&app, &p, client_id, id, Some(form_error(e)?)).await,
    }
}

pub async fn archive(
    State(app): State<App>,
    p: Principal,
    ApiPath((client_id, id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let archived = field(&f, "archived") != Some("false");
    let patch = EntryPatch { archived: Some(archived), ..Default::default() };
    match ops::update(&app, &p, client_id, id, patch).await {
        Ok(_) => Ok(see_other(&format!("/clients/{client_id}/vault/{id}"))),
        Err(e) => entry_page(&app, &p, client_id, id, Some(form_error(e)?)).await,
    }
}

pub async fn restore(State(app): State<App>, p: Principal, ApiPath((client_id, id, version)): ApiPath<(i64, i64, i64)>) -> PageResult {
    match ops::restore(&app, &p, client_id, id, version).await {
        Ok(_) => Ok(see_other(&format!("/clients/{client_id}/vault/{id}"))),
        Err(e) => entry_page(&app, &p, client_id, id, Some(form_error(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "vault_panel.html")]
struct ClientVault {
    client_id: i64,
    entries: Vec<Entry>,
    total: i64,
}

pub const CLIENT_PANEL: Panel = Panel { slot: Slot::Client, order: 20, render: client_vault };

fn client_vault<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(client_id) = ctx.client else { return Ok(None) };
        if !p.can(Permission::VaultRead) {
            return Ok(None);
        }
        let (rows, total) = store::list(&mut app.store.snapshot().await?, p.client(client_id)?, &Filter::default(), 10, 0).await?;
        Fragment::render(&ClientVault { client_id, entries: rows.iter().map(Entry::from).collect(), total }).map(Some)
    })
}

#[derive(Template)]
#[template(path = "vault_report.html")]
struct ReportPage {
    l: Layout,
    client_id: i64,
    client_name: String,
    lines: Vec<(super::ops::PasswordAge, Vec<(i64, String)>)>,
    reused: usize,
    older_than_year: usize,
}

/// The client's passwords by age, oldest first, with the entries each is
/// reused in (found by keyed hashes, never the passwords).
pub async fn report(State(app): State<App>, p: Principal, ApiPath(client_id): ApiPath<i64>) -> PageResult {
    let rows = ops::password_report(&app, &p, client_id).await?;
    let client = crate::tenancy::store::get_client(&mut app.store.clone(), p.client(client_id)?).await?.ok_or(ApiError::NotFound)?;
    let name_of = |id: i64| rows.iter().find(|r| r.entry_id == id).map(|r| r.name.clone()).unwrap_or_else(|| format!("entry {id}"));
    let lines: Vec<_> = rows.iter().map(|r| (r.clone(), r.reused_with.iter().map(|id| (*id, name_of(*id))).collect())).collect();
    let page = ReportPage {
        l: Layout::new(&app, &p, format!("Password report of {}", client.name), "clients"),
        client_id,
        client_name: client.name,
        reused: rows.iter().filter(|r| !r.reused_with.is_empty()).count(),
        older_than_year: rows.iter().filter(|r| r.age_days > 365).count(),
        lines,
    };
    Ok(html_status(axum::http::StatusCode::OK, &page))
}
