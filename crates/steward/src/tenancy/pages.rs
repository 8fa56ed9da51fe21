//! Client, site and contact pages.

use super::ops::{self, ClientPatch, ContactPatch, NewClient, NewContact, NewSite, SitePatch};
use super::store::{Client, ClientQuery, Contact, Site};
use crate::app::panels::{self, Fragment, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::config::AgentDefaults as Defaults;
use crate::devices::agent_settings::form::AgentSettingsForm;
use crate::devices::agent_settings::model::{self as agent_settings, Effective, Levels};
use crate::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::list::PageParams;
use crate::http::page::html_status;
use crate::time::fmt_time;
use crate::web::{
    error::{form_error, see_other, PageResult, WebForm},
    layout::Layout,
};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    archived: Option<String>,
    offset: Option<u64>,
}

struct ClientRow {
    id: i64,
    name: String,
    archived: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    l: Layout,
    q: String,
    show_archived: bool,
    rows: Vec<ClientRow>,
    total: i64,
    offset: u64,
    prev: Option<u64>,
    next: Option<u64>,
    can_create: bool,
    new_name: String,
}

async fn list_page(app: &App, p: &Principal, q: ListQuery, error: Option<String>, new_name: String) -> PageResult {
    p.require(Permission::ClientsRead)?;
    let page = PageParams::new(50, q.offset.unwrap_or(0));
    let show_archived = q.archived.is_some();
    let cq = ClientQuery { scope: p.clients.clone(), include_archived: show_archived, search: Some(q.q.clone()) };
    let (clients, total) = super::store::list_clients(&mut app.store.clone(), &cq, page.limit(), page.offset()).await?;
    let (limit, offset) = (page.limit(), page.offset());
    let status = crate::web::error::status_for(&error);
    Ok(html_status(
        status,
        &ClientsPage {
            l: Layout::new(app, p, "Clients", "clients").with_error(error),
            q: q.q,
            show_archived,
            rows: clients
                .into_iter()
                .map(|c| ClientRow { id: c.id, name: c.name, archived: c.archived, updated: fmt_time(c.updated_at.micros()) })
                .collect(),
            total,
            offset,
            prev: (offset > 0).then(|| offset.saturating_sub(limit)),
            next: ((offset + limit) < total as u64).then_some(offset + limit),
            can_create: p.can(Permission::ClientsWrite) && p.clients.is_none(),
            new_name,
        },
    ))
}

pub async fn list(State(app): State<App>, p: Principal, ApiQuery(q): ApiQuery<ListQuery>) -> PageResult {
    list_page(&app, &p, q, None, String::new()).await
}

#[derive(Deserialize)]
pub struct ClientForm {
    name: String,
    #[serde(default)]
    notes: String,
}

pub async fn create(State(app): State<App>, p: Principal, WebForm(f): WebForm<ClientForm>) -> PageResult {
    let new = NewClient { name: f.name.clone(), notes: f.notes, agent_heartbeat_secs: None, agent_metrics_secs: None };
    match ops::create_client(&app, &p, new).await {
        Ok(c) => Ok(see_other(&format!("/clients/{}", c.id))),
        Err(e) => {
            let msg = form_error(e)?;
            list_page(&app, &p, ListQuery::default(), Some(msg), f.name).await
        }
    }
}

struct SiteRow {
    s: Site,
}

struct ContactRow {
    c: Contact,
    site_name: String,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    l: Layout,
    /// What other domains show here (the client's devices).
    panels: Vec<Fragment>,
    c: Client,
    created: String,
    sites: Vec<SiteRow>,
    contacts: Vec<ContactRow>,
    can_write: bool,
    timezones: Vec<&'static str>,
    /// The server's settings, which the client's empty fields follow.
    server: Defaults,
}

