//! `/api/v1/audit` (the log, newest first) and `/api/v1/audit/verify`.

use super::{chain::Entry, store::Filter};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{json, ApiResult, ErrorEnvelope};
use crate::http::extract::ApiQuery;
use crate::http::list::{PageParams, Paged};
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// Filters for the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Action prefix, e.g. `auth.` or `client.create`.
    pub action: Option<String>,
    /// Only entries by this user.
    pub user_id: Option<i64>,
    /// Only entries about this client.
    pub client_id: Option<i64>,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

/// One audit entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub source_ip: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub client_id: Option<i64>,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<Entry> for AuditEntry {
    fn from(e: Entry) -> Self {
        AuditEntry {
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::String(e.details.clone())),
            at: crate::time::rfc3339(e.at),
            seq: e.seq,
            actor_user_id: e.actor_user_id,
            actor: e.actor,
            source_ip: e.source_ip,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            client_id: e.client_id,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// The filter a principal may use: a client-limited caller sees only
/// entries about their clients.
pub fn filter_for(p: &Principal, action: Option<String>, user_id: Option<i64>, client_id: Option<i64>) -> Filter {
    let clients = match (&p.clients, client_id) {
        (Some(scope), Some(c)) => Some(scope.iter().copied().filter(|s| *s == c).collect()),
        (Some(scope), None) => Some(scope.clone()),
        (None, Some(c)) => Some(vec![c]),
        (None, None) => None,
    };
    Filter { action_prefix: action.filter(|a| !a.is_empty()), actor_user_id: user_id, clients }
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Paged<AuditEntry>), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(app): State<App>, p: Principal, ApiQuery(q): ApiQuery<AuditQuery>) -> ApiResult {
    p.require(Permission::AuditRead)?;
    let page = PageParams { limit: q.limit, offset: q.offset };
    let f = filter_for(&p, q.action, q.user_id, q.client_id);
    let (rows, total) = super::store::list(&mut app.store.snapshot().await?, &f, page.limit(), page.offset()).await?;
    Ok(json(Paged::new(rows.into_iter().map(AuditEntry::from).collect(), total, &page)))
}

/// Result of walking the chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    pub ok: bool,
    pub entries_verified: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first bad entry, when not ok.
    pub error: Option<String>,
    pub first_bad_seq: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyResult), (status = 403, body = ErrorEnvelope)))]
pub async fn verify(State(app): State<App>, p: Principal) -> ApiResult {
    p.require(Permission::AuditRead)?;
    let (head_seq, head_hash) = super::store::head(&app.store).await?;
    let r = super::store::verify(&app.store).await?;
    Ok(json(match r {
        Ok(n) => VerifyResult { ok: true, entries_verified: n, head_seq, head_hash, error: None, first_bad_seq: None },
        Err(e) => VerifyResult {
            ok: false,
            entries_verified: e.seq() - 1,
            head_seq,
            head_hash,
            first_bad_seq: Some(e.seq()),
            error: Some(e.to_string()),
        },
    }))
}
