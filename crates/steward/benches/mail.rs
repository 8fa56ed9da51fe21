//! Mail-in benchmark (issue 14's target: at least 200 messages a second
//! become tickets, on SQLite, on this 2-core machine): N messages (default
//! 10,000) wait in a real IMAP mailbox and the real (release) server reads
//! them, timed from `POST /api/v1/mailboxes` (then `…/poll`, which makes it
//! due now) until the mailbox's `last_uid` is the folder's last UID (it
//! moves in each message's own transaction). Then every message is checked
//! to have become a ticket of its own, for the right client (through the
//! API), with its request entry, its HTML part and its quoted thread (in
//! the database), and to be flagged `\Seen` on the IMAP server.
//!
//! The IMAP server is Debian's Dovecot on loopback (STARTTLS with a CA made
//! here), with a throwaway configuration as in the mail tests; the messages
//! are written straight into its Maildir (`new/`), and Dovecot indexes them
//! before the clock starts (a mail server has its index already). They are
//! varied as a help desk's are: 70 % from contacts of 25 clients (at most
//! 14 from each, under the flood rule's 20 an hour, past which mail is
//! folded into notes), the rest from addresses no contact has (each its
//! own); plain text, multipart/alternative with a short HTML part or an
//! Outlook-sized one (styles, a remote logo the sanitizer blocks), replies
//! quoting a thread Steward never saw (`Re:`, an `In-Reply-To` unknown
//! here, "On … wrote:" or Outlook's "Original Message"), names in encoded
//! words, Received and DKIM headers.
//!
//! Run: `cargo bench -p steward --bench mail` (`STEWARD_BENCH_MAILS` for
//! another count). Needs Dovecot (`apt-get install dovecot-imapd`).
//! Prints a table; the results are kept in bench/RESULTS.md.

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "shared/proc_stats.rs"]
#[allow(dead_code)] // only the CPU and resident figures are read here
mod proc_stats;

use common::Client;
use futures_util::StreamExt;
use proc_stats::{cpu_ticks, cpu_ticks_with_children, status_kib};
use serde_json::json;
use sqlx::Connection;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const DOVECOT: &str = "/usr/sbin/dovecot";
const IMAP_USER: &str = "support";
const IMAP_PASSWORD: &str = "imap bench secret";
/// Messages one contact sends, at most: under the flood rule's 20 an hour.
const PER_CONTACT: usize = 14;
/// The issue's target.
const TARGET_PER_SEC: f64 = 200.0;
/// Clock ticks a second in /proc.
const TICKS: f64 = 100.0;

