//! `/settings/mail` (administrators): the mailboxes read (with what went
//! wrong at their last read, a connection test that names the failing
//! step, read now, turn off and on, a new password), the SMTP server and a
//! test mail, and the templates with a preview. Every action goes through
//! the same functions as the API, so the checks and the audit are one.

use super::imap::Security;
use super::mailboxes::{self, Mailbox, MailboxPatch, NewMailbox};
use super::model::template::{RenderedMail, Template};
use super::smtp::SmtpSettings;
use super::smtp_api::{self, SmtpInput};
use super::templates::{self, TemplateView};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::{html, html_status};
use crate::web::error::{field, form_error, status_for, PageResult, WebForm};
use crate::web::layout::Layout;
use axum::extract::State;

#[derive(askama::Template)]
#[template(path = "mail_settings.html")]
struct MailSettingsPage {
    l: Layout,
    mailboxes: Vec<(Mailbox, String)>,
    clients: Vec<(i64, String)>,
    smtp: Option<SmtpSettings>,
    templates: Vec<TemplateView>,
}

#[derive(askama::Template)]
#[template(path = "mail_preview.html")]
struct Preview {
    r: RenderedMail,
}

type Form = Vec<(String, String)>;

async fn page(app: &App, p: &Principal, notice: Option<String>, error: Option<String>) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    let mut db = app.store.snapshot().await?;
    let all = crate::tenancy::store::list_clients(&mut db, &Default::default(), 1000, 0).await?.0;
    let name_of = |id: i64| all.iter().find(|c| c.id == id).map(|c| c.name.clone()).unwrap_or_default();
    let mailboxes = super::store::list(&mut db)
        .await?
        .into_iter()
        .map(Mailbox::from)
        .map(|m| (name_of(m.default_client_id), m))
        .map(|(n, m)| (m, n))
        .collect();
    let smtp = crate::settings::store::read(&mut db, super::smtp::SETTINGS_KEY).await?.and_then(|raw| serde_json::from_str(&raw).ok());
    drop(db);
    let status = status_for(&error);
    let l = Layout::new(app, p, "Mail", "settings").with_error(error).with_notice(notice);
    let clients = all.into_iter().map(|c| (c.id, c.name)).collect();
    Ok(html_status(status, &MailSettingsPage { l, mailboxes, clients, smtp, templates: templates::all(app, p).await? }))
}

/// The page again, saying how it went.
async fn after(app: &App, p: &Principal, done: Result<String, ApiError>) -> PageResult {
    match done {
        Ok(notice) => page(app, p, Some(notice), None).await,
        Err(e) => page(app, p, None, Some(form_error(e)?)).await,
    }
}

pub async fn show(State(app): State<App>, p: Principal) -> PageResult {
    page(&app, &p, None, None).await
}

fn security(f: &Form) -> Result<Security, ApiError> {
    Security::parse(field(f, "security").unwrap_or("tls")).ok_or_else(|| ApiError::invalid("security", "tls, starttls or plain"))
}

fn number(f: &Form, name: &str) -> Result<Option<i64>, ApiError> {
    match field(f, name) {
        Some(v) => v.parse().map(Some).map_err(|_| ApiError::invalid(name, "a whole number")),
        None => Ok(None),
    }
}

fn text(f: &Form, name: &str) -> String {
    field(f, name).unwrap_or("").to_string()
}

pub async fn create(State(app): State<App>, p: Principal, WebForm(f): WebForm<Form>) -> PageResult {
    let done = async {
        let r = NewMailbox {
            name: text(&f, "name"),
            host: text(&f, "host"),
            port: number(&f, "port")?.unwrap_or(993),
            security: security(&f)?,
            username: text(&f, "username"),
            password: text(&f, "password"),
            folder: field(&f, "folder").map(str::to_string),
            ca_pem: field(&f, "ca_pem").map(str::to_string),
            default_client_id: number(&f, "default_client_id")?.ok_or_else(|| ApiError::invalid("default_client_id", "choose a client"))?,
            board_id: None,
            poll_secs: number(&f, "poll_secs")?,
            move_to: field(&f, "move_to").map(str::to_string),
            flood_per_hour: number(&f, "flood_per_hour")?,
        };
        let m = mailboxes::create_mailbox(&app, &p, r).await?;
        Ok(format!("Mailbox {} added; it is read within a few seconds.", m.name))
    }
    .await;
    after(&app, &p, done).await
}

