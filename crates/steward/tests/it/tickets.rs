//! The service desk through its API, against the real server on either
//! engine: a ticket's life (thread, events, first response, reopen, merge,
//! links), gapless numbers under concurrent creates, scoping of every
//! ticket route and of the queue, bulk actions, imports, and hostile input.

use crate::common::*;
use serde_json::{json, Value};

async fn ticket(a: &Client, client: i64, body: Value) -> Value {
    let (s, v) = a.post(&format!("/api/v1/clients/{client}/tickets"), body).await;
    assert_eq!(s, 201, "create ticket: {v}");
    v
}

async fn thread(a: &Client, client: i64, id: i64) -> Vec<Value> {
    let (s, v) = a.get(&format!("/api/v1/clients/{client}/tickets/{id}/entries")).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

fn bodies(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| format!("{}: {}", e["kind"].as_str().unwrap(), e["body"].as_str().unwrap())).collect()
}

fn ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339()
}

#[tokio::test]
async fn a_ticket_is_opened_answered_and_its_history_kept() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let (_, contact) = a.post(&format!("/api/v1/clients/{c}/contacts"), json!({"name": "Ann Example", "email": "ann@acme.example"})).await;
    let t = ticket(
        &a,
        c,
        json!({"subject": "Printer on 2nd floor jams", "priority": "P2", "contact_id": contact["id"], "body": "It jams on every job.\n<b>Help</b>", "tags": ["Printer", "printer", "floor-2"]}),
    )
    .await;
    assert_eq!(t["number"], 1001, "numbers start after 1000");
    assert_eq!(t["reference"], "#1001");
    assert_eq!(t["status"]["kind"], "new");
    assert_eq!(t["priority"], "P2");
    assert_eq!(t["type"], "incident");
    assert_eq!(t["tags"], json!(["floor-2", "printer"]));
    assert_eq!(t["contact_id"], contact["id"]);
    assert!(t["first_response_at"].is_null() && t["sla"].is_null(), "no policy yet: no clocks");
    let id = t["id"].as_i64().unwrap();
    // The request is the first entry, kept as text (markup and all).
    let th = thread(&a, c, id).await;
    assert_eq!(th.len(), 1);
    assert_eq!(th[0]["kind"], "request");
    assert_eq!(th[0]["body"], "It jams on every job.\n<b>Help</b>");
    assert_eq!(th[0]["author"]["name"], "admin");

    // A note does not answer the client; a reply does, and opens the ticket.
    let (st, note) =
        a.post(&format!("/api/v1/clients/{c}/tickets/{id}/entries"), json!({"kind": "note", "body": "Probably the fuser."})).await;
    assert_eq!(st, 201, "{note}");
    let (_, t) = a.get(&format!("/api/v1/clients/{c}/tickets/{id}")).await;
    assert!(t["first_response_at"].is_null());
    let (st, reply) = a.post(&format!("/api/v1/clients/{c}/tickets/{id}/entries"), json!({"kind": "reply", "body": "On my way."})).await;
    assert_eq!(st, 201, "{reply}");
    assert!(reply["created_at"].as_str().unwrap().ends_with('Z'));
    let (_, t) = a.get(&format!("/api/v1/clients/{c}/tickets/{id}")).await;
    assert_eq!(t["first_response_at"], reply["created_at"]);
    assert_eq!(t["status"]["kind"], "open", "a reply opens a new ticket");

    // Changes become events in the ticket's own history.
    let (st, t) = a.patch(&format!("/api/v1/clients/{c}/tickets/{id}"), json!({"status": "Waiting on client", "priority": "P1"})).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["status"]["name"], "Waiting on client");
    assert_eq!(t["priority"], "P1");
    let (_, t) = a.patch(&format!("/api/v1/clients/{c}/tickets/{id}"), json!({"status": "resolved"})).await;
    assert_eq!(t["status"]["kind"], "resolved");
    assert!(t["resolved_at"].is_string());
    // A reply to a resolved ticket reopens it.
    a.post(&format!("/api/v1/clients/{c}/tickets/{id}/entries"), json!({"kind": "reply", "body": "It is back."})).await;
    let (_, t) = a.get(&format!("/api/v1/clients/{c}/tickets/{id}")).await;
    assert_eq!(t["status"]["kind"], "open");
    assert!(t["resolved_at"].is_null());
    let th = bodies(&thread(&a, c, id).await);
    for want in [
        "note: Probably the fuser.",
        "reply: On my way.",
        "event: Status: New → Open",
        "event: priority: P2 → P1",
        "event: Status: Open → Waiting on client",
        "event: Status: Waiting on client → Resolved",
        "event: Status: Resolved → Open",
    ] {
        assert!(th.iter().any(|e| e == want), "{want:?} in {th:#?}");
    }
    // A closed ticket takes notes but no replies until reopened.
    a.patch(&format!("/api/v1/clients/{c}/tickets/{id}"), json!({"status": "closed"})).await;
    let (st, v) = a.post(&format!("/api/v1/clients/{c}/tickets/{id}/entries"), json!({"kind": "reply", "body": "late"})).await;
    assert_eq!((st, error_code(&v).as_str()), (422, "refused"));

    // And in the audit log.
    let (_, audit) = a.get("/api/v1/audit?limit=100").await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for want in ["ticket.create", "ticket.note", "ticket.reply", "ticket.update"] {
        assert!(actions.contains(&want), "{want} audited: {actions:?}");
    }
}

