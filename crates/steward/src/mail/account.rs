//! The IMAP account a stored mailbox reads: its password opened with the
//! master key (sealed under a context naming the mailbox).

use super::imap::{Account, Failure, Security};
use super::store::MailboxRow;
use crate::app::App;

/// The sealed password's context: one mailbox's.
pub fn password_context(id: i64) -> String {
    format!("mailbox {id} password")
}

/// The account a stored mailbox reads.
pub fn account(app: &App, mb: &MailboxRow) -> Result<Account, Failure> {
    let password = app
        .master
        .open(&password_context(mb.id), &mb.password_sealed)
        .map_err(|_| Failure::Login("the stored password could not be opened (was the master key changed?)".into()))?;
    Ok(Account {
        host: mb.host.clone(),
        port: mb.port.clamp(1, 65_535) as u16,
        security: Security::parse(&mb.security).unwrap_or(Security::Tls),
        username: mb.username.clone(),
        password: String::from_utf8_lossy(&password).into_owned(),
        folder: mb.folder.clone(),
        ca_pem: mb.ca_pem.clone(),
    })
}
