//! The queue page: the caller's own tickets, a board's, everyone's, or
//! any filter (the same parameters as `GET /api/v1/tickets`), sorted and
//! paged; tickets selected for a bulk action; a new ticket.

use super::{assignable, field, opt_id, Assignable};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::page::html_status;
use crate::tickets::model::{display_number, sla_badge, span, Kind, TicketType};
use crate::tickets::ops::bulk::BulkInput;
use crate::tickets::ops::create::NewTicket;
use crate::tickets::queue::QueueParams;
use crate::tickets::store::config::{Board, Priority, Status};
use crate::time::now_us;
use crate::web::error::{form_error, see_other, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::{RawQuery, State};

/// One line of the queue as shown.
pub struct Line {
    pub id: i64,
    pub client_id: i64,
    pub reference: String,
    pub subject: String,
    pub client_name: String,
    pub status_name: String,
    pub status_kind: String,
    pub priority: String,
    pub assignee: String,
    pub tags: Vec<String>,
    pub sla_class: &'static str,
    pub sla_label: String,
    pub updated: String,
}

impl Line {
    /// A queue item as a line of the queue (or a panel's list).
    pub fn from_item(i: crate::tickets::view::QueueItem, now: i64) -> Line {
        let (sla_class, sla_label) = sla_badge(i.sla_state.map(|s| s.as_str()), i.sla_due_at.map(|t| t.micros()), now);
        Line {
            id: i.id,
            client_id: i.client_id,
            reference: i.reference,
            subject: i.subject,
            client_name: i.client_name,
            status_name: i.status.name,
            status_kind: i.status.kind,
            priority: i.priority,
            assignee: i.assignee.map(|a| a.name).unwrap_or_default(),
            tags: i.tags,
            sla_class,
            sla_label,
            updated: format!("{} ago", span(now - i.updated_at.micros())),
        }
    }
}

/// A link of the queue's views bar.
pub struct View {
    pub label: String,
    pub query: String,
    pub current: bool,
}

/// One of the user's saved filters, as a tab that can be removed.
pub struct Saved {
    pub id: i64,
    pub view: View,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct QueuePage {
    l: Layout,
    views: Vec<View>,
    saved: Vec<Saved>,
    lines: Vec<Line>,
    /// "10,000+" past the count's cap.
    total: String,
    prev: Option<String>,
    next: Option<String>,
    /// The query string shown (for the bulk form to come back to).
    here: String,
    f: QueueParams,
    statuses: Vec<Status>,
    priorities: Vec<Priority>,
    boards: Vec<Board>,
    users: Vec<Assignable>,
    clients: Vec<(i64, String)>,
    types: Vec<TicketType>,
    can_write: bool,
}

/// The query string without empty fields (an HTML form sends every field).
fn cleaned(raw: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).unwrap_or_default();
    serde_urlencoded::to_string(pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect::<Vec<_>>()).unwrap_or_default()
}

fn with_offset(q: &str, offset: u64) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
    pairs.retain(|(k, _)| k != "offset");
    if offset > 0 {
        pairs.push(("offset".into(), offset.to_string()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn page(app: &App, p: &Principal, raw: &str, error: Option<String>) -> PageResult {
    p.require(Permission::TicketsRead)?;
    let here = cleaned(raw);
    let f: QueueParams = serde_urlencoded::from_str(&here).map_err(|e| ApiError::BadRequest(format!("the filter is not valid: {e}")))?;
    let mut db = app.store.snapshot().await?;
    let q = f.queue(&mut db, p).await?;
    let page = f.page();
    let (rows, total) = crate::tickets::store::queue(&mut db, &q, page.limit(), page.offset()).await?;
    let items = crate::tickets::view::queue_items(&mut db, rows).await?;
    let now = now_us();
    let lines = items.into_iter().map(|i| Line::from_item(i, now)).collect();
    let boards = crate::tickets::store::config::boards(&mut db).await?;
    let mut views = vec![
        View { label: "Mine".into(), query: "assignee=me".into(), current: false },
        View { label: "Unassigned".into(), query: "assignee=none".into(), current: false },
        View { label: "Breached".into(), query: "sla_state=breached".into(), current: false },
        View { label: "Waiting".into(), query: "status=waiting".into(), current: false },
        View { label: "All open".into(), query: String::new(), current: false },
    ];
    views.extend(boards.iter().filter(|b| !b.archived).map(|b| View {
        label: b.name.clone(),
        query: format!("board_id={}", b.id),
        current: false,
    }));
    for v in &mut views {
        v.current = v.query == here;
    }
    let saved = crate::tickets::filters::store::of_user(&mut db, p.user.id)
        .await?
        .into_iter()
        .map(|f| Saved { id: f.id, view: View { current: f.query == here, label: f.name, query: f.query } })
        .collect();
    let (limit, offset) = (page.limit(), page.offset());
    let (clients, _) = crate::tenancy::store::list_clients(
        &mut db,
        &crate::tenancy::store::ClientQuery { scope: p.clients.clone(), include_archived: false, search: None },
        500,
        0,
    )
    .await?;
    Ok(html_status(
        crate::web::error::status_for(&error),
        &QueuePage {
            l: Layout::new(app, p, "Tickets", "tickets").with_error(error),
            views,
            saved,
            lines,
            total: total.to_string(),
            prev: (offset > 0).then(|| with_offset(&here, offset.saturating_sub(limit))),
            next: ((offset + limit) < total.n as u64).then(|| with_offset(&here, offset + limit)),
            here,
            f,
            statuses: crate::tickets::store::config::statuses(&mut db).await?.into_iter().filter(|s| !s.archived).collect(),
            priorities: crate::tickets::store::config::priorities(&mut db).await?.into_iter().filter(|p| !p.archived).collect(),
            boards,
            users: assignable(&mut db, None).await?,
            clients: clients.into_iter().map(|c| (c.id, c.name)).collect(),
            types: TicketType::ALL.to_vec(),
            can_write: p.can(Permission::TicketsWrite),
        },
    ))
}

pub async fn show(State(app): State<App>, p: Principal, RawQuery(q): RawQuery) -> PageResult {
    page(&app, &p, q.as_deref().unwrap_or(""), None).await
}

/// A new ticket from the queue page.
pub async fn create(State(app): State<App>, p: Principal, WebForm(f): WebForm<Vec<(String, String)>>) -> PageResult {
    let made = async {
        let client = opt_id("client_id", field(&f, "client_id"))?.ok_or_else(|| ApiError::invalid("client_id", "choose a client"))?;
        let text = |k: &str| field(&f, k).map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let input = NewTicket {
            subject: field(&f, "subject").unwrap_or("").to_string(),
            priority: text("priority"),
            ticket_type: text("type"),
            assignee_id: opt_id("assignee_id", field(&f, "assignee_id"))?,
            body: text("body"),
            ..Default::default()
        };
        crate::tickets::ops::create::create(&app, &p, client, input).await
    }
    .await;
    match made {
        Ok(t) => Ok(see_other(&format!("/clients/{}/tickets/{}", t.client_id, t.id))),
        Err(e) => page(&app, &p, "", Some(form_error(e)?)).await,
    }
}

/// The bulk form: the ticked `ticket_ids` and one action.
pub async fn bulk(State(app): State<App>, p: Principal, WebForm(f): WebForm<Vec<(String, String)>>) -> PageResult {
    let back = field(&f, "here").unwrap_or("").to_string();
    let done = async {
        let ids = f
            .iter()
            .filter(|(k, _)| k == "ticket_ids")
            .map(|(_, v)| v.parse::<i64>().map_err(|_| ApiError::invalid("ticket_ids", "must be numbers")))
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Err(ApiError::invalid("ticket_ids", "tick the tickets first"));
        }
        let text = |k: &str| field(&f, k).map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let assignee = match field(&f, "assignee_id").map(str::trim) {
            None | Some("") => None,
            Some("none") => Some(None),
            Some(v) => Some(Some(v.parse().map_err(|_| ApiError::invalid("assignee_id", "must be a user"))?)),
        };
        let merge_into = match text("merge_into") {
            Some(n) => {
                let number = crate::tickets::model::parse_number(&n)
                    .ok_or_else(|| ApiError::invalid("merge_into", "a ticket number, e.g. #1001"))?;
                let t = crate::tickets::store::by_number(&mut app.store.clone(), number).await?.filter(|t| p.sees_client(t.client_id));
                Some(t.ok_or_else(|| ApiError::refused("merge_into", format!("{} is not a ticket", display_number(number))))?.id)
            }
            None => None,
        };
        crate::tickets::ops::bulk::bulk(
            &app,
            &p,
            BulkInput { ticket_ids: ids, assignee_id: assignee, status: text("status"), priority: text("priority"), merge_into },
        )
        .await
    }
    .await;
    match done {
        Ok(_) => Ok(see_other(&format!("/tickets?{}", cleaned(&back)))),
        Err(e) => page(&app, &p, &back, Some(form_error(e)?)).await,
    }
}

/// "Save this filter": the queue's current query under a name.
pub async fn save_filter(State(app): State<App>, p: Principal, WebForm(f): WebForm<Vec<(String, String)>>) -> PageResult {
    let query = field(&f, "query").unwrap_or("").to_string();
    let input = crate::tickets::filters::ops::NewSavedFilter {
        name: field(&f, "name").unwrap_or("").to_string(),
        query: query.clone(),
        position: None,
    };
    match crate::tickets::filters::ops::create(&app, &p, input).await {
        Ok(saved) => Ok(see_other(&saved.href)),
        Err(e) => page(&app, &p, &query, Some(form_error(e)?)).await,
    }
}

pub async fn delete_filter(
    State(app): State<App>,
    p: Principal,
    crate::http::extract::ApiPath(id): crate::http::extract::ApiPath<i64>,
) -> PageResult {
    crate::tickets::filters::ops::remove(&app, &p, id).await?;
    Ok(see_other("/tickets"))
}

/// `/t/{number}`: a ticket by its number; a merged one leads to its target.
pub async fn by_number(
    State(app): State<App>,
    p: Principal,
    crate::http::extract::ApiPath(number): crate::http::extract::ApiPath<String>,
) -> PageResult {
    p.require(Permission::TicketsRead)?;
    let n = crate::tickets::model::parse_number(&number).ok_or(ApiError::NotFound)?;
    let mut db = app.store.clone();
    let mut t = crate::tickets::store::by_number(&mut db, n).await?.filter(|t| p.sees_client(t.client_id)).ok_or(ApiError::NotFound)?;
    for _ in 0..10 {
        match t.merged_into {
            Some(into) => match crate::tickets::store::get_any(&mut db, into).await?.filter(|t| p.sees_client(t.client_id)) {
                Some(next) => t = next,
                None => break,
            },
            None => break,
        }
    }
    Ok(see_other(&format!("/clients/{}/tickets/{}", t.client_id, t.id)))
}

impl QueuePage {
    /// Whether the filter's `field` is `want` (for `selected`).
    fn is(&self, field: &str, want: &str) -> bool {
        let v = match field {
            "status" => &self.f.status,
            "priority" => &self.f.priority,
            "assignee" => &self.f.assignee,
            "sla_state" => &self.f.sla_state,
            "sort" => &self.f.sort,
            _ => return false,
        };
        v.as_deref() == Some(want)
    }
    fn board_is(&self, id: &i64) -> bool {
        self.f.board_id == Some(*id)
    }
    fn client_is(&self, id: &i64) -> bool {
        self.f.client_id == Some(*id)
    }
    fn kinds(&self) -> Vec<&'static str> {
        Kind::ALL.iter().map(|k| k.as_str()).collect()
    }
}