#[tokio::test]
async fn numbers_have_no_gaps_or_repeats_under_16_concurrent_creates() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    // A refused create in the middle takes no number.
    let (st, _) = a.post(&format!("/api/v1/clients/{c}/tickets"), json!({"subject": "x", "contact_id": 999_999})).await;
    assert_eq!(st, 422);
    let futs = (0..16).map(|i| {
        let a = &a;
        async move { ticket(a, c, json!({"subject": format!("Ticket {i}")})).await["number"].as_i64().unwrap() }
    });
    let mut numbers: Vec<i64> = futures_util::future::join_all(futs).await;
    numbers.sort();
    assert_eq!(numbers, (1001..=1016).collect::<Vec<_>>());
    let (_, q) = a.get("/api/v1/tickets?sort=number&limit=100").await;
    assert_eq!(q["total"], 16);
    assert_eq!(q["items"][0]["number"], 1016, "newest first");
}

#[tokio::test]
async fn a_limited_technician_sees_no_other_clients_tickets() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    let tech = make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let my_ticket = ticket(&a, mine, json!({"subject": "VPN drops", "assignee_id": tech})).await;
    let their_ticket = ticket(&a, theirs, json!({"subject": "Secret merger server", "tags": ["secret"]})).await;
    let (mid, tid) = (my_ticket["id"].as_i64().unwrap(), their_ticket["id"].as_i64().unwrap());
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;

    // The queue, a client filter, tags and text never show theirs.
    for q in [
        "/api/v1/tickets",
        "/api/v1/tickets?status=all",
        &format!("/api/v1/tickets?client_id={theirs}"),
        "/api/v1/tickets?tag=secret",
        "/api/v1/tickets?q=merger",
    ] {
        let (st, v) = t.get(q).await;
        assert_eq!(st, 200, "{q}: {v}");
        assert!(v["items"].as_array().unwrap().iter().all(|i| i["client_id"] == mine), "{q}: {v}");
        assert!(!v.to_string().contains("Secret"), "{q}");
    }
    let (_, v) = t.get("/api/v1/tickets?assignee=me").await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["id"], mid);
    // Every route of theirs: 404, also through my client's path.
    assert_eq!(t.get(&format!("/api/v1/tickets/by-number/{}", their_ticket["number"])).await.0, 404);
    assert_eq!(t.get(&format!("/api/v1/clients/{mine}/tickets/{tid}")).await.0, 404);
    assert_eq!(t.get(&format!("/api/v1/clients/{mine}/tickets/{tid}/entries")).await.0, 404);
    assert_eq!(t.patch(&format!("/api/v1/clients/{mine}/tickets/{tid}"), json!({"subject": "mine now"})).await.0, 404);
    // Nor can they reach it through a bulk action, a link, a merge or a move.
    let (st, v) = t.post("/api/v1/tickets/bulk", json!({"ticket_ids": [mid, tid], "status": "closed"})).await;
    assert_eq!(st, 422, "{v}");
    let (st, _) = t.post(&format!("/api/v1/clients/{mine}/tickets/{mid}/links"), json!({"ticket_id": tid})).await;
    assert_eq!(st, 422);
    let (st, _) = t.post(&format!("/api/v1/clients/{mine}/tickets/{mid}/merge"), json!({"into_ticket_id": tid})).await;
    assert_eq!(st, 422);
    let (st, _) = t.patch(&format!("/api/v1/clients/{mine}/tickets/{mid}"), json!({"client_id": theirs})).await;
    assert_eq!(st, 422);
    // Nothing of theirs changed, and mine was not closed by the failed bulk action.
    let (_, v) = a.get(&format!("/api/v1/clients/{theirs}/tickets/{tid}")).await;
    assert_eq!(
        (v["subject"].as_str(), v["status"]["kind"].as_str(), v["links"].as_array().map(Vec::len)),
        (Some("Secret merger server"), Some("new"), Some(0))
    );
    let (_, v) = a.get(&format!("/api/v1/clients/{mine}/tickets/{mid}")).await;
    assert_eq!(v["status"]["kind"], "new");
    // The limited technician cannot be assigned to the other client's ticket.
    let (st, v) = a.patch(&format!("/api/v1/clients/{theirs}/tickets/{tid}"), json!({"assignee_id": tech})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("assignee_id")));

    // An open queue page hears of changes to its clients' tickets only:
    // theirs changes first, mine second, and the first event is mine.
    let mut stream = t.raw(reqwest::Method::GET, "/tickets/events").send().await.unwrap();
    assert_eq!(stream.status(), 200);
    a.patch(&format!("/api/v1/clients/{theirs}/tickets/{tid}"), json!({"subject": "Secret merger server v2"})).await;
    a.patch(&format!("/api/v1/clients/{mine}/tickets/{mid}"), json!({"subject": "VPN drops daily"})).await;
    let mut buf = String::new();
    while !buf.split_inclusive("\n\n").any(|b| b.ends_with("\n\n") && b.contains("event: changed")) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(20), stream.chunk()).await.expect("an event within 20 s");
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("stream open")));
    }
    let first = buf.split("\n\n").find(|b| b.contains("event: changed")).expect("a changed event");
    assert!(first.contains(&format!("\"ticket_id\":{mid}")), "the first event is about my ticket: {buf}");
    assert!(!buf.contains(&format!("\"ticket_id\":{tid}")), "{buf}");
}

