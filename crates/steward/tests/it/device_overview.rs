//! The RMM's everyday screens (issue 18): the device list's "now" columns
//! (CPU, memory, fullest disk, IP, user, uptime) filled from what agents
//! report, sorted and searched by them; a user's columns and saved views;
//! bulk ping/move/script from ticked rows; the global search finding
//! devices by IP, serial and installed software, scoped; and the device
//! page's first screen with its tiles and a reboot sent as a signed,
//! audited command to simulated agents and to the real agent.

use crate::common::agents::*;
use crate::common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A server with a client whose site samples metrics every 10 s (the
/// shortest allowed), and `n` simulated agents reporting into it.
async fn fleet(n: usize) -> (Server, Client, i64, i64, KillOnDrop) {
    let (s, a, client, site) = setup().await;
    let (st, v) = a.patch(&format!("/api/v1/clients/{client}/sites/{site}"), json!({"agent_metrics_secs": 10})).await;
    assert_eq!(st, 200, "{v}");
    let sim = simulate(&s, &token(&a, client, site, json!({"max_uses": n})).await, n);
    (s, a, client, site, sim)
}

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().unwrap()
}

#[tokio::test]
async fn the_list_shows_what_devices_do_now_and_sorts_and_finds_by_it() {
    let (s, a, _client, _site, _sim) = fleet(6).await;
    let all = wait_for(&a, "/api/v1/devices?limit=50", "6 devices with a metrics sample and their inventory facts", |v| {
        v["total"] == 6
            && items(v).iter().all(|d| d["now"]["cpu_percent"].is_number() && !d["now"]["ip_addresses"].as_array().unwrap().is_empty())
    })
    .await;
    for d in items(&all) {
        let now = &d["now"];
        for f in ["cpu_percent", "memory_percent", "disk_percent"] {
            let v = now[f].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&v), "{f} {v}");
        }
        assert!(now["disk_mount"].as_str().is_some_and(|m| !m.is_empty()), "{now}");
        assert!(now["metrics_at"].as_str().unwrap().ends_with('Z'));
        assert!(now["uptime_secs"].as_i64().unwrap() > 0 && now["booted_at"].is_string(), "{now}");
        assert!(!now["serial"].as_str().unwrap().is_empty(), "{now}");
    }

    // Sorting by a figure: the busiest first, and the opposite way.
    let (_, by_cpu) = a.get("/api/v1/devices?sort=cpu&order=desc").await;
    let cpus: Vec<f64> = items(&by_cpu).iter().map(|d| d["now"]["cpu_percent"].as_f64().unwrap()).collect();
    assert!(cpus.windows(2).all(|w| w[0] >= w[1]), "{cpus:?}");
    let (_, by_disk) = a.get("/api/v1/devices?sort=disk").await;
    let disks: Vec<f64> = items(&by_disk).iter().map(|d| d["now"]["disk_percent"].as_f64().unwrap()).collect();
    assert!(disks.windows(2).all(|w| w[0] <= w[1]), "{disks:?}");
    let (_, by_uptime) = a.get("/api/v1/devices?sort=uptime").await;
    let ups: Vec<i64> = items(&by_uptime).iter().map(|d| d["now"]["uptime_secs"].as_i64().unwrap()).collect();
    assert!(ups.windows(2).all(|w| w[0] <= w[1] + 1), "shortest uptime first: {ups:?}");
    assert_eq!(a.get("/api/v1/devices?sort=password").await.0, 400);

    // The list's text filter finds a device by its IP address or serial.
    let one = &items(&all)[2];
    let ip = one["now"]["ip_addresses"][0].as_str().unwrap();
    let (_, v) = a.get(&format!("/api/v1/devices?q={ip}")).await;
    assert!(items(&v).iter().any(|d| d["id"] == one["id"]), "by IP {ip}: {v}");
    let serial = one["now"]["serial"].as_str().unwrap();
    let (_, v) = a.get(&format!("/api/v1/devices?q={}", serial.to_lowercase())).await;
    assert_eq!(items(&v).iter().map(|d| d["id"].clone()).collect::<Vec<_>>(), vec![one["id"].clone()], "by serial {serial}: {v}");

    // The page shows the default columns with the figures.
    let (st, page) = a.get_text("/devices").await;
    assert_eq!(st, 200);
    for header in ["CPU", "Memory", "Disk", "IP address", "Last seen"] {
        assert!(page.contains(&format!(">{header}")), "header {header}");
    }
    assert!(page.contains(ip), "the IP column shows addresses");
    assert!(page.contains(" %</td>"), "figures are shown as percentages");
    drop(s);
}

