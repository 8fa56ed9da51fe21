//! Relationships between documented things of one client ("this
//! application runs on that server", "this Wi-Fi is served by that access
//! point"): kept once, shown from both ends. Ends are assets, devices,
//! contacts, vault entries (never their secrets) and articles (the
//! client's or global ones); both must be live and the client's.

use super::store::{self, RelationRow};
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;
use crate::time::{now_us, Timestamp};
use crate::validate::Short;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The kinds a relationship may join.
pub const KINDS: [&str; 5] = ["asset", "device", "contact", "vault", "article"];

/// One end of a relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct End {
    #[schema(value_type = String, example = "asset")]
    /// `asset`, `device`, `contact`, `vault` or `article`.
    pub kind: String,
    pub id: i64,
}

/// A new relationship, read "`from` `label` `to`" (e.g. "runs on").
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelation {
    pub from: End,
    pub to: End,
    #[serde(default)]
    #[schema(value_type = crate::validate::Short)]
    pub label: String,
}

/// A relationship, with both ends named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Relation {
    pub id: i64,
    pub client_id: i64,
    pub from: End,
    pub from_label: Option<String>,
    pub to: End,
    pub to_label: Option<String>,
    pub label: String,
    pub created_at: Timestamp,
}

/// What to list the relationships of: one record (`kind` and `id`), or
/// with neither every relationship of the client.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RelationsOf {
    /// `asset`, `device`, `contact`, `vault` or `article`.
    #[param(max_length = 10)]
    pub kind: Option<String>,
    pub id: Option<i64>,
}

fn kind(field: &str, k: &str) -> Result<&'static str, ApiError> {
    KINDS.into_iter().find(|x| *x == k).ok_or_else(|| ApiError::refused(field, format!("must be one of {}", KINDS.join(", "))))
}

async fn answer(db: &mut impl Db, r: RelationRow) -> Result<Relation, ApiError> {
    Ok(Relation {
        from_label: store::label_of(db, &r.from_kind, r.from_id, r.client_id).await?,
        to_label: store::label_of(db, &r.to_kind, r.to_id, r.client_id).await?,
        id: r.id,
        client_id: r.client_id,
        from: End { kind: r.from_kind, id: r.from_id },
        to: End { kind: r.to_kind, id: r.to_id },
        label: r.label,
        created_at: Timestamp(r.created_at),
    })
}

fn scoped(p: &Principal, client: i64, change: bool) -> Result<ScopedClient, ApiError> {
    p.require(if change { Permission::DocsWrite } else { Permission::DocsRead })?;
    p.client(client)
}

/// Every relationship of one record, from either end.
pub async fn of(app: &App, p: &Principal, client: i64, what: &RelationsOf) -> Result<Vec<Relation>, ApiError> {
    let client = scoped(p, client, false)?;
    let mut db = app.store.snapshot().await?;
    crate::tenancy::store::get_client(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    let rows = match (&what.kind, what.id) {
        (Some(k), Some(id)) => store::relations_of(&mut db, client, kind("kind", k)?, id).await?,
        (None, None) => store::relations_of_client(&mut db, client, 1_000).await?,
        _ => return Err(ApiError::refused("kind", "give both kind and id, or neither")),
    };
    let mut out = vec![];
    for r in rows {
        out.push(answer(&mut db, r).await?);
    }
    Ok(out)
}

pub async fn create(app: &App, p: &Principal, client: i64, input: NewRelation) -> Result<Relation, ApiError> {
    let client = scoped(p, client, true)?;
    let (from, to) = (kind("from.kind", &input.from.kind)?, kind("to.kind", &input.to.kind)?);
    let label = Short::parse(&input.label).map_err(|m| ApiError::invalid("label", m))?.into_string();
    if label.contains(['\n', '\r', '\t']) || label.chars().count() > 100 {
        return Err(ApiError::refused("label", "one line of at most 100 characters"));
    }
    if input.from == input.to {
        return Err(ApiError::refused("to", "a record cannot be related to itself"));
    }
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    for (field, k, id) in [("from.id", from, input.from.id), ("to.id", to, input.to.id)] {
        if !store::belongs(db, k, id, client.id()).await? {
            return Err(ApiError::refused(field, format!("this client has no {k} {id}")));
        }
    }
    // The same pair the other way round is the same relationship.
    let back = store::relations_of(db, client, from, input.from.id).await?;
    if back.iter().any(|r| r.from_kind == to && r.from_id == input.to.id && r.to_kind == from && r.to_id == input.from.id) {
        return Err(ApiError::Conflict("these two are related already".into()));
    }
    let id = store::relate(db, client, (from, input.from.id), (to, input.to.id), &label, Some(p.user.id), now)
        .await?
        .ok_or_else(|| ApiError::Conflict("these two are related already".into()))?;
    let r = store::relation(db, client, id).await?.ok_or(ApiError::NotFound)?;
    let rel = answer(db, r).await?;
    let details = json!({"from": rel.from, "to": rel.to, "label": rel.label});
    tx.commit(&p.actor(), Event::new("relation.create", "relation", id).client(client.id()).details(details)).await?;
    Ok(rel)
}

pub async fn delete(app: &App, p: &Principal, client: i64, id: i64) -> Result<(), ApiError> {
    let client = scoped(p, client, true)?;
    let mut tx = app.store.begin_audited().await?;
    let r = store::relation(tx.tx(), client, id).await?.ok_or(ApiError::NotFound)?;
    store::unrelate(tx.tx(), id).await?;
    let details = json!({"from": {"kind": r.from_kind, "id": r.from_id}, "to": {"kind": r.to_kind, "id": r.to_id}, "label": r.label});
    tx.commit(&p.actor(), Event::new("relation.delete", "relation", id).client(client.id()).details(details)).await?;
    Ok(())
}