#[tokio::test]
async fn merge_moves_the_thread_and_the_merged_number_leads_to_the_target() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let one = ticket(&a, c, json!({"subject": "Outlook crashes", "body": "first report", "tags": ["outlook"]})).await;
    let two = ticket(&a, c, json!({"subject": "Outlook will not start", "body": "second report", "tags": ["email"]})).await;
    let three = ticket(&a, c, json!({"subject": "Related: Exchange"})).await;
    let (i1, i2, i3) = (one["id"].as_i64().unwrap(), two["id"].as_i64().unwrap(), three["id"].as_i64().unwrap());
    a.post(&format!("/api/v1/clients/{c}/tickets/{i1}/links"), json!({"ticket_id": i3})).await;
    let (st, target) = a.post(&format!("/api/v1/clients/{c}/tickets/{i1}/merge"), json!({"into_ticket_id": i2})).await;
    assert_eq!(st, 200, "{target}");
    assert_eq!(target["id"], i2);
    assert_eq!(target["tags"], json!(["email", "outlook"]));
    assert_eq!(target["links"], json!([i3]), "links move to the target");
    let th = bodies(&thread(&a, c, i2).await);
    assert!(th.contains(&"request: first report".to_string()) && th.contains(&"request: second report".to_string()), "{th:?}");
    assert!(th.contains(&"event: #1001 merged into this ticket".to_string()), "{th:?}");
    let (_, src) = a.get(&format!("/api/v1/tickets/by-number/{}", one["number"])).await;
    assert_eq!(src["merged_into"], i2);
    assert_eq!(src["status"]["kind"], "closed");
    // The merged ticket takes no more entries and leaves the queue.
    let (st, _) = a.post(&format!("/api/v1/clients/{c}/tickets/{i1}/entries"), json!({"kind": "note", "body": "x"})).await;
    assert_eq!(st, 422);
    let (_, q) = a.get("/api/v1/tickets?status=all").await;
    assert!(q["items"].as_array().unwrap().iter().all(|i| i["id"] != i1));
    // A ticket cannot be merged into itself or twice.
    assert_eq!(a.post(&format!("/api/v1/clients/{c}/tickets/{i2}/merge"), json!({"into_ticket_id": i2})).await.0, 422);
    assert_eq!(a.post(&format!("/api/v1/clients/{c}/tickets/{i1}/merge"), json!({"into_ticket_id": i3})).await.0, 422);
}