#[tokio::test]
async fn columns_and_saved_views_are_each_users_own() {
    let (s, a, client, _site) = setup().await;
    // Defaults until chosen; unknown columns refused by name.
    let (st, v) = a.get("/api/v1/devices/views").await;
    assert_eq!(st, 200);
    assert!(v["columns"].as_array().unwrap().contains(&json!("cpu")) && v["views"] == json!([]), "{v}");
    let (st, e) = a.send("PUT", "/api/v1/devices/columns", json!({"columns": ["disk", "bogus"]})).await;
    assert_eq!((st, error_code(&e)), (422, "refused".to_string()), "{e}");
    let (st, v) = a.send("PUT", "/api/v1/devices/columns", json!({"columns": ["uptime", "user", "client"]})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["columns"], json!(["client", "user", "uptime"]), "the list's own order");
    let (_, page) = a.get_text("/devices").await;
    assert!(page.contains(">Signed in") && page.contains(">Uptime") && !page.contains(">CPU<"), "only the chosen columns");

    // Views: saved normalized, replaced by name, refused when they do not open.
    let (st, v) = a
        .post("/api/v1/devices/views", json!({"name": "Offline here", "query": format!("?offset=50&state=offline&client_id={client}&q=")}))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["views"], json!([{"name": "Offline here", "query": format!("client_id={client}&state=offline")}]));
    let (_, v) = a.post("/api/v1/devices/views", json!({"name": "offline HERE", "query": "sort=cpu&order=desc"})).await;
    assert_eq!(v["views"].as_array().unwrap().len(), 1, "same name, any case, replaces: {v}");
    for bad in ["state=sleeping", "next=https://evil.example", "sort=cpu&sort=disk", "client_id=999999"] {
        let (st, e) = a.post("/api/v1/devices/views", json!({"name": "x", "query": bad})).await;
        assert_eq!(st, 422, "{bad}: {e}");
    }
    assert_eq!(a.post("/api/v1/devices/views", json!({"name": "  ", "query": ""})).await.0, 400);
    assert_eq!(a.post("/api/v1/devices/views", json!({"name": "long", "query": format!("q={}", "x".repeat(2000))})).await.0, 422);
    // Saved at the same moment from several tabs: every one is kept.
    let saves = (0..12).map(|i| {
        let a = &a;
        async move { a.post("/api/v1/devices/views", json!({"name": format!("tab {i}"), "query": format!("q=host{i}")})).await.0 }
    });
    assert!(futures_util::future::join_all(saves).await.iter().all(|st| *st == 200));
    let (_, v) = a.get("/api/v1/devices/views").await;
    assert_eq!(v["views"].as_array().unwrap().len(), 13, "none lost: {v}");
    for i in 0..12 {
        assert_eq!(a.delete(&format!("/api/v1/devices/views/tab%20{i}")).await.0, 204);
    }
    let (_, page) = a.get_text("/devices").await;
    assert!(page.contains("offline HERE"), "the view is offered on the list");

    // Another user has their own (empty) settings and cannot delete mine.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    let (_, v) = t.get("/api/v1/devices/views").await;
    assert_eq!(v["views"], json!([]));
    assert!(v["columns"].as_array().unwrap().contains(&json!("cpu")));
    assert_eq!(t.delete("/api/v1/devices/views/offline%20here").await.0, 404);
    assert_eq!(a.delete("/api/v1/devices/views/offline%20here").await.0, 204);
    assert_eq!(a.delete("/api/v1/devices/views/offline%20here").await.0, 404);

    // From the page: save this view, choose columns, back to the same list.
    let (st, loc, _) = a.form("/devices/views", &[("name", "Windows"), ("query", "os=windows"), ("back", "os=windows")]).await;
    assert_eq!((st, loc.as_str()), (303, "/devices?os=windows"));
    let (st, loc, _) = a.form("/devices/columns", &[("column", "os"), ("column", "cpu"), ("back", "os=windows&evil=1")]).await;
    assert_eq!((st, loc.as_str()), (303, "/devices?"), "a way back with foreign parameters goes to the plain list");
    let (_, v) = a.get("/api/v1/devices/views").await;
    assert_eq!((v["columns"].clone(), v["views"][0]["query"].clone()), (json!(["os", "cpu"]), json!("os=windows")));
}

