//! A raw message (RFC 5322 bytes, MIME) read into what a ticket needs,
//! with `mail-parser` (every charset it knows, encoded words, multipart
//! alternatives: the plain part is the thread's text, the HTML part is
//! kept sanitized, its `cid:` images among the files). Never fails: a
//! message that does not parse comes back `readable: false`, and its raw
//! bytes are kept whole by the caller for a person to look at.

use super::automatic::{self, Signals};
use super::{html, quote};
use crate::files::model::sanitize_file_name;
use mail_parser::{HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

/// What a ticket needs from one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Incoming {
    pub readable: bool,
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` then `References`, newest first, without brackets.
    pub replies_to: Vec<String>,
    /// The sender's address, lower-cased.
    pub from: Option<String>,
    pub from_name: Option<String>,
    /// Other addresses it went to (To and Cc), lower-cased.
    pub cc: Vec<String>,
    pub subject: String,
    /// What the sender wrote (the quoted thread split off).
    pub text: String,
    /// The quoted thread, folded on the ticket.
    pub quoted: String,
    /// The HTML part, sanitized.
    pub html: Option<String>,
    /// The HTML part sanitized but with its remote images, when it has
    /// any: shown only when a person asks.
    pub html_with_images: Option<String>,
    pub remote_images: usize,
    /// Why it must never be answered automatically.
    pub automatic: Option<&'static str>,
    pub bounce: bool,
    /// For a bounce: the Message-IDs of the mail it reports on (from its
    /// returned message or headers), so it can join that mail's ticket.
    pub bounce_of: Vec<String>,
    /// Its attachments and inline images, in order.
    pub files: Vec<MailFile>,
}

/// A file a message carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MailFile {
    /// Sanitized (`files::model::sanitize_file_name`).
    pub name: String,
    /// As declared (what it is served as is decided when served).
    pub content_type: String,
    /// Its `Content-ID` without brackets: what `cid:` in the HTML names.
    pub content_id: Option<String>,
    pub bytes: Vec<u8>,
}

/// Reads `raw`.
pub fn read(raw: &[u8]) -> Incoming {
    let unreadable = || Incoming { subject: "(a message that could not be read)".into(), ..Default::default() };
    // A panic in the parser must make a message unreadable, not stop its
    // mailbox for good (every read would meet it again): mail-parser 0.11.9
    // has a debug assertion that some nested multipart input reaches
    // (`proptest-regressions/mail/model/read.txt`).
    std::panic::catch_unwind(|| match MessageParser::default().parse(raw) {
        Some(m) if !m.headers().is_empty() => from_message(&m),
        _ => unreadable(),
    })
    .unwrap_or_else(|_| unreadable())
}

fn strip(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').to_string()
}

/// The Message-IDs of a header, in order.
fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match (v.as_text_list(), v.as_text()) {
        (Some(list), _) => list.iter().map(|s| strip(s)).collect(),
        (None, Some(one)) => vec![strip(one)],
        _ => vec![],
    }
}

fn declared_type(p: &MessagePart<'_>) -> String {
    match p.content_type() {
        Some(c) => match c.subtype() {
            Some(sub) => format!("{}/{}", c.ctype(), sub).to_ascii_lowercase(),
            None => c.ctype().to_ascii_lowercase(),
        },
        None if p.is_message() => "message/rfc822".into(),
        None => "application/octet-stream".into(),
    }
}

/// The files of `m` (its attachments and inline parts), and the
/// Message-IDs a bounce reports on.
fn files(m: &Message<'_>) -> (Vec<MailFile>, Vec<String>) {
    let (mut out, mut reported) = (vec![], vec![]);
    for (n, p) in m.attachments().enumerate() {
        let content_type = declared_type(p);
        if let Some(inner) = p.message() {
            reported.extend(inner.message_id().map(strip));
        } else if content_type == "text/rfc822-headers" {
            if let Some(h) = MessageParser::default().parse_headers(p.contents()) {
                reported.extend(h.message_id().map(strip));
            }
        }
        let name = match p.attachment_name() {
            Some(given) => sanitize_file_name(given),
            None if p.is_message() => "message.eml".into(),
            None => {
                let ext = content_type.split('/').nth(1).filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()));
                format!("part-{}.{}", n + 1, ext.unwrap_or("bin"))
            }
        };
        let content_id = p.content_id().map(strip).filter(|c| !c.is_empty());
        out.push(MailFile { name, content_type, content_id, bytes: p.contents().to_vec() });
    }
    reported.retain(|r| !r.is_empty());
    (out, reported)
}

fn from_message(m: &Message<'_>) -> Incoming {
    let raw_header = |name: &str| m.header_raw(name).map(|v| v.trim().to_string());
    let mut replies_to: Vec<String> = ids(m.in_reply_to());
    replies_to.extend(ids(m.references()).into_iter().rev());
    replies_to.retain(|r| !r.is_empty());
    let sender = m.from().and_then(|f| f.first());
    let from = sender.and_then(|s| s.address()).map(|a| a.trim().to_ascii_lowercase());
    let from_name = sender.and_then(|s| s.name()).map(str::to_string);
    let mut cc: Vec<String> = vec![];
    for list in [m.to(), m.cc()].into_iter().flatten() {
        cc.extend(list.iter().filter_map(|b| b.address()).map(|a| a.trim().to_ascii_lowercase()));
    }
    let report = m
        .content_type()
        .is_some_and(|c| c.ctype().eq_ignore_ascii_case("multipart") && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")));
    let return_path = raw_header("Return-Path");
    let auto_submitted = raw_header("Auto-Submitted");
    let precedence = raw_header("Precedence");
    let signals = Signals {
        auto_submitted: auto_submitted.as_deref(),
        precedence: precedence.as_deref(),
        x_autoreply: m.header_raw("X-Autoreply").is_some(),
        x_auto_response_suppress: m.header_raw("X-Auto-Response-Suppress").is_some(),
        list_id: m.header_raw("List-Id").is_some(),
        null_return_path: return_path.as_deref().is_some_and(|r| r.trim() == "<>"),
        report,
    };
    let automatic = automatic::reason(&signals);
    let plain = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let (visible, quoted) = quote::split(&plain);
    // Only a real HTML part (mail-parser would also render the plain one as HTML).
    let has_html = m.parts.iter().any(|p| matches!(p.body, PartType::Html(_)));
    let raw_html = m.body_html(0).filter(|_| has_html);
    let clean = raw_html.as_ref().map(|h| html::clean(h));
    let html_with_images =
        raw_html.as_ref().filter(|_| clean.as_ref().is_some_and(|c| c.remote_images > 0)).map(|h| html::with_remote_images(h));
    let (files, bounce_of) = files(m);
    let bounce = report || signals.null_return_path;
    Incoming {
        readable: true,
        message_id: m.message_id().map(strip).filter(|s| !s.is_empty()),
        replies_to,
        from,
        from_name,
        cc,
        subject: m.subject().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| "(no subject)".into()),
        text: visible.trim_end().to_string(),
        quoted: quoted.to_string(),
        remote_images: clean.as_ref().map(|c| c.remote_images).unwrap_or(0),
        html: clean.map(|c| c.html),
        html_with_images,
        automatic,
        bounce,
        bounce_of: if bounce { bounce_of } else { vec![] },
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_client_mail_with_alternatives_and_encoded_words_is_read() {
        let raw = concat!(
            "From: =?UTF-8?Q?Ren=C3=A9e_Ortiz?= <Renee@Client.Example>\r\n",
            "To: support@msp.example\r\nCc: boss@client.example\r\n",
            "Subject: =?ISO-8859-1?Q?Drucker_f=E4llt_aus?= [#10234]\r\n",
            "Message-ID: <abc@client.example>\r\nIn-Reply-To: <t10234.1@msp.example>\r\n",
            "References: <t10234.0@msp.example> <t10234.1@msp.example>\r\n",
            "Content-Type: multipart/alternative; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt is jammed again.\r\n\r\nOn Mon, Help Desk wrote:\r\n> Fixed?\r\n",
            "--b\r\nContent-Type: text/html\r\n\r\n<p onclick=x()>It is <b>jammed</b> again.</p><script>alert(1)</script>\r\n--b--\r\n",
        );
        let m = read(raw.as_bytes());
        assert!(m.readable);
        assert_eq!(m.from.as_deref(), Some("renee@client.example"));
        assert_eq!(m.from_name.as_deref(), Some("Renée Ortiz"));
        assert_eq!(m.subject, "Drucker fällt aus [#10234]");
        assert_eq!(m.message_id.as_deref(), Some("abc@client.example"));
        assert_eq!(m.replies_to, ["t10234.1@msp.example", "t10234.1@msp.example", "t10234.0@msp.example"]);
        assert_eq!(m.cc, ["support@msp.example", "boss@client.example"]);
        assert_eq!(m.text, "It is jammed again.");
        assert!(m.quoted.contains("> Fixed?"));
        let html = m.html.unwrap();
        assert!(html.contains("<b>jammed</b>") && !html.contains("script") && !html.contains("onclick"), "{html}");
        assert_eq!(m.automatic, None);
    }

    #[test]
    fn auto_replies_and_bounces_are_marked() {
        let ooo = "From: a@b.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n";
        assert!(read(ooo.as_bytes()).automatic.is_some());
        let dsn = "From: MAILER-DAEMON@x.example\r\nReturn-Path: <>\r\nSubject: Undelivered\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r--\r\n";
        let m = read(dsn.as_bytes());
        assert!(m.bounce && m.automatic.is_some());
    }

    #[test]
    fn attachments_inline_images_and_returned_messages_are_files() {
        let raw = concat!(
            "From: a@client.example\r\nSubject: Screens\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n",
            "--m\r\nContent-Type: multipart/related; boundary=r\r\n\r\n",
            "--r\r\nContent-Type: text/html\r\n\r\n<p>See <img src=\"cid:shot1@x\"></p>\r\n",
            "--r\r\nContent-Type: image/png\r\nContent-ID: <shot1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n",
            "--m\r\nContent-Type: application/pdf; name=\"../../etc/Rechnung.pdf\"\r\nContent-Disposition: attachment; filename=\"../../etc/Rechnung.pdf\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--m--\r\n",
        );
        let m = read(raw.as_bytes());
        assert_eq!(m.files.len(), 2, "{:?}", m.files);
        let png = &m.files[0];
        assert_eq!((png.content_type.as_str(), png.content_id.as_deref()), ("image/png", Some("shot1@x")));
        assert_eq!(png.bytes, b"\x89PNG\r\n\x1a\n");
        let pdf = &m.files[1];
        assert_eq!(
            (pdf.name.as_str(), pdf.content_type.as_str(), pdf.bytes.as_slice()),
            ("Rechnung.pdf", "application/pdf", &b"%PDF-"[..])
        );
        assert!(m.html.unwrap().contains("cid:shot1@x"));
        assert!(!m.bounce && m.bounce_of.is_empty());
    }

    #[test]
    fn a_bounce_names_the_mail_it_returns() {
        let dsn = concat!(
            "From: MAILER-DAEMON@mx.example\r\nReturn-Path: <>\r\nSubject: Undelivered Mail Returned to Sender\r\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n",
            "--r\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered: user unknown.\r\n",
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; gone@client.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
            "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: help@msp.example\r\nMessage-ID: <steward.t7.e9@msp.example>\r\nSubject: Re: [#7] Printer\r\n\r\n",
            "--r--\r\n",
        );
        let m = read(dsn.as_bytes());
        assert!(m.bounce && m.automatic.is_some());
        assert_eq!(m.bounce_of, ["steward.t7.e9@msp.example"]);
        let full = concat!(
            "From: MAILER-DAEMON@mx.example\r\nSubject: failure\r\nContent-Type: multipart/report; boundary=r\r\n\r\n",
            "--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n",
            "--r\r\nContent-Type: message/rfc822\r\n\r\nFrom: help@msp.example\r\nMessage-ID: <orig@msp.example>\r\nSubject: x\r\n\r\nbody\r\n",
            "--r--\r\n",
        );
        assert_eq!(read(full.as_bytes()).bounce_of, ["orig@msp.example"]);
    }

    #[test]
    fn garbage_is_kept_as_unreadable() {
        let m = read(b"");
        assert!(!m.readable);
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_without_panicking(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = read(&raw);
        }

        #[test]
        fn any_multipart_soup_is_read_without_panicking(
            boundary in "[A-Za-z0-9'()+_,./:=?-]{0,12}",
            parts in proptest::collection::vec(
                (prop_oneof![Just("text/plain".to_string()), Just("text/html".to_string()), Just("image/png".to_string()),
                             Just("message/rfc822".to_string()), Just("text/rfc822-headers".to_string()),
                             Just("multipart/mixed".to_string()), "[a-z/;= ]{0,20}"],
                 prop_oneof![Just(""), Just("Content-Transfer-Encoding: base64\r\n"), Just("Content-Transfer-Encoding: quoted-printable\r\n")],
                 "[ -~\r\n\u{80}-\u{10ffff}]{0,120}",
                 proptest::option::of("[ -~]{0,30}")),
                0..6),
            report in any::<bool>(),
        ) {
            let mut raw = format!("From: a@b.example\r\nSubject: x\r\nContent-Type: multipart/{}; boundary=\"{boundary}\"\r\n\r\n", if report { "report" } else { "mixed" });
            for (ctype, encoding, body, name) in &parts {
                raw.push_str(&format!("--{boundary}\r\nContent-Type: {ctype}\r\n{encoding}"));
                if let Some(n) = name {
                    raw.push_str(&format!("Content-Disposition: attachment; filename=\"{n}\"\r\nContent-ID: <{n}>\r\n"));
                }
                raw.push_str(&format!("\r\n{body}\r\n"));
            }
            raw.push_str(&format!("--{boundary}--\r\n"));
            let m = read(raw.as_bytes());
            for f in &m.files {
                prop_assert!(!f.name.is_empty() && !f.name.contains('/') && !f.name.contains('\\'), "{:?}", f.name);
            }
            if !m.bounce {
                prop_assert!(m.bounce_of.is_empty());
            }
        }

        #[test]
        fn any_header_soup_is_read_without_panicking(s in "([A-Za-z-]{1,12}: [ -~]{0,40}\r\n){0,8}\r\n[ -~\r\n]{0,200}") {
            let _ = read(s.as_bytes());
        }
    }
}
