//! Time on tickets through the API and the pages: logging by hand and by
//! timer, one running timer per user, the filtered list within the
//! caller's clients, approval locking a week, time following a merge.

use crate::common::*;
use serde_json::{json, Value};

async fn ticket(a: &Client, client: i64, subject: &str) -> Value {
    let (s, v) = a.post(&format!("/api/v1/clients/{client}/tickets"), json!({"subject": subject})).await;
    assert_eq!(s, 201, "{v}");
    v
}

#[tokio::test]
async fn time_is_logged_by_hand_and_by_timer_and_approval_locks_the_week() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let tech_id = make_user(&a, "tech@msp.example", "technician", None).await;
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;
    let t = ticket(&a, c, "Backup failed").await;
    let base = format!("/api/v1/clients/{c}/tickets/{}", t["id"]);
    let (_, types) = a.get("/api/v1/work-types").await;
    let internal = types.as_array().unwrap().iter().find(|w| w["name"] == "Internal").unwrap()["id"].clone();

    let (st, e) = tech.post(&format!("{base}/time-entries"), json!({"minutes": 45, "note": "Re-ran the job"})).await;
    assert_eq!(st, 201, "{e}");
    assert_eq!(
        (e["minutes"].as_i64(), e["billable"].as_bool(), e["work_type"].as_str(), e["running"].as_bool()),
        (Some(45), Some(true), Some("Remote support"), Some(false))
    );
    let (st, e2) = tech.post(&format!("{base}/time-entries"), json!({"minutes": 15, "work_type_id": internal})).await;
    assert_eq!((st, e2["billable"].as_bool()), (201, Some(false)), "billable follows the work type");
    for (body, status) in [
        (json!({"minutes": 0}), 400),
        (json!({"minutes": 1441}), 400),
        (json!({"minutes": 5, "work_type_id": 999}), 422),
        (json!({"minutes": "ten"}), 400),
    ] {
        assert_eq!(tech.post(&format!("{base}/time-entries"), body.clone()).await.0, status, "{body}");
    }
    // A timer: one at a time per user, whole minutes when stopped.
    let (st, run) = tech.post(&format!("{base}/timer"), json!({})).await;
    assert_eq!((st, run["running"].as_bool()), (201, Some(true)), "{run}");
    let other = ticket(&a, c, "Other").await;
    let (st, v) = tech.post(&format!("/api/v1/clients/{c}/tickets/{}/timer", other["id"]), json!({})).await;
    assert_eq!(st, 409, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains(t["reference"].as_str().unwrap()), "names where it runs: {v}");
    let (st, stopped) = tech.post(&format!("{base}/timer/stop"), json!({})).await;
    assert_eq!((st, stopped["minutes"].as_i64(), stopped["running"].as_bool()), (200, Some(1), Some(false)), "{stopped}");
    assert_eq!(tech.post(&format!("{base}/timer/stop"), json!({})).await.0, 422, "nothing runs now");

    // The list, filtered.
    let (_, mine) = tech.get("/api/v1/time-entries?user=me").await;
    assert_eq!(mine["total"], 3);
    let (_, billable) = a.get(&format!("/api/v1/time-entries?user={tech_id}&billable=true")).await;
    let minutes: i64 = billable["items"].as_array().unwrap().iter().map(|e| e["minutes"].as_i64().unwrap()).sum();
    assert_eq!(minutes, 46);
    assert_eq!(a.get("/api/v1/time-entries?week=someday").await.0, 400);

    // Someone else's entry is not theirs to change.
    let (_, admin_entry) = a.post(&format!("{base}/time-entries"), json!({"minutes": 10})).await;
    assert_eq!(tech.patch(&format!("{base}/time-entries/{}", admin_entry["id"]), json!({"minutes": 1})).await.0, 403);
    // Approving the week locks the technician's entries.
    let week = {
        let (_, w) = a.get("/api/v1/time-entries?user=me").await;
        let started = chrono::DateTime::parse_from_rfc3339(w["items"][0]["started_at"].as_str().unwrap()).unwrap();
        started.format("%G-W%V").to_string()
    };
    assert_eq!(
        tech.post("/api/v1/timesheets/approve", json!({"user_id": tech_id, "week": week})).await.0,
        403,
        "technicians do not approve"
    );
    let (st, v) = a.post("/api/v1/timesheets/approve", json!({"user_id": tech_id, "week": week})).await;
    assert_eq!((st, v["entries"].as_u64()), (200, Some(3)), "{v}");
    let (st, v) = tech.patch(&format!("{base}/time-entries/{}", e["id"]), json!({"minutes": 60})).await;
    assert_eq!(st, 403, "locked: {v}");
    assert_eq!(tech.delete(&format!("{base}/time-entries/{}", e["id"])).await.0, 403);
    let (st, v) = a.patch(&format!("{base}/time-entries/{}", e["id"]), json!({"minutes": 50})).await;
    assert_eq!((st, v["minutes"].as_i64()), (200, Some(50)), "the approver may");
    let (_, approved) = a.get(&format!("/api/v1/time-entries?user={tech_id}&approved=true")).await;
    assert_eq!(approved["total"], 3);
    a.post("/api/v1/timesheets/approve", json!({"user_id": tech_id, "week": week, "approve": false})).await;
    assert_eq!(tech.patch(&format!("{base}/time-entries/{}", e["id"]), json!({"minutes": 55})).await.0, 200, "reopened");

    // Audited, and on the pages.
    let (_, audit) = a.get("/api/v1/audit?limit=50").await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for want in ["time.add", "time.timer_start", "time.timer_stop", "time.update", "time.approve_week", "time.reopen_week"] {
        assert!(actions.contains(&want), "{want}: {actions:?}");
    }
    let (st, html) = tech.get_text(&format!("/clients/{c}/tickets/{}", t["id"])).await;
    assert_eq!(st, 200);
    assert!(html.contains("id=\"time\"") && html.contains("Re-ran the job") && html.contains("Start timer"));
    let (st, html) = a.get_text(&format!("/timesheet?week={week}&user={tech_id}")).await;
    assert_eq!(st, 200);
    assert!(html.contains("Re-ran the job") && html.contains("Approve"), "the timesheet shows the week");
    // Through the page forms too.
    let page = format!("/clients/{c}/tickets/{}", other["id"]);
    let (st, loc, _) = tech
        .form(&format!("{page}/time"), &[("minutes", "20"), ("work_type_id", ""), ("billable", "false"), ("note", "By the form")])
        .await;
    assert_eq!((st, loc.as_str()), (303, format!("{page}#time").as_str()));
    let (_, list) = tech.get(&format!("/api/v1/time-entries?ticket_id={}", other["id"])).await;
    assert_eq!((list["items"][0]["minutes"].as_i64(), list["items"][0]["billable"].as_bool()), (Some(20), Some(false)));
}

