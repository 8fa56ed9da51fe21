//! Recurring tickets against the real server on either engine: a schedule
//! due seconds from now opens its ticket exactly once and moves on, a
//! restart repeats nothing, an occurrence missed while the server was down
//! is opened when it comes back, a limited technician sees none of another
//! client's schedules, and what is refused is refused naming the field.

use crate::common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// A server whose recurring job looks every second.
async fn server() -> Server {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    Server::start_with_env(env, &[], &[("STEWARD_RECURRING_CHECK_SECS", "1")]).await
}

/// A daily schedule in UTC whose next run is `secs` from now.
fn daily_in(secs: i64, subject: &str) -> Value {
    let at = chrono::Utc::now() + chrono::Duration::seconds(secs);
    let starts = (at - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    json!({
        "subject": subject,
        "body": "Check backups, patch status and disk space.",
        "schedule": {"kind": "daily", "starts_on": starts},
        "time": at.format("%H:%M:%S").to_string(),
        "timezone": "UTC",
        "tags": ["maintenance"],
        "priority": "P4",
    })
}

async fn tickets_named(a: &Client, client: i64, subject: &str) -> Vec<Value> {
    let (st, v) = a.get(&format!("/api/v1/clients/{client}/tickets?status=all")).await;
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().iter().filter(|t| t["subject"] == subject).cloned().collect()
}

async fn wait_for_ticket(a: &Client, client: i64, subject: &str) -> Vec<Value> {
    for _ in 0..150 {
        let found = tickets_named(a, client, subject).await;
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no ticket {subject:?} was opened");
}

fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap().into()
}

#[tokio::test]
async fn a_due_schedule_opens_its_ticket_once_and_a_restart_repeats_nothing() {
    let mut s = server().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let (st, r) = a.post(&format!("/api/v1/clients/{c}/recurring-tickets"), daily_in(3, "Daily check")).await;
    assert_eq!(st, 201, "{r}");
    let id = r["id"].as_i64().unwrap();
    let first = instant(&r["next_run_at"]);
    let wait = first - chrono::Utc::now();
    assert!(wait <= chrono::Duration::seconds(4) && wait > chrono::Duration::zero(), "next run in {wait}");
    let upcoming: Vec<_> = r["upcoming"].as_array().unwrap().iter().map(instant).collect();
    assert_eq!(upcoming.len(), 5);
    assert_eq!(upcoming[0], first);
    assert!(upcoming.windows(2).all(|w| w[1] - w[0] == chrono::Duration::days(1)), "{upcoming:?}");
    assert_eq!(r["schedule_text"], "every day");

    let found = wait_for_ticket(&a, c, "Daily check").await;
    assert_eq!(found.len(), 1);
    let t = &found[0];
    assert_eq!(
        (t["priority"].as_str(), t["type"].as_str(), t["tags"].clone()),
        (Some("P4"), Some("service_request"), json!(["maintenance"]))
    );
    // A few more looks of the job: still one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(tickets_named(&a, c, "Daily check").await.len(), 1);
    let (_, r) = a.get(&format!("/api/v1/clients/{c}/recurring-tickets/{id}")).await;
    assert_eq!(instant(&r["next_run_at"]), first + chrono::Duration::days(1), "moved on by one day: {r}");
    assert_eq!(instant(&r["last_run_at"]), first);
    assert_eq!(r["last_ticket_id"], t["id"]);
    assert!(r["last_error"].is_null());
    // The thread starts with the schedule's description.
    let (_, th) = a.get(&format!("/api/v1/clients/{c}/tickets/{}/entries", t["id"])).await;
    assert_eq!(th[0]["body"], "Check backups, patch status and disk space.");
    // Audited as a ticket created by the server, naming the schedule.
    let (_, log) = a.get("/api/v1/audit?action=ticket.create").await;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target_id"].as_str().and_then(|s| s.parse::<i64>().ok()) == t["id"].as_i64())
        .cloned()
        .expect("audited");
    assert_eq!(entry["actor"], "system");
    assert_eq!(entry["details"]["recurring_ticket_id"], id, "{entry}");

    s.restart_after(Duration::from_secs(1));
    let a = s.admin().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(tickets_named(&a, c, "Daily check").await.len(), 1, "no duplicate after a restart");
    let (_, list) = a.get("/api/v1/recurring-tickets").await;
    assert_eq!(list["total"], 1);
    assert_eq!(instant(&list["items"][0]["next_run_at"]), first + chrono::Duration::days(1));
}

#[tokio::test]
async fn an_occurrence_missed_while_down_opens_once_when_the_server_is_back() {
    let mut s = server().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let (st, r) = a.post(&format!("/api/v1/clients/{c}/recurring-tickets"), daily_in(5, "While away")).await;
    assert_eq!(st, 201, "{r}");
    let first = instant(&r["next_run_at"]);
    // Down across the occurrence (the job looks every second, so it
    // cannot have run it yet).
    let down = (first - chrono::Utc::now() + chrono::Duration::seconds(2)).to_std().unwrap();
    s.restart_after(down);
    let a = s.admin().await;
    assert_eq!(wait_for_ticket(&a, c, "While away").await.len(), 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(tickets_named(&a, c, "While away").await.len(), 1);
    let (_, r) = a.get(&format!("/api/v1/clients/{c}/recurring-tickets/{}", r["id"])).await;
    assert!(instant(&r["next_run_at"]) > chrono::Utc::now(), "next run after now: {r}");
}

#[tokio::test]
async fn switched_off_schedules_open_nothing_and_changes_are_audited() {
    let s = server().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let mut body = daily_in(2, "Switched off");
    body["active"] = json!(false);
    let (st, r) = a.post(&format!("/api/v1/clients/{c}/recurring-tickets"), body).await;
    assert_eq!(st, 201, "{r}");
    assert!(r["next_run_at"].is_null() && r["upcoming"] == json!([]));
    let id = r["id"].as_i64().unwrap();
    // First weekday of the month at 09:00 in New York.
    let (st, r) = a
        .patch(
            &format!("/api/v1/clients/{c}/recurring-tickets/{id}"),
            json!({"schedule": {"kind": "first_workday", "starts_on": "2026-01-01"}, "time": "09:00", "timezone": "America/New_York", "active": true}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["schedule_text"], "every month on the first weekday");
    for t in r["upcoming"].as_array().unwrap() {
        let local = instant(t).with_timezone(&chrono_tz::America::New_York);
        assert_eq!(local.format("%H:%M").to_string(), "09:00", "{local}");
        assert!(local.format("%d").to_string().parse::<u32>().unwrap() <= 3, "{local}");
        assert!(!matches!(local.format("%a").to_string().as_str(), "Sat" | "Sun"), "{local}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(tickets_named(&a, c, "Switched off").await.is_empty());
    let (st, _) = a.delete(&format!("/api/v1/clients/{c}/recurring-tickets/{id}")).await;
    assert_eq!(st, 204);
    let (_, log) = a.get("/api/v1/audit?action=recurring_ticket.").await;
    assert_eq!(log["total"], 3, "create, update, delete: {log}");
}

#[tokio::test]
async fn a_limited_technician_sees_none_of_another_clients_schedules() {
    let s = server().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    let mut later = daily_in(3600, "Their secret maintenance");
    later["time"] = json!("03:00");
    let (_, r) = a.post(&format!("/api/v1/clients/{theirs}/recurring-tickets"), later).await;
    let rid = r["id"].as_i64().unwrap();
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    for (method, path) in [
        ("GET", format!("/api/v1/clients/{theirs}/recurring-tickets")),
        ("POST", format!("/api/v1/clients/{theirs}/recurring-tickets")),
        ("GET", format!("/api/v1/clients/{theirs}/recurring-tickets/{rid}")),
        ("PATCH", format!("/api/v1/clients/{theirs}/recurring-tickets/{rid}")),
        ("DELETE", format!("/api/v1/clients/{theirs}/recurring-tickets/{rid}")),
        // Their schedule's id under my client is not mine either.
        ("GET", format!("/api/v1/clients/{mine}/recurring-tickets/{rid}")),
        ("PATCH", format!("/api/v1/clients/{mine}/recurring-tickets/{rid}")),
    ] {
        let (st, v) = t.send(method, &path, json!({"subject": "x"})).await;
        assert_eq!(st, 404, "{method} {path}: {v}");
    }
    let (_, list) = t.get("/api/v1/recurring-tickets").await;
    assert_eq!(list["total"], 0, "{list}");
    let (_, list) = t.get(&format!("/api/v1/recurring-tickets?client_id={theirs}")).await;
    assert_eq!(list["total"], 0);
    let (st, html) = t.get_text("/tickets/recurring").await;
    assert_eq!(st, 200);
    assert!(!html.contains("Their secret") && !html.contains("Theirs Ltd"));
    let (_, list) = a.get("/api/v1/recurring-tickets").await;
    assert_eq!(list["total"], 1, "the administrator sees it");
    // The technician's own client works.
    let (st, v) = t.post(&format!("/api/v1/clients/{mine}/recurring-tickets"), daily_in(3600, "Mine")).await;
    assert_eq!(st, 201, "{v}");
    // A read-only user may look, not write.
    make_user(&a, "ro@msp.example", "read_only", None).await;
    let ro = s.client();
    ro.login_ok("ro@msp.example", PASSWORD).await;
    assert_eq!(ro.get("/api/v1/recurring-tickets").await.0, 200);
    assert_eq!(ro.post(&format!("/api/v1/clients/{mine}/recurring-tickets"), daily_in(3600, "No")).await.0, 403);
}

#[tokio::test]
async fn what_is_refused_names_its_field() {
    let s = server().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let other = make_client(&a, "Other").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{c}/sites"), json!({"name": "Berlin office", "timezone": "Europe/Berlin"})).await;
    let (_, other_site) = a.post(&format!("/api/v1/clients/{other}/sites"), json!({"name": "Far", "timezone": "UTC"})).await;
    let url = format!("/api/v1/clients/{c}/recurring-tickets");
    let good = daily_in(3600, "Fine");
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"timezone": "Mars/Olympus"}), 400, "timezone"),
        (json!({"subject": "   "}), 400, "subject"),
        (json!({"time": "25:00"}), 400, "time"),
        // Well-formed rules that cannot be kept (a weekly rule without days,
        // a 32nd, every 0 days, an nth without its weekday): refused (422).
        (json!({"schedule": {"kind": "weekly", "starts_on": "2026-01-01"}}), 422, "schedule.weekdays"),
        (json!({"schedule": {"kind": "monthly_day", "day": 32, "starts_on": "2026-01-01"}}), 422, "schedule.day"),
        (json!({"schedule": {"kind": "daily", "interval": 0, "starts_on": "2026-01-01"}}), 422, "schedule.interval"),
        (json!({"schedule": {"kind": "monthly_nth", "nth": "first", "starts_on": "2026-01-01"}}), 422, "schedule.weekday"),
        (json!({"schedule": {"kind": "fortnightly", "starts_on": "2026-01-01"}}), 400, "schedule"),
        (json!({"schedule": null}), 400, "schedule"),
        // Without a site the zone is needed: refused for what it means.
        (json!({"timezone": null}), 422, "timezone"),
        (json!({"priority": "P9"}), 422, "priority"),
        (json!({"site_id": other_site["id"]}), 422, "site_id"),
    ];
    for (change, status, field) in cases {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, v) = a.post(&url, body.clone()).await;
        assert_eq!(st, status, "{body}: {v}");
        assert!(v["error"]["field"].as_str().unwrap_or("").starts_with(field), "{body}: {v}");
    }
    // Without a zone, the site's.
    let mut body = good.clone();
    body.as_object_mut().unwrap().remove("timezone");
    body["site_id"] = site["id"].clone();
    let (st, v) = a.post(&url, body).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["timezone"], "Europe/Berlin");
    // Weekly, its days sorted and each once; day 31 is the month's last.
    let mut body = good.clone();
    body["schedule"] = json!({"kind": "weekly", "weekdays": ["thu", "mon", "thu"], "interval": 2, "starts_on": "2026-01-01"});
    let (st, v) = a.post(&url, body).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["schedule"]["weekdays"], json!(["mon", "thu"]));
    assert_eq!(v["schedule_text"], "every 2 weeks on mon, thu");
}