async fn client_page(app: &App, p: &Principal, id: i64, error: Option<String>) -> PageResult {
    p.require(Permission::ClientsRead)?;
    let mut db = app.store.clone();
    let c = super::store::get_client(&mut db, p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    let sites = super::store::list_sites(&mut db, p.client(id)?, true).await?;
    let contacts = super::store::list_contacts(&mut db, p.client(id)?, true).await?;
    let site_name = |sid: Option<i64>| sites.iter().find(|s| Some(s.id) == sid).map(|s| s.name.clone()).unwrap_or_default();
    let contacts = contacts.into_iter().map(|c| ContactRow { site_name: site_name(c.site_id), c }).collect();
    let status = crate::web::error::status_for(&error);
    Ok(html_status(
        status,
        &ClientPage {
            l: Layout::new(app, p, c.name.clone(), "clients").with_error(error),
            panels: panels::render(app, p, Slot::Client, PanelCtx { client: Some(id), ..Default::default() }).await?,
            created: fmt_time(c.created_at.micros()),
            c,
            sites: sites.into_iter().map(|s| SiteRow { s }).collect(),
            contacts,
            can_write: p.can(Permission::ClientsWrite),
            timezones: chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect(),
            server: app.cfg.agent_defaults(),
        },
    ))
}

pub async fn show(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    client_page(&app, &p, id, None).await
}

pub async fn update(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<ClientForm>) -> PageResult {
    let patch = ClientPatch { name: Some(f.name), notes: Some(f.notes), ..Default::default() };
    match ops::update_client(&app, &p, id, patch).await {
        Ok(_) => Ok(see_other(&format!("/clients/{id}"))),
        Err(e) => client_page(&app, &p, id, Some(form_error(e)?)).await,
    }
}

/// A client's agent settings; its connected agents change at once.
pub async fn update_agent_settings(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    WebForm(f): WebForm<AgentSettingsForm>,
) -> PageResult {
    let updated = match f.parse() {
        Ok((h, m)) => {
            let patch = ClientPatch { agent_heartbeat_secs: Some(h), agent_metrics_secs: Some(m), ..Default::default() };
            ops::update_client(&app, &p, id, patch).await
        }
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => Ok(see_other(&format!("/clients/{id}#agent-settings"))),
        Err(e) => client_page(&app, &p, id, Some(form_error(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct ArchiveForm {
    archived: String,
}

pub async fn archive(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<ArchiveForm>) -> PageResult {
    ops::update_client(&app, &p, id, ClientPatch { archived: Some(f.archived == "true"), ..Default::default() }).await?;
    Ok(see_other(&format!("/clients/{id}")))
}

#[derive(Deserialize)]
pub struct SiteForm {
    name: String,
    timezone: String,
    #[serde(default)]
    address: String,
    archived: Option<String>,
    /// Empty fields follow the client's setting, else the server's.
    #[serde(flatten)]
    agent: AgentSettingsForm,
}

pub async fn create_site(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<SiteForm>) -> PageResult {
    let created = match f.agent.parse() {
        Ok((agent_heartbeat_secs, agent_metrics_secs)) => {
            let new = NewSite { name: f.name, timezone: f.timezone, address: f.address, agent_heartbeat_secs, agent_metrics_secs };
            ops::create_site(&app, &p, id, new).await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(s) => Ok(see_other(&format!("/clients/{id}#site-{}", s.id))),
        Err(e) => client_page(&app, &p, id, Some(form_error(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "site_edit.html")]
struct SiteEditPage {
    l: Layout,
    client: Client,
    s: Site,
    timezones: Vec<&'static str>,
    /// What other domains show here (the site's enrollment tokens).
    panels: Vec<Fragment>,
    /// What the site's empty fields follow: the client's settings, else
    /// the server's.
    inherited: Effective,
}

async fn site_page(app: &App, p: &Principal, id: i64, site_id: i64, error: Option<String>) -> PageResult {
    p.require(Permission::ClientsWrite)?;
    let mut db = app.store.clone();
    let client = super::store::get_client(&mut db, p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    let s = super::store::get_site(&mut db, p.client(id)?, site_id).await?.ok_or(ApiError::NotFound)?;
    let status = crate::web::error::status_for(&error);
    Ok(html_status(
        status,
        &SiteEditPage {
            l: Layout::new(app, p, format!("Site {}", s.name), "clients").with_error(error),
            panels: panels::render(app, p, Slot::Site, PanelCtx { client: Some(id), site: Some(site_id), ..Default::default() }).await?,
            s,
            timezones: chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect(),
            inherited: agent_settings::resolve(app.cfg.agent_defaults(), Levels { client: client.agent_overrides(), ..Default::default() }),
            client,
        },
    ))
}

pub async fn site_form(State(app): State<App>, p: Principal, ApiPath((id, site_id)): ApiPath<(i64, i64)>) -> PageResult {
    site_page(&app, &p, id, site_id, None).await
}

pub async fn update_site(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, site_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<SiteForm>,
) -> PageResult {
    let updated = match f.agent.parse() {
        Ok((h, m)) => {
            let patch = SitePatch {
                name: Some(f.name),
                timezone: Some(f.timezone),
                address: Some(f.address),
                archived: Some(crate::web::error::checkbox("archived", f.archived.as_deref())?),
                agent_heartbeat_secs: Some(h),
                agent_metrics_secs: Some(m),
                ..Default::default()
            };
            ops::update_site(&app, &p, id, site_id, patch).await
        }
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => Ok(see_other(&format!("/clients/{id}#site-{site_id}"))),
        Err(e) => site_page(&app, &p, id, site_id, Some(form_error(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    site_id: String,
    archived: Option<String>,
    covered: Option<String>,
}

fn site_of(f: &ContactForm) -> Result<Option<i64>, ApiError> {
    match f.site_id.trim() {
        "" => Ok(None),
        s => s.parse().map(Some).map_err(|_| ApiError::invalid("site_id", "is not a site")),
    }
}

pub async fn create_contact(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    WebForm(f): WebForm<ContactForm>,
) -> PageResult {
    let r = match site_of(&f) {
        Ok(site_id) => match crate::web::error::checkbox("covered", f.covered.as_deref()) {
            Ok(covered) => {
                let c = NewContact { site_id, name: f.name, email: f.email, phone: f.phone, title: f.title, covered };
                ops::create_contact(&app, &p, id, c).await
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match r {
        Ok(c) => Ok(see_other(&format!("/clients/{id}#contact-{}", c.id))),
        Err(e) => client_page(&app, &p, id, Some(form_error(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "contact_edit.html")]
struct ContactEditPage {
    l: Layout,
    client: Client,
    c: Contact,
    sites: Vec<Site>,
}

async fn contact_page(app: &App, p: &Principal, id: i64, contact_id: i64, error: Option<String>) -> PageResult {
    p.require(Permission::ClientsWrite)?;
    let mut db = app.store.clone();
    let client = super::store::get_client(&mut db, p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    let c = super::store::get_contact(&mut db, p.client(id)?, contact_id).await?.ok_or(ApiError::NotFound)?;
    let sites = super::store::list_sites(&mut db, p.client(id)?, false).await?;
    let status = crate::web::error::status_for(&error);
    Ok(html_status(
        status,
        &ContactEditPage { l: Layout::new(app, p, format!("Contact {}", c.name), "clients").with_error(error), client, c, sites },
    ))
}

pub async fn contact_form(State(app): State<App>, p: Principal, ApiPath((id, contact_id)): ApiPath<(i64, i64)>) -> PageResult {
    contact_page(&app, &p, id, contact_id, None).await
}

pub async fn update_contact(
    State(app): State<App>,
    p: Principal,
    ApiPath((id, contact_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<ContactForm>,
) -> PageResult {
    let r = match site_of(&f) {
        Ok(site_id) => {
            let patch = ContactPatch {
                name: Some(f.name),
                email: Some(f.email),
                phone: Some(f.phone),
                title: Some(f.title),
                site_id: Some(site_id),
                archived: Some(crate::web::error::checkbox("archived", f.archived.as_deref())?),
                covered: Some(crate::web::error::checkbox("covered", f.covered.as_deref())?),
            };
            ops::update_contact(&app, &p, id, contact_id, patch).await
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(see_other(&format!("/clients/{id}#contact-{contact_id}"))),
        Err(e) => contact_page(&app, &p, id, contact_id, Some(form_error(e)?)).await,
    }
}