#[tokio::test]
async fn ticked_devices_are_pinged_moved_and_handed_to_a_script_within_scope() {
    let (s, a, client, site, _sim) = fleet(3).await;
    let (_, other) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Branch", "timezone": "UTC"})).await;
    let other = other["id"].as_i64().unwrap();
    let list =
        wait_for(&a, "/api/v1/devices", "3 devices online", |v| v["total"] == 3 && items(v).iter().all(|d| d["online"] == true)).await;
    let ids: Vec<String> = items(&list).iter().map(|d| d["id"].to_string()).collect();

    // Ping them all: the list comes back with the counts.
    let mut form: Vec<(&str, &str)> = ids.iter().map(|i| ("device_id", i.as_str())).collect();
    form.extend([("action", "ping"), ("back", "state=online")]);
    let (st, loc, _) = a.form("/devices/bulk", &form).await;
    assert_eq!((st, loc.as_str()), (303, "/devices?state=online&pinged=3&answered=3"));
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("Pinged 3 devices: 3 answered, 0 did not."), "the notice");
    let (_, log) = a.get(&format!("/api/v1/audit?action=device.command&client_id={client}")).await;
    assert!(log["items"].as_array().unwrap().len() >= 3, "each ping audited: {log}");

    // Move two to the other site: each audited with the site before and after.
    let two = [("device_id", ids[0].as_str()), ("device_id", ids[1].as_str()), ("action", "move"), ("site_id", &other.to_string())];
    let (st, loc, _) = a.form("/devices/bulk", &two).await;
    assert_eq!((st, loc.as_str()), (303, "/devices?moved=2"));
    let (_, v) = a.get(&format!("/api/v1/devices?site_id={other}&client_id={client}")).await;
    assert_eq!(v["total"], 2);
    let (_, log) = a.get(&format!("/api/v1/audit?action=device.update&client_id={client}")).await;
    let moved = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["after"]["site_id"] == other && e["details"]["before"]["site_id"] == site)
        .count();
    assert_eq!(moved, 2, "{log}");

    // A script: the run form opens with the ticked devices as its target.
    let (_, script) = a.post("/api/v1/scripts", json!({"name": "Uptime", "shell": "bash", "body": "uptime"})).await;
    let sid = script["id"].to_string();
    let (st, loc, _) =
        a.form("/devices/bulk", &[("device_id", &ids[2]), ("device_id", &ids[0]), ("action", "script"), ("script_id", &sid)]).await;
    let mut sorted = [ids[0].clone(), ids[2].clone()];
    sorted.sort_by_key(|s| s.parse::<i64>().unwrap());
    assert_eq!((st, loc.clone()), (303, format!("/scripts/{sid}?devices={}#run", sorted.join(","))));
    let (_, page) = a.get_text(loc.trim_end_matches("#run")).await;
    assert!(page.contains(&format!("value=\"devices:{}\" selected", sorted.join(","))), "the target is preselected");
    let (st, loc, _) = a.form(&format!("/scripts/{sid}/run"), &[("target", &format!("devices:{}", sorted.join(",")))]).await;
    assert_eq!(st, 303, "{loc}");
    let run: i64 = loc.trim_start_matches("/script-runs/").parse().unwrap();
    let (_, r) = a.get(&format!("/api/v1/script-runs/{run}")).await;
    assert_eq!(r["device_count"], 2, "{r}");

    // Bad input: nothing ticked, too many, unknown action.
    assert_eq!(a.form("/devices/bulk", &[("action", "ping")]).await.0, 400);
    assert_eq!(a.form("/devices/bulk", &[("device_id", "x"), ("action", "ping")]).await.0, 400);
    assert_eq!(a.form("/devices/bulk", &[("device_id", &ids[0]), ("action", "format")]).await.0, 400);
    let many: Vec<String> = (1..=501).map(|i| i.to_string()).collect();
    let mut f: Vec<(&str, &str)> = many.iter().map(|i| ("device_id", i.as_str())).collect();
    f.push(("action", "ping"));
    assert_eq!(a.form("/devices/bulk", &f).await.0, 400);

    // A technician limited to another client: these devices do not exist.
    let elsewhere = make_client(&a, "Elsewhere").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![elsewhere])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    let (st, _, _) = t.form("/devices/bulk", &[("device_id", &ids[0]), ("action", "ping")]).await;
    assert_eq!(st, 404);
    let (st, _, _) = t.form("/devices/bulk", &[("device_id", &ids[0]), ("action", "move"), ("site_id", &site.to_string())]).await;
    assert_eq!(st, 404);
    let (_, v) = a.get(&format!("/api/v1/devices?site_id={site}&client_id={client}")).await;
    assert_eq!(v["total"], 1, "nothing moved by the refused request");
}

