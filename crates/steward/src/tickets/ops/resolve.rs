//! Turning what a request names (a status, a priority, a type, a user, a
//! site, a contact, devices) into records of the ticket's client, each with
//! a clear 422 naming the field when it is not one.

use crate::auth::principal::ScopedClient;
use crate::auth::roles::{Permission, Role};
use crate::error::ApiError;
use crate::store::Db;
use crate::tickets::model::{Kind, TicketType};
use crate::tickets::store::config::{self, Board, Priority, Status};
use crate::time::now_us;

/// A status by name (any case) or by kind (the first status of it).
pub async fn status(db: &mut impl Db, field: &str, s: &str) -> Result<Status, ApiError> {
    let all = config::statuses(db).await?;
    let t = s.trim();
    if let Some(st) = all.iter().find(|st| !st.archived && st.name.eq_ignore_ascii_case(t)) {
        return Ok(st.clone());
    }
    if let Some(k) = Kind::parse(&t.to_lowercase()) {
        if let Some(st) = all.iter().find(|st| !st.archived && st.kind == k.as_str()) {
            return Ok(st.clone());
        }
    }
    let names: Vec<&str> = all.iter().filter(|s| !s.archived).map(|s| s.name.as_str()).collect();
    Err(ApiError::refused(field, format!("{t:?} is not a status; use one of {}", names.join(", "))))
}

/// The first status of a kind; a missing one is a configuration fault.
pub async fn status_of_kind(db: &mut impl Db, kind: Kind) -> Result<Status, ApiError> {
    config::first_of_kind(db, kind.as_str())
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("no status of kind {} is in use", kind.as_str())))
}

/// A priority by code (`P2`, any case) or name.
pub async fn priority(db: &mut impl Db, s: &str) -> Result<Priority, ApiError> {
    let all = config::priorities(db).await?;
    let t = s.trim();
    all.iter().find(|p| !p.archived && (p.code.eq_ignore_ascii_case(t) || p.name.eq_ignore_ascii_case(t))).cloned().ok_or_else(|| {
        let codes: Vec<&str> = all.iter().filter(|p| !p.archived).map(|p| p.code.as_str()).collect();
        ApiError::refused("priority", format!("{t:?} is not a priority; use one of {}", codes.join(", ")))
    })
}

/// The priority a ticket gets when none is named: the middle one (P3 of
/// P1–P4).
pub async fn default_priority(db: &mut impl Db) -> Result<Priority, ApiError> {
    let all: Vec<Priority> = config::priorities(db).await?.into_iter().filter(|p| !p.archived).collect();
    all.get(all.len() / 2).cloned().ok_or_else(|| ApiError::Conflict("no priority is in use".into()))
}

pub fn ticket_type(s: &str) -> Result<TicketType, ApiError> {
    TicketType::parse(s.trim()).ok_or_else(|| ApiError::invalid("type", "must be incident, service_request, problem or change"))
}

pub async fn board(db: &mut impl Db, id: Option<i64>) -> Result<Board, ApiError> {
    match id {
        Some(id) => match config::board(db, id).await? {
            Some(b) if !b.archived => Ok(b),
            _ => Err(ApiError::refused("board_id", "is not a board in use")),
        },
        None => config::default_board(db).await?.ok_or_else(|| ApiError::Conflict("no board is in use".into())),
    }
}

/// A user who may work this client's tickets: enabled, staff with
/// `tickets:write`, and not limited to other clients.
pub async fn assignee(db: &mut impl Db, client_id: i64, user_id: i64) -> Result<i64, ApiError> {
    let refused = || ApiError::refused("assignee_id", "is not a user who may work this client's tickets");
    let u = crate::users::store::by_id(db, user_id).await?.ok_or_else(refused)?;
    let role = Role::parse(&u.role).ok_or_else(refused)?;
    if u.disabled || !role.permissions().has(Permission::TicketsWrite) {
        return Err(refused());
    }
    if u.clients_limited && !crate::users::store::client_ids(db, user_id).await?.contains(&client_id) {
        return Err(refused());
    }
    Ok(user_id)
}

pub async fn site(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<i64, ApiError> {
    crate::tenancy::store::get_site(db, client, id)
        .await?
        .map(|s| s.id)
        .ok_or_else(|| ApiError::refused("site_id", "is not a site of this client"))
}

pub async fn contact(db: &mut impl Db, client: ScopedClient, id: i64) -> Result<i64, ApiError> {
    crate::tenancy::store::get_contact(db, client, id)
        .await?
        .map(|c| c.id)
        .ok_or_else(|| ApiError::refused("contact_id", "is not a contact of this client"))
}

/// Devices of this client (not revoked), each once, at most 100.
pub async fn devices(db: &mut impl Db, client: ScopedClient, ids: &[i64]) -> Result<Vec<i64>, ApiError> {
    // Counted as sent, as the schema states, before repeats are dropped.
    if ids.len() > 100 {
        return Err(ApiError::invalid("device_ids", "at most 100 devices"));
    }
    let mut out: Vec<i64> = ids.to_vec();
    out.sort();
    out.dedup();
    for id in &out {
        match crate::devices::store::by_id(db, *id).await? {
            Some(d) if d.client_id == client.id() && d.revoked_at.is_none() => {}
            _ => return Err(ApiError::refused("device_ids", format!("{id} is not a device of this client"))),
        }
    }
    Ok(out)
}

/// An imported instant: allowed only with `tickets:import`, and not in the
/// future (five minutes of clock skew forgiven).
pub fn imported(p: &crate::auth::principal::Principal, field: &str, at: Option<crate::time::Timestamp>) -> Result<Option<i64>, ApiError> {
    let Some(at) = at else { return Ok(None) };
    if !p.can(Permission::TicketsImport) {
        return Err(ApiError::Forbidden(format!("{field} is for imports from another PSA and needs the tickets:import permission")));
    }
    if at.micros() > now_us() + 300_000_000 {
        return Err(ApiError::refused(field, "is in the future"));
    }
    Ok(Some(at.micros()))
}