const COMPANIES: [&str; 25] = [
    "Acme Dental",
    "Harbor Logistics",
    "Pinecrest Law",
    "Northwind Traders",
    "Bluebird Bakery",
    "Summit Accounting",
    "Riverside Clinic",
    "Keystone Realty",
    "Oakridge School",
    "Lumen Architects",
    "Granite Engineering",
    "Willow Veterinary",
    "Cobalt Insurance",
    "Maple Street Pharmacy",
    "Seaside Hotel",
    "Ironwood Manufacturing",
    "Crescent Dental Lab",
    "Evergreen Landscaping",
    "Beacon Financial",
    "Juniper Consulting",
    "Falcon Freight",
    "Silverline Opticians",
    "Redwood Charity Trust",
    "Aurora Physiotherapy",
    "Copperleaf Interiors",
];
const FIRST: [&str; 30] = [
    "Renée", "James", "Priya", "Tomás", "Aisha", "Lukas", "Mei", "Olusegun", "Sarah", "Dmitri", "Fatima", "Connor", "Ingrid", "Kenji",
    "Maria", "Noah", "Zoë", "Björn", "Chloé", "Rahul", "Emma", "Liam", "Sofia", "Mateo", "Hannah", "Yusuf", "Grace", "Pedro", "Anja",
    "Wei",
];
const LAST: [&str; 30] = [
    "Ortiz",
    "Miller",
    "Patel",
    "García",
    "Khan",
    "Schmidt",
    "Chen",
    "Adeyemi",
    "Johnson",
    "Ivanov",
    "Haddad",
    "O'Brien",
    "Larsen",
    "Tanaka",
    "Rossi",
    "Williams",
    "Dubois",
    "Nguyen",
    "Müller",
    "Kowalski",
    "Brown",
    "Silva",
    "Jensen",
    "Murphy",
    "Novak",
    "Fischer",
    "Lee",
    "Costa",
    "Andersson",
    "Wright",
];
/// Where unknown senders write from.
const FREEMAIL: [&str; 6] = ["gmail.example", "outlook.example", "yahoo.example", "icloud.example", "gmx.example", "proton.example"];
const ISSUES: [(&str, &str); 30] = [
    ("Printer on the 2nd floor keeps jamming", "The HP printer next to reception jams on every second page and shows error 13.B2.D2. We've cleared the paper path twice already."),
    ("Outlook keeps asking for my password", "Since this morning Outlook pops up a sign-in window every few minutes. I enter my password and it comes back shortly after."),
    ("VPN disconnects every 10 minutes", "When working from home the VPN drops roughly every ten minutes and I lose my connection to the file server."),
    ("New starter on Monday", "We have a new receptionist starting Monday. She will need a laptop, an email account and access to the shared drive and the booking system."),
    ("Can't access the shared drive", "The S: drive shows a red X and says the network path was not found. Colleagues in the same room can open it."),
    ("Laptop very slow after update", "My laptop has been extremely slow since the Windows update last night. It takes five minutes to open Excel."),
    ("Suspicious email - did I click something bad?", "I got an email that looked like it came from our bank and clicked the link before I noticed the address was wrong. I did not enter anything."),
    ("Wi-Fi not working in the meeting room", "The guest Wi-Fi in the big meeting room connects but there is no internet. The staff network works fine."),
    ("Please reset my password", "I was locked out of my account after coming back from holiday. Could you reset my password please?"),
    ("Teams audio problems", "In Teams calls people can't hear me, although the headset works in other programs."),
    ("Request: second monitor for accounting", "Our accountant would like a second monitor, same model as the others if possible. Please send a quote."),
    ("Scanner to email stopped working", "The copier no longer sends scans to email. It shows 'SMTP authentication failed' & then goes back to the home screen."),
    ("Phone system - voicemail not arriving", "Voicemails are no longer forwarded to our mailboxes since Friday."),
    ("Backup failed notification", "We received an email saying last night's backup of the server failed. Is this something we need to worry about?"),
    ("QuickBooks won't open company file", "QuickBooks says the company file is in use by another user, but everyone has closed it."),
    ("Need access to the HR folder", "Please give our new office manager read and write access to the HR folder on the file server. Approved by our director."),
    ("Website contact form not sending", "Customers tell us the contact form on our website gives an error after pressing send."),
    ("Mobile phone email setup", "I got a new iPhone and would like to set up my work email and calendar on it."),
    ("Disk almost full warning", "My computer says the C: drive is almost full (less than 2 GB free) and asks me to free up space."),
    ("Leaver: please disable account", "Our colleague left the company yesterday. Please disable their account and forward their email to their manager."),
    ("Keyboard and mouse not responding", "The wireless keyboard and mouse on the front desk stopped responding. New batteries did not help."),
    ("Calendar invites going missing", "Some meeting invitations never show up in my calendar, although colleagues see them."),
    ("Software install request: Adobe Acrobat", "Could you install Adobe Acrobat Pro on my computer? We need to edit PDF contracts."),
    ("Internet very slow at the branch office", "The internet at the branch office has been very slow all day, web pages take ages to load."),
    ("Two-factor code not arriving", "I don't receive the text message with the sign-in code any more. My phone number has not changed."),
    ("Blue screen on reception PC", "The reception PC crashed twice today with a blue screen saying DRIVER_IRQL_NOT_LESS_OR_EQUAL."),
    ("Shared mailbox missing in Outlook", "The info@ shared mailbox disappeared from my Outlook folder list."),
    ("Quote for replacing old PCs", "We would like a quote to replace the five oldest PCs in the office before the end of the year."),
    ("Projector in boardroom won't connect", "The boardroom projector says <no signal> when I connect my laptop with the HDMI cable."),
    ("Excel crashes when opening a file", "Excel closes without any message when I open the monthly budget spreadsheet. Other files open fine."),
];
const MORE: [&str; 12] = [
    "It started this morning after the update.",
    "This is affecting the whole front desk.",
    "Can someone call me back on my mobile?",
    "We tried restarting it but no luck.",
    "Not urgent, but it would be good to have it fixed this week.",
    "I've attached a photo of the error in my previous email.",
    "Our office manager is out today so I'm reaching out directly.",
    "I think the ticket from last month was about something similar.",
    "Two other people in the office have the same problem.",
    "I'm in the office until 5 pm if you need to remote in.",
    "Please let me know if you need the serial number.",
    "It worked fine yesterday afternoon.",
];
const GREETINGS: [&str; 5] = ["Hi,", "Hello support,", "Hi team,", "Good morning,", "Hello,"];
const SIGN_OFFS: [&str; 5] = ["Thanks,", "Best regards,", "Cheers,", "Many thanks,", "Kind regards,"];