#[tokio::test]
async fn the_global_search_finds_devices_by_ip_serial_and_software_in_scope() {
    let (s, a, client, _site, _sim) = fleet(4).await;
    let all = wait_for(&a, "/api/v1/devices", "4 devices with facts", |v| {
        v["total"] == 4 && items(v).iter().all(|d| !d["now"]["ip_addresses"].as_array().unwrap().is_empty())
    })
    .await;
    let d = &items(&all)[1];
    let (id, cid) = (d["id"].as_i64().unwrap(), d["client_id"].as_i64().unwrap());
    let url = format!("/clients/{cid}/devices/{id}");
    let search = |q: &str| format!("/api/v1/search?{}", serde_urlencoded::to_string([("q", q)]).unwrap());
    let device_hits =
        |v: &Value| -> Vec<Value> { v["hits"].as_array().unwrap().iter().filter(|h| h["kind"] == "device").cloned().collect() };

    let ip = d["now"]["ip_addresses"][0].as_str().unwrap();
    let (st, v) = a.get(&search(ip)).await;
    assert_eq!(st, 200, "{v}");
    let hit = device_hits(&v).into_iter().find(|h| h["url"] == url.as_str()).unwrap_or_else(|| panic!("by IP {ip}: {v}"));
    assert!(hit["detail"].as_str().unwrap().contains(&format!("IP {ip}")), "{hit}");
    let serial = d["now"]["serial"].as_str().unwrap();
    let (_, v) = a.get(&search(serial)).await;
    assert!(device_hits(&v).iter().any(|h| h["url"] == url.as_str() && h["detail"].as_str().unwrap().contains("serial")), "{v}");

    // Software: a name from this device's inventory finds the devices that have it.
    let (_, inv) = a.get(&format!("/api/v1/clients/{cid}/devices/{id}/inventory")).await;
    let software = inv["inventory"]["software"].as_array().unwrap();
    let name = software.last().unwrap()["name"].as_str().unwrap().to_string();
    let (_, v) = a.get(&search(&name)).await;
    let found = device_hits(&v);
    assert!(!found.is_empty() && found.iter().all(|h| h["detail"].as_str().unwrap().contains("installed")), "{name}: {v}");
    for h in &found {
        let path = h["url"].as_str().unwrap().replace("/clients/", "/api/v1/clients/") + "/inventory";
        let (_, other) = a.get(&path).await;
        let has = other["inventory"]["software"].as_array().unwrap().iter().any(|s| s["name"].as_str().unwrap().contains(name.as_str()));
        assert!(has, "{} listed for {name} without it", h["url"]);
    }

    // Scoped: a technician of another client finds none of these devices.
    let elsewhere = make_client(&a, "Elsewhere").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![elsewhere])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    for q in [ip, serial, name.as_str()] {
        let (_, v) = t.get(&search(q)).await;
        assert!(device_hits(&v).is_empty(), "{q} leaked: {v}");
    }
    let _ = client;
}