#[tokio::test]
async fn bulk_actions_are_all_or_nothing_and_audited() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let tech = make_user(&a, "tech@msp.example", "technician", None).await;
    let ids: Vec<i64> = futures_util::future::join_all((0..3).map(|i| ticket(&a, c, json!({"subject": format!("Password reset {i}")}))))
        .await
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let (st, v) = a.post("/api/v1/tickets/bulk", json!({"ticket_ids": ids, "assignee_id": tech, "status": "open", "priority": "P4"})).await;
    assert_eq!(st, 200, "{v}");
    for id in &ids {
        let (_, t) = a.get(&format!("/api/v1/clients/{c}/tickets/{id}")).await;
        assert_eq!(
            (t["assignee_id"].as_i64(), t["status"]["kind"].as_str(), t["priority"].as_str()),
            (Some(tech), Some("open"), Some("P4"))
        );
        let th = bodies(&thread(&a, c, *id).await);
        assert!(th.contains(&"event: assignee: — → tech".to_string()), "{th:?}");
    }
    let (_, audit) = a.get("/api/v1/audit?limit=20").await;
    let bulk = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "ticket.bulk_update").expect("audited");
    assert_eq!(bulk["details"]["changes"].as_array().unwrap().len(), 3);
    // One bad ticket: nothing changes.
    let (st, _) = a.post("/api/v1/tickets/bulk", json!({"ticket_ids": [ids[0], 987_654], "status": "closed"})).await;
    assert_eq!(st, 422);
    let (_, t) = a.get(&format!("/api/v1/clients/{c}/tickets/{}", ids[0])).await;
    assert_eq!(t["status"]["kind"], "open");
    // No action (well-formed, nothing to do: 422), too many tickets (400),
    // an unknown status (422): clear errors.
    assert_eq!(a.post("/api/v1/tickets/bulk", json!({"ticket_ids": ids})).await.0, 422);
    assert_eq!(a.post("/api/v1/tickets/bulk", json!({"ticket_ids": (1..=501).collect::<Vec<i64>>(), "status": "open"})).await.0, 400);
    let (st, v) = a.post("/api/v1/tickets/bulk", json!({"ticket_ids": ids, "status": "Frozen"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("status")));
}

#[tokio::test]
async fn imports_need_their_permission_and_bad_input_gets_a_clear_error() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    let path = format!("/api/v1/clients/{c}/tickets");
    let (st, v) = t.post(&path, json!({"subject": "Old ticket", "opened_at": ago(600)})).await;
    assert_eq!((st, error_code(&v).as_str()), (403, "forbidden"));
    let imported = ticket(&a, c, json!({"subject": "Old ticket", "opened_at": "2025-03-01T09:00:00+01:00", "status": "open"})).await;
    assert_eq!(imported["opened_at"], "2025-03-01T08:00:00.000000Z");
    let id = imported["id"].as_i64().unwrap();
    let (st, e) = a
        .post(&format!("{path}/{id}/entries"), json!({"kind": "reply", "body": "Imported reply", "created_at": "2025-03-01T10:00:00Z"}))
        .await;
    assert_eq!(st, 201, "{e}");
    let (_, tk) = a.get(&format!("{path}/{id}")).await;
    assert_eq!(tk["first_response_at"], "2025-03-01T10:00:00.000000Z");
    let (st, _) =
        a.post(&format!("{path}/{id}/entries"), json!({"kind": "reply", "body": "x", "created_at": "2025-02-01T10:00:00Z"})).await;
    assert_eq!(st, 422, "before the ticket was opened");
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    assert_eq!(a.post(&path, json!({"subject": "x", "opened_at": future})).await.0, 422);

    for (body, field) in [
        (json!({"subject": ""}), "subject"),
        (json!({"subject": "bell\u{7}"}), "subject"),
        (json!({"subject": "x".repeat(201)}), "subject"),
        (json!({"subject": "ok", "type": "riddle"}), "type"),
        (json!({"subject": "ok", "body": "y".repeat(100_001)}), "body"),
    ] {
        let (st, v) = a.post(&path, body.clone()).await;
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{body}: {v}");
    }
    for (body, field) in [
        (json!({"subject": "ok", "priority": "P9"}), "priority"),
        (json!({"subject": "ok", "status": "Frozen"}), "status"),
        (json!({"subject": "ok", "device_ids": [424242]}), "device_ids"),
        // The schema takes any strings as tags; the rule for their letters is the server's.
        (json!({"subject": "ok", "tags": ["<script>"]}), "tags"),
    ] {
        let (st, v) = a.post(&path, body.clone()).await;
        assert_eq!((st, v["error"]["field"].as_str()), (422, Some(field)), "{body}: {v}");
    }
    let (st, v) = a.post(&format!("{path}/{id}/entries"), json!({"kind": "event", "body": "forged"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("kind")));
    for q in ["status=paused", "assignee=someone", "sla_state=late", "sort=random", &format!("q={}", "x".repeat(201))] {
        let (st, v) = a.get(&format!("/api/v1/tickets?{q}")).await;
        assert_eq!(st, 400, "{q}: {v}");
    }
    // A code of the right shape that nobody configured: refused (422).
    assert_eq!(a.get("/api/v1/tickets?priority=P9").await.0, 422);
    // Query syntax and quotes in the text filter are plain text.
    for q in ["%25", "_", "%22unbalanced", "a%27%20OR%201%3D1", "%5C"] {
        let (st, v) = a.get(&format!("/api/v1/tickets?q={q}")).await;
        assert_eq!((st, v["total"].as_i64()), (200, Some(0)), "{q}: {v}");
    }
}