/// splitmix64: the same messages every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b"0123456789abcdef"[self.below(16)])).collect()
    }
    fn base64(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len).map(|_| char::from(A[self.below(64)])).collect()
    }
}

/// Letters and digits of a name, lower-cased, accents dropped: an address's local part.
fn ascii(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'é' | 'ë' | 'è' => Some('e'),
            'á' | 'ä' => Some('a'),
            'ó' | 'ö' => Some('o'),
            'ü' | 'ú' => Some('u'),
            'í' => Some('i'),
            _ => None,
        })
        .collect()
}

/// A display name for a header: quoted, or an RFC 2047 encoded word when not ASCII.
fn display(name: &str) -> String {
    if name.is_ascii() {
        return format!("\"{name}\"");
    }
    let mut q = String::from("=?UTF-8?Q?");
    for b in name.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => q.push(char::from(b)),
            b' ' => q.push('_'),
            _ => q.push_str(&format!("={b:02X}")),
        }
    }
    q + "?="
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A contact of a client, created through the API.
struct Contact {
    client: usize,
    name: String,
    email: String,
}

/// One generated message and what it should become.
struct Mail {
    raw: String,
    /// The client (index into `COMPANIES`) whose contact sent it; `None`: an unknown sender.
    client: Option<usize>,
    html: bool,
    quoted: bool,
    remote_image: bool,
}

fn domain_of(company: &str) -> String {
    format!("{}.example", ascii(company))
}

/// The contacts: enough that none sends more than `PER_CONTACT` of `known` messages.
fn contacts(known: usize, rng: &mut Rng) -> Vec<Contact> {
    (0..known.div_ceil(PER_CONTACT).max(1))
        .map(|j| {
            let client = j % COMPANIES.len();
            let (first, last) = (rng.pick(&FIRST), rng.pick(&LAST));
            let email = format!("{}.{}{}@{}", ascii(first), ascii(last), j, domain_of(COMPANIES[client]));
            Contact { client, name: format!("{first} {last}"), email }
        })
        .collect()
}

fn gmail_html(lines: &[String]) -> String {
    let mut h = String::from("<div dir=\"ltr\">");
    for l in lines {
        if l.is_empty() {
            h.push_str("<div><br></div>\n");
        } else {
            h.push_str(&format!("<div>{}</div>\n", escape(l)));
        }
    }
    h + "</div>\n"
}

fn outlook_html(lines: &[String], name: &str, company: &str, domain: &str, quoted: Option<&[String]>) -> String {
    let mut h = String::from(
        r##"<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face {font-family:"Cambria Math"; panose-1:2 4 5 3 5 4 6 3 2 4;}
@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}
a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; text-decoration:underline;}
span.EmailStyle17 {mso-style-type:personal-compose; font-family:"Calibri",sans-serif; color:windowtext;}
.MsoChpDefault {mso-style-type:export-only; font-family:"Calibri",sans-serif;}
@page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}
div.WordSection1 {page:WordSection1;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang="EN-US" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
"##,
    );
    for l in lines {
        if l.is_empty() {
            h.push_str("<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n");
        } else {
            h.push_str(&format!("<p class=\"MsoNormal\">{}<o:p></o:p></p>\n", escape(l)));
        }
    }
    h.push_str(&format!(
        r##"<table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0" style="border-collapse:collapse">
<tr><td width="140" valign="top" style="width:105.0pt;padding:0cm 5.4pt 0cm 5.4pt">
<p class="MsoNormal"><a href="https://www.{domain}/"><span style="text-decoration:none"><img border="0" width="120" height="40" style="width:1.25in;height:.4166in" id="Picture_x0020_1" src="https://www.{domain}/email/logo.png" alt="{company}"></span></a><o:p></o:p></p>
</td><td valign="top" style="padding:0cm 5.4pt 0cm 5.4pt">
<p class="MsoNormal"><b><span style="font-size:10.0pt;color:#1F3864">{name}</span></b><o:p></o:p></p>
<p class="MsoNormal"><span style="font-size:9.0pt;color:#595959">{company} | +1 555 0100 | <a href="https://www.{domain}/">www.{domain}</a></span><o:p></o:p></p>
</td></tr></table>
<p class="MsoNormal"><span style="font-size:7.5pt;color:gray">CONFIDENTIALITY NOTICE: This e-mail message, including any attachments, is for the sole use of the intended recipient(s) and may contain confidential and privileged information. Any unauthorized review, use, disclosure or distribution is prohibited. If you are not the intended recipient, please contact the sender by reply e-mail and destroy all copies of the original message.</span><o:p></o:p></p>
"##,
        name = escape(name),
        company = escape(company),
    ));
    if let Some(q) = quoted {
        h.push_str("<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\">\n");
        for l in q {
            h.push_str(&format!("<p class=\"MsoNormal\">{}<o:p></o:p></p>\n", escape(l)));
        }
        h.push_str("</div>\n");
    }
    h + "</div>\n</body>\n</html>\n"
}

