//! Tenancy's storage: the clients, sites and contacts tables, their lists
//! (scoped to the clients a user may see) and the name search.

use crate::auth::principal::ScopedClient;
use crate::devices::agent_settings::model::Overrides;
use crate::store::{Count, Db, Result};
use crate::time::Timestamp;
use sea_query::{Cond, Expr, Func, Iden, Order, Query, SelectStatement};
use serde::Serialize;

#[derive(Iden, Clone, Copy)]
pub(crate) enum Clients {
    Table,
    Id,
    Name,
    Notes,
    Archived,
    CreatedAt,
    UpdatedAt,
    AgentHeartbeatSecs,
    AgentMetricsSecs,
    SlaPolicyId,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum Sites {
    Table,
    Id,
    ClientId,
    Name,
    Timezone,
    Address,
    Archived,
    CreatedAt,
    UpdatedAt,
    AgentHeartbeatSecs,
    AgentMetricsSecs,
}

#[derive(Iden, Clone, Copy)]
pub(crate) enum Contacts {
    Table,
    Id,
    ClientId,
    SiteId,
    Name,
    Email,
    Phone,
    Title,
    Archived,
    CreatedAt,
    UpdatedAt,
    Covered,
}

/// A company the MSP serves.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Client {
    pub id: i64,
    pub name: String,
    pub notes: String,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Seconds between heartbeats of this client's agents; `null` follows
    /// the server's `agent_heartbeat_secs`. A site may override it.
    pub agent_heartbeat_secs: Option<i64>,
    /// Seconds between metric samples of this client's agents; `null`
    /// follows the server's `agent_metrics_secs`. A site may override it.
    pub agent_metrics_secs: Option<i64>,
    /// The SLA policy this client's new tickets are measured against;
    /// `null` follows the installation's default policy.
    pub sla_policy_id: Option<i64>,
}

/// An office of a client.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Site {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub timezone: String,
    pub address: String,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Seconds between heartbeats of this site's agents; `null` follows the
    /// client's setting, else the server's `agent_heartbeat_secs`.
    pub agent_heartbeat_secs: Option<i64>,
    /// Seconds between metric samples of this site's agents; `null` follows
    /// the client's setting, else the server's `agent_metrics_secs`.
    pub agent_metrics_secs: Option<i64>,
}

impl Client {
    pub fn agent_overrides(&self) -> Overrides {
        Overrides { heartbeat_secs: self.agent_heartbeat_secs, metrics_secs: self.agent_metrics_secs }
    }
}

impl Site {
    pub fn agent_overrides(&self) -> Overrides {
        Overrides { heartbeat_secs: self.agent_heartbeat_secs, metrics_secs: self.agent_metrics_secs }
    }
}

/// A person at a client.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Contact {
    pub id: i64,
    pub client_id: i64,
    pub site_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub title: String,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// A user the client's per-user contract lines count.
    pub covered: bool,
}

pub(crate) const CLIENT_COLS: [Clients; 9] = [
    Clients::Id,
    Clients::Name,
    Clients::Notes,
    Clients::Archived,
    Clients::CreatedAt,
    Clients::UpdatedAt,
    Clients::AgentHeartbeatSecs,
    Clients::AgentMetricsSecs,
    Clients::SlaPolicyId,
];
pub(crate) const SITE_COLS: [Sites; 10] = [
    Sites::Id,
    Sites::ClientId,
    Sites::Name,
    Sites::Timezone,
    Sites::Address,
    Sites::Archived,
    Sites::CreatedAt,
    Sites::UpdatedAt,
    Sites::AgentHeartbeatSecs,
    Sites::AgentMetricsSecs,
];
pub(crate) const CONTACT_COLS: [Contacts; 11] = [
    Contacts::Id,
    Contacts::ClientId,
    Contacts::SiteId,
    Contacts::Name,
    Contacts::Email,
    Contacts::Phone,
    Contacts::Title,
    Contacts::Archived,
    Contacts::CreatedAt,
    Contacts::UpdatedAt,
    Contacts::Covered,
];