pub async fn act(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<Form>) -> PageResult {
    let done = async {
        let patch = |m: MailboxPatch| mailboxes::patch_mailbox(&app, &p, id, m);
        match field(&f, "action") {
            Some("test") => {
                let t = mailboxes::test_mailbox(&app, &p, id).await?;
                match (t.ok, t.step, t.error) {
                    (true, _, _) => Ok("Connected, logged in and opened the folder.".to_string()),
                    (false, step, error) => Err(ApiError::refused(
                        "mailbox",
                        format!("The test failed at {}: {}", step.unwrap_or_default(), error.unwrap_or_default()),
                    )),
                }
            }
            Some("enable") => patch(MailboxPatch { enabled: Some(true), ..Default::default() }).await.map(|_| "Turned on.".to_string()),
            Some("disable") => patch(MailboxPatch { enabled: Some(false), ..Default::default() }).await.map(|_| "Turned off.".to_string()),
            Some("password") => patch(MailboxPatch { password: Some(text(&f, "password")), ..Default::default() })
                .await
                .map(|_| "Password changed; it is read again now.".to_string()),
            _ => Err(ApiError::invalid("action", "test, enable, disable or password")),
        }
    }
    .await;
    after(&app, &p, done).await
}

pub async fn save_smtp(State(app): State<App>, p: Principal, WebForm(f): WebForm<Form>) -> PageResult {
    let done = async {
        let port = number(&f, "port")?.unwrap_or(587);
        let r = SmtpInput {
            host: text(&f, "host"),
            port: u16::try_from(port).map_err(|_| ApiError::invalid("port", "1 to 65535"))?,
            security: security(&f)?,
            username: text(&f, "username"),
            // Left blank: the stored one stays.
            password: field(&f, "password").map(str::to_string),
            from_address: text(&f, "from_address"),
            from_name: text(&f, "from_name"),
            ca_pem: field(&f, "ca_pem").map(str::to_string),
        };
        smtp_api::save(&app, &p, r).await.map(|_| "SMTP settings saved.".to_string())
    }
    .await;
    after(&app, &p, done).await
}

pub async fn test_smtp(State(app): State<App>, p: Principal, WebForm(f): WebForm<Form>) -> PageResult {
    let done = async {
        let r = smtp_api::send_test(&app, &p, &text(&f, "to")).await?;
        match r.error {
            None => Ok(format!("A test mail was sent to {}.", text(&f, "to"))),
            Some(e) => Err(ApiError::refused("to", format!("The test mail was not sent: {e}"))),
        }
    }
    .await;
    after(&app, &p, done).await
}

pub async fn save_template(State(app): State<App>, p: Principal, ApiPath(kind): ApiPath<String>, WebForm(f): WebForm<Form>) -> PageResult {
    let done = async {
        if field(&f, "action") == Some("reset") {
            templates::reset_to_shipped(&app, &p, &kind).await?;
            return Ok(format!("The {kind} template is the shipped one again."));
        }
        let t = Template { subject: text(&f, "subject"), body: field(&f, "body").unwrap_or("").to_string() };
        templates::save(&app, &p, &kind, t).await.map(|_| format!("The {kind} template is saved."))
    }
    .await;
    after(&app, &p, done).await
}

pub async fn preview(p: Principal, ApiPath(kind): ApiPath<String>, WebForm(f): WebForm<Form>) -> PageResult {
    let t = Template { subject: text(&f, "subject"), body: field(&f, "body").unwrap_or("").to_string() };
    match templates::render_sample(&p, &kind, &t) {
        Ok(r) => Ok(html(&Preview { r })),
        Err(e) => {
            let message = form_error(e)?;
            Ok(html_status(
                axum::http::StatusCode::BAD_REQUEST,
                &Preview { r: RenderedMail { subject: message, text: String::new(), html: String::new() } },
            ))
        }
    }
}

impl MailSettingsPage {
    fn security_of(&self) -> &str {
        self.smtp.as_ref().map(|s| s.security.as_str()).unwrap_or("starttls")
    }
}
