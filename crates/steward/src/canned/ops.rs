//! Audited changes to canned responses and rendering one for a ticket.
//! Shared ones (everyone's) are managed by service-desk administrators,
//! personal ones by their owner alone; a response tied to a client is for
//! that client's tickets and seen only by users who see that client.

use super::model::{render as fill, Values};
use super::store::{self, CannedRow, NewCanned};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::time::{now_us, Timestamp};
use crate::validate::{Long, Name};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A new canned response.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCannedInput {
    #[schema(value_type = crate::validate::Name)]
    pub name: String,
    /// Plain text with placeholders: `{{contact.first_name}}`,
    /// `{{contact.name}}`, `{{ticket.number}}`, `{{ticket.subject}}`,
    /// `{{client.name}}`, `{{technician.first_name}}`, `{{technician.name}}`.
    #[schema(value_type = crate::validate::shapes::Body<20_000>)]
    pub body: String,
    /// Only for this client's tickets (default: every client's).
    pub client_id: Option<i64>,
    /// Yours alone (default: shared, which needs `service_desk:admin`).
    #[serde(default)]
    pub personal: bool,
}

/// Changes; absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedPatch {
    #[schema(value_type = Option<crate::validate::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::shapes::Body<20_000>>)]
    pub body: Option<String>,
}

/// A canned response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Canned {
    pub id: i64,
    pub name: String,
    pub body: String,
    /// `null`: for every client.
    pub client_id: Option<i64>,
    /// Whose own it is; `null`: shared.
    pub owner_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<CannedRow> for Canned {
    fn from(r: CannedRow) -> Self {
        Canned {
            id: r.id,
            name: r.name,
            body: r.body,
            client_id: r.client_id,
            owner_id: r.owner_id,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

/// A canned response filled in for one ticket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rendered {
    pub canned_id: i64,
    /// Plain text; unknown or unfilled placeholders stay as written.
    pub text: String,
}

fn name(v: &str) -> Result<String, ApiError> {
    Name::parse(v).map(|n| n.as_str().to_string()).map_err(|m| ApiError::invalid("name", m))
}

fn body(v: &str) -> Result<String, ApiError> {
    let b = Long::parse(v).map_err(|m| ApiError::invalid("body", m))?;
    if b.as_str().trim().is_empty() {
        // Nothing at all breaks the schema; only spaces is refused.
        let e = if v.is_empty() { ApiError::invalid } else { ApiError::refused };
        return Err(e("body", "must not be empty"));
    }
    Ok(b.into_string())
}

/// Whether `p` may change `c`: their own, or a shared one as an administrator.
fn may_manage(p: &Principal, owner: Option<i64>) -> Result<(), ApiError> {
    p.require(Permission::TicketsWrite)?;
    match owner {
        Some(o) if o == p.user.id => Ok(()),
        Some(_) => Err(ApiError::NotFound),
        None => p.require(Permission::ServiceDeskAdmin),
    }
}

pub async fn create(app: &App, p: &Principal, input: NewCannedInput) -> Result<Canned, ApiError> {
    let (name, body) = (name(&input.name)?, body(&input.body)?);
    let owner = input.personal.then_some(p.user.id);
    may_manage(p, owner)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    if let Some(c) = input.client_id {
        let scoped = p.client(c).map_err(|_| ApiError::refused("client_id", "is not a client you may see"))?;
        crate::tenancy::store::get_client(db, scoped).await?.ok_or_else(|| ApiError::refused("client_id", "is not a client"))?;
    }
    let id = store::insert(db, NewCanned { name: &name, body: &body, client_id: input.client_id, owner_id: owner, at: now_us() }).await?;
    let c: Canned = store::get(db, p, id).await?.ok_or(ApiError::NotFound)?.into();
    let mut event = Event::new("canned.create", "canned_response", id).details(json!({"name": c.name, "personal": input.personal}));
    if let Some(client) = c.client_id {
        event = event.client(client);
    }
    tx.commit(&p.actor(), event).await?;
    Ok(c)
}

pub async fn update(app: &App, p: &Principal, id: i64, patch: CannedPatch) -> Result<Canned, ApiError> {
    p.require(Permission::TicketsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let before: Canned = store::get(db, p, id).await?.ok_or(ApiError::NotFound)?.into();
    may_manage(p, before.owner_id)?;
    let n = patch.name.as_deref().map(name).transpose()?.unwrap_or_else(|| before.name.clone());
    let b = patch.body.as_deref().map(body).transpose()?.unwrap_or_else(|| before.body.clone());
    store::update(db, id, &n, &b, now_us()).await?;
    let after: Canned = store::get(db, p, id).await?.ok_or(ApiError::NotFound)?.into();
    let mut event = Event::new("canned.update", "canned_response", id);
    if let Some(client) = after.client_id {
        event = event.client(client);
    }
    tx.commit_change(&p.actor(), event, &before, &after).await?;
    Ok(after)
}

pub async fn delete(app: &App, p: &Principal, id: i64) -> Result<(), ApiError> {
    p.require(Permission::TicketsWrite)?;
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let c = store::get(db, p, id).await?.ok_or(ApiError::NotFound)?;
    may_manage(p, c.owner_id)?;
    store::delete(db, id).await?;
    let mut event = Event::new("canned.delete", "canned_response", id).details(json!({"name": c.name}));
    if let Some(client) = c.client_id {
        event = event.client(client);
    }
    tx.commit(&p.actor(), event).await?;
    Ok(())
}

/// The canned response filled in for a ticket of a client `p` sees.
pub async fn render(app: &App, p: &Principal, client_id: i64, ticket_id: i64, canned_id: i64) -> Result<Rendered, ApiError> {
    p.require(Permission::TicketsRead)?;
    let client = p.client(client_id)?;
    let mut db = app.store.snapshot().await?;
    let t = crate::tickets::store::get(&mut db, client, ticket_id).await?.ok_or(ApiError::NotFound)?;
    let c = store::get(&mut db, p, canned_id).await?.ok_or(ApiError::NotFound)?;
    if c.client_id.is_some_and(|only| only != t.client_id) {
        return Err(ApiError::refused("canned_id", "is for another client's tickets"));
    }
    let contact = match t.contact_id {
        Some(id) => crate::tenancy::store::get_contact(&mut db, client, id).await?.map(|c| c.name),
        None => None,
    };
    let values = Values {
        contact_name: contact.filter(|n| !n.trim().is_empty()),
        ticket_number: Some(crate::tickets::model::display_number(t.number)),
        ticket_subject: Some(t.subject),
        client_name: crate::tenancy::store::get_client(&mut db, client).await?.map(|c| c.name),
        technician_name: Some(p.user.name.clone()).filter(|n| !n.trim().is_empty()),
    };
    Ok(Rendered { canned_id, text: fill(&c.body, &values) })
}