/// Message `i`: from `sender` (a contact) or from an unknown address.
fn message(i: usize, sender: Option<&Contact>, rng: &mut Rng) -> Mail {
    let (name, from, company, client) = match sender {
        Some(c) => (c.name.clone(), c.email.clone(), COMPANIES[c.client].to_string(), Some(c.client)),
        None => {
            let (first, last) = (rng.pick(&FIRST), rng.pick(&LAST));
            let domain = if rng.below(3) == 0 { format!("prospect{}.example", rng.below(500)) } else { rng.pick(&FREEMAIL).to_string() };
            let company = format!("{last} Family Office");
            (format!("{first} {last}"), format!("{}.{}.{i}@{domain}", ascii(first), ascii(last)), company, None)
        }
    };
    let domain = from.split('@').nth(1).expect("an address").to_string();
    let (issue, detail) = ISSUES[rng.below(ISSUES.len())];
    let mut subject = match rng.below(10) {
        0 => format!("URGENT: {issue}"),
        1 => format!("{issue} - {company}"),
        2 => issue.to_lowercase(),
        _ => issue.to_string(),
    };
    // 0–44 plain text, 45–69 text and short HTML, 70–81 text and Outlook's
    // HTML, 82–94 a reply quoting "On … wrote:", 95–99 an Outlook reply.
    let kind = rng.below(100);
    let mut lines = vec![rng.pick(&GREETINGS).to_string(), String::new(), detail.to_string()];
    for _ in 0..1 + rng.below(3) {
        lines.push(rng.pick(&MORE).to_string());
    }
    lines.extend([String::new(), rng.pick(&SIGN_OFFS).to_string(), name.clone(), company.clone()]);
    if kind < 45 && rng.below(5) == 0 {
        lines.extend([String::new(), "Sent from my iPhone".to_string()]);
    }
    let date = format!("Mon, 7 Dec 2026 {:02}:{:02}:{:02} +0000", 6 + i % 12, i / 12 % 60, i % 60);
    let other = format!("{} {}", rng.pick(&FIRST), rng.pick(&LAST));
    let other_email = format!("{}@{}", ascii(&other), if rng.below(2) == 0 { domain.clone() } else { "vendor.example".to_string() });
    let mut quoted: Option<Vec<String>> = None;
    let mut replying = String::new();
    if kind >= 82 {
        let (_, earlier) = ISSUES[rng.below(ISSUES.len())];
        let thread_id = format!("{}@{}", rng.hex(24), other_email.split('@').nth(1).expect("an address"));
        replying = format!("In-Reply-To: <{thread_id}>\nReferences: <{}@{domain}> <{thread_id}>\n", rng.hex(16));
        subject = format!("{} {subject}", if kind < 95 { "Re:" } else { "RE:" });
        let q = if kind < 95 {
            let mut q = vec![format!("On Fri, 4 Dec 2026 at 16:{:02}, {other} <{other_email}> wrote:", i % 60)];
            for l in ["Hi,", "", earlier, "", "Regards,", other.as_str()] {
                q.push(if l.is_empty() { ">".to_string() } else { format!("> {l}") });
            }
            q
        } else {
            vec![
                "-----Original Message-----".to_string(),
                format!("From: {other} <{other_email}>"),
                "Sent: Friday, December 4, 2026 4:12 PM".to_string(),
                format!("To: {name} <{from}>"),
                format!("Subject: {issue}"),
                String::new(),
                earlier.to_string(),
            ]
        };
        quoted = Some(q);
    }
    let html = (45..82).contains(&kind) || kind >= 95;
    let outlook = (70..82).contains(&kind) || kind >= 95;
    let mut text = lines.join("\n");
    if let Some(q) = &quoted {
        text.push_str("\n\n");
        text.push_str(&q.join("\n"));
    }

    let mut h = format!(
        "Return-Path: <{from}>\nReceived: from mail.{domain} (mail.{domain} [198.51.100.{}])\n\tby mx.msp.example (Postfix) with ESMTPS id {}\n\tfor <support@msp.example>; {date}\n",
        1 + rng.below(250),
        rng.hex(10).to_uppercase(),
    );
    if rng.below(2) == 0 {
        h.push_str(&format!(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=selector1;\n\th=from:to:subject:date:message-id:mime-version;\n\tbh={}=;\n\tb={}\n\t {}\n\t {}\n",
            rng.base64(43),
            rng.base64(70),
            rng.base64(76),
            rng.base64(76),
        ));
    }
    h.push_str(&format!("From: {} <{from}>\nTo: IT Support <support@msp.example>\n", display(&name)));
    if rng.below(10) == 0 {
        h.push_str(&format!("Cc: {}@{domain}\n", ascii(&other)));
    }
    h.push_str(&format!("Subject: {subject}\nDate: {date}\nMessage-ID: <{}.{i}@{domain}>\n{replying}MIME-Version: 1.0\n", rng.hex(20)));
    if outlook {
        h.push_str(&format!(
            "Thread-Topic: {issue}\nThread-Index: {}\nX-MS-Has-Attach:\nX-MS-TNEF-Correlator:\nContent-Language: en-US\nX-Mailer: Microsoft Outlook 16.0\n",
            rng.base64(32),
        ));
    }
    let raw = if html {
        let body = if outlook {
            outlook_html(&lines, &name, &company, &domain, quoted.as_deref())
        } else {
            let mut all = lines.clone();
            if let Some(q) = &quoted {
                all.push(String::new());
                all.extend(q.iter().cloned());
            }
            gmail_html(&all)
        };
        let b = format!("----=_NextPart_{}", rng.hex(16));
        format!(
            "{h}Content-Type: multipart/alternative; boundary=\"{b}\"\n\n--{b}\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n{text}\n\n--{b}\nContent-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n{body}\n--{b}--\n"
        )
    } else {
        format!("{h}Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n")
    };
    Mail { raw, client, html, quoted: quoted.is_some(), remote_image: outlook }
}