#[tokio::test]
async fn a_resolved_ticket_closes_itself_after_the_configured_days() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_with_env(env, &[], &[("STEWARD_SLA_CHECK_SECS", "1")]).await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let (st, v) = a.patch("/api/v1/settings", json!({"ticket_autoclose_days": 3})).await;
    assert_eq!((st, v["ticket_autoclose_days"].as_u64()), (200, Some(3)));
    let old = ticket(&a, c, json!({"subject": "Fixed last week", "status": "resolved", "opened_at": ago(4 * 24 * 60)})).await;
    let recent = ticket(&a, c, json!({"subject": "Fixed yesterday", "status": "resolved", "opened_at": ago(24 * 60)})).await;
    let path = |t: &Value| format!("/api/v1/clients/{c}/tickets/{}", t["id"]);
    let mut closed = false;
    for _ in 0..100 {
        let (_, t) = a.get(&path(&old)).await;
        if t["status"]["kind"] == "closed" {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(closed, "closed within seconds of the job's round");
    let th = bodies(&thread(&a, c, old["id"].as_i64().unwrap()).await);
    assert!(th.contains(&"event: Closed automatically after 3 days resolved".to_string()), "{th:?}");
    let (_, t) = a.get(&path(&recent)).await;
    assert_eq!(t["status"]["kind"], "resolved");
}

#[tokio::test]
async fn the_pages_show_the_queue_and_the_ticket_and_escape_what_people_wrote() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let t =
        ticket(&a, c, json!({"subject": "<img src=x onerror=alert(1)> VPN", "body": "<script>alert(2)</script>", "priority": "P1"})).await;
    let id = t["id"].as_i64().unwrap();
    // An HTML form sends empty fields: they mean "any".
    let (st, html) = a.get_text("/tickets?status=&priority=&assignee=&client_id=&sla_state=&q=&sort=").await;
    assert_eq!(st, 200);
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62; VPN") && !html.contains("<img src=x"), "escaped in the queue");
    let (st, _) = a.get_text("/tickets?client_id=abc").await;
    assert_eq!(st, 400);
    let page = format!("/clients/{c}/tickets/{id}");
    let (st, html) = a.get_text(&page).await;
    assert_eq!(st, 200);
    assert!(html.contains("&#60;script&#62;alert(2)&#60;/script&#62;") && !html.contains("<script>alert(2)"), "escaped on the ticket page");
    // Reply through the form; the thread and the status follow.
    let (st, loc, _) = a.form(&format!("{page}/entries"), &[("kind", "reply"), ("body", "We are on it.")]).await;
    assert_eq!(st, 303);
    assert!(loc.starts_with(&format!("{page}#entry-")), "{loc}");
    let (st, _, _) = a
        .form(&format!("{page}/edit"), &[("status", "Waiting on client"), ("priority", "P2"), ("assignee_id", ""), ("tags", "vpn, remote")])
        .await;
    assert_eq!(st, 303);
    let (_, v) = a.get(&format!("/api/v1/clients/{c}/tickets/{id}")).await;
    assert_eq!(
        (v["status"]["name"].as_str(), v["priority"].as_str(), v["tags"].clone()),
        (Some("Waiting on client"), Some("P2"), json!(["remote", "vpn"]))
    );
    // A refused form comes back with the message and keeps the draft.
    let (st, _, html) = a.form(&format!("{page}/entries"), &[("kind", "shout"), ("body", "my long draft")]).await;
    assert_eq!(st, 400);
    assert!(html.contains("must be reply or note") && html.contains("my long draft"));
    // Bulk through the queue form, and a number leads to its ticket (merged ones to the target).
    let other = ticket(&a, c, json!({"subject": "Same VPN"})).await;
    let (st, loc, _) = a
        .form(
            "/tickets/bulk",
            &[("ticket_ids", &other["id"].to_string()), ("merge_into", t["reference"].as_str().unwrap()), ("here", "assignee=none")],
        )
        .await;
    assert_eq!((st, loc.as_str()), (303, "/tickets?assignee=none"));
    let (st, loc, _) =
        a.form("/tickets/new", &[("client_id", &c.to_string()), ("subject", "From the page"), ("priority", "P3"), ("body", "")]).await;
    assert_eq!(st, 303, "{loc}");
    let r = a.raw(reqwest::Method::GET, &format!("/t/{}", other["number"])).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, page.as_str()));
    // The client's page and the home page show them.
    let (_, html) = a.get_text(&format!("/clients/{c}")).await;
    assert!(html.contains("Open tickets") && html.contains(t["reference"].as_str().unwrap()));
    let (_, html) = a.get_text("/").await;
    assert!(html.contains("Open tickets"));
    let (_, html) = a.get_text("/search?q=VPN").await;
    assert!(html.contains(t["reference"].as_str().unwrap()), "tickets in the search");
}

