//! Audited changes to clients, sites and contacts, shared by the API and the
//! web pages. Each validates its input (a 400 naming the field), checks the
//! caller's permission, and writes the change and its audit entry (with
//! before/after) in one transaction.

use super::store::{get_client, get_contact, get_site, Client, Clients, Contact, Contacts, Site, Sites};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::devices::agent_settings::model::{self as agent_settings, HEARTBEAT_SECS, METRICS_SECS};
use crate::error::ApiError;
use crate::events::Event as Happened;
use crate::monitoring::policies::model::Level;
use crate::monitoring::policies::ops as policies;
use crate::store::Db;
use crate::time::now_us;
use crate::validate::{Email, Long, Medium, Name, Phone, Short, TimeZone};
use sea_query::{Expr, Query, SimpleExpr, UpdateStatement};
use serde::Deserialize;
use serde_json::json;

/// `UPDATE table SET sets…, updated_at = now WHERE id = ?`.
fn update_by_id<T: sea_query::Iden + Copy + 'static>(
    table: T,
    id_col: T,
    updated_at: T,
    id: i64,
    sets: Vec<(T, SimpleExpr)>,
) -> UpdateStatement {
    let mut q = Query::update();
    q.table(table).value(updated_at, now_us()).and_where(Expr::col(id_col).eq(id));
    for (c, v) in sets {
        q.value(c, v);
    }
    q
}

fn check<T>(field: &str, r: Result<T, String>) -> Result<T, ApiError> {
    r.map_err(|m| ApiError::invalid(field, m))
}

/// An agent setting of a client or site: `None` inherits, a value must be
/// within `range`.
pub(crate) fn agent_setting(field: &str, v: Option<i64>, range: &std::ops::RangeInclusive<i64>) -> Result<Option<i64>, ApiError> {
    v.map(|v| check(field, agent_settings::check(v, range))).transpose()
}

/// A new client.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Long)]
    pub notes: String,
    /// Seconds between heartbeats of this client's agents (5–3600); absent
    /// or `null` follows the server's `agent_heartbeat_secs`.
    #[serde(default)]
    #[schema(minimum = 5, maximum = 3600)]
    pub agent_heartbeat_secs: Option<i64>,
    /// Seconds between metric samples of this client's agents (10–3600);
    /// absent or `null` follows the server's `agent_metrics_secs`.
    #[serde(default)]
    #[schema(minimum = 10, maximum = 3600)]
    pub agent_metrics_secs: Option<i64>,
}

/// Changes to a client; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::Long>)]
    pub notes: Option<String>,
    pub archived: Option<bool>,
    /// Seconds between heartbeats (5–3600); `null` returns to the server's
    /// setting, absent leaves it as it is. Connected agents change at once.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>, minimum = 5, maximum = 3600)]
    pub agent_heartbeat_secs: Option<Option<i64>>,
    /// Seconds between metric samples (10–3600); `null` returns to the
    /// server's setting, absent leaves it as it is.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>, minimum = 10, maximum = 3600)]
    pub agent_metrics_secs: Option<Option<i64>>,
    /// The SLA policy of the client's new tickets; `null` follows the
    /// installation's default. Tickets already open keep theirs.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub sla_policy_id: Option<Option<i64>>,
    /// Monitoring policies assigned to the client, in order (a later one's check
    /// wins over an earlier one's of the same key); `[]`: none; absent
    /// leaves them as they are.
    #[serde(default)]
    pub monitoring_policy_ids: Option<Vec<i64>>,
    /// Keys of inherited checks its devices do not run; `[]`: none.
    #[serde(default)]
    pub monitoring_excluded_checks: Option<Vec<String>>,
}

/// A new site.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// IANA time zone, e.g. `Europe/London`.
    #[schema(value_type = crate::validate::TimeZone)]
    pub timezone: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Medium)]
    pub address: String,
    /// Seconds between heartbeats of this site's agents (5–3600); absent or
    /// `null` follows the client's setting, else the server's.
    #[serde(default)]
    #[schema(minimum = 5, maximum = 3600)]
    pub agent_heartbeat_secs: Option<i64>,
    /// Seconds between metric samples of this site's agents (10–3600);
    /// absent or `null` follows the client's setting, else the server's.
    #[serde(default)]
    #[schema(minimum = 10, maximum = 3600)]
    pub agent_metrics_secs: Option<i64>,
}