#[tokio::test]
async fn the_page_lists_schedules_and_creates_one_from_its_form() {
    let s = server().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let (st, loc, _) = a
        .form(
            "/tickets/recurring",
            &[
                ("client_id", &c.to_string()),
                ("subject", "Monthly maintenance"),
                ("kind", "first_workday"),
                ("interval", "1"),
                ("time", "09:00"),
                ("timezone", "Europe/London"),
                ("tags", "maintenance, monthly"),
            ],
        )
        .await;
    assert_eq!((st, loc.as_str()), (303, "/tickets/recurring"));
    let (st, html) = a.get_text("/tickets/recurring").await;
    assert_eq!(st, 200);
    assert!(html.contains("Monthly maintenance") && html.contains("every month on the first weekday") && html.contains("Europe/London"));
    // A refused form comes back with the reason, not a new schedule.
    let (st, _, html) =
        a.form("/tickets/recurring", &[("client_id", &c.to_string()), ("subject", "Bad"), ("kind", "daily"), ("time", "9")]).await;
    assert_eq!(st, 400);
    assert!(html.contains("a time of day"), "{html}");
    let (_, list) = a.get("/api/v1/recurring-tickets").await;
    assert_eq!(list["total"], 1);
    // Switch it off from the page.
    let id = list["items"][0]["id"].as_i64().unwrap();
    let (st, _, _) = a.form(&format!("/clients/{c}/recurring-tickets/{id}/toggle"), &[]).await;
    assert_eq!(st, 303);
    let (_, r) = a.get(&format!("/api/v1/clients/{c}/recurring-tickets/{id}")).await;
    assert_eq!(r["active"], false);
}
