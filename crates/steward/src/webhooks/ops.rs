//! Webhooks as administrators set them up (`POST /api/v1/webhooks` with a
//! name, URL, secret and the events to send), and how a change queues its
//! deliveries in its own transaction. Every change is audited; the secret
//! is sealed with the master key and never shown again.

use super::model;
use super::store::{self, DeliveryRow, WebhookRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, rfc3339};
use crate::validate::Name;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The events a webhook can be sent.
pub const EVENTS: [&str; 5] = ["alert.open", "alert.update", "alert.resolve", "alert.acknowledge", "alert.snooze"];

/// A webhook to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[schema(value_type = Name)]
    pub name: String,
    /// Where to POST; refused at send time if it resolves to a loopback,
    /// private, link-local or multicast address (unless allowed by
    /// `--webhook-allow-private`); plain `http` only to such an allowed
    /// range.
    pub url: String,
    /// Keys the `X-Steward-Signature` HMAC; 16–200 characters.
    #[schema(min_length = 16, max_length = 200)]
    pub secret: String,
    /// Any of `alert.open`, `alert.update`, `alert.resolve`,
    /// `alert.acknowledge`, `alert.snooze`.
    pub events: Vec<String>,
    /// Only these clients' alerts (absent or `[]`: every client's).
    #[serde(default)]
    pub client_ids: Vec<i64>,
    /// Only alerts of checks from these monitoring policies (absent or
    /// `[]`: every policy's).
    #[serde(default)]
    pub policy_ids: Vec<i64>,
    /// `warning` (default: every alert) or `critical` (critical ones only).
    #[serde(default)]
    pub min_severity: Option<String>,
}

/// A webhook as shown (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub client_ids: Vec<i64>,
    pub policy_ids: Vec<i64>,
    pub min_severity: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            id: r.id,
            name: r.name,
            url: r.url,
            events: serde_json::from_str(&r.events).unwrap_or_default(),
            client_ids: serde_json::from_str(&r.client_ids).unwrap_or_default(),
            policy_ids: serde_json::from_str(&r.policy_ids).unwrap_or_default(),
            min_severity: r.min_severity,
            created_at: rfc3339(r.created_at),
        }
    }
}

/// One delivery, as its webhook's log shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    /// `pending`, `delivered`, `failed`, `held` (a storm: waiting for the
    /// digest) or `digested` (sent within an `alert.digest`).
    pub state: String,
    pub attempts: i64,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    pub last_error: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub delivered_at: Option<String>,
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            next_attempt_at: (r.state == "pending").then(|| rfc3339(r.next_attempt_at)),
            id: r.id,
            event: r.event,
            state: r.state,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: rfc3339(r.created_at),
            delivered_at: r.delivered_at.map(rfc3339),
        }
    }
}

/// The sealed secret's context: one webhook's.
pub fn secret_context(id: i64) -> String {
    format!("webhooks.secret:{id}")
}

pub async fn list(app: &App, p: &Principal) -> Result<Vec<Webhook>, ApiError> {
    p.require(Permission::SettingsWrite)?;
    Ok(store::active(&mut app.store.clone()).await?.into_iter().map(Webhook::from).collect())
}

pub async fn create(app: &App, p: &Principal, r: NewWebhook) -> Result<Webhook, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let name = Name::parse(&r.name).map_err(|m| ApiError::invalid("name", m))?;
    let url = model::check_url(&r.url).map_err(|m| ApiError::refused("url", m))?;
    let secret_len = r.secret.chars().count();
    if !(16..=200).contains(&secret_len) {
        return Err(ApiError::refused("secret", "16 to 200 characters"));
    }
    if r.events.is_empty() {
        return Err(ApiError::refused("events", format!("name at least one of {}", EVENTS.join(", "))));
    }
    if let Some(bad) = r.events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(ApiError::refused("events", format!("{bad:?} is not an event ({})", EVENTS.join(", "))));
    }
    let mut events = r.events.clone();
    events.sort();
    events.dedup();
    let events_json = serde_json::to_string(&events).map_err(ApiError::internal)?;
    let min_severity = r.min_severity.as_deref().unwrap_or("warning");
    if !matches!(min_severity, "warning" | "critical") {
        return Err(ApiError::refused("min_severity", "warning or critical"));
    }
    let (mut clients, mut policies) = (r.client_ids.clone(), r.policy_ids.clone());
    clients.sort();
    clients.dedup();
    policies.sort();
    policies.dedup();
    if clients.len() > 500 || policies.len() > 100 {
        return Err(ApiError::refused("client_ids", "at most 500 clients and 100 policies"));
    }
    let mut tx = app.store.begin_audited().await?;
    for c in &clients {
        if !crate::tenancy::store::client_exists(tx.tx(), *c).await? {
            return Err(ApiError::refused("client_ids", format!("{c} is not a client")));
        }
    }
    let known = crate::monitoring::policies::store::existing(tx.tx(), &policies).await?;
    if let Some(missing) = policies.iter().find(|p| !known.contains(p)) {
        return Err(ApiError::refused("policy_ids", format!("{missing} is not a monitoring policy")));
    }
    let id = store::insert(tx.tx(), name.as_str(), url.as_str(), &events_json, p.user.id, now_us()).await?;
    let (clients_json, policies_json) = (json!(clients).to_string(), json!(policies).to_string());
    store::set_routes(tx.tx(), id, &clients_json, &policies_json, min_severity).await?;
    store::set_secret(tx.tx(), id, &app.master.seal(&secret_context(id), r.secret.as_bytes())).await?;
    let row = store::get(tx.tx(), id).await?.ok_or_else(|| ApiError::internal("webhook vanished"))?;
    let details = json!({"name": row.name, "url": row.url, "events": events, "client_ids": clients, "policy_ids": policies, "min_severity": min_severity});
    tx.commit(&p.actor(), Event::new("webhook.create", "webhook", id).details(details)).await?;
    Ok(row.into())
}

