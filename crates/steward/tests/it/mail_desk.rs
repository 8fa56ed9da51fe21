//! The service desk's mail, beyond threading (real Dovecot and aiosmtpd
//! on loopback): attachments and inline images kept as the ticket's
//! files, an unreadable message kept whole, routing by a client's mail
//! domain with the sender proposed as a contact, a bounce joining the
//! ticket of the mail it returns, a client's answer reopening a resolved
//! ticket and following up a closed one, a flood of 50 mails becoming one
//! ticket; and out: templates (checked, previewed, used), the
//! acknowledgement of a new ticket (never to a machine), the resolution
//! notice, a client's own From, staff told of new tickets on the boards
//! they watch, and read messages moved to a folder.

use crate::common::mail::{Dovecot, Smtp, PASSWORD, USER};
use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn client(a: &Client, name: &str) -> i64 {
    let (s, v) = a.post("/api/v1/clients", json!({"name": name})).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

async fn mailbox(a: &Client, d: &Dovecot, default_client: i64, extra: Value) -> i64 {
    let mut body = json!({
        "name": "Support", "host": "127.0.0.1", "port": d.port, "security": "starttls",
        "username": USER, "password": PASSWORD, "ca_pem": d.ca_pem, "default_client_id": default_client, "poll_secs": 3600,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, v) = a.post("/api/v1/mailboxes", body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

async fn tickets(a: &Client, client: i64) -> Vec<Value> {
    let (s, v) = a.get(&format!("/api/v1/clients/{client}/tickets?limit=200")).await;
    assert_eq!(s, 200, "{v}");
    v.get("items").and_then(Value::as_array).or(v.as_array()).cloned().unwrap_or_default()
}

async fn thread(a: &Client, client: i64, id: i64) -> Vec<Value> {
    let (s, v) = a.get(&format!("/api/v1/clients/{client}/tickets/{id}/entries")).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

async fn read_until(a: &Client, mailbox: i64, uid: i64) -> Value {
    let (s, v) = a.post(&format!("/api/v1/mailboxes/{mailbox}/poll"), json!({})).await;
    assert_eq!(s, 202, "{v}");
    let deadline = Instant::now() + Duration::from_secs(60);
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

/// The plain part of a raw mail, decoded.
fn text_of(raw: &str) -> String {
    let m = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect("a mail");
    m.body_text(0).map(|t| t.replace("\r\n", "\n")).unwrap_or_default()
}

async fn status_of(a: &Client, client: i64, id: i64) -> String {
    let (_, t) = a.get(&format!("/api/v1/clients/{client}/tickets/{id}")).await;
    t["status"]["kind"].as_str().or(t["status_kind"].as_str()).unwrap_or_default().to_string()
}

async fn set_status(a: &Client, client: i64, id: i64, status: &str) {
    let (s, v) = a.patch(&format!("/api/v1/clients/{client}/tickets/{id}"), json!({"status": status})).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn files_domains_bounces_reopening_and_a_flood_are_handled_like_a_desk_would() {
    let Some(d) = Dovecot::start().await else { return };
    let server = Server::start().await;
    let a = server.admin().await;
    let acme = client(&a, "Acme").await;
    let other = client(&a, "Other").await;
    let unknown = client(&a, "Unknown senders").await;
    a.post(&format!("/api/v1/clients/{acme}/contacts"), json!({"name": "Renée Ortiz", "email": "renee@acme.example"})).await;

    // Mail domains: kept plain, and one client's only.
    let (s, v) = a.put(&format!("/api/v1/clients/{acme}/mail"), json!({"domains": ["@ACME.example", "acme-dental.example"]})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["domains"], json!(["acme-dental.example", "acme.example"]));
    let (s, v) = a.put(&format!("/api/v1/clients/{other}/mail"), json!({"domains": ["acme.example"]})).await;
    assert_eq!(s, 409, "a domain belongs to one client: {v}");
    let (s, v) = a.put(&format!("/api/v1/clients/{other}/mail"), json!({"domains": ["not a domain"]})).await;
    assert_eq!(s, 400, "{v}");

    let mb = mailbox(&a, &d, unknown, json!({"move_to": "Handled"})).await;

    // 1: a contact's mail with an inline image and a PDF whose name tries a path.
    d.deliver(concat!(
        "From: renee@acme.example\nTo: support@msp.example\nSubject: Screens\nMessage-ID: <s1@acme.example>\n",
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n\n",
        "--m\nContent-Type: multipart/related; boundary=r\n\n",
        "--r\nContent-Type: text/html\n\n<p>See <img src=\"cid:shot1@acme\"> and <img src=\"https://tracker.example/p.gif\"></p>\n",
        "--r\nContent-Type: image/png\nContent-ID: <shot1@acme>\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n",
        "--m\nContent-Type: application/pdf; name=\"../../etc/Rechnung.pdf\"\nContent-Disposition: attachment; filename=\"../../etc/Rechnung.pdf\"\n",
        "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--m--\n",
    ))
    .await;
    // 2: something that is not a mail at all.
    d.deliver("\nthis is not a mail, only bytes\n").await;
    // 3: a colleague of Renée's nobody has recorded yet.
    d.deliver(&mail("Bob.New@Acme.example", "Laptop slow", "n1@acme.example", "", "My laptop is slow.")).await;
    read_until(&a, mb, 3).await;

    let mine = tickets(&a, acme).await;
    let screens = mine.iter().find(|t| t["subject"] == "Screens").expect("the contact's ticket");
    let sid = screens["id"].as_i64().unwrap();
    let (s, files) = a.get(&format!("/api/v1/clients/{acme}/tickets/{sid}/attachments")).await;
    assert_eq!(s, 200, "{files}");
    let names: Vec<&str> = files.as_array().unwrap().iter().map(|f| f["file_name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "{files}");
    assert!(names.contains(&"Rechnung.pdf"), "the path is gone from the name: {names:?}");
    let png = files.as_array().unwrap().iter().find(|f| f["content_type"] == "image/png").expect("the inline image is a file");
    let request = thread(&a, acme, sid).await.into_iter().find(|e| e["kind"] == "request").unwrap();
    assert_eq!(request["details"]["mail"]["inline"]["shot1@acme"], png["sha256"], "cid: names the kept image");
    assert_eq!(request["details"]["mail"]["remote_images_blocked"], 1);
    let (s, bytes) = a.get_text(&format!("/api/v1/clients/{acme}/tickets/{sid}/attachments/{}", png["id"])).await;
    assert_eq!((s, png["size"].as_i64()), (200, Some(8)), "the image's bytes are kept");
    assert!(bytes.ends_with("PNG\r\n\u{1a}\n"), "{bytes:?}");

    let strange = tickets(&a, unknown).await;
    let unreadable =
        strange.iter().find(|t| t["tags"].as_array().unwrap().contains(&json!("unreadable-mail"))).expect("kept, never dropped");
    let uid = unreadable["id"].as_i64().unwrap();
    let (_, files) = a.get(&format!("/api/v1/clients/{unknown}/tickets/{uid}/attachments")).await;
    assert_eq!(files[0]["file_name"], "message.eml", "the raw message is attached: {files}");
    let th = thread(&a, unknown, uid).await;
    assert!(th.iter().any(|e| e["body"].as_str().unwrap().contains("could not be read")), "a visible warning: {th:?}");

    let bob = mine.iter().find(|t| t["subject"] == "Laptop slow").expect("the domain routes to Acme");
    assert!(bob["tags"].as_array().unwrap().contains(&json!("proposed-contact")), "{bob}");
    assert!(bob["contact_id"].is_null(), "no contact is created silently: {bob}");
    let first = thread(&a, acme, bob["id"].as_i64().unwrap()).await.into_iter().find(|e| e["kind"] == "request").unwrap();
    assert_eq!(first["details"]["mail"]["proposed_contact"]["email"], "bob.new@acme.example");
    let (_, contacts) = a.get(&format!("/api/v1/clients/{acme}/contacts")).await;
    assert_eq!(contacts["total"], 1, "{contacts}");
    // A technician adds the proposed contact from the ticket's page: the ticket is theirs now.
    let bob_id = bob["id"].as_i64().unwrap();
    let (s, to, body) = a.form(&format!("/clients/{acme}/tickets/{bob_id}/entries/{}/adopt-contact", first["id"]), &[]).await;
    assert_eq!(s, 303, "{body}");
    assert!(to.starts_with(&format!("/clients/{acme}/tickets/{bob_id}")), "{to}");
    let (_, contacts) = a.get(&format!("/api/v1/clients/{acme}/contacts")).await;
    let added = contacts["items"].as_array().unwrap().iter().find(|c| c["email"] == "bob.new@acme.example").expect("the contact").clone();
    let (_, t) = a.get(&format!("/api/v1/clients/{acme}/tickets/{bob_id}")).await;
    assert_eq!(t["contact_id"], added["id"], "{t}");
    assert!(!t["tags"].as_array().unwrap().contains(&json!("proposed-contact")), "{t}");

    // 4: a bounce of a mail on the first ticket; 5: Renée answers the resolved ticket.
    set_status(&a, acme, sid, "resolved").await;
    d.deliver(concat!(
        "From: MAILER-DAEMON@mx.acme.example\nTo: support@msp.example\nReturn-Path: <>\nSubject: Undelivered Mail Returned to Sender\n",
        "Message-ID: <dsn1@mx.acme.example>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\n\n",
        "--r\nContent-Type: text/plain\n\nThe mail could not be delivered: mailbox full.\n",
        "--r\nContent-Type: text/rfc822-headers\n\nFrom: renee@acme.example\nMessage-ID: <s1@acme.example>\nSubject: Screens\n\n",
        "--r--\n",
    ))
    .await;
    d.deliver(&mail("renee@acme.example", "Re: Screens", "s2@acme.example", "In-Reply-To: <s1@acme.example>\n", "Still broken.")).await;
    read_until(&a, mb, 5).await;
    let th = thread(&a, acme, sid).await;
    let bounce = th.iter().find(|e| e["body"].as_str().unwrap().contains("could not be delivered")).expect("the bounce is on its ticket");
    assert_eq!(bounce["kind"], "note", "a bounce is never public");
    assert_eq!(status_of(&a, acme, sid).await, "open", "the client's answer reopens a resolved ticket");

    // 6: an answer to a closed ticket opens a new one, linked to it.
    set_status(&a, acme, sid, "closed").await;
    d.deliver(&mail("renee@acme.example", "Re: Screens", "s3@acme.example", "In-Reply-To: <s2@acme.example>\n", "It is back.")).await;
    read_until(&a, mb, 6).await;
    assert_eq!(status_of(&a, acme, sid).await, "closed", "a closed ticket stays closed");
    let mine = tickets(&a, acme).await;
    let follow = mine.iter().find(|t| t["subject"] == "Re: Screens").expect("a follow-up ticket");
    let fth = thread(&a, acme, follow["id"].as_i64().unwrap()).await;
    assert!(fth.iter().any(|e| e["body"].as_str().unwrap().contains("after it was closed")), "{fth:?}");

    // 7: 50 mails from one sender in a minute: one ticket.
    let flood: Vec<String> = (0..50)
        .map(|i| {
            mail("monitor@acme-dental.example", &format!("Alert {i}: disk"), &format!("f{i}@acme-dental.example"), "", "Disk almost full.")
        })
        .collect();
    d.deliver_all(&flood).await;
    read_until(&a, mb, 56).await;
    let alerts: Vec<Value> = tickets(&a, acme)
        .await
        .into_iter()
        .filter(|t| t["subject"].as_str().unwrap().starts_with("Alert ") && t["merged_into"].is_null())
        .collect();
    assert_eq!(alerts.len(), 1, "a flood is one ticket: {alerts:?}");
    let all = thread(&a, acme, alerts[0]["id"].as_i64().unwrap()).await;
    let kept = all.iter().filter(|e| e["kind"] == "request" || e["kind"] == "note").count();
    assert_eq!(kept, 50, "every message of the flood is on it");

    // Read messages were moved to the folder named, not deleted.
    assert_eq!(d.seen_count().await, 0, "INBOX is empty after the moves");
    assert_eq!(d.count_in("Handled").await, 56);
}

#[tokio::test]
async fn templates_acknowledgements_resolutions_a_clients_from_and_staff_notices_are_mailed() {
    let Some(d) = Dovecot::start().await else { return };
    let Some(mut smtp) = Smtp::prepare() else { return };
    smtp.start().await;
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let server = Server::start_in(env, &["--mail-retry-secs", "1"]).await;
    let a = server.admin().await;
    let acme = client(&a, "Acme").await;
    a.post(&format!("/api/v1/clients/{acme}/contacts"), json!({"name": "Renée Ortiz", "email": "renee@acme.example"})).await;
    let (s, v) = a
        .put(
            "/api/v1/settings/smtp",
            json!({"host": "127.0.0.1", "port": smtp.port, "security": "starttls", "from_address": "support@msp.example",
                   "from_name": "MSP Help Desk", "ca_pem": smtp.ca_pem}),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Templates: listed with their placeholders, checked, previewed, saved.
    let (s, list) = a.get("/api/v1/settings/mail-templates").await;
    assert_eq!(s, 200, "{list}");
    let ack = list.as_array().unwrap().iter().find(|t| t["kind"] == "acknowledgement").unwrap();
    assert_eq!(ack["custom"], false);
    let (s, v) = a.put("/api/v1/settings/mail-templates/acknowledgement", json!({"subject": "Got it", "body": "Text {{message}}"})).await;
    assert_eq!(s, 400, "an acknowledgement has no message to quote: {v}");
    let custom =
        json!({"subject": "Ticket {{ticket.number}} is open", "body": "Hi {{contact.name}},\nwe are on it <b>now</b>.\n{{company.name}}"});
    let (s, p) = a.post("/api/v1/settings/mail-templates/acknowledgement/preview", custom.clone()).await;
    assert_eq!(s, 200, "{p}");
    assert!(p["text"].as_str().unwrap().starts_with("Hi Renée Ortiz,") && p["html"].as_str().unwrap().contains("&lt;b&gt;now"), "{p}");
    let (s, v) = a.put("/api/v1/settings/mail-templates/acknowledgement", custom).await;
    assert_eq!((s, &v["custom"]), (200, &json!(true)), "{v}");
    let (s, _) = a.put("/api/v1/settings/mail-templates/nope", json!({"subject": "x", "body": "y"})).await;
    assert_eq!(s, 404);

    // Acme's mail goes out with its own From; the administrator watches the board.
    let (s, v) =
        a.put(&format!("/api/v1/clients/{acme}/mail"), json!({"from_address": "help@acme-care.example", "from_name": "Acme Care"})).await;
    assert_eq!(s, 200, "{v}");
    let (_, boards) = a.get("/api/v1/ticket-boards").await;
    let board = boards[0]["id"].as_i64().unwrap();
    let (s, v) = a.put("/api/v1/me/mail-notifications", json!({"enabled": true, "watched_boards": [board]})).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = a.put("/api/v1/me/mail-notifications", json!({"enabled": true, "watched_boards": [99999]})).await;
    assert_eq!(s, 422);

    let mb = mailbox(&a, &d, acme, json!({})).await;
    d.deliver(&mail("renee@acme.example", "Printer jams", "p1@acme.example", "", "The printer jams.")).await;
    d.deliver(&mail("renee@acme.example", "Out of office", "p2@acme.example", "Auto-Submitted: auto-replied\n", "I am away.")).await;
    // A bounce of the acknowledgement's kind: joins the ticket, answered by nothing.
    d.deliver(concat!(
        "From: MAILER-DAEMON@mx.acme.example\nTo: support@msp.example\nReturn-Path: <>\nSubject: Undelivered Mail Returned to Sender\n",
        "Message-ID: <dsn2@mx.acme.example>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\n\n",
        "--r\nContent-Type: text/plain\n\nThe mail could not be delivered.\n",
        "--r\nContent-Type: text/rfc822-headers\n\nFrom: renee@acme.example\nMessage-ID: <p1@acme.example>\nSubject: Printer jams\n\n",
        "--r--\n",
    ))
    .await;
    read_until(&a, mb, 3).await;
    let printer = tickets(&a, acme).await.into_iter().find(|t| t["subject"] == "Printer jams").unwrap();
    let (pid, number) = (printer["id"].as_i64().unwrap(), printer["number"].as_i64().unwrap());
    let th = thread(&a, acme, pid).await;
    assert!(th.iter().any(|e| e["kind"] == "note" && e["body"].as_str().unwrap().contains("could not be delivered")), "{th:?}");
    set_status(&a, acme, pid, "resolved").await;

    // Expected: the acknowledgement and the resolution to Renée (nothing
    // for the auto-reply or the bounce), two new-ticket notices to the administrator.
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.received().len() < 4 {
        assert!(Instant::now() < deadline, "mail missing: {:#?}", smtp.received());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = smtp.received();
    assert_eq!(got.len(), 4, "{got:#?}");
    let to = |m: &str, who: &str| m.lines().any(|l| l.starts_with("To:") && l.contains(who));
    let for_renee: Vec<&String> = got.iter().filter(|m| to(m, "renee@acme.example")).collect();
    assert_eq!(for_renee.len(), 2, "{got:#?}");
    let ack = for_renee.iter().find(|m| m.contains("is open")).expect("the acknowledgement");
    assert!(ack.contains(&format!("Subject: Ticket #{number} is open [#{number}]")) || ack.contains(&format!("[#{number}]")), "{ack}");
    assert!(
        text_of(ack).starts_with("Hi Renée Ortiz,\nwe are on it <b>now</b>.")
            && ack.contains("help@acme-care.example")
            && ack.contains("Auto-Submitted: auto-generated"),
        "{ack}"
    );
    let resolved = for_renee.iter().find(|m| m.contains("Resolved:")).expect("the resolution notice");
    assert!(text_of(resolved).contains("the ticket opens again"), "{resolved}");
    let staff: Vec<&String> = got.iter().filter(|m| to(m, ADMIN_EMAIL)).collect();
    assert_eq!(staff.len(), 2, "a notice per new ticket on the watched board: {got:#?}");
    assert!(staff.iter().all(|m| m.contains("New ticket")), "{staff:#?}");
    let (_, notes) = a.get("/api/v1/notifications").await;
    assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "staff_new_ticket"), "also in the app: {notes}");

    // Turned off: no more mail to the administrator.
    a.put("/api/v1/me/mail-notifications", json!({"enabled": false, "watched_boards": [board]})).await;
    d.deliver(&mail("renee@acme.example", "Another", "p3@acme.example", "", "One more.")).await;
    read_until(&a, mb, 4).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = smtp.received();
    assert_eq!(got.iter().filter(|m| to(m, ADMIN_EMAIL)).count(), 2, "{got:#?}");
    assert_eq!(got.iter().filter(|m| to(m, "renee@acme.example")).count(), 3, "the third ticket is acknowledged");
}

#[tokio::test]
async fn a_mailbox_is_changed_turned_off_and_given_a_new_password() {
    let Some(d) = Dovecot::start().await else { return };
    let server = Server::start().await;
    let a = server.admin().await;
    let acme = client(&a, "Acme").await;
    let mb = mailbox(&a, &d, acme, json!({"password": "wrong"})).await;
    let (s, v) = a.post(&format!("/api/v1/mailboxes/{mb}/poll"), json!({})).await;
    assert_eq!(s, 202, "{v}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, m) = a.get(&format!("/api/v1/mailboxes/{mb}")).await;
        if !m["last_error"].as_str().unwrap_or("").is_empty() {
            assert!(m["last_error"].as_str().unwrap().to_lowercase().contains("log"), "{m}");
            break;
        }
        assert!(Instant::now() < deadline, "no error recorded: {m}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The mailbox's page says what went wrong, and its test names the step.
    let (s, page) = a.get_text("/settings/mail").await;
    assert_eq!(s, 200);
    assert!(page.contains("mailbox-error"), "the error is on the page: {page}");
    let (s, _, body) = a.form(&format!("/settings/mail/mailboxes/{mb}"), &[("action", "test")]).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("The test failed at login"), "{body}");
    let (s, _, body) =
        a.form("/settings/mail/templates/reply/preview", &[("subject", "Re: {{ticket.subject}}"), ("body", "<i>{{message}}</i>")]).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("Re: Printer on floor 2 jams") && body.contains("&lt;i&gt;"), "{body}");
    let (s, v) = a.patch(&format!("/api/v1/mailboxes/{mb}"), json!({"password": PASSWORD, "flood_per_hour": 5, "poll_secs": 3600})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["flood_per_hour"].as_i64(), v["last_error"].as_str()), (Some(5), Some("")), "{v}");
    assert!(v.get("password").is_none());
    d.deliver(&mail("x@y.example", "Hello", "h1@y.example", "", "Hi.")).await;
    read_until(&a, mb, 1).await;
    let (s, v) = a.patch(&format!("/api/v1/mailboxes/{mb}"), json!({"enabled": false})).await;
    assert_eq!((s, &v["enabled"]), (200, &json!(false)), "{v}");
    d.deliver(&mail("x@y.example", "Again", "h2@y.example", "", "Hi again.")).await;
    a.post(&format!("/api/v1/mailboxes/{mb}/poll"), json!({})).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (_, m) = a.get(&format!("/api/v1/mailboxes/{mb}")).await;
    assert_eq!(m["last_uid"], 1, "a mailbox turned off is not read: {m}");
    for bad in
        [json!({"security": "plain", "host": "mail.example.com"}), json!({"poll_secs": 1}), json!({"move_to": "INBOX"}), json!({"nope": 1})]
    {
        let (s, v) = a.patch(&format!("/api/v1/mailboxes/{mb}"), bad.clone()).await;
        assert!(s == 422 || s == 400, "{bad}: {s} {v}");
    }
}

#[tokio::test]
async fn new_mail_becomes_a_ticket_within_seconds_through_idle() {
    let Some(d) = Dovecot::start().await else { return };
    let server = Server::start().await;
    let a = server.admin().await;
    let acme = client(&a, "Acme").await;
    // Polled once an hour: only IDLE can bring the mail in quickly.
    let mb = mailbox(&a, &d, acme, json!({"poll_secs": 3600})).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, m) = a.get(&format!("/api/v1/mailboxes/{mb}")).await;
        if !m["last_polled_at"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "the first read did not happen: {m}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The watcher finds the mailbox and enters IDLE.
    tokio::time::sleep(Duration::from_secs(8)).await;
    d.deliver(&mail("x@y.example", "Server down", "i1@y.example", "", "It is down.")).await;
    let delivered = Instant::now();
    loop {
        if tickets(&a, acme).await.iter().any(|t| t["subject"] == "Server down") {
            break;
        }
        assert!(delivered.elapsed() < Duration::from_secs(15), "the mail was not read within seconds (no IDLE?)");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
