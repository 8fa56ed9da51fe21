//! The service desk's pages: the queue (`/tickets`: filters, sort, bulk
//! actions, live refresh over `/tickets/events`, keyboard), one ticket
//! (`/clients/{id}/tickets/{ticket_id}`: the thread, the reply and note
//! forms, status/priority/assignee, SLA clocks, the devices with their
//! state and latest metrics, the client's other open tickets), `/t/{n}`
//! (a number, also a merged one, to its ticket), and the panels it adds
//! to the client, device and home pages.

pub mod live;
pub mod panels;
pub mod queue;
pub mod ticket;

use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::store::Db;

/// A user a ticket may be assigned to, for the pages' choices.
pub struct Assignable {
    pub id: i64,
    pub name: String,
}

/// Staff who may work tickets (enabled, with `tickets:write`), by name;
/// for a client, only those allowed on it.
pub async fn assignable(db: &mut impl Db, client_id: Option<i64>) -> Result<Vec<Assignable>, ApiError> {
    Ok(crate::users::store::with_permission(db, Permission::TicketsWrite, client_id)
        .await?
        .into_iter()
        .map(|(id, name)| Assignable { id, name })
        .collect())
}

/// A form's optional id: empty is none.
pub fn opt_id(field: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| ApiError::invalid(field, "must be a number")),
    }
}

/// The value of `key` among a form's pairs.
pub fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}
