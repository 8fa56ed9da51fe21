//! Monitoring policies and the checks agents run (issue 15): policies are
//! checked field by field, assigned at the installation, a client, a site
//! and a device, the nearest definition of a check wins and a level can
//! exclude an inherited one; a real agent runs disk, service, port and
//! script checks on this machine, and their alerts open and resolve.

use crate::common::agents::*;
use crate::common::*;
use crate::live::Events;
use serde_json::{json, Value};

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().unwrap()
}

fn by_key<'a>(checks: &'a Value, key: &str) -> Option<&'a Value> {
    checks.as_array().unwrap().iter().find(|c| c["key"] == key)
}

#[tokio::test]
async fn policies_are_checked_inherited_and_excluded_per_check() {
    let (s, a, client, site) = setup().await;
    // Installed with the server: the standard policy, on every device.
    let (st, list) = a.get("/api/v1/monitoring/policies").await;
    assert_eq!(st, 200, "{list}");
    let standard = list.as_array().unwrap().iter().find(|p| p["name"] == "Standard").expect("the standard policy").clone();
    assert_eq!(standard["assigned_to"], json!([{"level": "installation", "id": 0}]));
    let keys: Vec<&str> = standard["checks"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["offline", "cpu", "memory", "disk_free", "antivirus", "firewall", "disk_encryption"]);

    // Bad checks are refused with the field at fault.
    for (check, field, words) in [
        (json!({"type": "tcp_port", "host": "db", "timeout_ms": 1000}), "checks[0]", "port"),
        (json!({"type": "teleport"}), "checks[0]", "is not one of"),
        (json!({"type": "ping", "host": "-f", "timeout_ms": 500}), "checks[0]", "host"),
        (json!({"type": "service", "name": "x; rm -rf /"}), "checks[0]", "name"),
        (json!({"type": "script", "script_id": 999_999}), "checks[0]", "script"),
        (json!({"type": "script", "shell": "bash", "script": "id", "timeout_secs": 5}), "checks[0]", "script_id"),
        (json!({"type": "firewall", "interval_secs": 1}), "checks[0]", "interval_secs"),
    ] {
        let (st, e) = a.post("/api/v1/monitoring/policies", json!({"name": "Bad", "checks": [check]})).await;
        assert_eq!(st, 422, "{check}: {e}");
        assert_eq!(e["error"]["field"], field, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(words), "{check}: {e}");
    }
    assert_eq!(a.post("/api/v1/monitoring/policies", json!({"name": "Bad", "checks": "x"})).await.0, 400);

    let db = |port: u16| json!({"key": "db", "type": "tcp_port", "host": "db.lan", "port": port, "timeout_ms": 1000});
    let (st, web) =
        a.post("/api/v1/monitoring/policies", json!({"name": "Web", "checks": [db(5432), {"type": "process", "name": "nginx"}]})).await;
    assert_eq!(st, 201, "{web}");
    assert_eq!(web["checks"][1]["key"], "process:nginx", "a key is made when none is given");
    assert_eq!((web["checks"][0]["fail_after"].as_i64(), web["checks"][0]["interval_secs"].as_i64()), (Some(2), Some(60)));
    let (st, _) = a.post("/api/v1/monitoring/policies", json!({"name": "web", "checks": []})).await;
    assert_eq!(st, 409, "names differ in more than case");
    let (_, pooler) = a.post("/api/v1/monitoring/policies", json!({"name": "Pooler", "checks": [db(6432)], "ticket_on": "critical"})).await;
    let (web, pooler) = (web["id"].as_i64().unwrap(), pooler["id"].as_i64().unwrap());

    // One device: the client gets Web, its site Pooler, the device drops the firewall check.
    let tok = token(&a, client, site, json!({})).await;
    let _sim = simulate(&s, &tok, 1);
    let list = wait_for(&a, "/api/v1/devices", "the device", |v| v["total"] == 1).await;
    let device = items(&list)[0]["id"].as_i64().unwrap();
    assert_eq!(a.patch(&format!("/api/v1/clients/{client}"), json!({"monitoring_policy_ids": [web]})).await.0, 200);
    assert_eq!(a.patch(&format!("/api/v1/clients/{client}/sites/{site}"), json!({"monitoring_policy_ids": [pooler]})).await.0, 200);
    let (st, e) = a.patch(&format!("/api/v1/clients/{client}/devices/{device}"), json!({"monitoring_policy_ids": [424_242]})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("monitoring_policy_ids")), "{e}");
    let (st, _) = a.patch(&format!("/api/v1/clients/{client}/devices/{device}"), json!({"monitoring_excluded_checks": ["firewall"]})).await;
    assert_eq!(st, 200);
    let checks_path = format!("/api/v1/clients/{client}/devices/{device}/checks");
    let (st, checks) = a.get(&checks_path).await;
    assert_eq!(st, 200, "{checks}");
    let db_check = by_key(&checks, "db").unwrap();
    assert_eq!(
        (db_check["from"].as_str(), db_check["policy"].as_str(), db_check["check"]["port"].as_i64()),
        (Some("site"), Some("Pooler"), Some(6432))
    );
    assert_eq!(by_key(&checks, "process:nginx").unwrap()["from"], "client");
    assert_eq!(by_key(&checks, "antivirus").unwrap()["from"], "installation");
    assert!(by_key(&checks, "firewall").is_none(), "excluded at the device: {checks}");
    // The assignment is audited with the change it belongs to.
    let (_, audit) = a.get("/api/v1/audit?action=site.update").await;
    assert!(audit.to_string().contains("monitoring_policy_ids"), "{audit}");

    // Removing the site's policy: the client's definition of the check comes back.
    assert_eq!(a.delete(&format!("/api/v1/monitoring/policies/{pooler}")).await.0, 204);
    let (_, checks) = a.get(&checks_path).await;
    assert_eq!(
        (by_key(&checks, "db").unwrap()["from"].as_str(), by_key(&checks, "db").unwrap()["check"]["port"].as_i64()),
        (Some("client"), Some(5432))
    );

    // Technicians read policies but do not write them; one limited to another client sees nothing of this device.
    let other = make_client(&a, "Other").await;
    make_user(&a, "tech@example.com", "technician", Some(vec![other])).await;
    let t = s.client();
    t.login_ok("tech@example.com", PASSWORD).await;
    assert_eq!(t.get("/api/v1/monitoring/policies").await.0, 200);
    assert_eq!(t.post("/api/v1/monitoring/policies", json!({"name": "Mine", "checks": []})).await.0, 403);
    assert_eq!(t.patch(&format!("/api/v1/monitoring/policies/{web}"), json!({"name": "Mine"})).await.0, 403);
    assert_eq!(t.get(&checks_path).await.0, 404);
    // The page: technicians read it, only administrators get the forms.
    let (st, page) = t.get_text("/monitoring/policies").await;
    assert!(st == 200 && page.contains("Web") && !page.contains("New policy"), "{st}");
    let (st, _, _) = t.form("/monitoring/policies", &[("name", "Mine"), ("checks", "[]")]).await;
    assert_eq!(st, 403);
    // An administrator adds one from the page; a bad check is named, and nothing is kept.
    let (st, _, body) =
        a.form("/monitoring/policies", &[("name", "Printers"), ("checks", r#"[{"type": "ping", "host": "-x", "timeout_ms": 500}]"#)]).await;
    assert_eq!(st, 422, "{body}");
    assert!(body.contains("checks[0]") && body.contains("host"), "{body}");
    let (st, _, body) = a.form("/monitoring/policies", &[("name", "Printers"), ("checks", "not json")]).await;
    assert!(st == 422 && body.contains("not a JSON list"), "{st}: {body}");
    let printers = json!([{"type": "ping", "host": "printer1.lan", "timeout_ms": 500}]).to_string();
    let (st, to, _) =
        a.form("/monitoring/policies", &[("name", "Printers"), ("checks", printers.as_str()), ("ticket_on", "critical")]).await;
    assert_eq!(st, 303, "{to}");
    let (_, page) = a.get_text("/monitoring/policies").await;
    assert!(page.contains("ping:printer1.lan") && page.contains("critical alerts open tickets"), "the page shows what was added");
    assert_eq!(t.patch(&format!("/api/v1/clients/{client}"), json!({"monitoring_policy_ids": []})).await.0, 404);
}

#[tokio::test]
async fn a_real_agent_runs_disk_service_port_and_script_checks_whose_alerts_open_and_resolve() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--monitoring-check-secs", "1"]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Contoso").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let site = site["id"].as_i64().unwrap();
    // Only this test's checks (the standard policy's posture checks would fail on a build machine).
    let (st, settings) = a.patch("/api/v1/settings", json!({"monitoring_policy_ids": []})).await;
    assert_eq!((st, &settings["monitoring_policy_ids"]), (200, &json!([])), "{settings}");

    let work = tempfile::tempdir().unwrap();
    let flag = work.path().join("flag");
    // The service check asks `systemctl`; this one keeps its units' states in files (no systemd in a build container).
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let states = work.path().join("units");
    std::fs::create_dir(&states).unwrap();
    let fake = format!(
        "#!/bin/sh\ncase \"$1\" in\n is-active) cat \"{0}/$2\" 2>/dev/null || echo inactive ;;\n start) echo active > \"{0}/$2\" ;;\nesac\n",
        states.display()
    );
    std::fs::write(bin.join("systemctl"), fake).unwrap();
    std::fs::set_permissions(bin.join("systemctl"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    let body = format!("if [ -e '{}' ]; then echo flag found; exit 0; fi\necho flag missing\nexit 2\n", flag.display());
    let (st, script) = a.post("/api/v1/scripts", json!({"name": "Flag present", "shell": "sh", "body": body})).await;
    assert_eq!(st, 201, "{script}");
    let quick = json!({"interval_secs": 10, "fail_after": 1, "recover_after": 1});
    let with = |v: Value| {
        let mut v = v;
        v.as_object_mut().unwrap().extend(quick.as_object().unwrap().clone());
        v
    };
    let checks = |disk_warning: f64| {
        json!([
            with(json!({"key": "disk", "type": "disk_free", "mount": "/", "percent": {"warning": disk_warning}})),
            with(json!({"key": "svc", "type": "service", "name": "steward-test"})),
            with(json!({"key": "port", "type": "tcp_port", "host": "127.0.0.1", "port": port, "timeout_ms": 500})),
            with(json!({"key": "script", "type": "script", "script_id": script["id"]})),
        ])
    };
    // Free space is always under 101 %: the disk check warns until the level drops.
    let (st, policy) = a.post("/api/v1/monitoring/policies", json!({"name": "Box", "checks": checks(101.0)})).await;
    assert_eq!(st, 201, "{policy}");
    assert_eq!(a.patch(&format!("/api/v1/clients/{client}"), json!({"monitoring_policy_ids": [policy["id"]]})).await.0, 200);

    let tok = token(&a, client, site, json!({})).await;
    let (_dir, cfg) = install(&s, &tok);
    let _agent = run_agent(&cfg, Some(&bin));
    let open = wait_for(&a, "/api/v1/alerts?state=unresolved", "four alerts from the agent's checks", |v| v["total"] == 4).await;
    let alert = |k: &str| items(&open).iter().find(|al| al["check"] == k).unwrap_or_else(|| panic!("{k}: {open}")).clone();
    assert_eq!((alert("disk")["severity"].as_str(), alert("disk")["check_type"].as_str()), (Some("warning"), Some("disk_free")));
    assert!(alert("disk")["output"].as_str().unwrap().starts_with("/: "), "{open}");
    assert_eq!(alert("svc")["output"], "steward-test is inactive");
    assert!(alert("svc")["title"].as_str().unwrap().ends_with("service steward-test is not running"), "{open}");
    assert_eq!(alert("port")["severity"], "critical");
    assert_eq!(alert("script")["output"], "flag missing", "the script's own output is kept");
    let device = alert("disk")["device_id"].as_i64().unwrap();
    let (_, at_site) = a.get(&format!("/api/v1/alerts?state=unresolved&site_id={site}")).await;
    assert_eq!(at_site["total"], 4, "{at_site}");
    let (_, other_site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Annex", "timezone": "UTC"})).await;
    let (_, none) = a.get(&format!("/api/v1/alerts?state=unresolved&site_id={}", other_site["id"])).await;
    assert_eq!(none["total"], 0, "{none}");
    // The dashboard counts them per client, and its page links each figure to its list.
    let (_, dash) = a.get("/api/v1/dashboard").await;
    assert_eq!((dash["total"]["critical"].as_i64(), dash["total"]["warning"].as_i64()), (Some(3), Some(1)), "{dash}");
    assert_eq!((dash["clients"][0]["client_id"].as_i64(), dash["clients"][0]["critical"].as_i64()), (Some(client), Some(3)), "{dash}");
    assert_eq!(dash["failing_longest"].as_array().unwrap().len(), 4, "{dash}");
    let (_, home) = a.get_text("/").await;
    assert!(home.contains(&format!("href=\"/alerts?client_id={client}&amp;severity=critical\">3</a>")), "{home}");
    let (_, listed) = a.get_text(&format!("/alerts?client_id={client}&severity=critical")).await;
    assert_eq!(listed.matches("data-alert=").count(), 3, "the link lists what it counts");
    let (_, checks_now) = a.get(&format!("/api/v1/clients/{client}/devices/{device}/checks")).await;
    assert_eq!(by_key(&checks_now, "svc").unwrap()["status"], "critical", "{checks_now}");

    // Put everything right: the service runs, the port listens, the flag exists, the disk level drops.
    std::fs::write(states.join("steward-test"), "active\n").unwrap();
    let _listening = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::fs::write(&flag, "").unwrap();
    let id = policy["id"].as_i64().unwrap();
    assert_eq!(a.patch(&format!("/api/v1/monitoring/policies/{id}"), json!({"checks": checks(1.0)})).await.0, 200);
    // (Waiting on the checks first: if they never all pass, the failure shows which did not and what it said.)
    let path = format!("/api/v1/clients/{client}/devices/{device}/checks");
    wait_for(&a, &path, "every check to pass", |v| v.as_array().unwrap().iter().all(|c| c["status"] == "pass")).await;
    let done = wait_for(&a, "/api/v1/alerts?state=resolved", "all four resolved by the checks", |v| v["total"] == 4).await;
    for al in items(&done) {
        let (_, one) = a.get(&format!("/api/v1/clients/{client}/alerts/{}", al["id"])).await;
        let kinds: Vec<&str> = one["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["opened", "recovered"], "{one}");
    }
    let (_, dash) = a.get("/api/v1/dashboard").await;
    assert_eq!((dash["total"]["critical"].as_i64(), dash["total"]["warning"].as_i64()), (Some(0), Some(0)), "counts follow: {dash}");
    let (_, checks_now) = a.get(&path).await;
    assert_eq!(by_key(&checks_now, "script").unwrap()["output"], "flag found");
    // The device page shows each check with a strip of the day: red while it failed, green since.
    let (st, page) = a.get_text(&format!("/clients/{client}/devices/{device}")).await;
    assert_eq!(st, 200);
    let row = page.split("data-check=\"svc\"").nth(1).expect("the service check's row").split("</tr>").next().unwrap();
    assert!(row.contains("data-status=\"pass\"") && row.contains("class=\"critical\"") && row.contains("class=\"pass\""), "{row}");
    assert!(row.contains("client · Box"), "where it came from: {row}");
}

#[tokio::test]
async fn a_stopped_service_is_restarted_once_by_the_agent_when_the_check_says_so() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--monitoring-check-secs", "1"]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Fabrikam").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let site = site["id"].as_i64().unwrap();
    a.patch("/api/v1/settings", json!({"monitoring_policy_ids": []})).await;
    let work = tempfile::tempdir().unwrap();
    let (bin, states) = (work.path().join("bin"), work.path().join("units"));
    std::fs::create_dir(&bin).unwrap();
    std::fs::create_dir(&states).unwrap();
    let fake = format!(
        "#!/bin/sh\necho \"$@\" >> \"{0}/calls\"\ncase \"$1\" in\n is-active) cat \"{0}/$2\" 2>/dev/null || echo failed ;;\n start) echo active > \"{0}/$2\" ;;\nesac\n",
        states.display()
    );
    std::fs::write(bin.join("systemctl"), fake).unwrap();
    std::fs::set_permissions(bin.join("systemctl"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let check =
        json!({"type": "service", "name": "backup-agent", "restart": true, "interval_secs": 10, "fail_after": 1, "recover_after": 1});
    let (_, policy) = a.post("/api/v1/monitoring/policies", json!({"name": "Backups", "checks": [check]})).await;
    a.patch(&format!("/api/v1/clients/{client}/sites/{site}"), json!({"monitoring_policy_ids": [policy["id"]]})).await;
    let tok = token(&a, client, site, json!({})).await;
    let (_dir, cfg) = install(&s, &tok);
    let _agent = run_agent(&cfg, Some(&bin));
    let list = wait_for(&a, "/api/v1/devices", "the device", |v| v["total"] == 1).await;
    let device = items(&list)[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/clients/{client}/devices/{device}/checks");
    let checks = wait_for(&a, &path, "the service check's first result", |v| {
        by_key(v, "service:backup-agent").is_some_and(|c| c["updated_at"].is_string())
    })
    .await;
    let c = by_key(&checks, "service:backup-agent").unwrap();
    assert_eq!((c["status"].as_str(), c["output"].as_str()), (Some("pass"), Some("backup-agent was failed; the agent started it")), "{c}");
    let calls = std::fs::read_to_string(states.join("calls")).unwrap();
    assert_eq!(calls.lines().filter(|l| l.starts_with("start")).count(), 1, "started once: {calls}");
    let (_, none) = a.get("/api/v1/alerts?state=unresolved").await;
    assert_eq!(none["total"], 0, "a restarted service raises no alert: {none}");
}

/// A server evaluating every second; a client with one site whose policy
/// has a port check that fails at once (nothing listens on the port); and a
/// maintenance window open now for the whole client. No ticket setting but
/// `critical`, no other policy.
struct Windowed {
    s: Server,
    a: Client,
    client: i64,
    site: i64,
    policy: Value,
    window: Value,
}

async fn windowed(name: &str) -> Windowed {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--monitoring-check-secs", "1"]).await;
    let a = s.admin().await;
    let client = make_client(&a, name).await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let site = site["id"].as_i64().unwrap();
    a.patch("/api/v1/settings", json!({"monitoring_policy_ids": [], "alert_tickets": "critical"})).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let check = json!({"key": "port", "type": "tcp_port", "host": "127.0.0.1", "port": closed, "timeout_ms": 500, "interval_secs": 10, "fail_after": 1});
    let (_, policy) = a.post("/api/v1/monitoring/policies", json!({"name": "Ports", "checks": [check]})).await;
    a.patch(&format!("/api/v1/clients/{client}"), json!({"monitoring_policy_ids": [policy["id"]]})).await;
    let start = chrono::Utc::now().format("%Y-%m-%dT%H:%M").to_string();
    let (st, window) = a
        .post(
            &format!("/api/v1/clients/{client}/maintenance-windows"),
            json!({"name": "Patching", "start_local": start, "timezone": "UTC", "duration_minutes": 120}),
        )
        .await;
    assert_eq!(st, 201, "{window}");
    assert!(window["open_until"].is_string(), "open now: {window}");
    Windowed { s, a, client, site, policy, window }
}

#[tokio::test]
async fn an_alert_opened_in_a_maintenance_window_is_suppressed_shown_live_and_can_be_snoozed_from_its_page() {
    let Windowed { s, a, client, site, .. } = windowed("Tailspin").await;
    // Open pages hear of the alert; a technician of another client does not.
    let other = make_client(&a, "Other").await;
    make_user(&a, "tech@example.com", "technician", Some(vec![other])).await;
    let t = s.client();
    t.login_ok("tech@example.com", PASSWORD).await;
    let mut admin_events = Events::open_at(&a, "/alerts/events", "changed").await;
    let mut tech_events = Events::open_at(&t, "/alerts/events", "changed").await;

    let tok = token(&a, client, site, json!({})).await;
    let (_dir, cfg) = install(&s, &tok);
    let _agent = run_agent(&cfg, None);
    let found = wait_for(&a, "/api/v1/alerts?state=suppressed", "the alert, suppressed", |v| v["total"] == 1).await;
    let alert = items(&found)[0].clone();
    admin_events.until("the alert's event", |e| e["alert_id"] == alert["id"]).await;
    let (_, page) = a.get_text("/alerts?state=suppressed").await;
    assert!(
        page.contains(&format!("data-alert=\"{}\" data-state=\"suppressed\"", alert["id"])) && page.contains("in maintenance"),
        "{page}"
    );
    // Snoozed from the page, for a day.
    let snooze = format!("/clients/{client}/alerts/{}/snooze", alert["id"]);
    let (st, _, _) = a.form(&snooze, &[("hours", "24"), ("note", "vendor is on it")]).await;
    assert_eq!(st, 303);
    let (_, one) = a.get(&format!("/api/v1/clients/{client}/alerts/{}", alert["id"])).await;
    assert_eq!(one["state"], "snoozed", "{one}");
    assert!(alert["ticket_id"].is_null(), "no ticket during the window: {alert}");
    let path = format!("/api/v1/clients/{client}/alerts/{}", alert["id"]);
    let (_, one) = a.get(&path).await;
    assert!(one["history"].to_string().contains("Patching"), "the window is named: {one}");
    let (_, dash) = t.get("/api/v1/dashboard").await;
    assert_eq!(
        (dash["total"]["warning"].as_i64(), dash["total"]["critical"].as_i64()),
        (Some(0), Some(0)),
        "another client's technician: {dash}"
    );
    assert!(dash["failing_longest"].as_array().unwrap().is_empty(), "{dash}");
    let (_, dash) = a.get("/api/v1/dashboard").await;
    assert_eq!(dash["total"]["critical"].as_i64(), Some(1), "a suppressed alert still counts as unresolved: {dash}");
    // What was sent to the technician's stream has arrived by now: nothing of this client.
    tech_events.drain(std::time::Duration::from_millis(500)).await;
    assert!(tech_events.seen.is_empty(), "{:?}", tech_events.seen);
}

#[tokio::test]
async fn a_suppressed_alert_opens_with_its_ticket_when_the_window_ends_and_a_removed_check_resolves_its_alert() {
    let Windowed { s, a, client, site, policy, window } = windowed("Wingtip").await;
    let tok = token(&a, client, site, json!({})).await;
    let (_dir, cfg) = install(&s, &tok);
    let _agent = run_agent(&cfg, None);
    let found = wait_for(&a, "/api/v1/alerts?state=suppressed", "the alert, suppressed", |v| v["total"] == 1).await;
    let path = format!("/api/v1/clients/{client}/alerts/{}", items(&found)[0]["id"]);

    // The window ends (removed here) and the check still fails: the alert opens, with its ticket.
    assert_eq!(a.delete(&format!("/api/v1/clients/{client}/maintenance-windows/{}", window["id"])).await.0, 204);
    let opened = wait_for(&a, &path, "the alert open after the window", |v| v["state"] == "open").await;
    assert!(opened["ticket_id"].is_i64(), "{opened}");
    let kinds: Vec<&str> = opened["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "suppressed", "unsuppressed"], "{opened}");

    // The check leaves the policy: its alert resolves and its ticket hears why.
    assert_eq!(a.patch(&format!("/api/v1/monitoring/policies/{}", policy["id"]), json!({"checks": []})).await.0, 200);
    let done = wait_for(&a, &path, "the alert resolved with its check gone", |v| v["state"] == "resolved").await;
    assert_eq!(done["history"].as_array().unwrap().last().unwrap()["kind"], "removed", "{done}");
    let (_, entries) = a.get(&format!("/api/v1/clients/{client}/tickets/{}/entries", opened["ticket_id"])).await;
    assert!(entries.to_string().contains("no longer in the device's monitoring policies"), "{entries}");
}

/// The set a command carries: its version (panics on anything else).
fn set_version(msg: &Value) -> String {
    use base64::Engine;
    assert_eq!(msg["type"], "command", "{msg}");
    let payload = base64::engine::general_purpose::STANDARD.decode(msg["envelope"]["payload"].as_str().unwrap()).unwrap();
    let cmd: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(cmd["body"]["kind"], "checks", "{cmd}");
    cmd["body"]["version"].as_str().unwrap().to_string()
}

/// A set that went missing on its way (a dropped connection, a refused
/// command) is sent again when the agent's results say it runs another one.
#[tokio::test]
async fn an_agent_whose_results_come_from_another_set_is_sent_its_set_again() {
    let (s, a, client, site) = setup().await;
    a.patch("/api/v1/settings", json!({"monitoring_policy_ids": []})).await;
    let check = json!({"key": "web", "type": "tcp_port", "host": "127.0.0.1", "port": 9, "timeout_ms": 200, "interval_secs": 60});
    let (_, policy) = a.post("/api/v1/monitoring/policies", json!({"name": "Web", "checks": [check]})).await;
    a.patch(&format!("/api/v1/clients/{client}"), json!({"monitoring_policy_ids": [policy["id"]]})).await;
    let tok = token(&a, client, site, json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[77; 32]);
    let (ws, device, _) = raw_enroll(&s.base, &tok, &key, "lost-set").await;
    drop(ws);
    // Says it runs none: the set comes at once.
    let mut ws = raw_hello(&s.base, device, &key, Some("")).await;
    let version = set_version(&next_within(&mut ws, "the set, on connecting").await);
    drop(ws);
    // Says it runs this very set: nothing to send. Then its results say otherwise.
    let mut ws = raw_hello(&s.base, device, &key, Some(&version)).await;
    let at = chrono::Utc::now().timestamp();
    let results = json!([{"key": "web", "at": at, "verdict": "pass", "output": "open"}]);
    raw_send(&mut ws, json!({"type": "check_results", "sent_at": at, "results": results, "version": "an older one"})).await;
    assert_eq!(set_version(&next_within(&mut ws, "the set, sent again").await), version);
}