#[tokio::test]
async fn time_stays_within_the_callers_clients_and_follows_a_merge() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine").await;
    let theirs = make_client(&a, "Theirs").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    let their = ticket(&a, theirs, "Their ticket").await;
    a.post(&format!("/api/v1/clients/{theirs}/tickets/{}/time-entries", their["id"]), json!({"minutes": 30, "note": "secret work"})).await;
    let (_, list) = t.get("/api/v1/time-entries").await;
    assert_eq!(list["total"], 0, "{list}");
    let (_, list) = t.get(&format!("/api/v1/time-entries?client_id={theirs}&ticket_id={}", their["id"])).await;
    assert_eq!(list["total"], 0);
    assert_eq!(t.post(&format!("/api/v1/clients/{theirs}/tickets/{}/time-entries", their["id"]), json!({"minutes": 5})).await.0, 404);
    assert_eq!(t.post(&format!("/api/v1/clients/{mine}/tickets/{}/time-entries", their["id"]), json!({"minutes": 5})).await.0, 404);

    // Merging moves the time to the target.
    let one = ticket(&a, mine, "One").await;
    let two = ticket(&a, mine, "Two").await;
    t.post(&format!("/api/v1/clients/{mine}/tickets/{}/time-entries", one["id"]), json!({"minutes": 12})).await;
    a.post(&format!("/api/v1/clients/{mine}/tickets/{}/merge", one["id"]), json!({"into_ticket_id": two["id"]})).await;
    let (_, on_two) = t.get(&format!("/api/v1/clients/{mine}/tickets/{}/time-entries", two["id"])).await;
    assert_eq!(on_two.as_array().unwrap().len(), 1);
    assert_eq!(on_two[0]["minutes"], 12);
    assert_eq!(
        t.post(&format!("/api/v1/clients/{mine}/tickets/{}/time-entries", one["id"]), json!({"minutes": 5})).await.0,
        422,
        "merged: log on the target"
    );
    // Moving a ticket to another client moves its time's client too.
    a.patch(&format!("/api/v1/clients/{mine}/tickets/{}", two["id"]), json!({"client_id": theirs})).await;
    let (_, list) = t.get("/api/v1/time-entries").await;
    assert_eq!(list["total"], 0, "the moved ticket's time left their view");
}
