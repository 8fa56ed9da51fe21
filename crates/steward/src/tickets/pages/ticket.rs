//! One ticket's page: everything a technician needs on one screen, and
//! the forms that answer and change it.

use super::{assignable, field, opt_id, Assignable};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html_status;
use crate::sla::model::ClockState;
use crate::tickets::clocks::ClockView;
use crate::tickets::model::{display_number, parse_number, sla_badge, span, Kind, TicketType};
use crate::tickets::ops::entries::NewEntryInput;
use crate::tickets::ops::merge::MergeInput;
use crate::tickets::ops::update::TicketPatch;
use crate::tickets::store::config::{Board, Priority, Status};
use crate::tickets::store::Queue;
use crate::tickets::view::Ticket;
use crate::time::{fmt_time, now_us};
use crate::web::error::{form_error, see_other, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;

pub struct EntryLine {
    pub id: i64,
    pub kind: String,
    pub author: String,
    pub body: String,
    pub at: String,
    pub files: Vec<FileLine>,
    /// When it came by mail: how it came, its formatted version.
    pub mail: Option<crate::mail::view::MailView>,
}

/// A link to an attachment (always a download).
pub struct FileLine {
    pub name: String,
    pub url: String,
    pub size: String,
}

fn file_line(a: &crate::tickets::store::attachments::AttachmentRow) -> FileLine {
    let size = match a.size {
        s if s < 1024 => format!("{s} B"),
        s if s < 1024 * 1024 => format!("{:.0} KiB", s as f64 / 1024.0),
        s => format!("{:.1} MiB", s as f64 / (1024.0 * 1024.0)),
    };
    FileLine { name: a.file_name.clone(), url: format!("/clients/{}/tickets/{}/attachments/{}", a.client_id, a.ticket_id, a.id), size }
}

pub struct ClockLine {
    pub label: &'static str,
    pub class: &'static str,
    pub words: String,
    pub due: String,
    pub elapsed: String,
    pub target: String,
}

pub struct DeviceLine {
    pub id: i64,
    pub hostname: String,
    pub online: bool,
    pub last_seen: String,
    pub metrics: Vec<(String, String)>,
}

pub struct Other {
    pub client_id: i64,
    pub id: i64,
    pub reference: String,
    pub subject: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    l: Layout,
    t: Ticket,
    client_name: String,
    contact: String,
    opened: String,
    entries: Vec<EntryLine>,
    /// Files not tied to an entry.
    files: Vec<FileLine>,
    max_upload: String,
    statuses: Vec<Status>,
    priorities: Vec<Priority>,
    boards: Vec<Board>,
    users: Vec<Assignable>,
    types: Vec<TicketType>,
    clocks: Vec<ClockLine>,
    devices: Vec<DeviceLine>,
    others: Vec<Other>,
    links: Vec<Other>,
    can_write: bool,
    /// What other domains show here (the ticket's time).
    panels: Vec<crate::app::panels::Fragment>,
    /// What the reply form held when it was refused.
    draft: String,
}

fn clock_line(label: &'static str, c: &ClockView, now: i64) -> ClockLine {
    let (class, words) = sla_badge(Some(c.state.as_str()), c.due_at.map(|d| d.micros()), now);
    ClockLine {
        label,
        class,
        words: if c.state == ClockState::Met {
            format!("met {}", c.met_at.map(|m| fmt_time(m.micros())).unwrap_or_default())
        } else {
            words
        },
        due: c.due_at.map(|d| fmt_time(d.micros())).unwrap_or_else(|| "—".into()),
        elapsed: span(c.elapsed_business_seconds * 1_000_000),
        target: span(c.target_business_seconds * 1_000_000),
    }
}

/// The latest value of each series a device reported in the last 15 minutes.
async fn latest(app: &App, device_id: i64, now: i64) -> Result<Vec<(String, String)>, ApiError> {
    let rows = crate::monitoring::store::read(&mut app.store.clone(), device_id, 0, now - 15 * 60_000_000, now).await?;
    let mut out: Vec<(String, String)> = vec![];
    for r in rows {
        let (name, v) = metric(&r.series, r.vavg);
        match out.iter_mut().find(|(s, _)| *s == name) {
            Some(slot) => slot.1 = v,
            None => out.push((name, v)),
        }
    }
    Ok(out)
}

/// A series as a technician reads it: `CPU` `12 %`, `disk /` `80 %`,
/// `received` `1.2 MB/s`.
fn metric(series: &str, v: f64) -> (String, String) {
    let rate = |v: f64| match v {
        v if v >= 1e6 => format!("{:.1} MB/s", v / 1e6),
        v if v >= 1e3 => format!("{:.1} kB/s", v / 1e3),
        v => format!("{v:.0} B/s"),
    };
    match series {
        "cpu" => ("CPU".into(), format!("{v:.0} %")),
        "mem" => ("memory".into(), format!("{v:.0} %")),
        "net_rx" => ("received".into(), rate(v)),
        "net_tx" => ("sent".into(), rate(v)),
        s => match s.strip_prefix("disk:") {
            Some(mount) => (format!("disk {mount}"), format!("{v:.0} %")),
            None => (s.to_string(), format!("{v:.1}")),
        },
    }
}

async fn page(app: &App, p: &Principal, client_id: i64, id: i64, error: Option<String>, draft: String) -> PageResult {
    p.require(Permission::TicketsRead)?;
    let client = p.client(client_id)?;
    let mut db = app.store.snapshot().await?;
    let row = crate::tickets::store::get(&mut db, client, id).await?.ok_or(ApiError::NotFound)?;
    if let Some(into) = row.merged_into {
        if let Some(target) = crate::tickets::store::get_any(&mut db, into).await?.filter(|t| p.sees_client(t.client_id)) {
            return Ok(see_other(&format!("/clients/{}/tickets/{}", target.client_id, target.id)));
        }
    }
    let now = now_us();
    let t = crate::tickets::view::ticket(&mut db, row, now).await?;
    let client_name = crate::tenancy::store::get_client(&mut db, client).await?.map(|c| c.name).unwrap_or_default();
    let contact = match t.contact_id {
        Some(c) => crate::tenancy::store::get_contact(&mut db, client, c)
            .await?
            .map(|c| if c.email.is_empty() { c.name } else { format!("{} <{}>", c.name, c.email) })
            .unwrap_or_default(),
        None => String::new(),
    };
    let attachments = crate::tickets::store::attachments::of_ticket(&mut db, id).await?;
    let entries = crate::tickets::store::thread::entries(&mut db, id)
        .await?
        .into_iter()
        .map(|e| EntryLine {
            mail: crate::mail::view::mail_view(e.details.as_deref(), |sha| {
                attachments.iter().find(|a| a.entry_id == Some(e.id) && a.sha256 == sha).map(|a| file_line(a).url)
            }),
            files: attachments.iter().filter(|a| a.entry_id == Some(e.id)).map(file_line).collect(),
            id: e.id,
            kind: e.kind,
            author: e.author_name.unwrap_or_else(|| "Steward".into()),
            body: e.body,
            at: fmt_time(e.created_at),
        })
        .collect();
    let files = attachments.iter().filter(|a| a.entry_id.is_none()).map(file_line).collect();
    let mut clocks = vec![];
    if let Some(s) = &t.sla {
        clocks.push(clock_line("First response", &s.first_response, now));
        clocks.push(clock_line("Resolution", &s.resolution, now));
    }
    let mut devices = vec![];
    for d in crate::tickets::store::thread::devices(&mut db, &[id]).await? {
        devices.push(DeviceLine {
            id: d.device_id,
            hostname: d.hostname,
            online: d.online,
            last_seen: d.last_seen_at.map(|s| format!("{} ago", span(now - s))).unwrap_or_else(|| "never".into()),
            metrics: latest(app, d.device_id, now).await?,
        });
    }
    let (open, _) = crate::tickets::store::queue(
        &mut db,
        &Queue { scope: p.clients.clone(), client_id: Some(client_id), kinds: Kind::active(), hide_merged: true, ..Default::default() },
        11,
        0,
    )
    .await?;
    let others = open
        .into_iter()
        .filter(|o| o.id != id)
        .take(10)
        .map(|o| Other { client_id: o.client_id, id: o.id, reference: display_number(o.number), subject: o.subject, status: o.status_name })
        .collect();
    let mut links = vec![];
    for l in &t.links {
        if let Some(o) = crate::tickets::store::get_any(&mut db, *l).await?.filter(|o| p.sees_client(o.client_id)) {
            let status = crate::tickets::store::config::status(&mut db, o.status_id).await?.map(|s| s.name).unwrap_or_default();
            links.push(Other { client_id: o.client_id, id: o.id, reference: display_number(o.number), subject: o.subject, status });
        }
    }
    Ok(html_status(
        crate::web::error::status_for(&error),
        &TicketPage {
            l: Layout::new(app, p, format!("{} {}", t.reference, t.subject), "tickets").with_error(error),
            client_name,
            contact,
            opened: fmt_time(t.opened_at.micros()),
            entries,
            files,
            max_upload: format!("{} MiB", app.cfg.attachment_max_bytes / (1024 * 1024)),
            statuses: crate::tickets::store::config::statuses(&mut db)
                .await?
                .into_iter()
                .filter(|s| !s.archived || s.id == t.status.id)
                .collect(),
            priorities: crate::tickets::store::config::priorities(&mut db).await?,
            boards: crate::tickets::store::config::boards(&mut db).await?,
            users: assignable(&mut db, Some(client_id)).await?,
            types: TicketType::ALL.to_vec(),
            clocks,
            devices,
            others,
            links,
            can_write: p.can(Permission::TicketsWrite),
            panels: crate::app::panels::render(
                app,
                p,
                crate::app::panels::Slot::Ticket,
                crate::app::panels::PanelCtx { client: Some(client_id), ticket: Some(id), ..Default::default() },
            )
            .await?,
            draft,
            t,
        },
    ))
}

pub async fn show(State(app): State<App>, p: Principal, ApiPath((client, id)): ApiPath<(i64, i64)>) -> PageResult {
    page(&app, &p, client, id, None, String::new()).await
}

fn back(client: i64, id: i64, anchor: &str) -> axum::response::Response {
    see_other(&format!("/clients/{client}/tickets/{id}{anchor}"))
}

/// The reply or note form, with files (multipart) or without.
pub async fn add_entry(State(app): State<App>, p: Principal, ApiPath((client, id)): ApiPath<(i64, i64)>, req: Request) -> PageResult {
    let multipart = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/"));
    let (f, files) = if multipart {
        crate::tickets::ops::attachments::may_attach(&app, &p, client, id).await?;
        let (parts, body) = req.into_parts();
        let blobs = crate::tickets::attachments::blobs(&app);
        let form = crate::http::multipart::read(&parts.headers, body, &blobs, app.cfg.attachment_max_bytes).await?;
        (form.fields, form.files)
    } else {
        match WebForm::<Vec<(String, String)>>::from_request(req, &app).await {
            Ok(WebForm(f)) => (f, vec![]),
            Err(rejected) => return Ok(rejected),
        }
    };
    let mut body = field(&f, "body").unwrap_or("").to_string();
    if body.trim().is_empty() && !files.is_empty() {
        body = format!("Attached {}", files.iter().map(|u| u.file_name.as_str()).collect::<Vec<_>>().join(", "));
    }
    let input = NewEntryInput { kind: field(&f, "kind").unwrap_or("note").to_string(), body: body.clone(), created_at: None };
    let done = match crate::tickets::ops::entries::add(&app, &p, client, id, input).await {
        Ok(e) if files.is_empty() => Ok(e.id),
        Ok(e) => crate::tickets::ops::attachments::attach(&app, &p, client, id, Some(e.id), &files).await.map(|_| e.id),
        Err(e) => Err(e),
    };
    match done {
        Ok(entry) => Ok(back(client, id, &format!("#entry-{entry}"))),
        Err(e) => page(&app, &p, client, id, Some(form_error(e)?), body).await,
    }
}

/// The controls: status, priority, type, board, assignee, tags.
pub async fn edit(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let text = |k: &str| field(&f, k).map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let done = async {
        let patch = TicketPatch {
            status: text("status"),
            priority: text("priority"),
            ticket_type: text("type"),
            board_id: opt_id("board_id", field(&f, "board_id"))?,
            assignee_id: field(&f, "assignee_id").map(|_| opt_id("assignee_id", field(&f, "assignee_id"))).transpose()?,
            tags: field(&f, "tags").map(|t| t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
            subject: text("subject"),
            ..Default::default()
        };
        crate::tickets::ops::update::update(&app, &p, client, id, patch).await
    }
    .await;
    match done {
        Ok(t) => Ok(back(t.client_id, id, "")),
        Err(e) => page(&app, &p, client, id, Some(form_error(e)?), String::new()).await,
    }
}

/// Merge into, or link to, another ticket named by its number.
pub async fn relate(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<Vec<(String, String)>>,
) -> PageResult {
    let done = async {
        let n =
            parse_number(field(&f, "number").unwrap_or("")).ok_or_else(|| ApiError::invalid("number", "a ticket number, e.g. #1001"))?;
        let other = crate::tickets::store::by_number(&mut app.store.clone(), n)
            .await?
            .filter(|o| p.sees_client(o.client_id))
            .ok_or_else(|| ApiError::refused("number", format!("{} is not a ticket", display_number(n))))?;
        match field(&f, "action") {
            Some("merge") => crate::tickets::ops::merge::merge(&app, &p, client, id, MergeInput { into_ticket_id: other.id })
                .await
                .map(|t| (t.client_id, t.id)),
            _ => crate::tickets::ops::links::set_link(&app, &p, client, id, other.id, true).await.map(|_| (client, id)),
        }
    }
    .await;
    match done {
        Ok((c, t)) => Ok(back(c, t, "")),
        Err(e) => page(&app, &p, client, id, Some(form_error(e)?), String::new()).await,
    }
}

impl TicketPage {
    fn kind_label(&self, kind: &str) -> &'static str {
        match kind {
            "request" => "asked",
            "reply" => "replied",
            "note" => "noted (internal)",
            _ => "",
        }
    }
    fn assigned(&self, id: &i64) -> bool {
        self.t.assignee_id == Some(*id)
    }
    fn tags_text(&self) -> String {
        self.t.tags.join(", ")
    }
}
