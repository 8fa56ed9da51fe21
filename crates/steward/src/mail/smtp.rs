//! Sending over SMTP (`lettre`, tokio, rustls): the installation's SMTP
//! settings (`smtp` in the settings table, the password sealed apart
//! under `smtp_password`), and one message sent, with what went wrong
//! classified: a temporary failure (a 4xx, a connection that failed) is
//! tried again, a permanent one (5xx) is not.

use crate::app::App;
use crate::store::Db;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const SETTINGS_KEY: &str = "smtp";
pub const PASSWORD_KEY: &str = "smtp_password";
const PASSWORD_CONTEXT: &str = "smtp password";

/// The SMTP server Steward sends through (the password is apart, sealed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmtpSettings {
    #[schema(example = "smtp.example.com")]
    pub host: String,
    #[schema(example = 587)]
    pub port: u16,
    /// `tls` (implicit, usually 465), `starttls` (usually 587) or `plain`
    /// (to a relay on this machine only).
    pub security: super::imap::Security,
    /// Empty: no authentication (a local relay).
    #[serde(default)]
    pub username: String,
    #[schema(example = "support@msp.example")]
    pub from_address: String,
    /// The name shown with the address (e.g. `Acme IT Help Desk`).
    #[serde(default)]
    pub from_name: String,
    pub ca_pem: Option<String>,
}

/// The settings and the opened password, if configured.
pub async fn load(app: &App, db: &mut impl Db) -> anyhow::Result<Option<(SmtpSettings, String)>> {
    let Some(raw) = crate::settings::store::read(db, SETTINGS_KEY).await? else { return Ok(None) };
    let settings: SmtpSettings = serde_json::from_str(&raw)?;
    let password = match crate::settings::store::read(db, PASSWORD_KEY).await? {
        Some(sealed) if !sealed.is_empty() => String::from_utf8(app.master.open(PASSWORD_CONTEXT, &sealed)?)?,
        _ => String::new(),
    };
    Ok(Some((settings, password)))
}

/// Seals a password for storage.
pub fn seal_password(app: &App, password: &str) -> String {
    app.master.seal(PASSWORD_CONTEXT, password.as_bytes())
}

/// A message to send.
pub struct Outgoing<'a> {
    pub to: &'a [String],
    pub cc: &'a [String],
    pub subject: &'a str,
    /// Without brackets.
    pub message_id: &'a str,
    pub in_reply_to: &'a str,
    /// Without brackets, oldest first.
    pub references: &'a [String],
    pub text: &'a str,
    pub html: &'a str,
    /// Another From than the settings' (a client's), with its name.
    pub from: Option<(&'a str, &'a str)>,
    /// Made by Steward, not written by a person: marked
    /// `Auto-Submitted: auto-generated` so that auto-responders keep quiet.
    pub automatic: bool,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Try again later (4xx, the server unreachable).
    #[error("{0}")]
    Temporary(String),
    /// Do not try again (5xx, an address that cannot be one).
    #[error("{0}")]
    Permanent(String),
}

fn transport(s: &SmtpSettings, password: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    use super::imap::Security;
    if s.security == Security::Plain && !super::imap::is_loopback(&s.host) {
        return Err(SendError::Permanent("plain SMTP is allowed to a loopback address only".into()));
    }
    let mut params = TlsParameters::builder(s.host.clone());
    if let Some(pem) = s.ca_pem.as_deref().filter(|p| !p.trim().is_empty()) {
        params =
            params.add_root_certificate(Certificate::from_pem(pem.as_bytes()).map_err(|e| SendError::Permanent(format!("ca_pem: {e}")))?);
    }
    let params = params.build_rustls().map_err(|e| SendError::Permanent(format!("TLS: {e}")))?;
    let tls = match s.security {
        Security::Tls => Tls::Wrapper(params),
        Security::Starttls => Tls::Required(params),
        Security::Plain => Tls::None,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
        .port(s.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(30)));
    if !s.username.is_empty() {
        b = b.credentials(Credentials::new(s.username.clone(), password.to_string()));
    }
    Ok(b.build())
}

fn mailbox(addr: &str, name: Option<&str>) -> Result<Mailbox, SendError> {
    let address = addr.parse().map_err(|e| SendError::Permanent(format!("{addr:?} is not an address: {e}")))?;
    Ok(Mailbox::new(name.filter(|n| !n.is_empty()).map(str::to_string), address))
}

/// Builds the message (a plain and an HTML part) from the settings' sender.
pub fn build(s: &SmtpSettings, m: &Outgoing<'_>) -> Result<Message, SendError> {
    let (from, name) = m.from.unwrap_or((&s.from_address, &s.from_name));
    let mut b = Message::builder().from(mailbox(from, Some(name))?).subject(m.subject).message_id(Some(format!("<{}>", m.message_id)));
    for to in m.to {
        b = b.to(mailbox(to, None)?);
    }
    for cc in m.cc {
        b = b.cc(mailbox(cc, None)?);
    }
    if !m.in_reply_to.is_empty() {
        b = b.in_reply_to(format!("<{}>", m.in_reply_to));
    }
    if m.automatic {
        b = b.raw_header(lettre::message::header::HeaderValue::new(
            lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    }
    if !m.references.is_empty() {
        b = b.references(m.references.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" "));
    }
    b.multipart(MultiPart::alternative_plain_html(m.text.to_string(), m.html.to_string()))
        .map_err(|e| SendError::Permanent(format!("the message could not be built: {e}")))
}

/// The configured server, for a round of messages: one transport (its
/// connections pooled), not one per message.
pub struct Sender {
    settings: SmtpSettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Sender {
    pub fn new(settings: SmtpSettings, password: &str) -> Result<Sender, SendError> {
        let transport = transport(&settings, password)?;
        Ok(Sender { settings, transport })
    }

    /// Sends one message.
    pub async fn send(&self, m: &Outgoing<'_>) -> Result<(), SendError> {
        let message = build(&self.settings, m)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Temporary(e.to_string())),
        }
    }
}
