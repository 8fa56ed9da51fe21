//! SLAs through the API: business calendars and policies (checked, with
//! clear errors), the clocks a ticket carries (pausing while waiting, kept
//! when a policy changes later, recomputed when the priority or the client
//! changes), and warnings and breaches announced once, also when their
//! instant passed while the server was down.

use crate::common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn ago(seconds: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(seconds)).to_rfc3339()
}

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time: {v}"))).unwrap().timestamp()
}

#[tokio::test]
async fn calendars_and_policies_are_checked() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (st, cal) = a
        .post(
            "/api/v1/business-calendars",
            json!({"name": "Berlin office", "timezone": "Europe/Berlin", "weekly": [
                {"day": 1, "start": "08:00", "end": "12:00"}, {"day": 1, "start": "13:00", "end": "17:00"}, {"day": 5, "start": "8:00", "end": "24:00"}],
                "holidays": ["2026-12-25", "2026-12-24"]}),
        )
        .await;
    assert_eq!(st, 400, "8:00 is not HH:MM: {cal}");
    assert_eq!(cal["error"]["field"], "weekly");
    let (st, cal) = a
        .post(
            "/api/v1/business-calendars",
            json!({"name": "Berlin office", "timezone": "Europe/Berlin", "weekly": [
                {"day": 1, "start": "13:00", "end": "17:00"}, {"day": 1, "start": "08:00", "end": "12:00"}, {"day": 5, "start": "08:00", "end": "24:00"}],
                "holidays": ["2026-12-25", "2026-12-24"]}),
        )
        .await;
    assert_eq!(st, 201, "{cal}");
    assert_eq!(cal["weekly"][0]["start"], "08:00", "sorted");
    assert_eq!(cal["holidays"], json!(["2026-12-24", "2026-12-25"]));
    for (body, status, field) in [
        (json!({"name": "x", "timezone": "Mars/Base", "always": true}), 400, "timezone"),
        (json!({"name": "x", "timezone": "UTC"}), 422, "weekly"),
        (
            json!({"name": "x", "timezone": "UTC", "weekly": [{"day": 1, "start": "09:00", "end": "12:00"}, {"day": 1, "start": "11:00", "end": "13:00"}]}),
            422,
            "weekly",
        ),
        (json!({"name": "x", "timezone": "UTC", "weekly": [{"day": 8, "start": "09:00", "end": "12:00"}]}), 400, "weekly"),
        (json!({"name": "x", "timezone": "UTC", "weekly": [{"day": 1, "start": "12:00", "end": "09:00"}]}), 422, "weekly"),
        (json!({"name": "x", "timezone": "UTC", "always": true, "holidays": ["25/12/2026"]}), 400, "holidays"),
    ] {
        let (st, v) = a.post("/api/v1/business-calendars", body.clone()).await;
        assert_eq!((st, v["error"]["field"].as_str()), (status, Some(field)), "{body}: {v}");
    }
    assert_eq!(a.post("/api/v1/business-calendars", json!({"name": "Berlin office", "timezone": "UTC", "always": true})).await.0, 409);
    let cid = cal["id"].as_i64().unwrap();
    for (body, status, field) in [
        (json!({"name": "p", "calendar_id": 999, "targets": []}), 422, "calendar_id"),
        (
            json!({"name": "p", "calendar_id": cid, "targets": [{"priority": "P7", "first_response_minutes": 1, "resolution_minutes": 1}]}),
            422,
            "targets",
        ),
        (
            json!({"name": "p", "calendar_id": cid, "targets": [{"priority": "P1", "first_response_minutes": 1, "resolution_minutes": 1}, {"priority": "P1", "first_response_minutes": 1, "resolution_minutes": 1}]}),
            422,
            "targets",
        ),
        (
            json!({"name": "p", "calendar_id": cid, "targets": [{"priority": "P1", "first_response_minutes": -1, "resolution_minutes": 1}]}),
            400,
            "targets",
        ),
        (json!({"name": "p", "calendar_id": cid, "targets": [], "warn_at": 1.5}), 400, "warn_at"),
    ] {
        let (st, v) = a.post("/api/v1/sla-policies", body.clone()).await;
        assert_eq!((st, v["error"]["field"].as_str()), (status, Some(field)), "{body}: {v}");
    }
    // A technician reads them but does not change them.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    assert_eq!(t.get("/api/v1/business-calendars").await.0, 200);
    assert_eq!(t.patch(&format!("/api/v1/business-calendars/{cid}"), json!({"always": true})).await.0, 403);
    // One default at a time.
    let one = standard_sla_policy(&a).await;
    let (_, two) = a.post("/api/v1/sla-policies", json!({"name": "Gold", "calendar_id": cid, "targets": [], "is_default": true})).await;
    let (_, one) = a.get(&format!("/api/v1/sla-policies/{one}")).await;
    assert_eq!((one["is_default"].as_bool(), two["is_default"].as_bool()), (Some(false), Some(true)));
}