/// The messages: `n`, 70 % from the contacts (in turn, so none sends more
/// than `PER_CONTACT`), the rest from unknown senders.
fn generate(n: usize) -> (Vec<Contact>, Vec<Mail>) {
    let mut rng = Rng(14);
    let known = (0..n).filter(|i| i % 10 < 7).count();
    let people = contacts(known, &mut rng);
    let mut next = 0;
    let mails = (0..n)
        .map(|i| {
            let sender = (i % 10 < 7).then(|| {
                next += 1;
                &people[(next - 1) % people.len()]
            });
            message(i, sender, &mut rng)
        })
        .collect();
    (people, mails)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// A test CA, and `cert.pem`/`key.pem` in `dir` for 127.0.0.1 signed by it; returns the CA's PEM.
fn test_ca(dir: &std::path::Path) -> String {
    let ca_key = rcgen::KeyPair::generate().expect("a key");
    let mut ca_params = rcgen::CertificateParams::new(vec![]).expect("CA parameters");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Steward bench mail CA");
    let ca = ca_params.self_signed(&ca_key).expect("the CA");
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("parameters");
    params.subject_alt_names.push(rcgen::SanType::IpAddress("127.0.0.1".parse().expect("an address")));
    let cert = params.signed_by(&key, &ca, &ca_key).expect("the certificate");
    std::fs::write(dir.join("cert.pem"), cert.pem()).expect("write cert.pem");
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("write key.pem");
    ca.pem()
}

fn id(arg: &str) -> String {
    String::from_utf8(Command::new("id").arg(arg).output().expect("run id").stdout).expect("id's output").trim().to_string()
}

/// Dovecot on loopback with a throwaway configuration (as the mail tests
/// start it), its Maildir filled before it starts.
struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
    ca_pem: String,
}