/// The ticket page has the context on one screen: the ticket's devices
/// with their live state and latest metrics (from a real simulated agent)
/// and the client's other open tickets (not resolved ones, not another
/// client's).
#[tokio::test]
async fn the_ticket_page_shows_its_devices_state_and_metrics_and_the_clients_other_open_tickets() {
    use crate::common::agents::{simulate, token, wait_for, wait_page};
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--agent-metrics-secs", "1"]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Harbor Dental").await;
    let elsewhere = make_client(&a, "Elsewhere Ltd").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Surgery", "timezone": "UTC"})).await;
    let tok = token(&a, client, site["id"].as_i64().unwrap(), json!({})).await;
    let _agent = simulate(&s, &tok, 1);
    let list = wait_for(&a, &format!("/api/v1/clients/{client}/devices"), "the simulated device", |v| v["total"] == 1).await;
    let (device, hostname) = (list["items"][0]["id"].as_i64().unwrap(), list["items"][0]["hostname"].as_str().unwrap().to_string());

    let t = ticket(&a, client, json!({"subject": "Reception PC is slow", "device_ids": [device]})).await;
    ticket(&a, client, json!({"subject": "Printer offline in room 2"})).await;
    let done = ticket(&a, client, json!({"subject": "Old resolved matter"})).await;
    a.patch(&format!("/api/v1/clients/{client}/tickets/{}", done["id"]), json!({"status": "resolved"})).await;
    ticket(&a, elsewhere, json!({"subject": "Elsewhere secret"})).await;

    let path = format!("/clients/{client}/tickets/{}", t["id"]);
    let page = wait_page(&a, &path, "the device online with metrics", |p| p.contains("badge ok\">online") && p.contains("CPU ")).await;
    assert!(page.contains(&format!("href=\"/clients/{client}/devices/{device}\">{hostname}</a>")), "{page}");
    assert!(page.contains("memory ") && page.contains(" %"), "metrics with their units: {page}");
    let others = &page[page.find("id=\"others\"").expect("the others section")..];
    assert!(others.contains("Printer offline in room 2"), "{others}");
    assert!(!others.contains("Old resolved matter") && !page.contains("Elsewhere secret"), "{others}");
    assert!(!others.contains("Reception PC is slow"), "not itself: {others}");
}

