//! `steward demo`: starts, seeds a believable MSP, prints working
//! credentials, and the seeded audit log verifies; its simulated fleet has
//! a month of metrics, a few devices offline and one that flaps, and
//! answers library scripts as the real machines would.

use crate::common::agents::wait_for;
use crate::common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_demo_serves_a_seeded_msp_with_the_printed_credentials() {
    let mut child = Command::new(bin())
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env("STEWARD_LOG", "warn")
        // The flapping device drops its connection every 3 s, not every 90.
        .env("STEWARD_DEMO_FLAP_SECS", "3")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut email, mut password, mut base, mut flapping) = (String::new(), String::new(), String::new(), String::new());
    while base.is_empty() {
        let l = lines.next().expect("demo output").unwrap();
        if let Some((before, _)) = l.split_once(" flaps (") {
            flapping = before.rsplit(' ').next().unwrap().to_string();
        }
        if let Some(rest) = l.trim().strip_prefix("sign in as ") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            email = parts[0].to_string();
            password = parts.last().unwrap().to_string();
        }
        if let Some(u) = l.strip_prefix("steward listening on ") {
            base = u.split_whitespace().next().unwrap().to_string();
        }
    }
    assert!(base.starts_with("http://"), "the demo serves plain HTTP on loopback: {base}");
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the printed credentials work");
    // Browsers reach the demo over plain HTTP, from other machines too: a
    // Secure (or __Host-) cookie would be dropped there.
    let set_cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set_cookie.starts_with("steward_session=") && !set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let get = |path: &str| http.get(format!("{base}{path}")).header("cookie", cookie.clone()).send();
    let clients: serde_json::Value = get("/api/v1/clients").await.unwrap().json().await.unwrap();
    assert!(clients["total"].as_i64().unwrap() >= 5, "{clients}");
    let users: serde_json::Value = get("/api/v1/users").await.unwrap().json().await.unwrap();
    let roles: std::collections::HashSet<String> =
        users["items"].as_array().unwrap().iter().map(|u| u["role"].as_str().unwrap().to_string()).collect();
    for role in ["admin", "technician", "billing", "read_only", "client_contact"] {
        assert!(roles.contains(role), "a demo user of every role: missing {role}");
    }
    let first = clients["items"][0]["id"].as_i64().unwrap();
    let sites: serde_json::Value = get(&format!("/api/v1/clients/{first}/sites")).await.unwrap().json().await.unwrap();
    assert!(sites["total"].as_i64().unwrap() >= 1);
    let verify: serde_json::Value = get("/api/v1/audit/verify").await.unwrap().json().await.unwrap();
    assert_eq!(verify["ok"], true);
    let page = get("/clients").await.unwrap().text().await.unwrap();
    assert!(page.contains("Northwind Logistics"));
    // A living service desk: tickets of every client in every status kind,
    // with threads and time, some about to breach.
    let all: serde_json::Value = get("/api/v1/tickets?status=all&limit=200").await.unwrap().json().await.unwrap();
    assert!(all["total"].as_i64().unwrap() >= 200, "{}", all["total"]);
    let kinds: std::collections::HashSet<String> =
        all["items"].as_array().unwrap().iter().map(|t| t["status"]["kind"].as_str().unwrap_or_default().to_string()).collect();
    let clients_with_tickets: std::collections::HashSet<i64> =
        all["items"].as_array().unwrap().iter().map(|t| t["client_id"].as_i64().unwrap()).collect();
    assert_eq!(clients_with_tickets.len(), 5, "tickets for every client");
    for kind in ["new", "open", "waiting", "scheduled", "resolved", "closed"] {
        let (n, _) = (
            get(&format!("/api/v1/tickets?status={kind}&limit=1")).await.unwrap().json::<serde_json::Value>().await.unwrap()["total"]
                .as_i64()
                .unwrap(),
            (),
        );
        assert!(n > 0, "demo tickets in status {kind} (saw {kinds:?})");
    }
    let hot: serde_json::Value = get("/api/v1/tickets?sla_state=warning&limit=5").await.unwrap().json().await.unwrap();
    let running: serde_json::Value = get("/api/v1/tickets?sla_state=running&limit=5").await.unwrap().json().await.unwrap();
    assert!(hot["total"].as_i64().unwrap() + running["total"].as_i64().unwrap() > 0, "fresh tickets with running clocks");
    let time: serde_json::Value = get("/api/v1/time-entries?limit=5").await.unwrap().json().await.unwrap();
    assert!(time["total"].as_i64().unwrap() > 50, "time logged on demo tickets: {time}");
    // Credentials in every client's vault, none of them readable in a list.
    let first = clients_with_tickets.iter().min().unwrap();
    let vault: serde_json::Value = get(&format!("/api/v1/clients/{first}/vault")).await.unwrap().json().await.unwrap();
    assert!(vault["total"].as_i64().unwrap() >= 2, "{vault}");
    assert!(vault["items"].as_array().unwrap().iter().all(|e| e.get("password").is_none()), "{vault}");
    // A library of useful scripts, some with parameters.
    let lib: serde_json::Value = get("/api/v1/scripts").await.unwrap().json().await.unwrap();
    let names: Vec<&str> = lib["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for want in ["Restart the print spooler", "Check BitLocker", "Flush DNS", "List local administrators", "Collect logs"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    // A knowledge base: global procedures and every client's articles, some
    // with a history.
    let docs: serde_json::Value = get("/api/v1/articles?include_clients=true&limit=100").await.unwrap().json().await.unwrap();
    assert!(docs["total"].as_i64().unwrap() >= 13, "{docs}");
    assert!(docs["items"].as_array().unwrap().iter().any(|a| a["client_id"].is_null()), "global articles");
    assert!(docs["items"].as_array().unwrap().iter().any(|a| a["version"].as_i64() > Some(1)), "an article with versions");
    // Documented assets linked to the vault and to each other, and dates
    // that run out soon (one already past) on the expiry list.
    let assets: serde_json::Value = get(&format!("/api/v1/clients/{first}/assets")).await.unwrap().json().await.unwrap();
    assert!(assets["total"].as_i64().unwrap() >= 8, "{assets}");
    let fw = assets["items"].as_array().unwrap().iter().find(|a| a["type_name"] == "Firewall").expect("a firewall");
    assert!(fw["links"].as_array().unwrap().iter().any(|l| l["kind"] == "vault" && l["label"].is_string()), "{fw}");
    let rel: serde_json::Value = get(&format!("/api/v1/clients/{first}/relations")).await.unwrap().json().await.unwrap();
    assert!(rel.as_array().unwrap().len() >= 2, "{rel}");
    let soon: serde_json::Value = get("/api/v1/expiries?within_days=30").await.unwrap().json().await.unwrap();
    assert!(soon.as_array().unwrap().iter().any(|e| e["days_left"].as_i64() < Some(0)), "{soon}");

    // A year of invoices, finalized and mostly paid, and a reconciliation
    // that finds devices the fleet enrolled and the contracts do not bill.
    let invoices: serde_json::Value = get(&format!("/api/v1/clients/{first}/invoices")).await.unwrap().json().await.unwrap();
    let finals = invoices.as_array().unwrap().iter().filter(|i| i["state"] == "final").count();
    assert!(finals >= 12, "a year of monthly invoices: {invoices}");
    let paid: serde_json::Value = get(&format!("/api/v1/clients/{first}/payments")).await.unwrap().json().await.unwrap();
    assert!(paid.as_array().unwrap().len() >= 10, "{paid}");
    let balance: serde_json::Value = get(&format!("/api/v1/clients/{first}/balance")).await.unwrap().json().await.unwrap();
    assert!(balance["open"].as_str().is_some_and(|o| o != "0.00"), "the last months are unpaid: {balance}");

    // Mail: a mailbox (off: no server here), and tickets that came by mail,
    // one from a sender at a client's domain proposed as a contact.
    let boxes: serde_json::Value = get("/api/v1/mailboxes").await.unwrap().json().await.unwrap();
    assert_eq!(boxes.as_array().unwrap().len(), 1, "{boxes}");
    let proposed: serde_json::Value = get("/api/v1/tickets?tag=proposed-contact&limit=5").await.unwrap().json().await.unwrap();
    let by_mail = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(proposed["items"].as_array().unwrap())
        .any(|t| t["subject"] == "Scanner at dock 4 will not connect");
    assert!(by_mail, "the demo's mail became tickets");

    fleet(&base, &email, &password, &flapping).await;

    let recon: serde_json::Value = get("/api/v1/reconciliation").await.unwrap().json().await.unwrap();
    let unbilled: usize = recon["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["lines"].as_array().unwrap().iter().map(|l| l["unbilled_ids"].as_array().unwrap().len()).sum::<usize>()
                + c["uncounted_device_ids"].as_array().unwrap().len()
        })
        .sum();
    assert!(unbilled > 0, "devices managed and not billed: {recon}");

    // A real agent enrols with the very command a site's page shows.
    let (owner, site) = (clients["items"][0]["id"].as_i64().unwrap(), sites["items"][0]["id"].as_i64().unwrap());
    let page = get(&format!("/clients/{owner}/sites/{site}")).await.unwrap().text().await.unwrap();
    let csrf = page.split(r#"name="csrf-token" content=""#).nth(1).unwrap().split('"').next().unwrap().to_string();
    let created = http
        .post(format!("{base}/clients/{owner}/sites/{site}/enrollment-tokens"))
        .header("cookie", cookie.clone())
        .form(&[("_csrf", csrf.as_str()), ("name", "one laptop"), ("expires_in_hours", "1"), ("max_uses", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let html = created.text().await.unwrap();
    let command = html.split(r#"<pre id="install-linux">"#).nth(1).expect("the install command").split("</pre>").next().unwrap();
    let command = html_text(command);
    assert!(command.contains("/agent/download/linux-x86_64"), "the command fetches the agent from the demo: {command}");
    if have_tool("curl") {
        let dir = tempfile::tempdir().unwrap();
        let (code, out) = agents::run_install_command(&command, dir.path());
        assert_eq!(code, 0, "the agent enrols with the page's command `{command}`: {out}");
        assert!(out.contains("enrolled as device"), "`{command}`: {out}");
    }

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    // A stop that hangs fails here in a minute, not at CI's time limit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "the demo stops cleanly on SIGTERM");
}

/// The simulated fleet, as a technician sees it: every device's charts
/// have data for every range, a few devices are offline and one flaps,
/// and library scripts answer as they would on that machine.
async fn fleet(base: &str, email: &str, password: &str, flapping: &str) {
    let a = Client::new(base);
    a.login_ok(email, password).await;
    let all = wait_for(&a, "/api/v1/devices?limit=100", "the fleet enrolled", |v| v["total"].as_i64() >= Some(48)).await;
    let devices = all["items"].as_array().unwrap().clone();
    let path = |d: &serde_json::Value| format!("/api/v1/clients/{}/devices/{}", d["client_id"], d["id"]);

    // A month of history, written as each device enrolled: the last one's too.
    let last = devices.iter().max_by_key(|d| d["id"].as_i64()).unwrap();
    for (range, resolution) in [("30d", 3600), ("7d", 300), ("24h", 0), ("1h", 0)] {
        let m = wait_for(&a, &format!("{}/metrics?range={range}", path(last)), "metric history", |m| {
            m["series"].as_array().is_some_and(|s| s.len() == 5 && s.iter().all(|s| s["t"].as_array().unwrap().len() >= 10))
        })
        .await;
        assert_eq!(m["resolution_secs"], resolution, "{range}");
        let cpu = m["series"].as_array().unwrap().iter().find(|s| s["name"] == "cpu").expect("a cpu series").clone();
        let (t, avg) = (cpu["t"].as_array().unwrap(), cpu["avg"].as_array().unwrap());
        assert!(avg.iter().all(|v| (0.0..=100.0).contains(&v.as_f64().unwrap())), "{range}: {avg:?}");
        // The chart is filled from its start, not only since the demo began.
        let from = chrono::DateTime::parse_from_rfc3339(m["from"].as_str().unwrap()).unwrap().timestamp();
        let span = chrono::DateTime::parse_from_rfc3339(m["to"].as_str().unwrap()).unwrap().timestamp() - from;
        assert!(t[0].as_i64().unwrap() - from < span / 20, "{range} starts near its start: {} vs {from}", t[0]);
    }

    // A few devices went away after enrolling; most are online.
    let offline = wait_for(&a, "/api/v1/devices?state=offline&limit=100", "devices offline", |v| v["total"].as_i64() >= Some(4)).await;
    let online = a.get("/api/v1/devices?state=online&limit=100").await.1;
    // The ones that left become critical alerts that open tickets (after 2 min; not waited for here).
    assert_eq!(a.get("/api/v1/settings").await.1["alert_tickets"], "critical");
    let (off, on) = (offline["total"].as_i64().unwrap(), online["total"].as_i64().unwrap());
    assert!((4..=6).contains(&off) && on >= 42, "{off} offline, {on} online");

    // Library scripts answer as they would on that machine.
    let lib = a.get("/api/v1/scripts?limit=100").await.1;
    let script = |name: &str| lib["items"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()["id"].as_i64().unwrap();
    let online = online["items"].as_array().unwrap();
    let mut windows = None;
    for d in online {
        let inv = a.get(&format!("{}/inventory", path(d))).await.1;
        if inv["inventory"]["os"]["family"] == "windows" {
            windows = Some(d.clone());
            break;
        }
    }
    let windows = windows.expect("a Windows machine in the fleet");
    let run = |script: i64| {
        let (a, device) = (&a, windows["id"].clone());
        async move {
            let (st, r) = a.post(&format!("/api/v1/scripts/{script}/runs"), serde_json::json!({"device_ids": [device]})).await;
            assert_eq!(st, 201, "{r}");
            let done = wait_for(a, &format!("/api/v1/script-runs/{}", r["id"]), "the run", |v| v["state"] == "done").await;
            done["results"][0].clone()
        }
    };
    let dns = run(script("Flush DNS")).await;
    assert_eq!(dns["exit_code"], 0, "{dns}");
    assert!(dns["stdout"].as_str().unwrap().contains("Successfully flushed the DNS Resolver Cache."), "{dns}");
    let admins = run(script("List local administrators")).await;
    let host = windows["hostname"].as_str().unwrap().to_uppercase();
    assert!(admins["stdout"].as_str().unwrap().contains(&format!("{host}\\Administrator")), "{admins}");
    let bitlocker = run(script("Check BitLocker")).await;
    let protected = bitlocker["stdout"].as_str().unwrap().lines().any(|l| l.starts_with("C:") && l.split_whitespace().nth(2) == Some("On"));
    assert_eq!(bitlocker["exit_code"], if protected { 0 } else { 1 }, "exits 1 when C: is not protected: {bitlocker}");

    // The flapping device's history shows it coming and going.
    let flapper = devices.iter().find(|d| d["hostname"] == flapping).unwrap_or_else(|| panic!("{flapping} in {all}"));
    wait_for(&a, &format!("{}/presence", path(flapper)), "the device to flap", |v| v["total"].as_i64() >= Some(4)).await;
}

/// Text of escaped HTML, as a browser's copy gives it: `&#NN;`, `&quot;`,
/// `&amp;`, `&lt;`, `&gt;`.
fn html_text(escaped: &str) -> String {
    let mut out = String::new();
    let mut rest = escaped;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (entity, after) = rest[at + 1..].split_once(';').expect("an entity ends with ;");
        out.push(match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            n => char::from_u32(n.strip_prefix('#').and_then(|d| d.parse().ok()).expect("a numeric entity")).unwrap(),
        });
        rest = after;
    }
    out + rest
}
