//! Alerts from the server-side offline check (issue 15's first check): a
//! device silent past the threshold opens one critical alert, its return
//! resolves it by itself; technicians acknowledge, snooze and resolve with
//! every step in the history and the audit log; bad input gets a clear
//! error; a technician of another client sees none of it.

use crate::common::agents::*;
use crate::common::*;
use serde_json::{json, Value};

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().unwrap()
}

#[tokio::test]
async fn an_offline_device_opens_an_alert_that_its_return_resolves_and_technicians_work_it() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s =
        Server::start_in(env, &["--monitoring-check-secs", "1", "--alert-offline-after-secs", "2", "--agent-heartbeat-secs", "5"]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Northwind").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let site = site["id"].as_i64().unwrap();
    let tok = token(&a, client, site, json!({"max_uses": 2})).await;
    let sim = simulate(&s, &tok, 1);
    // A real agent, which can come back as itself.
    let (_dir, cfg) = install(&s, &tok);
    let run_agent = || {
        KillOnDrop(
            std::process::Command::new(agent_bin())
                .args(["run", "--config-dir", &cfg])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let real = run_agent();
    let list =
        wait_for(&a, "/api/v1/devices", "2 devices online", |v| v["total"] == 2 && items(v).iter().all(|d| d["online"] == true)).await;
    let ids: Vec<i64> = items(&list).iter().map(|d| d["id"].as_i64().unwrap()).collect();
    let (_, none) = a.get("/api/v1/alerts?state=unresolved").await;
    assert_eq!(none["total"], 0, "online devices raise nothing: {none}");

    // Both go away: each opens one critical offline alert, updated (not doubled) while it stays away.
    drop(sim);
    drop(real);
    let open = wait_for(&a, "/api/v1/alerts?state=unresolved", "two offline alerts", |v| v["total"] == 2).await;
    for al in items(&open) {
        assert_eq!(
            (al["check"].as_str(), al["severity"].as_str(), al["state"].as_str()),
            (Some("offline"), Some("critical"), Some("open")),
            "{al}"
        );
        assert!(al["title"].as_str().unwrap().ends_with("is offline") && ids.contains(&al["device_id"].as_i64().unwrap()));
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (_, still) = a.get("/api/v1/alerts").await;
    assert_eq!(still["total"], 2, "evaluated again, not doubled: {still}");
    let (_, devices) = a.get("/api/v1/devices").await;
    let real_id = items(&devices).iter().find(|d| !d["hostname"].as_str().unwrap().starts_with("sim-")).unwrap()["id"].clone();
    let first = items(&open).iter().find(|al| al["device_id"] != real_id).unwrap().clone();
    let other = items(&open).iter().find(|al| al["device_id"] == real_id).unwrap()["id"].as_i64().unwrap();
    let aid = first["id"].as_i64().unwrap();
    let base = format!("/api/v1/clients/{client}/alerts/{aid}");

    // Acknowledge with a note; again is a conflict; snooze needs a sane time.
    let (st, v) = a.post(&format!("{base}/ack"), json!({"note": "looking into it"})).await;
    assert_eq!((st, v["state"].as_str()), (200, Some("acknowledged")), "{v}");
    assert_eq!(a.post(&format!("{base}/ack"), json!({})).await.0, 409);
    assert_eq!(a.post(&format!("{base}/snooze"), json!({"until": "soon"})).await.0, 400);
    assert_eq!(a.post(&format!("{base}/snooze"), json!({"until": "2001-01-01T00:00:00Z"})).await.0, 422);
    assert_eq!(a.post(&format!("{base}/ack"), json!({"note": "x", "extra": 1})).await.0, 400);
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (st, v) = a.post(&format!("{base}/snooze"), json!({"until": soon, "note": "after the meeting"})).await;
    assert_eq!((st, v["state"].as_str()), (200, Some("snoozed")), "{v}");
    // The snooze ends by itself.
    wait_for(&a, &base, "the snooze to end", |v| v["state"] == "open").await;
    let (st, v) = a.post(&format!("{base}/resolve"), json!({"note": "cable replaced"})).await;
    assert_eq!((st, v["state"].as_str()), (200, Some("resolved")), "{v}");
    assert!(v["resolved_at"].is_string());
    let kinds: Vec<&str> = v["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "acknowledged", "snoozed", "unsnoozed", "resolved"], "{v}");
    assert_eq!(v["history"][1]["note"], "looking into it");
    assert_eq!(a.post(&format!("{base}/resolve"), json!({})).await.0, 409, "already resolved");
    for action in ["alert.open", "alert.acknowledge", "alert.snooze", "alert.unsnooze", "alert.resolve"] {
        let (_, log) = a.get(&format!("/api/v1/audit?action={action}&client_id={client}")).await;
        assert!(log["total"].as_i64().unwrap() >= 1, "{action} audited: {log}");
    }

    // The page lists the other open alert; its device comes back and the alert resolves by itself.
    let (_, page) = a.get_text("/alerts").await;
    assert!(page.contains("is offline") && page.contains(">Acknowledge<"), "the page lists the open alert");
    let _back = run_agent();
    let path = format!("/api/v1/clients/{client}/alerts/{other}");
    let v = wait_for(&a, &path, "the alert to resolve when the device is back", |v| v["state"] == "resolved").await;
    assert_eq!(v["history"].as_array().unwrap().last().unwrap()["kind"], "recovered", "{v}");

    // Filters and bad input.
    let (_, crit) = a.get("/api/v1/alerts?severity=critical&check_type=offline&state=resolved").await;
    assert_eq!(crit["total"], 2);
    assert_eq!(a.get("/api/v1/alerts?severity=urgent").await.0, 400);
    assert_eq!(a.get("/api/v1/alerts?state=closed").await.0, 400);

    // A technician of another client sees none of it.
    let elsewhere = make_client(&a, "Elsewhere").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![elsewhere])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    let (_, v) = t.get("/api/v1/alerts").await;
    assert_eq!(v["total"], 0, "{v}");
    assert_eq!(t.get(&base).await.0, 404);
    assert_eq!(t.post(&format!("/api/v1/clients/{client}/alerts/{other}/ack"), json!({})).await.0, 404);
    let (_, page) = t.get_text("/alerts").await;
    assert!(!page.contains("is offline"));
}

/// A server evaluating every second, with one simulated device that sends
/// no samples of its own for an hour (so the figures a test sets stand):
/// (server, admin, client, device, the agent kept running).
async fn quiet_device() -> (Server, Client, i64, i64, KillOnDrop) {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--monitoring-check-secs", "1"]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Northwind").await;
    let (_, site) =
        a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC", "agent_metrics_secs": 3600})).await;
    let sim = simulate(&s, &token(&a, client, site["id"].as_i64().unwrap(), json!({})).await, 1);
    let list = wait_for(&a, "/api/v1/devices", "the device online", |v| v["total"] == 1 && items(v)[0]["online"] == true).await;
    (s, a, client, items(&list)[0]["id"].as_i64().unwrap(), sim)
}

/// Sets a device's figures behind the server's back: CPU averaged over the
/// last 15 minutes and its fullest disk.
async fn set_figures(s: &Server, device: i64, cpu: f64, disk: f64) {
    let now_us = chrono::Utc::now().timestamp_micros();
    let width = 300 * 1_000_000;
    let bucket = now_us.div_euclid(width) * width;
    for b in [bucket - 2 * width, bucket - width, bucket] {
        raw_sql(
            &s.env,
            &format!(
                "INSERT INTO metric_rollups (device_id, resolution, series, bucket, vmin, vmax, vsum, n) VALUES ({device}, 300, 'cpu', {b}, {cpu}, {cpu}, {sum}, 1000) \
                 ON CONFLICT (device_id, resolution, series, bucket) DO UPDATE SET vmin = excluded.vmin, vmax = excluded.vmax, vsum = excluded.vsum, n = excluded.n",
                sum = cpu * 1000.0
            ),
        )
        .await;
    }
    // Dated ahead, so a real sample arriving meanwhile does not replace it.
    let ahead = now_us + 86_400 * 1_000_000;
    raw_sql(
        &s.env,
        &format!(
            "INSERT INTO metric_latest (device_id, at, cpu, mem, disk, disk_mount) VALUES ({device}, {ahead}, {cpu}, 40, {disk}, '/data') \
             ON CONFLICT (device_id) DO UPDATE SET at = excluded.at, disk = excluded.disk, disk_mount = excluded.disk_mount"
        ),
    )
    .await;
}

#[tokio::test]
async fn a_busy_cpu_and_a_full_disk_raise_alerts_after_two_evaluations_and_clear_themselves() {
    let (s, a, client, device, _sim) = quiet_device().await;

    set_figures(&s, device, 97.0, 96.5).await;
    let open = wait_for(&a, "/api/v1/alerts?state=unresolved", "a CPU and a disk alert", |v| v["total"] == 2).await;
    let by_check = |c: &str| items(&open).iter().find(|al| al["check"] == c).cloned().unwrap_or_else(|| panic!("{c}: {open}"));
    let cpu = by_check("cpu");
    assert_eq!(cpu["severity"], "warning");
    assert!(cpu["title"].as_str().unwrap().ends_with("CPU above 90 % for 15 min") && cpu["output"] == "CPU averaged 97 %", "{cpu}");
    let disk = by_check("disk_free");
    assert_eq!((disk["severity"].as_str(), disk["output"].as_str()), (Some("critical"), Some("/data used 96 %")), "{disk}");
    assert!(items(&open).iter().all(|al| al["check"] != "memory" && al["check"] != "offline"));
    // The device page lists them with their steps; the home page counts them.
    let device_page = format!("/clients/{client}/devices/{device}");
    let (_, page) = a.get_text(&device_page).await;
    assert!(
        page.contains("id=\"alerts\"") && page.contains("disk nearly full") && page.contains("name=\"back\" value=\"device\""),
        "device panel"
    );
    let (_, home) = a.get_text("/").await;
    assert!(home.contains("<span class=\"n\">2</span><span>Open alerts</span>"), "home figure");
    let (st, loc, _) = a.form(&format!("/clients/{client}/alerts/{}/ack", cpu["id"]), &[("back", "device")]).await;
    assert_eq!((st, loc), (303, format!("{device_page}#alerts")));

    // Back to normal: both resolve by themselves after two good evaluations.
    set_figures(&s, device, 12.0, 40.0).await;
    let done = wait_for(&a, "/api/v1/alerts?state=resolved", "both resolved", |v| v["total"] == 2).await;
    for al in items(&done) {
        let path = format!("/api/v1/clients/{client}/alerts/{}", al["id"]);
        let (_, d) = a.get(&path).await;
        assert_eq!(d["history"].as_array().unwrap().last().unwrap()["kind"], "recovered", "{d}");
    }
    let (_, none) = a.get("/api/v1/alerts?state=unresolved").await;
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn a_critical_alert_opens_one_ticket_that_hears_of_its_resolution_and_its_return() {
    let (s, a, client, device, _sim) = quiet_device().await;
    assert_eq!(a.patch("/api/v1/settings", json!({"alert_tickets": "sometimes"})).await.0, 400);
    let (st, v) = a.patch("/api/v1/settings", json!({"alert_tickets": "critical"})).await;
    assert_eq!((st, v["alert_tickets"].as_str()), (200, Some("critical")), "{v}");

    // A critical disk and a warning CPU: only the critical one opens a ticket.
    set_figures(&s, device, 97.0, 96.5).await;
    let open = wait_for(&a, "/api/v1/alerts?state=unresolved", "two alerts", |v| v["total"] == 2).await;
    let disk = items(&open).iter().find(|al| al["check"] == "disk_free").unwrap().clone();
    let cpu = items(&open).iter().find(|al| al["check"] == "cpu").unwrap().clone();
    assert!(cpu["ticket_id"].is_null(), "a warning stays below the threshold: {cpu}");
    let ticket = disk["ticket_id"].as_i64().unwrap_or_else(|| panic!("no ticket: {disk}"));
    let (_, t) = a.get(&format!("/api/v1/clients/{client}/tickets/{ticket}")).await;
    assert_eq!((t["subject"].as_str(), t["priority"].as_str()), (disk["title"].as_str(), Some("P1")), "{t}");
    assert_eq!(t["tags"], json!(["alert"]));
    let (_, by_device) = a.get(&format!("/api/v1/tickets?device_id={device}")).await;
    assert_eq!(by_device["total"], 1, "the ticket is linked to the device: {by_device}");
    let (_, entries) = a.get(&format!("/api/v1/clients/{client}/tickets/{ticket}/entries")).await;
    assert!(entries.to_string().contains("/data used 96 %"), "the check's output is in the ticket: {entries}");
    let (_, log) = a.get(&format!("/api/v1/audit?action=alert.open&client_id={client}")).await;
    assert!(items(&log).iter().any(|e| e["details"]["ticket_id"] == ticket), "the alert's audit entry names its ticket: {log}");

    // It recovers: the ticket hears of it. It fails again while the ticket is open: the same ticket.
    set_figures(&s, device, 12.0, 40.0).await;
    wait_for(&a, "/api/v1/alerts?state=resolved", "both resolved", |v| v["total"] == 2).await;
    let (_, entries) = a.get(&format!("/api/v1/clients/{client}/tickets/{ticket}/entries")).await;
    assert!(entries.to_string().contains("Alert resolved (the check passes again)"), "{entries}");
    set_figures(&s, device, 12.0, 97.0).await;
    let again = wait_for(&a, "/api/v1/alerts?state=unresolved&check_type=metric", "the disk alert again", |v| v["total"] == 1).await;
    assert_eq!(items(&again)[0]["ticket_id"], ticket, "added to the open ticket: {again}");
    let (_, alerts_tickets) = a.get("/api/v1/tickets?tag=alert").await;
    assert_eq!(alerts_tickets["total"], 1, "no second ticket: {alerts_tickets}");
    let (_, entries) = a.get(&format!("/api/v1/clients/{client}/tickets/{ticket}/entries")).await;
    assert!(entries.to_string().contains("The alert came back"), "{entries}");

    // Resolved by hand: the ticket says by whom.
    let aid = items(&again)[0]["id"].as_i64().unwrap();
    let (st, _) = a.post(&format!("/api/v1/clients/{client}/alerts/{aid}/resolve"), json!({"note": "disk replaced"})).await;
    assert_eq!(st, 200);
    let (_, entries) = a.get(&format!("/api/v1/clients/{client}/tickets/{ticket}/entries")).await;
    assert!(entries.to_string().contains("Alert resolved (by admin: disk replaced)"), "{entries}");
}