/// Changes to a site.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::TimeZone>)]
    pub timezone: Option<String>,
    #[schema(value_type = Option<crate::validate::Medium>)]
    pub address: Option<String>,
    pub archived: Option<bool>,
    /// Seconds between heartbeats (5–3600); `null` returns to the client's
    /// (else the server's) setting, absent leaves it as it is. Connected
    /// agents change at once.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>, minimum = 5, maximum = 3600)]
    pub agent_heartbeat_secs: Option<Option<i64>>,
    /// Seconds between metric samples (10–3600); `null` returns to the
    /// client's (else the server's) setting, absent leaves it as it is.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>, minimum = 10, maximum = 3600)]
    pub agent_metrics_secs: Option<Option<i64>>,
    /// Monitoring policies assigned to the site, in order (a later one's check
    /// wins over an earlier one's of the same key); `[]`: none; absent
    /// leaves them as they are.
    #[serde(default)]
    pub monitoring_policy_ids: Option<Vec<i64>>,
    /// Keys of inherited checks its devices do not run; `[]`: none.
    #[serde(default)]
    pub monitoring_excluded_checks: Option<Vec<String>>,
}

/// A new contact.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::OptionalEmail)]
    pub email: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Phone)]
    pub phone: String,
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub title: String,
    pub site_id: Option<i64>,
    /// Counted by the client's per-user contract lines.
    #[serde(default)]
    pub covered: bool,
}

/// Changes to a contact.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::OptionalEmail>)]
    pub email: Option<String>,
    #[schema(value_type = Option<crate::validate::Phone>)]
    pub phone: Option<String>,
    #[schema(value_type = Option<crate::validate::Short>)]
    pub title: Option<String>,
    /// `null` clears the site.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub site_id: Option<Option<i64>>,
    pub archived: Option<bool>,
    /// Counted by the client's per-user contract lines.
    pub covered: Option<bool>,
}

pub async fn create_client(app: &App, p: &Principal, input: NewClient) -> Result<Client, ApiError> {
    p.require(Permission::ClientsWrite)?;
    if p.clients.is_some() {
        return Err(ApiError::Forbidden("your account is limited to specific clients and cannot create new ones".into()));
    }
    let name = check("name", Name::parse(&input.name))?;
    let notes = check("notes", Long::parse(&input.notes))?;
    let heartbeat = agent_setting("agent_heartbeat_secs", input.agent_heartbeat_secs, &HEARTBEAT_SECS)?;
    let metrics = agent_setting("agent_metrics_secs", input.agent_metrics_secs, &METRICS_SECS)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let c: Client = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(Clients::Table)
                .columns([
                    Clients::Name,
                    Clients::Notes,
                    Clients::CreatedAt,
                    Clients::UpdatedAt,
                    Clients::AgentHeartbeatSecs,
                    Clients::AgentMetricsSecs,
                ])
                .values_panic([name.into(), notes.into(), now.into(), now.into(), heartbeat.into(), metrics.into()])
                .returning(Query::returning().columns(super::store::CLIENT_COLS)),
        )
        .await?;
    tx.commit(&p.actor(), Event::new("client.create", "client", c.id).client(c.id).details(json!({"after": c}))).await?;
    Ok(c)
}