/// Waits until the device page shows what `f` accepts.
async fn page_until(a: &Client, path: &str, what: &str, f: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (st, page) = a.get_text(path).await;
        assert_eq!(st, 200);
        if f(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "{path} never showed {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn the_device_page_answers_at_a_glance_and_reboots_on_confirmation() {
    let (_s, a, client, _site, _sim) = fleet(1).await;
    let list =
        wait_for(&a, "/api/v1/devices", "the device with a sample", |v| v["total"] == 1 && items(v)[0]["now"]["cpu_percent"].is_number())
            .await;
    let id = items(&list)[0]["id"].as_i64().unwrap();
    let path = format!("/clients/{client}/devices/{id}");
    // Tiles with the current figure and a drawn line, once a 5-minute bucket has a sample.
    let page = page_until(&a, &path, "tiles with lines", |p| p.matches("<path d=\"M").count() >= 3).await;
    for tile in ["data-tile=\"CPU\"", "data-tile=\"Memory\"", "data-tile=\"Disk\""] {
        assert!(page.contains(tile), "{tile}");
    }
    for part in
        ["IP addresses", "Signed in", "role=\"tablist\"", "id=\"tab-software\"", "Reboot…", "name=\"confirm\"", "data-range=\"24h\""]
    {
        assert!(page.contains(part), "{part}");
    }

    // Reboot: refused without confirmation or reason; sent, answered and audited with both.
    let reboot = format!("{path}/reboot");
    assert_eq!(a.form(&reboot, &[("reason", "updates")]).await.0, 422, "not confirmed");
    assert_eq!(a.form(&reboot, &[("reason", " "), ("confirm", "1")]).await.0, 422, "no reason");
    let (st, loc, _) = a.form(&reboot, &[("reason", "monthly updates"), ("delay_secs", "300"), ("confirm", "1")]).await;
    assert_eq!((st, loc.clone()), (303, format!("{path}?reboot=scheduled&in=300")));
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("The device restarts in 300 s."));
    let (_, log) = a.get(&format!("/api/v1/audit?action=device.command&client_id={client}")).await;
    let e = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["details"]["body"]["kind"] == "reboot")
        .cloned()
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(
        (e["details"]["body"]["reason"].as_str(), e["details"]["body"]["delay_secs"].as_i64()),
        (Some("monthly updates"), Some(300))
    );
    let api = format!("/api/v1/clients/{client}/devices/{id}/reboot");
    let (st, v) = a.post(&api, json!({"reason": "x", "delay_secs": 3601})).await;
    assert_eq!(st, 422, "{v}");
    let (st, v) = a.post(&api, json!({"reason": "now", "delay_secs": 0})).await;
    assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");
}