/// Which clients a list may show.
#[derive(Debug, Clone, Default)]
pub struct ClientQuery {
    /// `None`: all clients; `Some(ids)`: only these (a limited technician).
    pub scope: Option<Vec<i64>>,
    pub include_archived: bool,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

fn like_pattern(s: &str) -> sea_query::LikeExpr {
    crate::store::like_contains(&s.to_lowercase())
}

fn filter_clients(q: &mut SelectStatement, f: &ClientQuery) {
    if let Some(ids) = &f.scope {
        q.and_where(Expr::col(Clients::Id).is_in(ids.clone()));
    }
    if !f.include_archived {
        q.and_where(Expr::col(Clients::Archived).eq(false));
    }
    if let Some(s) = f.search.as_deref().filter(|s| !s.trim().is_empty()) {
        q.and_where(Expr::expr(Func::lower(Expr::col(Clients::Name))).like(like_pattern(s.trim())));
    }
}

pub async fn list_clients(db: &mut impl Db, f: &ClientQuery, limit: u64, offset: u64) -> Result<(Vec<Client>, i64)> {
    let mut q = Query::select();
    q.columns(CLIENT_COLS)
        .from(Clients::Table)
        .order_by_expr(Func::lower(Expr::col(Clients::Name)).into(), Order::Asc)
        .limit(limit)
        .offset(offset);
    filter_clients(&mut q, f);
    let rows = db.fetch_all(&q).await?;
    let mut c = Query::select();
    c.expr_as(Expr::col(Clients::Id).count(), crate::store::n()).from(Clients::Table);
    filter_clients(&mut c, f);
    let n: Count = db.fetch_one(&c).await?;
    Ok((rows, n.n))
}

pub async fn get_client(db: &mut impl Db, c: ScopedClient) -> Result<Option<Client>> {
    db.fetch_optional(Query::select().columns(CLIENT_COLS).from(Clients::Table).and_where(Expr::col(Clients::Id).eq(c.id()))).await
}

/// The names of the clients in `ids`.
pub async fn client_names(db: &mut impl Db, ids: &[i64]) -> Result<Vec<Client>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    db.fetch_all(Query::select().columns(CLIENT_COLS).from(Clients::Table).and_where(Expr::col(Clients::Id).is_in(ids.iter().copied())))
        .await
}

pub async fn client_exists(db: &mut impl Db, id: i64) -> Result<bool> {
    Ok(get_client(db, ScopedClient::system(id)).await?.is_some())
}

pub async fn list_sites(db: &mut impl Db, client: ScopedClient, include_archived: bool) -> Result<Vec<Site>> {
    let mut q = Query::select();
    q.columns(SITE_COLS).from(Sites::Table).and_where(Expr::col(Sites::ClientId).eq(client.id())).order_by(Sites::Name, Order::Asc);
    if !include_archived {
        q.and_where(Expr::col(Sites::Archived).eq(false));
    }
    db.fetch_all(&q).await
}

/// Every site in use of the clients a caller sees (`None`: all), by
/// client and name, in one read (a run form lists them all).
pub async fn sites_in_scope(db: &mut impl Db, scope: Option<&[i64]>) -> Result<Vec<Site>> {
    let mut q = Query::select();
    q.columns(SITE_COLS)
        .from(Sites::Table)
        .and_where(Expr::col(Sites::Archived).eq(false))
        .order_by(Sites::ClientId, Order::Asc)
        .order_by(Sites::Name, Order::Asc);
    if let Some(ids) = scope {
        q.and_where(Expr::col(Sites::ClientId).is_in(ids.iter().copied()));
    }
    db.fetch_all(&q).await
}