pub async fn update_client(app: &App, p: &Principal, id: i64, patch: ClientPatch) -> Result<Client, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let mut sets: Vec<(Clients, SimpleExpr)> = vec![];
    if let Some(n) = &patch.name {
        sets.push((Clients::Name, check("name", Name::parse(n))?.into()));
    }
    if let Some(n) = &patch.notes {
        sets.push((Clients::Notes, check("notes", Long::parse(n))?.into()));
    }
    if let Some(a) = patch.archived {
        sets.push((Clients::Archived, a.into()));
    }
    if let Some(h) = patch.agent_heartbeat_secs {
        sets.push((Clients::AgentHeartbeatSecs, agent_setting("agent_heartbeat_secs", h, &HEARTBEAT_SECS)?.into()));
    }
    if let Some(m) = patch.agent_metrics_secs {
        sets.push((Clients::AgentMetricsSecs, agent_setting("agent_metrics_secs", m, &METRICS_SECS)?.into()));
    }
    let mut tx = app.store.begin_audited().await?;
    let before = get_client(tx.tx(), p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    if let Some(policy) = patch.sla_policy_id {
        if let Some(pid) = policy {
            if !crate::sla::store::in_use(tx.tx(), pid).await? {
                return Err(ApiError::refused("sla_policy_id", "is not an SLA policy in use"));
            }
        }
        sets.push((Clients::SlaPolicyId, policy.into()));
    }
    tx.tx().execute(&update_by_id(Clients::Table, Clients::Id, Clients::UpdatedAt, id, sets)).await?;
    let monitoring = policies::assign(tx.tx(), Level::Client, id, patch.monitoring_policy_ids, patch.monitoring_excluded_checks).await?;
    let after = get_client(tx.tx(), p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    let action = match patch.archived {
        Some(true) if !before.archived => "client.archive",
        Some(false) if before.archived => "client.unarchive",
        _ => "client.update",
    };
    let event = Event::new(action, "client", id).client(id);
    tx.commit_change(&p.actor(), policies::with_assignment(event, &monitoring), &before, &after).await?;
    if before.agent_overrides() != after.agent_overrides() {
        app.bus.publish(Happened::AgentSettingsChanged { client: id, site: None }).await;
    }
    if monitoring.is_some() {
        app.bus.publish(Happened::MonitoringChanged).await;
    }
    Ok(after)
}

pub async fn create_site(app: &App, p: &Principal, client_id: i64, input: NewSite) -> Result<Site, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let name = check("name", Name::parse(&input.name))?;
    let tz = check("timezone", TimeZone::parse(&input.timezone))?;
    let address = check("address", Medium::parse(&input.address))?;
    let heartbeat = agent_setting("agent_heartbeat_secs", input.agent_heartbeat_secs, &HEARTBEAT_SECS)?;
    let metrics = agent_setting("agent_metrics_secs", input.agent_metrics_secs, &METRICS_SECS)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    get_client(tx.tx(), p.client(client_id)?).await?.ok_or(ApiError::NotFound)?;
    let s: Site = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(Sites::Table)
                .columns([
                    Sites::ClientId,
                    Sites::Name,
                    Sites::Timezone,
                    Sites::Address,
                    Sites::CreatedAt,
                    Sites::UpdatedAt,
                    Sites::AgentHeartbeatSecs,
                    Sites::AgentMetricsSecs,
                ])
                .values_panic([
                    client_id.into(),
                    name.into(),
                    tz.into(),
                    address.into(),
                    now.into(),
                    now.into(),
                    heartbeat.into(),
                    metrics.into(),
                ])
                .returning(Query::returning().columns(super::store::SITE_COLS)),
        )
        .await?;
    tx.commit(&p.actor(), Event::new("site.create", "site", s.id).client(client_id).details(json!({"after": s}))).await?;
    Ok(s)
}

pub async fn update_site(app: &App, p: &Principal, client_id: i64, id: i64, patch: SitePatch) -> Result<Site, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let mut sets: Vec<(Sites, SimpleExpr)> = vec![];
    if let Some(v) = &patch.name {
        sets.push((Sites::Name, check("name", Name::parse(v))?.into()));
    }
    if let Some(v) = &patch.timezone {
        sets.push((Sites::Timezone, check("timezone", TimeZone::parse(v))?.into()));
    }
    if let Some(v) = &patch.address {
        sets.push((Sites::Address, check("address", Medium::parse(v))?.into()));
    }
    if let Some(a) = patch.archived {
        sets.push((Sites::Archived, a.into()));
    }
    if let Some(h) = patch.agent_heartbeat_secs {
        sets.push((Sites::AgentHeartbeatSecs, agent_setting("agent_heartbeat_secs", h, &HEARTBEAT_SECS)?.into()));
    }
    if let Some(m) = patch.agent_metrics_secs {
        sets.push((Sites::AgentMetricsSecs, agent_setting("agent_metrics_secs", m, &METRICS_SECS)?.into()));
    }
    let mut tx = app.store.begin_audited().await?;
    let before = get_site(tx.tx(), p.client(client_id)?, id).await?.ok_or(ApiError::NotFound)?;
    tx.tx().execute(&update_by_id(Sites::Table, Sites::Id, Sites::UpdatedAt, id, sets)).await?;
    let monitoring = policies::assign(tx.tx(), Level::Site, id, patch.monitoring_policy_ids, patch.monitoring_excluded_checks).await?;
    let after = get_site(tx.tx(), p.client(client_id)?, id).await?.ok_or(ApiError::NotFound)?;
    let event = Event::new("site.update", "site", id).client(client_id);
    tx.commit_change(&p.actor(), policies::with_assignment(event, &monitoring), &before, &after).await?;
    if before.agent_overrides() != after.agent_overrides() {
        app.bus.publish(Happened::AgentSettingsChanged { client: client_id, site: Some(id) }).await;
    }
    if monitoring.is_some() {
        app.bus.publish(Happened::MonitoringChanged).await;
    }
    Ok(after)
}