#[tokio::test]
async fn the_real_agent_runs_the_configured_restart_with_the_reason() {
    let (s, a, client, site) = setup().await;
    let (dir, cfg) = install(&s, &token(&a, client, site, json!({})).await);
    // The restart program the configuration names: records its arguments
    // instead of restarting this machine.
    let marker = dir.path().join("restarted");
    let script = dir.path().join("restart.sh");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s|' \"$@\" > '{}'\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let file = dir.path().join("agent.json");
    let mut conf: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    conf["reboot_command"] = json!([script.display().to_string(), "--soft"]);
    std::fs::write(&file, serde_json::to_string(&conf).unwrap()).unwrap();
    let _agent = KillOnDrop(
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
    );
    let list = wait_for(&a, "/api/v1/devices", "the agent online", |v| v["total"] == 1 && items(v)[0]["online"] == true).await;
    let id = items(&list)[0]["id"].as_i64().unwrap();
    let (st, v) = a
        .post(
            &format!("/api/v1/clients/{client}/devices/{id}/reboot"),
            json!({"reason": "disk swap; \"quoted\" $(reboot)", "delay_secs": 120}),
        )
        .await;
    assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(v["output"], "restart scheduled in 120 s");
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "--soft|120|Steward: disk swap; \"quoted\" $(reboot)|",
        "arguments, never a shell"
    );

    // A restart program that fails is reported as such, not as scheduled.
    conf["reboot_command"] = json!(["/bin/false"]);
    std::fs::write(&file, serde_json::to_string(&conf).unwrap()).unwrap();
    drop(_agent);
    let _agent = KillOnDrop(
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_for(&a, "/api/v1/devices", "the agent back online", |v| items(v)[0]["online"] == true).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let v = loop {
        let (st, v) = a.post(&format!("/api/v1/clients/{client}/devices/{id}/reboot"), json!({"reason": "again"})).await;
        if st == 200 || Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(v["ok"], false, "{v}");
    assert!(v["output"].as_str().unwrap().contains("/bin/false failed"), "{v}");
}

#[tokio::test]
async fn a_reboot_inside_an_open_maintenance_window_needs_force_and_windows_are_checked_and_scoped() {
    let (s, a, client, site, _sim) = fleet(1).await;
    let (_, branch) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Branch", "timezone": "Europe/Berlin"})).await;
    let branch = branch["id"].as_i64().unwrap();
    let list = wait_for(&a, "/api/v1/devices", "the device online", |v| v["total"] == 1 && items(v)[0]["online"] == true).await;
    let id = items(&list)[0]["id"].as_i64().unwrap();
    let windows = format!("/api/v1/clients/{client}/maintenance-windows");
    // Started ten minutes ago, in UTC.
    let started = (chrono::Utc::now() - chrono::Duration::minutes(10)).format("%Y-%m-%dT%H:%M").to_string();
    let base = json!({"name": "Patch night", "start_local": started, "timezone": "UTC", "duration_minutes": 60});

    // Bad input, each named.
    for (field, bad) in [
        ("repeat", json!("hourly")),
        ("start_local", json!("tomorrow evening")),
        ("duration_minutes", json!(0)),
        ("timezone", json!("Mars/Olympus_Mons")),
        ("until", json!("2000-01-01")),
        ("site_id", json!(999_999)),
        ("device_id", json!(999_999)),
    ] {
        let mut body = base.clone();
        body[field] = bad.clone();
        let (st, e) = a.post(&windows, body).await;
        assert_eq!((st, e["error"]["field"].as_str()), (422, Some(field)), "{field}={bad}: {e}");
    }
    let mut daily_too_long = base.clone();
    daily_too_long["repeat"] = json!("daily");
    daily_too_long["duration_minutes"] = json!(1440);
    assert_eq!(a.post(&windows, daily_too_long).await.0, 422, "a daily window shorter than a day");

    // A window at another site does not hold this device; one at its own site does.
    let mut elsewhere = base.clone();
    elsewhere["site_id"] = json!(branch);
    let (st, w) = a.post(&windows, elsewhere).await;
    assert_eq!(st, 201, "{w}");
    assert_eq!(w["timezone"], "UTC");
    let reboot = format!("/api/v1/clients/{client}/devices/{id}/reboot");
    let (st, v) = a.post(&reboot, json!({"reason": "fine elsewhere"})).await;
    assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");
    let mut here = base.clone();
    here["site_id"] = json!(site);
    here["repeat"] = json!("weekly");
    let (st, w) = a.post(&windows, here).await;
    assert_eq!(st, 201, "{w}");
    assert!(w["open_until"].as_str().is_some_and(|u| u.ends_with('Z')), "open now: {w}");
    let wid = w["id"].as_i64().unwrap();
    let (st, e) = a.post(&reboot, json!({"reason": "not now"})).await;
    assert_eq!(st, 409, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("Patch night"), "{e}");
    let (_, page) = a.get_text(&format!("/clients/{client}/devices/{id}")).await;
    assert!(page.contains("in maintenance") && page.contains("name=\"force\""), "the page says so and offers force");
    let (st, v) = a.post(&reboot, json!({"reason": "urgent fix", "force": true})).await;
    assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");
    let (_, log) = a.get(&format!("/api/v1/audit?action=device.reboot_forced&client_id={client}")).await;
    assert_eq!(log["items"][0]["details"]["maintenance_window"], "Patch night", "{log}");
    let (_, log) = a.get(&format!("/api/v1/audit?action=maintenance_window.create&client_id={client}")).await;
    assert_eq!(log["total"], 2);

    // The client page lists it as open; removing it frees the reboot.
    let (_, page) = a.get_text(&format!("/clients/{client}")).await;
    assert!(page.contains("id=\"maintenance\"") && page.contains("open until"), "the client page shows the open window");
    let (_, listed) = a.get(&windows).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // A technician of another client sees and changes none of it.
    let other = make_client(&a, "Other").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![other])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    assert_eq!(t.get(&windows).await.0, 404);
    assert_eq!(t.post(&windows, base.clone()).await.0, 404);
    assert_eq!(t.delete(&format!("{windows}/{wid}")).await.0, 404);

    assert_eq!(a.delete(&format!("{windows}/{wid}")).await.0, 204);
    assert_eq!(a.delete(&format!("{windows}/{wid}")).await.0, 404);
    let (st, v) = a.post(&reboot, json!({"reason": "after the window"})).await;
    assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");

    // From the page: the form adds a window for a site and removes it.
    let (st, loc, _) = a
        .form(
            &format!("/clients/{client}/maintenance-windows"),
            &[
                ("name", "Saturday"),
                ("site_id", &site.to_string()),
                ("start_local", "2027-01-02T22:00"),
                ("duration_minutes", "180"),
                ("repeat", "weekly"),
            ],
        )
        .await;
    assert_eq!((st, loc.as_str()), (303, format!("/clients/{client}#maintenance").as_str()));
    let (_, listed) = a.get(&windows).await;
    let sat = listed.as_array().unwrap().iter().find(|w| w["name"] == "Saturday").unwrap().clone();
    assert_eq!((sat["timezone"].as_str(), sat["open_until"].is_null()), (Some("America/Chicago"), true), "the site's zone: {sat}");
    let (st, _, _) = a.form(&format!("/clients/{client}/maintenance-windows/{}/delete", sat["id"]), &[]).await;
    assert_eq!(st, 303);
}