pub async fn get_site(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<Site>> {
    db.fetch_optional(
        Query::select()
            .columns(SITE_COLS)
            .from(Sites::Table)
            .and_where(Expr::col(Sites::Id).eq(id))
            .and_where(Expr::col(Sites::ClientId).eq(client.id())),
    )
    .await
}

pub async fn list_contacts(db: &mut impl Db, client: ScopedClient, include_archived: bool) -> Result<Vec<Contact>> {
    let mut q = Query::select();
    q.columns(CONTACT_COLS)
        .from(Contacts::Table)
        .and_where(Expr::col(Contacts::ClientId).eq(client.id()))
        .order_by(Contacts::Name, Order::Asc);
    if !include_archived {
        q.and_where(Expr::col(Contacts::Archived).eq(false));
    }
    db.fetch_all(&q).await
}

pub async fn get_contact(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<Option<Contact>> {
    db.fetch_optional(
        Query::select()
            .columns(CONTACT_COLS)
            .from(Contacts::Table)
            .and_where(Expr::col(Contacts::Id).eq(id))
            .and_where(Expr::col(Contacts::ClientId).eq(client.id())),
    )
    .await
}

/// A client, site or contact that matches a search.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub kind: &'static str,
    pub label: String,
    pub detail: String,
    pub url: String,
}

/// The contact (and its client) with this e-mail address, not archived;
/// the oldest when several share it.
pub async fn contact_by_email(db: &mut impl Db, email: &str) -> Result<Option<(i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        client_id: i64,
    }
    let r: Option<Row> = db
        .fetch_optional(
            Query::select()
                .columns([Contacts::Id, Contacts::ClientId])
                .from(Contacts::Table)
                .and_where(Expr::expr(Func::lower(Expr::col(Contacts::Email))).eq(email.trim().to_lowercase()))
                .and_where(Expr::col(Contacts::Archived).eq(false))
                .order_by(Contacts::Id, Order::Asc)
                .limit(1),
        )
        .await?;
    Ok(r.map(|r| (r.id, r.client_id)))
}

/// A contact's e-mail address, lower-cased.
pub async fn contact_email(db: &mut impl Db, id: i64) -> Result<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        email: String,
    }
    let r: Option<Row> =
        db.fetch_optional(Query::select().column(Contacts::Email).from(Contacts::Table).and_where(Expr::col(Contacts::Id).eq(id))).await?;
    Ok(r.map(|r| r.email.trim().to_lowercase()).filter(|e| !e.is_empty()))
}

/// Searches clients, sites and contacts by name (and contacts by email),
/// within the caller's client scope.
pub async fn search(db: &mut impl Db, scope: Option<&[i64]>, text: &str, limit: u64) -> Result<Vec<Found>> {
    let pat = like_pattern(text.trim());
    let mut hits = Vec::new();
    let (clients, _) = list_clients(
        db,
        &ClientQuery { scope: scope.map(<[i64]>::to_vec), include_archived: false, search: Some(text.to_string()) },
        limit,
        0,
    )
    .await?;
    hits.extend(clients.into_iter().map(|c| Found {
        kind: "client",
        url: format!("/clients/{}", c.id),
        label: c.name,
        detail: String::new(),
    }));

    let mut q = Query::select();
    q.columns(SITE_COLS.map(|c| (Sites::Table, c)))
        .from(Sites::Table)
        .and_where(Expr::col((Sites::Table, Sites::Archived)).eq(false))
        .and_where(Expr::expr(Func::lower(Expr::col((Sites::Table, Sites::Name)))).like(pat.clone()))
        .limit(limit);
    if let Some(ids) = scope {
        q.and_where(Expr::col((Sites::Table, Sites::ClientId)).is_in(ids.to_vec()));
    }
    let sites: Vec<Site> = db.fetch_all(&q).await?;
    hits.extend(sites.into_iter().map(|s| Found {
        kind: "site",
        url: format!("/clients/{}#site-{}", s.client_id, s.id),
        label: s.name,
        detail: s.timezone,
    }));

    let mut q = Query::select();
    q.columns(CONTACT_COLS)
        .from(Contacts::Table)
        .and_where(Expr::col(Contacts::Archived).eq(false))
        .cond_where(
            Cond::any().add(Expr::expr(Func::lower(Expr::col(Contacts::Name))).like(pat.clone())).add(Expr::col(Contacts::Email).like(pat)),
        )
        .limit(limit);
    if let Some(ids) = scope {
        q.and_where(Expr::col(Contacts::ClientId).is_in(ids.to_vec()));
    }
    let contacts: Vec<Contact> = db.fetch_all(&q).await?;
    hits.extend(contacts.into_iter().map(|c| Found {
        kind: "contact",
        url: format!("/clients/{}#contact-{}", c.client_id, c.id),
        label: c.name,
        detail: c.email,
    }));
    Ok(hits)
}
