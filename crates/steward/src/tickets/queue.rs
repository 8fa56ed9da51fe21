//! The queue's filters as a request writes them (`?status=waiting,open&
//! assignee=me&priority=P1&sla_state=warning&q=printer&sort=due`), checked
//! and turned into the store's [`Queue`], scoped to the caller's clients.
//! The API and the queue page share it.

use super::model::Kind;
use super::store::config::priority_by_code;
use super::store::{Assignee, Queue, Sort};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::sla::model::ClockState;
use crate::store::Db;
use serde::Deserialize;

/// Filters, sorting and the page of a ticket queue.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// Only this client's tickets.
    pub client_id: Option<i64>,
    /// Status kinds, comma-separated (`new,open,waiting,scheduled,resolved,
    /// closed`), `active` (not resolved or closed; the default) or `all`.
    #[param(
        pattern = r"^ *(active|all|(new|open|waiting|scheduled|resolved|closed)( *, *(new|open|waiting|scheduled|resolved|closed))*)? *$"
    )]
    pub status: Option<String>,
    /// A priority code, e.g. `P1`.
    #[param(pattern = r"^ *([A-Za-z0-9]{1,8})? *$")]
    pub priority: Option<String>,
    /// `me`, `none` (unassigned) or a user id.
    #[param(pattern = r"^ *(me|none|[0-9]{1,18})? *$")]
    pub assignee: Option<String>,
    pub board_id: Option<i64>,
    /// Tickets about this device.
    pub device_id: Option<i64>,
    pub tag: Option<String>,
    /// `running`, `paused`, `warning`, `breached` or `met`.
    #[param(pattern = r"^ *(running|paused|warning|breached|met)? *$")]
    pub sla_state: Option<String>,
    /// A ticket number (`#1001`) or words of the subject.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `updated` (default), `number`, `priority` or `due`.
    #[param(pattern = r"^ *(updated|number|priority|due)? *$")]
    pub sort: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::http::list::Limit>,
    #[param(inline)]
    pub offset: Option<crate::http::list::Offset>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl QueueParams {
    /// The queue these parameters ask for, within `p`'s clients.
    pub async fn queue(&self, db: &mut impl Db, p: &Principal) -> Result<Queue, ApiError> {
        let mut q = Queue { scope: p.clients.clone(), hide_merged: true, ..Default::default() };
        if let Some(c) = self.client_id {
            // A client outside the caller's set is as empty as one that does
            // not exist: the scope filter returns nothing for it either way.
            q.client_id = Some(c);
        }
        q.kinds = match blank(&self.status) {
            None | Some("active") => Kind::active(),
            Some("all") => vec![],
            Some(list) => list
                .split(',')
                .map(|k| {
                    Kind::parse(k.trim()).ok_or_else(|| {
                        ApiError::invalid(
                            "status",
                            format!("{:?} is not a status kind (new, open, waiting, scheduled, resolved, closed, active, all)", k.trim()),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if let Some(code) = blank(&self.priority) {
            q.priority_id = Some(
                priority_by_code(db, &code.to_uppercase())
                    .await?
                    .map(|p| p.id)
                    .ok_or_else(|| ApiError::refused("priority", format!("{code:?} is not a priority code")))?,
            );
        }
        q.assignee = match blank(&self.assignee) {
            None => None,
            Some("me") => Some(Assignee::User(p.user.id)),
            Some("none") => Some(Assignee::Nobody),
            Some(id) => Some(Assignee::User(id.parse().map_err(|_| ApiError::invalid("assignee", "must be me, none or a user id"))?)),
        };
        q.board_id = self.board_id;
        q.device_id = self.device_id;
        q.tag = blank(&self.tag).map(str::to_lowercase);
        if let Some(s) = blank(&self.sla_state) {
            q.sla_state = Some(
                ClockState::parse(s).ok_or_else(|| ApiError::invalid("sla_state", "must be running, paused, warning, breached or met"))?,
            );
        }
        if let Some(t) = blank(&self.q) {
            if t.chars().count() > 200 {
                return Err(ApiError::invalid("q", "must be at most 200 characters"));
            }
            q.text = Some(t.to_string());
        }
        q.sort = match blank(&self.sort) {
            None => Sort::default(),
            Some(s) => Sort::parse(s).ok_or_else(|| ApiError::invalid("sort", "must be updated, number, priority or due"))?,
        };
        Ok(q)
    }

    pub fn page(&self) -> crate::http::list::PageParams {
        crate::http::list::PageParams { limit: self.limit, offset: self.offset }
    }
}
