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
}

/// A webhook as shown (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
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
            created_at: rfc3339(r.created_at),
        }
    }
}

/// One delivery, as its webhook's log shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    /// `pending`, `delivered` or `failed`.
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
    let mut tx = app.store.begin_audited().await?;
    let id = store::insert(tx.tx(), name.as_str(), url.as_str(), &events_json, p.user.id, now_us()).await?;
    store::set_secret(tx.tx(), id, &app.master.seal(&secret_context(id), r.secret.as_bytes())).await?;
    let row = store::get(tx.tx(), id).await?.ok_or_else(|| ApiError::internal("webhook vanished"))?;
    tx.commit(&p.actor(), Event::new("webhook.create", "webhook", id).details(json!({"name": row.name, "url": row.url, "events": events})))
        .await?;
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

/// Queues `event` with `payload` for every webhook that takes it, inside
/// the caller's transaction (so the delivery exists exactly when the
/// change does).
pub async fn enqueue(db: &mut impl Db, event: &str, payload: &serde_json::Value) -> crate::store::Result<()> {
    let hooks = store::active(db).await?;
    let body = json!({"event": event, "at": rfc3339(now_us()), "data": payload}).to_string();
    for h in hooks {
        let wanted: Vec<String> = serde_json::from_str(&h.events).unwrap_or_default();
        if wanted.iter().any(|e| e == event) {
            store::enqueue(db, h.id, event, &body, now_us()).await?;
        }
    }
    Ok(())
}