#[tokio::test]
async fn clocks_pause_while_waiting_and_keep_the_targets_they_started_with() {
    let s = Server::start().await;
    let a = s.admin().await;
    let pid = standard_sla_policy(&a).await;
    let c = make_client(&a, "Acme").await;
    // Opened 50 minutes ago (an import): the first response is in warning.
    let (st, t) = a
        .post(&format!("/api/v1/clients/{c}/tickets"), json!({"subject": "Server down", "priority": "P1", "opened_at": ago(50 * 60)}))
        .await;
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let sla = &t["sla"];
    assert_eq!(sla["policy_id"], pid);
    assert_eq!(sla["first_response"]["state"], "warning");
    assert_eq!(sla["first_response"]["target_business_seconds"], 3600);
    assert!((secs(&sla["first_response"]["due_at"]) - secs(&t["opened_at"]) - 3600).abs() <= 1);
    assert_eq!(sla["resolution"]["state"], "running");
    let due_before = secs(&sla["resolution"]["due_at"]);
    let path = format!("/api/v1/clients/{c}/tickets/{id}");
    let (_, q) = a.get("/api/v1/tickets?sla_state=warning").await;
    assert_eq!(q["total"], 1, "the queue filters on the SLA state");

    // Waiting: the resolution clock stops (no due time), first response does not.
    let (_, t) = a.patch(&path, json!({"status": "waiting"})).await;
    assert_eq!(t["sla"]["resolution"]["state"], "paused");
    assert!(t["sla"]["resolution"]["due_at"].is_null());
    assert_eq!(t["sla"]["first_response"]["state"], "warning");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, t) = a.patch(&path, json!({"status": "open"})).await;
    assert_eq!(t["sla"]["resolution"]["state"], "running");
    let due_after = secs(&t["sla"]["resolution"]["due_at"]);
    assert!(due_after - due_before >= 2, "the pause moved the due time: {due_before} → {due_after}");
    let elapsed = t["sla"]["resolution"]["elapsed_business_seconds"].as_i64().unwrap();
    assert!((50 * 60..50 * 60 + 30).contains(&elapsed), "pauses do not count: {elapsed}");

    // The first public reply meets the first response.
    a.post(&format!("{path}/entries"), json!({"kind": "reply", "body": "Looking now."})).await;
    let (_, t) = a.get(&path).await;
    assert_eq!(t["sla"]["first_response"]["state"], "met");
    assert!(t["sla"]["first_response"]["met_at"].is_string());

    // Editing the policy later does not rewrite this ticket's targets...
    let (st, _) = a
        .patch(&format!("/api/v1/sla-policies/{pid}"), json!({"targets": [{"priority": "P1", "first_response_minutes": 5, "resolution_minutes": 10}, {"priority": "P2", "first_response_minutes": 120, "resolution_minutes": 480}]}))
        .await;
    assert_eq!(st, 200);
    let (_, t) = a.get(&path).await;
    assert_eq!(t["sla"]["resolution"]["target_business_seconds"], 240 * 60);
    // ...but a new priority takes that priority's targets, measured from the history.
    let (_, t) = a.patch(&path, json!({"priority": "P2"})).await;
    assert_eq!(t["sla"]["resolution"]["target_business_seconds"], 480 * 60);
    assert_eq!(t["sla"]["first_response"]["state"], "met");
    let e2 = t["sla"]["resolution"]["elapsed_business_seconds"].as_i64().unwrap();
    assert!(e2 >= elapsed, "elapsed time kept: {elapsed} → {e2}");
    // A client's own policy wins over the default, for new tickets.
    let (_, cal) = a.get("/api/v1/business-calendars").await;
    let (_, gold) = a
        .post("/api/v1/sla-policies", json!({"name": "Gold", "calendar_id": cal[0]["id"], "targets": [{"priority": "P3", "first_response_minutes": 15, "resolution_minutes": 60}]}))
        .await;
    let (st, v) = a.patch(&format!("/api/v1/clients/{c}"), json!({"sla_policy_id": gold["id"]})).await;
    assert_eq!((st, v["sla_policy_id"].clone()), (200, gold["id"].clone()));
    assert_eq!(a.patch(&format!("/api/v1/clients/{c}"), json!({"sla_policy_id": 424242})).await.0, 422);
    let (_, t) = a.post(&format!("/api/v1/clients/{c}/tickets"), json!({"subject": "New laptop"})).await;
    assert_eq!(
        (t["sla"]["policy_id"].clone(), t["sla"]["first_response"]["target_business_seconds"].as_i64()),
        (gold["id"].clone(), Some(900))
    );
}

