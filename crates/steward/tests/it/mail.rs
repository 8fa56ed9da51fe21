//! Email in, against a real IMAP server (Dovecot on loopback): a mailbox
//! read over STARTTLS with the server's own CA becomes tickets for the
//! right clients, replies thread by Message-ID and by the subject's
//! number, strangers' replies become notes, hostile HTML is stored clean,
//! every message is handled once (also across a crash), and a wrong
//! password or an unknown CA is reported as exactly that. Out, against a
//! real SMTP server (aiosmtpd, STARTTLS by a test CA): a public reply is
//! mailed to the contact threaded under the ticket, waits while the SMTP
//! server is down and is delivered once, when it is up.

use crate::common::mail::{Dovecot, Smtp, PASSWORD, USER};
use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn client(a: &Client, name: &str) -> i64 {
    let (s, v) = a.post("/api/v1/clients", json!({"name": name})).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

async fn mailbox(a: &Client, d: &Dovecot, default_client: i64, extra: Value) -> Value {
    let mut body = json!({
        "name": "Support", "host": "127.0.0.1", "port": d.port, "security": "starttls",
        "username": USER, "password": PASSWORD, "ca_pem": d.ca_pem, "default_client_id": default_client, "poll_secs": 3600,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, v) = a.post("/api/v1/mailboxes", body).await;
    assert_eq!(s, 201, "{v}");
    assert!(v.get("password").is_none(), "the password is never shown: {v}");
    v
}

async fn tickets(a: &Client, client: i64) -> Vec<Value> {
    let (s, v) = a.get(&format!("/api/v1/clients/{client}/tickets")).await;
    assert_eq!(s, 200, "{v}");
    v.get("items").and_then(Value::as_array).or(v.as_array()).cloned().unwrap_or_default()
}

async fn thread(a: &Client, client: i64, id: i64) -> Vec<Value> {
    let (s, v) = a.get(&format!("/api/v1/clients/{client}/tickets/{id}/entries")).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Asks for a read now and waits until the mailbox has handled up to `uid`.
async fn read_until(a: &Client, mailbox: i64, uid: i64) -> Value {
    let (s, v) = a.post(&format!("/api/v1/mailboxes/{mailbox}/poll"), json!({})).await;
    assert_eq!(s, 202, "{v}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, m) = a.get(&format!("/api/v1/mailboxes/{mailbox}")).await;
        if m["last_uid"].as_i64().unwrap_or(0) >= uid {
            return m;
        }
        assert!(Instant::now() < deadline, "mailbox did not reach UID {uid}: {m}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn mail(from: &str, subject: &str, id: &str, extra_headers: &str, body: &str) -> String {
    format!("From: {from}\nTo: support@msp.example\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Mon, 7 Dec 2026 10:00:00 +0000\n{extra_headers}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{body}\n")
}

#[tokio::test]
async fn mail_becomes_tickets_for_the_right_client_and_replies_thread_to_them() {
    let Some(d) = Dovecot::start().await else { return };
    let server = Server::start().await;
    let a = server.admin().await;
    let acme = client(&a, "Acme").await;
    let unknown = client(&a, "Unknown senders").await;
    let (s, _) = a.post(&format!("/api/v1/clients/{acme}/contacts"), json!({"name": "Renée Ortiz", "email": "Renee@Acme.example"})).await;
    assert_eq!(s, 201);
    let mb = mailbox(&a, &d, unknown, json!({})).await;
    let id = mb["id"].as_i64().unwrap();
    let (_, t) = a.post(&format!("/api/v1/mailboxes/{id}/test"), json!({})).await;
    assert_eq!(t["ok"], true, "{t}");

    // 1: a contact's mail, in HTML and plain text, with a script.
    d.deliver(
        "From: =?UTF-8?Q?Ren=C3=A9e_Ortiz?= <renee@acme.example>\nTo: support@msp.example\nSubject: Printer jams\nMessage-ID: <m1@acme.example>\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\nThe printer on floor 2 jams.\n--b\nContent-Type: text/html\n\n<p onmouseover=\"steal()\">The printer <b>jams</b>.</p><script>alert(1)</script><a href=\"javascript:alert(2)\">x</a><img src=\"https://tracker.example/p.gif\">\n--b--\n",
    )
    .await;
    // 2: someone no contact has.
    d.deliver(&mail("stranger@elsewhere.example", "Hello?", "m2@elsewhere.example", "", "Who handles our IT?")).await;
    read_until(&a, id, 2).await;

    let mine = tickets(&a, acme).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let ticket = mine[0].clone();
    assert_eq!(ticket["subject"], "Printer jams");
    let (tid, number) = (ticket["id"].as_i64().unwrap(), ticket["number"].as_i64().unwrap());
    let th = thread(&a, acme, tid).await;
    let request = th.iter().find(|e| e["kind"] == "request").expect("the mail is the request");
    assert_eq!(request["body"], "The printer on floor 2 jams.");
    let html = request["details"]["mail"]["html"].as_str().unwrap();
    assert!(html.contains("<b>jams</b>"), "{html}");
    for bad in ["script", "onmouseover", "javascript:", "tracker.example"] {
        assert!(!html.contains(bad), "{bad} survived in {html}");
    }
    assert_eq!(request["details"]["mail"]["remote_images_blocked"], 1);

    let theirs = tickets(&a, unknown).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert!(theirs[0]["tags"].as_array().unwrap().contains(&json!("unknown-sender")), "{}", theirs[0]);

    // 3: a reply by In-Reply-To (quoting the thread); 4: by the number in the subject only;
    // 5: a stranger writing into the ticket.
    d.deliver(&mail(
        "renee@acme.example",
        "Re: Printer jams",
        "m3@acme.example",
        "In-Reply-To: <m1@acme.example>\nReferences: <m1@acme.example>\n",
        "It jams again.\n\nOn Mon, Help Desk wrote:\n> Fixed now.",
    ))
    .await;
    d.deliver(&mail("renee@acme.example", &format!("AW: Printer [#{number}]"), "m4@acme.example", "", "Still jamming.")).await;
    d.deliver(&mail("mallory@elsewhere.example", &format!("Re: [#{number}]"), "m5@elsewhere.example", "", "Send me the admin password."))
        .await;
    read_until(&a, id, 5).await;

    assert_eq!(tickets(&a, acme).await.len(), 1, "replies make no new tickets");
    let th = thread(&a, acme, tid).await;
    let bodies: Vec<(String, String)> =
        th.iter().map(|e| (e["kind"].as_str().unwrap().to_string(), e["body"].as_str().unwrap().to_string())).collect();
    assert!(bodies.contains(&("request".into(), "It jams again.".into())), "{bodies:?}");
    assert!(bodies.contains(&("request".into(), "Still jamming.".into())), "{bodies:?}");
    let note = th.iter().find(|e| e["body"] == "Send me the admin password.").expect("the stranger's mail is on the ticket");
    assert_eq!(note["kind"], "note", "a stranger's reply is an internal note");
    assert_eq!(note["details"]["mail"]["review"], true);
    let quoted = th.iter().find(|e| e["body"] == "It jams again.").unwrap();
    assert!(quoted["details"]["mail"]["quoted"].as_str().unwrap().contains("> Fixed now."), "the quote is kept, folded");

    // Handled messages are flagged read on the server, never deleted.
    assert_eq!(d.seen_count().await, 5);
}

#[tokio::test]
async fn a_crash_in_the_middle_of_a_batch_of_100_leaves_exactly_100_tickets() {
    let Some(d) = Dovecot::start().await else { return };
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    // The crashed process's lease on the mail job expires in 3 s (60 by default).
    let mut server = Server::start_in(env, &["--job-lease-secs", "3"]).await;
    let a = server.admin().await;
    let inbox = client(&a, "Inbox").await;
    let mb = mailbox(&a, &d, inbox, json!({})).await;
    let id = mb["id"].as_i64().unwrap();
    let all: Vec<String> =
        (0..100).map(|i| mail(&format!("user{i}@x.example"), &format!("Issue {i}"), &format!("r{i}@x.example"), "", "help")).collect();
    d.deliver_all(&all).await;
    a.post(&format!("/api/v1/mailboxes/{id}/poll"), json!({})).await;
    // Killed (SIGKILL) once it is some way in.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, m) = a.get(&format!("/api/v1/mailboxes/{id}")).await;
        let n = m["last_uid"].as_i64().unwrap_or(0);
        if n >= 5 {
            eprintln!("killed with {n} of 100 handled");
            break;
        }
        assert!(Instant::now() < deadline, "the mailbox was not being read: {m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    server.restart();
    let a = server.admin().await;
    a.post(&format!("/api/v1/mailboxes/{id}/poll"), json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let m = loop {
        let (_, m) = a.get(&format!("/api/v1/mailboxes/{id}")).await;
        if m["last_uid"].as_i64().unwrap_or(0) >= 100 {
            break m;
        }
        assert!(Instant::now() < deadline, "the restarted server did not read on: {m}\n{}", server.stderr());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(m["last_error"], "", "{m}");
    let (_, v) = a.get(&format!("/api/v1/clients/{inbox}/tickets?limit=200")).await;
    let subjects: std::collections::BTreeSet<String> =
        v["items"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap().to_string()).collect();
    assert_eq!(v["total"], 100, "exactly 100 tickets: {}", v["total"]);
    assert_eq!(subjects.len(), 100, "each message once");
}

#[tokio::test]
async fn a_wrong_password_or_an_unknown_ca_is_reported_as_such() {
    let Some(d) = Dovecot::start().await else { return };
    let server = Server::start().await;
    let a = server.admin().await;
    let c = client(&a, "Acme").await;

    let wrong = mailbox(&a, &d, c, json!({"name": "Wrong password", "password": "not it"})).await;
    let (_, t) = a.post(&format!("/api/v1/mailboxes/{}/test", wrong["id"]), json!({})).await;
    assert_eq!(t["ok"], false);
    assert_eq!(t["step"], "login", "{t}");

    let no_ca = mailbox(&a, &d, c, json!({"name": "No CA", "ca_pem": null, "security": "tls", "port": d.tls_port})).await;
    let (_, t) = a.post(&format!("/api/v1/mailboxes/{}/test", no_ca["id"]), json!({})).await;
    assert_eq!(t["step"], "tls", "{t}");
    assert!(t["error"].as_str().unwrap().to_lowercase().contains("certificate"), "{t}");

    let with_ca = mailbox(&a, &d, c, json!({"name": "IMAPS", "security": "tls", "port": d.tls_port})).await;
    let (_, t) = a.post(&format!("/api/v1/mailboxes/{}/test", with_ca["id"]), json!({})).await;
    assert_eq!(t["ok"], true, "implicit TLS with the server's CA: {t}");

    // The poll's failure stays on the mailbox for its page.
    let m = read_until_error(&a, wrong["id"].as_i64().unwrap()).await;
    assert!(m["last_error"].as_str().unwrap().starts_with("login refused"), "{m}");

    // Plain IMAP only to loopback.
    let (s, v) = a
        .post(
            "/api/v1/mailboxes",
            json!({"name": "Plain", "host": "imap.example.com", "port": 143, "security": "plain", "username": "u", "password": "p", "default_client_id": c}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
}

async fn read_until_error(a: &Client, mailbox: i64) -> Value {
    a.post(&format!("/api/v1/mailboxes/{mailbox}/poll"), json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, m) = a.get(&format!("/api/v1/mailboxes/{mailbox}")).await;
        if m["last_error"].as_str().is_some_and(|e| !e.is_empty()) {
            return m;
        }
        assert!(Instant::now() < deadline, "no error recorded: {m}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_reply_is_mailed_threaded_and_delivered_once_the_smtp_server_is_up() {
    let Some(d) = Dovecot::start().await else { return };
    let Some(mut smtp) = Smtp::prepare() else { return };
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let server = Server::start_in(env, &["--mail-retry-secs", "1"]).await;
    let a = server.admin().await;
    let acme = client(&a, "Acme").await;
    a.post(&format!("/api/v1/clients/{acme}/contacts"), json!({"name": "Renée Ortiz", "email": "renee@acme.example"})).await;
    let mb = mailbox(&a, &d, acme, json!({})).await;
    let id = mb["id"].as_i64().unwrap();
    // The SMTP server is not up yet.
    let (s, v) = a
        .put(
            "/api/v1/settings/smtp",
            json!({"host": "127.0.0.1", "port": smtp.port, "security": "starttls", "from_address": "support@msp.example",
                   "from_name": "MSP Help Desk", "ca_pem": smtp.ca_pem}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, t) = a.post("/api/v1/settings/smtp/test", json!({"to": "renee@acme.example"})).await;
    assert_eq!(t["ok"], false, "nothing listens yet: {t}");

    d.deliver(&mail("renee@acme.example", "VPN down", "v1@acme.example", "Cc: boss@acme.example\n", "The VPN is down.")).await;
    read_until(&a, id, 1).await;
    let ticket = tickets(&a, acme).await[0].clone();
    let (tid, number) = (ticket["id"].as_i64().unwrap(), ticket["number"].as_i64().unwrap());
    let (s, v) = a
        .post(
            &format!("/api/v1/clients/{acme}/tickets/{tid}/entries"),
            json!({"kind": "reply", "body": "Restarting the gateway now.\nTry again in 5 minutes."}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let mail_of = format!("/api/v1/clients/{acme}/tickets/{tid}/mail");
    let deadline = Instant::now() + Duration::from_secs(30);
    let out = loop {
        let (_, v) = a.get(&mail_of).await;
        if v[0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            break v[0].clone();
        }
        assert!(Instant::now() < deadline, "no attempt: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(out["state"], "pending", "a refused connection is tried again: {out}");
    assert!(!out["last_error"].as_str().unwrap().is_empty());
    assert_eq!(out["to"], json!(["renee@acme.example"]));
    assert_eq!(out["cc"], json!(["boss@acme.example"]), "whom the client copied is copied");

    smtp.start().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    // The acknowledgement of the new ticket, then the reply.
    while smtp.received().len() < 2 {
        assert!(Instant::now() < deadline, "the mail was not delivered after the SMTP server started: {:?}", smtp.received());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, v) = a.get(&mail_of).await;
    assert_eq!(v[0]["state"], "sent", "{v}");
    let got = smtp.received();
    assert!(got[0].contains("We have your request") && got[0].contains("Auto-Submitted: auto-generated"), "{}", got[0]);
    let raw = &got[1];
    let header = |name: &str| {
        raw.lines().find(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase()))).unwrap_or("").to_string()
    };
    assert!(header("Subject").contains(&format!("[#{number}]")), "{raw}");
    assert!(header("In-Reply-To").contains("<v1@acme.example>"), "{raw}");
    assert!(header("To").contains("renee@acme.example") && header("Cc").contains("boss@acme.example"), "{raw}");
    let message_id = v[0]["message_id"].as_str().unwrap().to_string();
    assert!(header("Message-ID").contains(&message_id), "{raw}");
    assert!(raw.contains("Restarting the gateway now."), "{raw}");

    // The client answers our mail (its headers only): the same ticket.
    d.deliver(&mail("renee@acme.example", "Re: VPN", "v2@acme.example", &format!("In-Reply-To: <{message_id}>\n"), "Works again, thanks."))
        .await;
    read_until(&a, id, 2).await;
    assert_eq!(tickets(&a, acme).await.len(), 1);
    let th = thread(&a, acme, tid).await;
    assert!(th.iter().any(|e| e["body"] == "Works again, thanks." && e["kind"] == "request"), "{th:?}");

    // Sent once: nothing more arrives.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.received().len(), 2, "the acknowledgement and the reply were sent exactly once each");
    assert!(!raw.contains("Auto-Submitted"), "a person's reply is not marked automatic: {raw}");
}