/// A service desk's own statuses, priorities and boards: made by a
/// service-desk admin, used like the built-in ones (a status over the
/// `waiting` kind pauses the resolution clock), archived rather than
/// deleted (no longer offered; a ticket keeps what it has); and parent and
/// child tickets that can never form a circle.
#[tokio::test]
async fn statuses_priorities_and_boards_are_configurable_and_children_never_circle() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let other = make_client(&a, "Other").await;

    let (st, vendor) = a.post("/api/v1/ticket-statuses", json!({"name": "Waiting on vendor", "kind": "waiting"})).await;
    assert_eq!(st, 201, "{vendor}");
    assert_eq!(vendor["pauses_sla"], true, "waiting pauses by default");
    assert_eq!(a.post("/api/v1/ticket-statuses", json!({"name": "Waiting on vendor", "kind": "open"})).await.0, 409);
    let (st, v) = a.post("/api/v1/ticket-statuses", json!({"name": "Melted", "kind": "melted"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("kind")), "{v}");
    let (st, p5) = a.post("/api/v1/ticket-priorities", json!({"code": "p5", "name": "Whenever"})).await;
    assert_eq!((st, p5["code"].as_str()), (201, Some("P5")), "{p5}");
    let (st, v) = a.post("/api/v1/ticket-priorities", json!({"code": "P 6", "name": "Spaced"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("code")), "{v}");
    let (st, board) = a.post("/api/v1/ticket-boards", json!({"name": "Projects"})).await;
    assert_eq!(st, 201, "{board}");

    let t = ticket(
        &a,
        c,
        json!({"subject": "Migrate the file server", "priority": "P5", "board_id": board["id"], "status": "Waiting on vendor"}),
    )
    .await;
    assert_eq!(
        (t["priority"].as_str(), t["status"]["name"].as_str(), t["status"]["kind"].as_str()),
        (Some("P5"), Some("Waiting on vendor"), Some("waiting"))
    );
    assert_eq!(t["board_id"], board["id"]);
    for q in [format!("board_id={}", board["id"]), "priority=P5".to_string(), "status=waiting".to_string()] {
        let (st, v) = a.get(&format!("/api/v1/tickets?{q}")).await;
        assert_eq!((st, v["total"].as_i64()), (200, Some(1)), "{q}: {v}");
    }

    // Archived: no longer offered, but the ticket keeps its status.
    let (st, v) = a.patch(&format!("/api/v1/ticket-statuses/{}", vendor["id"]), json!({"archived": true})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = a.post(&format!("/api/v1/clients/{c}/tickets"), json!({"subject": "Another", "status": "Waiting on vendor"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("status")), "{v}");
    let path = format!("/api/v1/clients/{c}/tickets/{}", t["id"]);
    assert_eq!(a.get(&path).await.1["status"]["name"], "Waiting on vendor");
    let (_, statuses) = a.get("/api/v1/ticket-statuses").await;
    assert!(statuses.as_array().unwrap().iter().any(|s| s["name"] == "Waiting on vendor" && s["archived"] == true), "{statuses}");

    // Only service-desk administrators configure the lists.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;
    for (path, body) in [
        ("/api/v1/ticket-statuses", json!({"name": "Mine", "kind": "open"})),
        ("/api/v1/ticket-priorities", json!({"code": "P9", "name": "Mine"})),
        ("/api/v1/ticket-boards", json!({"name": "Mine"})),
    ] {
        assert_eq!(tech.post(path, body).await.0, 403, "{path}");
    }

    // Parent and children: a chain, never a circle.
    let top = ticket(&a, c, json!({"subject": "Office move"})).await;
    let mid = ticket(&a, c, json!({"subject": "Move the network", "parent_id": top["id"]})).await;
    assert_eq!(mid["parent_id"], top["id"]);
    let low = ticket(&a, c, json!({"subject": "Patch the new racks", "parent_id": mid["id"]})).await;
    let top_path = format!("/api/v1/clients/{c}/tickets/{}", top["id"]);
    for parent in [&low, &mid, &top] {
        let (st, v) = a.patch(&top_path, json!({"parent_id": parent["id"]})).await;
        assert_eq!((st, v["error"]["field"].as_str()), (422, Some("parent_id")), "{} under {}: {v}", top["id"], parent["id"]);
    }
    let theirs = ticket(&a, other, json!({"subject": "Their ticket"})).await;
    let (st, v) = a.patch(&top_path, json!({"parent_id": theirs["id"]})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("parent_id")), "another client's ticket: {v}");
    let (st, v) = a.patch(&format!("/api/v1/clients/{c}/tickets/{}", mid["id"]), json!({"parent_id": null})).await;
    assert_eq!((st, v["parent_id"].clone()), (200, Value::Null), "{v}");
    // With the chain cut, the old top may go under the old bottom.
    let (st, v) = a.patch(&top_path, json!({"parent_id": low["id"]})).await;
    assert_eq!((st, v["parent_id"].clone()), (200, low["id"].clone()), "{v}");
}

#[tokio::test]
async fn a_huge_queue_counts_to_ten_thousand_and_says_there_are_more() {
    let s = Server::start().await;
    let a = s.admin().await;
    let big = make_client(&a, "Big").await;
    let small = make_client(&a, "Small").await;
    let first = ticket(&a, big, json!({"subject": "Printer jams"})).await;
    ticket(&a, small, json!({"subject": "VPN drops"})).await;
    // 10,020 more of Big's, copied from the first in one statement.
    raw_sql(
        &s.env,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10020) \
             INSERT INTO tickets (number, client_id, subject, status_id, status_kind, priority_id, ticket_type, board_id, opened_at, created_at, updated_at) \
             SELECT 100000 + i, client_id, subject, status_id, status_kind, priority_id, ticket_type, board_id, opened_at, created_at, updated_at + i * CAST(1000000 AS BIGINT) \
             FROM n, tickets WHERE tickets.id = {}",
            first["id"]
        ),
    )
    .await;

    let (st, q) = a.get("/api/v1/tickets").await;
    assert_eq!(st, 200, "{q}");
    assert_eq!((q["total"].as_i64(), q["total_capped"].as_bool()), (Some(10_000), Some(true)), "counted to the cap");
    assert_eq!(q["items"].as_array().unwrap().len(), 50);
    assert_eq!(q["items"][0]["number"], 110_020, "the most recently changed first");
    // The last page is counted exactly: 10,022 active tickets in all.
    let (_, last) = a.get("/api/v1/tickets?offset=10000&limit=50").await;
    assert_eq!((last["total"].as_i64(), last["total_capped"].as_bool()), (Some(10_022), Some(false)));
    assert_eq!(last["items"].as_array().unwrap().len(), 22);
    // The furthest page the API allows is empty, counted, never a crash.
    let (st, far) = a.get("/api/v1/tickets?offset=9223372036854775806&limit=1").await;
    assert_eq!(st, 200, "{far}");
    assert_eq!((far["items"].as_array().map(Vec::len), far["total"].as_i64()), (Some(0), Some(10_022)));
    // A narrower queue is exact as ever.
    let (_, one) = a.get(&format!("/api/v1/tickets?client_id={small}")).await;
    assert_eq!((one["total"].as_i64(), one["total_capped"].as_bool()), (Some(1), Some(false)));
    assert_eq!(one["items"][0]["subject"], "VPN drops");

    // The page and the home page's figure say "10000+", and the page still
    // offers the next one.
    let (_, html) = a.get_text("/tickets").await;
    assert!(html.contains(r#"<span class="count">10000+</span>"#), "{html}");
    assert!(html.contains("offset=50"), "a next page link");
    let (_, home) = a.get_text("/").await;
    assert!(home.contains("10000+"), "the open-ticket figure: {home}");

    // Resolving one leaves the active queue at once (the `active` column
    // follows the status).
    let (st, v) = a.patch(&format!("/api/v1/clients/{small}/tickets/{}", one["items"][0]["id"]), json!({"status": "Resolved"})).await;
    assert_eq!(st, 200, "{v}");
    let (_, one) = a.get(&format!("/api/v1/tickets?client_id={small}")).await;
    assert_eq!(one["total"], 0);
    let (_, one) = a.get(&format!("/api/v1/tickets?client_id={small}&status=all")).await;
    assert_eq!(one["total"], 1);
}