impl Dovecot {
    async fn start(mails: &[Mail]) -> Dovecot {
        assert!(
            std::path::Path::new(DOVECOT).exists(),
            "Dovecot is missing ({DOVECOT}; apt-get install dovecot-imapd): the mail benchmark needs a real IMAP server"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let root = id("-u") == "0";
        // The mail processes may not run as root: as root, the Maildir
        // belongs to `nobody`; otherwise to whoever runs the bench.
        let (uid, gid, user, group) = if root {
            (65534u32, 65534u32, "nobody".to_string(), "nogroup".to_string())
        } else {
            (id("-u").parse().expect("a uid"), id("-g").parse().expect("a gid"), id("-un"), id("-gn"))
        };
        let ca_pem = test_ca(d);
        std::fs::write(d.join("passwd"), format!("{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::::\n")).expect("write passwd");
        for sub in ["run", "state"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        let maildir = d.join("home").join(IMAP_USER).join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("mkdir Maildir");
        }
        // Delivered as a mail server files mail: one file each in `new/`,
        // named by arrival (the time, then a sequence number).
        for (i, m) in mails.iter().enumerate() {
            std::fs::write(maildir.join("new").join(format!("{}.M{i}P1.mx", 1_796_630_400 + i)), &m.raw).expect("write a message");
        }
        let port = free_port();
        let conf = format!(
            r#"protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"#,
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).expect("write dovecot.conf");
        if root {
            // `nobody` must reach its home inside the temporary directory.
            let ok = Command::new("chmod").args(["0755", &d.display().to_string()]).status().is_ok_and(|s| s.success())
                && Command::new("chown")
                    .args(["-R", "nobody:nogroup", &d.join("home").display().to_string()])
                    .status()
                    .is_ok_and(|s| s.success());
            assert!(ok, "could not hand the Maildir to nobody");
        }
        let child = Command::new(DOVECOT).args(["-F", "-c"]).arg(d.join("dovecot.conf")).spawn().expect("start dovecot");
        let server = Dovecot { dir, child, port, ca_pem };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("dovecot did not listen: {}", server.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.expect("connect to dovecot");
        let mut client = async_imap::Client::new(tcp);
        let _greeting = client.read_response().await.expect("dovecot's greeting");
        client.login(IMAP_USER, IMAP_PASSWORD).await.map_err(|(e, _)| e).expect("log in to dovecot")
    }

    /// Opens INBOX (Dovecot indexes what was filed); returns how many
    /// messages it holds and the last UID.
    async fn index(&self) -> (u32, u32) {
        let mut s = self.session().await;
        let inbox = s.select("INBOX").await.expect("select INBOX");
        let last = s.uid_search("ALL").await.expect("search INBOX").into_iter().max().unwrap_or(0);
        s.logout().await.ok();
        (inbox.exists, last)
    }

    async fn seen(&self) -> usize {
        let mut s = self.session().await;
        s.select("INBOX").await.expect("select INBOX");
        let seen = s.uid_search("SEEN").await.expect("search INBOX").len();
        s.logout().await.ok();
        seen
    }

    /// CPU ticks of Dovecot's processes: the master, those of its
    /// children that ended, and those still running.
    fn cpu_ticks(&self) -> u64 {
        let master = self.child.id();
        let mut ticks = cpu_ticks_with_children(master);
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat.rsplit_once(')').and_then(|(_, f)| f.split_whitespace().nth(1)).and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(master) {
                ticks += cpu_ticks(pid);
            }
        }
        ticks
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// Tickets matching `filter` (counted exactly: the queue counts up to
/// its cap or past the page asked for, so the page asked for is past `n`).
async fn tickets(a: &Client, filter: &str, n: usize) -> i64 {
    let (st, v) = a.get(&format!("/api/v1/tickets?status=all&limit=1&offset={n}{filter}")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["total_capped"], false, "{filter}: {}", v["total"]);
    v["total"].as_i64().expect("a total")
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("STEWARD_BENCH_MAILS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    assert!(n > 0, "STEWARD_BENCH_MAILS must be at least 1");
    let t = Instant::now();
    let (people, mails) = generate(n);
    let known = mails.iter().filter(|m| m.client.is_some()).count();
    let unknown = n - known;
    let bytes: usize = mails.iter().map(|m| m.raw.len()).sum();
    let (html, quoted, images) = (
        mails.iter().filter(|m| m.html).count(),
        mails.iter().filter(|m| m.quoted).count(),
        mails.iter().filter(|m| m.remote_image).count(),
    );
    println!(
        "mail benchmark: {} messages ({} from {} contacts of {} clients, {} from unknown senders; {} with an HTML part, {} quoting a thread), {:.1} MiB, generated in {:.1} s",
        thousands(n as u64),
        thousands(known as u64),
        people.len(),
        COMPANIES.len(),
        thousands(unknown as u64),
        thousands(html as u64),
        thousands(quoted as u64),
        bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let dovecot = Dovecot::start(&mails).await;
    let (exists, last_uid) = dovecot.index().await;
    let indexed = t.elapsed();
    assert_eq!(exists as usize, n, "Dovecot sees {exists} of the {n} messages filed: {}", dovecot.log());
    println!("Dovecot filed and indexed them in {:.1} s (not timed below); last UID {last_uid}", indexed.as_secs_f64());

    let env = common::Env::sqlite();
    env.create_admin(common::ADMIN_EMAIL);
    let server = common::Server::start_in(env, &[]).await;
    let pid = server.child.as_ref().expect("the server runs").id();
    println!("server pid {pid}, data in {}", server.env.data_dir().display());
    let a = server.admin().await;
    let mut clients = vec![];
    for name in COMPANIES {
        clients.push(common::make_client(&a, name).await);
    }
    let strangers = common::make_client(&a, "Unknown senders").await;
    let t = Instant::now();
    let made: Vec<u16> = futures_util::stream::iter(&people)
        .map(|c| {
            let a = &a;
            let path = format!("/api/v1/clients/{}/contacts", clients[c.client]);
            async move { a.post(&path, json!({"name": c.name, "email": c.email})).await.0 }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    assert!(made.iter().all(|s| *s == 201), "creating contacts: {made:?}");
    println!("{} contacts created through the API in {:.1} s", people.len(), t.elapsed().as_secs_f64());

    let rss_before = status_kib(pid, "VmRSS:");
    let (cpu_before, dovecot_before) = (cpu_ticks(pid), dovecot.cpu_ticks());
    let t0 = Instant::now();
    let (st, mb) = a
        .post(
            "/api/v1/mailboxes",
            json!({"name": "Support", "host": "127.0.0.1", "port": dovecot.port, "security": "starttls", "username": IMAP_USER,
                   "password": IMAP_PASSWORD, "ca_pem": dovecot.ca_pem, "default_client_id": strangers, "poll_secs": 3600}),
        )
        .await;
    assert_eq!(st, 201, "{mb}");
    let id = mb["id"].as_i64().expect("a mailbox id");
    let (st, v) = a.post(&format!("/api/v1/mailboxes/{id}/poll"), json!({})).await;
    assert_eq!(st, 202, "{v}");
    // (elapsed, last UID) whenever it moved.
    let mut progress: Vec<(f64, i64)> = vec![];
    let mut moved = Instant::now();
    let mut report = 10.0;
    let took = loop {
        let (st, m) = a.get(&format!("/api/v1/mailboxes/{id}")).await;
        assert_eq!(st, 200, "{m}");
        let at = t0.elapsed().as_secs_f64();
        let uid = m["last_uid"].as_i64().unwrap_or(0);
        let error = m["last_error"].as_str().unwrap_or("");
        assert!(error.is_empty(), "the mailbox was not read: {error}\n{}\n{}", server.stderr(), dovecot.log());
        if uid > progress.last().map_or(0, |p| p.1) {
            progress.push((at, uid));
            moved = Instant::now();
        }
        if uid >= last_uid as i64 {
            break at;
        }
        assert!(
            moved.elapsed() < Duration::from_secs(120),
            "no message handled for 120 s (at UID {uid} of {last_uid}): {m}\n{}\n{}",
            server.stderr(),
            dovecot.log()
        );
        if at >= report {
            let back = progress.iter().rev().find(|p| p.0 <= at - 10.0).copied().unwrap_or((0.0, 0));
            println!("  {at:.0} s: {uid} of {last_uid} handled, {:.0} /s over the last 10 s", (uid - back.1) as f64 / (at - back.0));
            report += 10.0;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let cpu = (cpu_ticks(pid) - cpu_before) as f64 / TICKS;
    let (rss_after, rss_peak) = (status_kib(pid, "VmRSS:"), status_kib(pid, "VmHWM:"));

    // What every message became.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = dovecot.seen().await;
    while seen < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        seen = dovecot.seen().await;
    }
    let dovecot_cpu = (dovecot.cpu_ticks() - dovecot_before) as f64 / TICKS;
    assert_eq!(seen, n, "every message flagged \\Seen on the IMAP server");
    let total = tickets(&a, "", n).await;
    assert_eq!(total, n as i64, "one ticket per message ({n} messages, {total} tickets)");
    assert_eq!(tickets(&a, &format!("&client_id={strangers}"), n).await, unknown as i64, "unknown senders' tickets");
    assert_eq!(tickets(&a, "&tag=unknown-sender", n).await, unknown as i64, "tickets tagged unknown-sender");
    for (k, c) in clients.iter().enumerate() {
        let expected = mails.iter().filter(|m| m.client == Some(k)).count() as i64;
        assert_eq!(tickets(&a, &format!("&client_id={c}"), n).await, expected, "{}'s tickets", COMPANIES[k]);
    }
    let mut db =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", server.env.data_dir().join("steward.db").display())).await?;
    let count = |sql: &'static str| sqlx::query_scalar::<sqlx::Sqlite, i64>(sql);
    let handled: Vec<(String, i64)> =
        sqlx::query_as("SELECT handling, COUNT(*) FROM mail_messages WHERE direction = 'in' GROUP BY handling ORDER BY handling")
            .fetch_all(&mut db)
            .await?;
    assert_eq!(
        handled,
        vec![("new_ticket".to_string(), known as i64), ("unknown_sender".to_string(), unknown as i64)],
        "how the messages were handled"
    );
    let requests = count("SELECT COUNT(*) FROM ticket_entries WHERE kind = 'request'").fetch_one(&mut db).await?;
    assert_eq!(requests, n as i64, "one request entry per message");
    let with_html =
        count("SELECT COUNT(*) FROM ticket_entries WHERE json_extract(details, '$.mail.html') IS NOT NULL").fetch_one(&mut db).await?;
    assert_eq!(with_html, html as i64, "entries keeping an HTML part");
    let with_quote =
        count("SELECT COUNT(*) FROM ticket_entries WHERE json_extract(details, '$.mail.quoted') != ''").fetch_one(&mut db).await?;
    assert_eq!(with_quote, quoted as i64, "entries with a quoted thread folded");
    let blocked = count("SELECT COUNT(*) FROM ticket_entries WHERE json_extract(details, '$.mail.remote_images_blocked') > 0")
        .fetch_one(&mut db)
        .await?;
    assert_eq!(blocked, images as i64, "entries whose remote logo was blocked");
    let automatic = count("SELECT COUNT(*) FROM mail_messages WHERE automatic != ''").fetch_one(&mut db).await?;
    assert_eq!(automatic, 0, "no message taken for a machine's");
    db.close().await?;

    // The rate from the first message handled, and by quarter of the mailbox.
    // When the mailbox reached `uid`: between the two reads around it.
    let at = |uid: f64| {
        let k = progress.iter().position(|p| p.1 as f64 >= uid).unwrap_or(progress.len() - 1);
        if k == 0 {
            return progress[0].0;
        }
        let ((t1, u1), (t2, u2)) = (progress[k - 1], progress[k]);
        t1 + (t2 - t1) * (uid - u1 as f64) / (u2 - u1) as f64
    };
    let first = progress[0];
    let steady = (last_uid as i64 - first.1) as f64 / (took - first.0).max(0.001);
    let span = last_uid as f64 - first.1 as f64;
    let quarters: Vec<String> = (0..4)
        .map(|q| {
            let (from, to) = (first.1 as f64 + span * q as f64 / 4.0, first.1 as f64 + span * (q + 1) as f64 / 4.0);
            format!("{:.0}", (to - from) / (at(to) - at(from)).max(0.001))
        })
        .collect();
    let rate = n as f64 / took;

    println!();
    println!(
        "| mail in: {} messages ({} from {} contacts of {} clients, {} from unknown senders), SQLite | value |",
        thousands(n as u64),
        thousands(known as u64),
        people.len(),
        COMPANIES.len(),
        thousands(unknown as u64)
    );
    println!("|---|---|");
    println!(
        "| messages (average {:.1} KiB; {html} with an HTML part, {quoted} quoting a thread) | {} |",
        bytes as f64 / n as f64 / 1024.0,
        thousands(n as u64)
    );
    println!("| mailbox created → last message a ticket | {took:.1} s |");
    println!(
        "| **messages per second** (target ≥ {TARGET_PER_SEC:.0}) | **{rate:.0} /s** {} |",
        if rate >= TARGET_PER_SEC { "✓" } else { "✗" }
    );
    println!("| first message handled after | {:.1} s |", first.0);
    println!("| rate from the first message to the last | {steady:.0} /s |");
    println!("| rate by quarter, from the first message handled | {} /s |", quarters.join(" / "));
    println!("| server CPU | {:.2} cores, {:.1} ms a message |", cpu / took, cpu * 1000.0 / n as f64);
    println!("| Dovecot CPU (all its processes) | {:.2} cores |", dovecot_cpu / took);
    println!("| server resident memory before / after / peak | {} / {} / {} |", mib(rss_before), mib(rss_after), mib(rss_peak));
    println!("| Dovecot indexing the filed Maildir (before, not timed) | {:.1} s |", indexed.as_secs_f64());
    println!();
    println!(
        "checked: {n} tickets (API, per client and tagged unknown-sender), {n} request entries, {with_html} keeping HTML, {with_quote} with a folded quote, {blocked} with a remote image blocked, {seen} flagged \\Seen"
    );
    println!("target {TARGET_PER_SEC:.0} messages/s: {}", if rate >= TARGET_PER_SEC { "met" } else { "NOT met" });
    Ok(())
}