async fn check_site(db: &mut impl Db, client: ScopedClient, site_id: Option<i64>) -> Result<(), ApiError> {
    if let Some(s) = site_id {
        if get_site(db, client, s).await?.is_none() {
            return Err(ApiError::refused("site_id", "is not a site of this client"));
        }
    }
    Ok(())
}

pub async fn create_contact(app: &App, p: &Principal, client_id: i64, input: NewContact) -> Result<Contact, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let name = check("name", Name::parse(&input.name))?;
    let email = Email::optional(&input.email)
        .map(|e| e.map(String::from).unwrap_or_default())
        .map_err(|m| crate::validate::email_error("email", m))?;
    let phone = check("phone", Phone::parse(&input.phone))?;
    let title = check("title", Short::parse(&input.title))?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    get_client(tx.tx(), p.client(client_id)?).await?.ok_or(ApiError::NotFound)?;
    check_site(tx.tx(), p.client(client_id)?, input.site_id).await?;
    let c: Contact = tx
        .tx()
        .fetch_one(
            Query::insert()
                .into_table(Contacts::Table)
                .columns([
                    Contacts::ClientId,
                    Contacts::SiteId,
                    Contacts::Name,
                    Contacts::Email,
                    Contacts::Phone,
                    Contacts::Title,
                    Contacts::CreatedAt,
                    Contacts::UpdatedAt,
                    Contacts::Covered,
                ])
                .values_panic([
                    client_id.into(),
                    input.site_id.into(),
                    name.into(),
                    email.into(),
                    phone.into(),
                    title.into(),
                    now.into(),
                    now.into(),
                    input.covered.into(),
                ])
                .returning(Query::returning().columns(super::store::CONTACT_COLS)),
        )
        .await?;
    tx.commit(&p.actor(), Event::new("contact.create", "contact", c.id).client(client_id).details(json!({"after": c}))).await?;
    Ok(c)
}

pub async fn update_contact(app: &App, p: &Principal, client_id: i64, id: i64, patch: ContactPatch) -> Result<Contact, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let mut sets: Vec<(Contacts, SimpleExpr)> = vec![];
    if let Some(v) = &patch.name {
        sets.push((Contacts::Name, check("name", Name::parse(v))?.into()));
    }
    if let Some(v) = &patch.email {
        let email =
            Email::optional(v).map(|e| e.map(String::from).unwrap_or_default()).map_err(|m| crate::validate::email_error("email", m))?;
        sets.push((Contacts::Email, email.into()));
    }
    if let Some(v) = &patch.phone {
        sets.push((Contacts::Phone, check("phone", Phone::parse(v))?.into()));
    }
    if let Some(v) = &patch.title {
        sets.push((Contacts::Title, check("title", Short::parse(v))?.into()));
    }
    if let Some(a) = patch.archived {
        sets.push((Contacts::Archived, a.into()));
    }
    if let Some(c) = patch.covered {
        sets.push((Contacts::Covered, c.into()));
    }
    let mut tx = app.store.begin_audited().await?;
    let before = get_contact(tx.tx(), p.client(client_id)?, id).await?.ok_or(ApiError::NotFound)?;
    if let Some(site) = patch.site_id {
        check_site(tx.tx(), p.client(client_id)?, site).await?;
        sets.push((Contacts::SiteId, site.into()));
    }
    tx.tx().execute(&update_by_id(Contacts::Table, Contacts::Id, Contacts::UpdatedAt, id, sets)).await?;
    let after = get_contact(tx.tx(), p.client(client_id)?, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit_change(&p.actor(), Event::new("contact.update", "contact", id).client(client_id), &before, &after).await?;
    Ok(after)
}