async fn wait_for_entry(a: &Client, path: &str, what: &str) -> Vec<Value> {
    for _ in 0..150 {
        let (_, th) = a.get(&format!("{path}/entries")).await;
        let th = th.as_array().unwrap().clone();
        if th.iter().any(|e| e["body"].as_str().unwrap_or("").starts_with(what)) {
            return th;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {what:?} entry in {path}");
}

#[tokio::test]
async fn breaches_are_announced_once_even_when_they_fall_due_while_the_server_is_down() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let mut s = Server::start_with_env(env, &[], &[("STEWARD_SLA_CHECK_SECS", "1")]).await;
    let a = s.admin().await;
    standard_sla_policy(&a).await;
    let c = make_client(&a, "Acme").await;
    let (_, me) = a.get("/api/v1/me").await;
    // Due in about eight seconds, while the server will be stopped.
    let (st, t) = a
        .post(
            &format!("/api/v1/clients/{c}/tickets"),
            json!({"subject": "Mail is down", "priority": "P1", "assignee_id": me["id"], "opened_at": ago(3600 - 8)}),
        )
        .await;
    assert_eq!(st, 201, "{t}");
    let path = format!("/api/v1/clients/{c}/tickets/{}", t["id"]);
    let th = wait_for_entry(&a, &path, "SLA warning: first response").await;
    assert_eq!(th.iter().filter(|e| e["kind"] == "event").count(), 1, "only the warning so far");
    s.restart_after(Duration::from_secs(10));
    let a = s.admin().await;
    let th = wait_for_entry(&a, &path, "SLA breached: first response").await;
    let breach = th.iter().find(|e| e["body"].as_str().unwrap().starts_with("SLA breached")).unwrap();
    assert!(breach["author"].is_null(), "the system announced it");
    assert_eq!(breach["details"]["clock"], "first_response");
    // Once: a few more rounds of the job add nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, th) = a.get(&format!("{path}/entries")).await;
    let sla_events: Vec<&str> = th.as_array().unwrap().iter().filter_map(|e| e["body"].as_str()).filter(|b| b.starts_with("SLA")).collect();
    assert_eq!(sla_events.len(), 2, "{sla_events:?}");
    // The assignee was told, and the queue shows it breached.
    let (_, n) = a.get("/api/v1/notifications?unread=true").await;
    let kinds: Vec<&str> = n.as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["sla.breached", "sla.warning"]);
    let (_, q) = a.get("/api/v1/tickets?sla_state=breached").await;
    assert_eq!(q["total"], 1);
    let nid = n[0]["id"].as_i64().unwrap();
    assert_eq!(a.post(&format!("/api/v1/notifications/{nid}/read"), json!({})).await.0, 204);
    assert_eq!(a.post(&format!("/api/v1/notifications/{nid}/read"), json!({})).await.0, 204, "marking again is fine");
    let (_, n) = a.get("/api/v1/notifications?unread=true").await;
    assert_eq!(n.as_array().unwrap().len(), 1);
    // Someone else's notification is not theirs to mark.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    assert_eq!(t.post(&format!("/api/v1/notifications/{nid}/read"), json!({})).await.0, 404);
    let (_, audit) = a.get("/api/v1/audit?limit=50").await;
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "ticket.sla" && e["actor"] == "system"));
}

#[tokio::test]
async fn moving_a_ticket_to_another_client_takes_that_clients_policy_measured_from_its_history() {
    let s = Server::start().await;
    let a = s.admin().await;
    let default = standard_sla_policy(&a).await;
    let (_, cal) = a.get("/api/v1/business-calendars").await;
    let (st, gold) = a
        .post("/api/v1/sla-policies", json!({"name": "Gold", "calendar_id": cal[0]["id"], "targets": [{"priority": "P1", "first_response_minutes": 15, "resolution_minutes": 60}]}))
        .await;
    assert_eq!(st, 201, "{gold}");
    let standard = make_client(&a, "Standard Ltd").await;
    let premium = make_client(&a, "Premium Ltd").await;
    assert_eq!(a.patch(&format!("/api/v1/clients/{premium}"), json!({"sla_policy_id": gold["id"]})).await.0, 200);

    let (st, t) = a
        .post(
            &format!("/api/v1/clients/{standard}/tickets"),
            json!({"subject": "Core switch down", "priority": "P1", "opened_at": ago(30 * 60)}),
        )
        .await;
    assert_eq!(st, 201, "{t}");
    assert_eq!((t["sla"]["policy_id"].as_i64(), t["sla"]["first_response"]["state"].as_str()), (Some(default), Some("running")));
    assert_eq!(t["sla"]["resolution"]["target_business_seconds"], 240 * 60);

    // Moved: Gold's targets, and the 30 minutes already passed count
    // against them (15 minutes to answer: breached; 60 to resolve: running).
    let (st, t) = a.patch(&format!("/api/v1/clients/{standard}/tickets/{}", t["id"]), json!({"client_id": premium})).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["client_id"].as_i64(), Some(premium));
    let sla = &t["sla"];
    assert_eq!(sla["policy_id"], gold["id"], "{sla}");
    assert_eq!(
        (sla["first_response"]["target_business_seconds"].as_i64(), sla["resolution"]["target_business_seconds"].as_i64()),
        (Some(900), Some(3600))
    );
    assert_eq!(sla["first_response"]["state"], "breached", "{sla}");
    assert!(sla["resolution"]["elapsed_business_seconds"].as_i64().unwrap() >= 30 * 60 - 5, "{sla}");
    assert!((secs(&sla["resolution"]["due_at"]) - secs(&t["opened_at"]) - 3600).abs() <= 1, "due an hour after it was opened: {sla}");
}