pub async fn delete(app: &App, p: &Principal, id: i64) -> Result<(), ApiError> {
    p.require(Permission::SettingsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let w = store::get(tx.tx(), id).await?.ok_or(ApiError::NotFound)?;
    store::delete(tx.tx(), id, now_us()).await?;
    tx.commit(&p.actor(), Event::new("webhook.delete", "webhook", id).details(json!({"name": w.name}))).await?;
    Ok(())
}

pub async fn deliveries(app: &App, p: &Principal, id: i64) -> Result<Vec<Delivery>, ApiError> {
    p.require(Permission::SettingsWrite)?;
    let mut db = app.store.clone();
    store::get(&mut db, id).await?.ok_or(ApiError::NotFound)?;
    Ok(store::deliveries(&mut db, id, 200).await?.into_iter().map(Delivery::from).collect())
}

fn route_of(h: &WebhookRow) -> model::Route {
    model::Route {
        events: serde_json::from_str(&h.events).unwrap_or_default(),
        client_ids: serde_json::from_str(&h.client_ids).unwrap_or_default(),
        policy_ids: serde_json::from_str(&h.policy_ids).unwrap_or_default(),
        critical_only: h.min_severity == "critical",
    }
}

/// Queues `event` with `payload` for every webhook that takes it, inside
/// the caller's transaction (so the delivery exists exactly when the
/// change does).
///
/// A storm (a site's link down: hundreds of alerts in minutes) is not
/// hundreds of calls: past `storm_limit` events sent to a webhook in the
/// last 5 minutes, the rest are held, and the delivery job sends them as
/// one `alert.digest` ([`digest`]).
pub async fn enqueue(db: &mut impl Db, event: &str, payload: &serde_json::Value, storm_limit: u64) -> crate::store::Result<()> {
    let hooks = store::active(db).await?;
    let now = now_us();
    let body = json!({"event": event, "at": rfc3339(now), "data": payload}).to_string();
    for h in hooks.iter().filter(|h| model::takes(&route_of(h), event, payload)) {
        let sent = store::sent_since(db, h.id, now - model::STORM_WINDOW_US).await?;
        let state = if model::in_storm(sent, storm_limit) { "held" } else { "pending" };
        store::enqueue(db, h.id, event, &body, state, now).await?;
    }
    Ok(())
}

/// Sends each webhook's held events as one `alert.digest` once the oldest
/// has waited `after_us`: the events, oldest first, in one body.
pub async fn digest(db: &mut impl Db, now: i64, after_us: i64) -> crate::store::Result<usize> {
    let mut made = 0;
    for webhook in store::held_webhooks(db, now - after_us).await? {
        let held = store::held(db, webhook, model::DIGEST_MAX).await?;
        if held.is_empty() {
            continue;
        }
        let events: Vec<serde_json::Value> = held.iter().map(|d| serde_json::from_str(&d.payload).unwrap_or_default()).collect();
        let body = json!({"event": "alert.digest", "at": rfc3339(now), "data": {"count": events.len(), "events": events}}).to_string();
        store::enqueue(db, webhook, "alert.digest", &body, "pending", now).await?;
        store::mark_digested(db, &held.iter().map(|d| d.id).collect::<Vec<_>>()).await?;
        made += 1;
    }
    Ok(made)
}