#[tokio::test]
async fn inventories_stored_before_the_facts_existed_get_them_without_the_agent_resending() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--monitoring-check-secs", "1"]).await;
    let a = s.admin().await;
    let client = make_client(&a, "Northwind").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let _sim = simulate(&s, &token(&a, client, site["id"].as_i64().unwrap(), json!({})).await, 1);
    let v = wait_for(&a, "/api/v1/devices", "the device's facts", |v| {
        v["total"] == 1 && !v["items"][0]["now"]["serial"].as_str().unwrap().is_empty()
    })
    .await;
    let serial = v["items"][0]["now"]["serial"].as_str().unwrap().to_string();
    // As an inventory stored by an older server: no facts, no software rows.
    raw_sql(&s.env, "DELETE FROM device_software").await;
    raw_sql(&s.env, "UPDATE device_inventory SET addresses = '', users = '', serial = '', boot_time = 0, facts_at = NULL").await;
    // The agent sends nothing new (its inventory is unchanged); the job fills them in.
    let v =
        wait_for(&a, &format!("/api/v1/devices?q={serial}"), "the facts filled in from the stored inventory", |v| v["total"] == 1).await;
    assert!(!v["items"][0]["now"]["ip_addresses"].as_array().unwrap().is_empty(), "{v}");
    let (_, inv) = a.get(&format!("/api/v1/clients/{client}/devices/{}/inventory", v["items"][0]["id"])).await;
    let name = inv["inventory"]["software"][0]["name"].as_str().unwrap().to_string();
    let (_, found) = a.get(&format!("/api/v1/search?{}", serde_urlencoded::to_string([("q", name.as_str())]).unwrap())).await;
    assert!(found["hits"].as_array().unwrap().iter().any(|h| h["kind"] == "device"), "software found again: {found}");
}
