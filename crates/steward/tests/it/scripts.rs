//! Scripts end to end: the library, runs on the real agent (output, exit
//! code, parameters as data, output caps, timeouts), devices that were
//! offline getting their script when they return, scheduled runs, the
//! second-person approval for large or cross-client runs, the audit trail
//! with the script's hash, and scoping for client-limited technicians.

use crate::common::agents::*;
use crate::common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

async fn script(a: &Client, name: &str, shell: &str, body: &str, extra: Value) -> Value {
    let mut req = json!({"name": name, "shell": shell, "body": body});
    for (k, v) in extra.as_object().unwrap() {
        req[k] = v.clone();
    }
    let (st, s) = a.post("/api/v1/scripts", req).await;
    assert_eq!(st, 201, "{s}");
    s
}

async fn run(a: &Client, script: i64, body: Value) -> Value {
    let (st, r) = a.post(&format!("/api/v1/scripts/{script}/runs"), body).await;
    assert_eq!(st, 201, "{r}");
    r
}

async fn finished(a: &Client, run: i64) -> Value {
    wait_for(a, &format!("/api/v1/script-runs/{run}"), "the run to finish", |v| v["state"] == "done").await
}

#[tokio::test]
async fn scripts_run_on_the_real_agent_with_parameters_caps_timeouts_and_an_audit_trail() {
    let (s, a, client, site) = setup().await;
    let tok = token(&a, client, site, json!({})).await;
    let (_dir, cfg) = install(&s, &tok);
    let (_, list) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    let device = list["items"][0]["id"].as_i64().unwrap();

    // The device is offline: the run waits for it.
    let hello = script(
        &a,
        "Say hello",
        "bash",
        "echo \"hello $STEWARD_PARAM_WHO\"; echo warning >&2; exit 2",
        json!({"parameters": [{"name": "who", "required": true}], "timeout_secs": 30}),
    )
    .await;
    let (st, e) = a.post(&format!("/api/v1/scripts/{}/runs", hello["id"]), json!({"device_ids": [device]})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("params")), "a required parameter: {e}");
    let r = run(&a, hello["id"].as_i64().unwrap(), json!({"device_ids": [device], "params": {"who": "$(reboot); `id`"}})).await;
    assert_eq!(r["state"], "running");
    let (_, d) = a.get(&format!("/api/v1/script-runs/{}", r["id"])).await;
    assert_eq!(d["results"][0]["state"], "pending", "{d}");

    let _agent = KillOnDrop(
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
    );
    let d = finished(&a, r["id"].as_i64().unwrap()).await;
    let res = &d["results"][0];
    assert_eq!(res["state"], "failed", "a non-zero exit is a failure: {res}");
    assert_eq!(res["exit_code"], 2);
    assert_eq!(res["stdout"], "hello $(reboot); `id`\n", "a parameter is data, never code");
    assert_eq!(res["stderr"], "warning\n");

    // Long output is capped and says so; a script past its timeout is stopped.
    let loud = script(&a, "Loud", "sh", "head -c 200000 /dev/zero | tr '\\0' x; echo", json!({})).await;
    let r = run(&a, loud["id"].as_i64().unwrap(), json!({"device_ids": [device]})).await;
    let res = finished(&a, r["id"].as_i64().unwrap()).await["results"][0].clone();
    assert_eq!((res["stdout"].as_str().unwrap().len(), res["stdout_truncated"].as_bool()), (64 * 1024, Some(true)));
    assert_eq!(res["state"], "done");
    let slow = script(&a, "Slow", "sh", "sleep 30", json!({"timeout_secs": 1})).await;
    let r = run(&a, slow["id"].as_i64().unwrap(), json!({"device_ids": [device]})).await;
    let res = finished(&a, r["id"].as_i64().unwrap()).await["results"][0].clone();
    assert!(res["error"].as_str().unwrap().contains("timed out after 1 s"), "{res}");
    assert!(res["exit_code"].is_null());

    // Scheduled a few seconds ahead: it waits, then runs.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let r = run(&a, loud["id"].as_i64().unwrap(), json!({"client_id": client, "at": at})).await;
    assert_eq!(r["state"], "scheduled");
    finished(&a, r["id"].as_i64().unwrap()).await;

    // The audit log names the script's hash for every run.
    let (_, audit) = a.get("/api/v1/audit?action=script.run").await;
    let items: Vec<&Value> = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "script.run").collect();
    assert_eq!(items.len(), 4, "{audit}");
    assert!(items.iter().any(|e| e["details"]["script_hash"] == hello["hash"] && e["details"]["devices"] == json!([device])), "{audit}");
    // The device's page lists its runs with their output.
    let (_, mine) = a.get(&format!("/api/v1/clients/{client}/devices/{device}/script-results")).await;
    assert_eq!(mine.as_array().unwrap().len(), 4);
    let (st, html) = a.get_text(&format!("/clients/{client}/devices/{device}")).await;
    assert!(st == 200 && html.contains("Say hello") && html.contains("hello $(reboot); `id`"), "script output on the device page");

    // The same through the pages: add a script with the form, run it from the device page, read the run page.
    let body = "echo \"<b>$STEWARD_PARAM_GREETING</b>\"\r\nuname -s\r\n";
    let (st, loc, _) = a
        .form(
            "/scripts",
            &[("name", "Greet <i>x</i>"), ("shell", "sh"), ("body", body), ("parameters", "greeting=hi"), ("timeout_secs", "20")],
        )
        .await;
    assert_eq!(st, 303, "{loc}");
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("Greet &#60;i&#62;x&#60;/i&#62;") || page.contains("Greet &lt;i&gt;x&lt;/i&gt;"), "escaped name");
    let script_id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    let (st, loc, _) = a
        .form(
            &format!("/clients/{client}/devices/{device}/run-script"),
            &[("script_id", &script_id.to_string()), ("params", "greeting=<script>x</script>")],
        )
        .await;
    assert_eq!(st, 303, "{loc}");
    let run_id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    finished(&a, run_id).await;
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("Linux"), "the output: {page}");
    assert!(!page.contains("<b><script>x</script></b>"), "agent output is escaped on the page");
}

#[tokio::test]
async fn large_or_cross_client_runs_wait_for_a_second_person_and_scope_holds() {
    let (s, a, north, north_site) = setup().await;
    let south = make_client(&a, "Southwind").await;
    let (_, ss) = a.post(&format!("/api/v1/clients/{south}/sites"), json!({"name": "Faro", "timezone": "Europe/Lisbon"})).await;
    let (st, _) = a.patch("/api/v1/settings", json!({"script_approval_threshold": 2})).await;
    assert_eq!(st, 200);
    let _n = simulate(&s, &token(&a, north, north_site, json!({"max_uses": 3})).await, 3);
    let _s = simulate(&s, &token(&a, south, ss["id"].as_i64().unwrap(), json!({"max_uses": 1})).await, 1);
    let all = wait_for(&a, "/api/v1/devices?limit=500", "4 devices online", |v| {
        v["total"] == 4 && v["items"].as_array().unwrap().iter().all(|d| d["online"] == true)
    })
    .await;
    let of = |client: i64| -> Vec<i64> {
        all["items"].as_array().unwrap().iter().filter(|d| d["client_id"] == client).map(|d| d["id"].as_i64().unwrap()).collect()
    };
    let (north_devs, south_devs) = (of(north), of(south));
    assert_eq!((north_devs.len(), south_devs.len()), (3, 1), "three Northwind devices and one Southwind: {all}");
    let sc = script(&a, "Inventory refresh", "powershell", "Get-ComputerInfo", json!({"parameters": [{"name": "share"}]})).await;
    let sid = sc["id"].as_i64().unwrap();

    // Two devices of one client: under the threshold, runs at once (simulated machines do not execute it).
    // ("done" when the simulated agents answered before the response was built.)
    let r = run(&a, sid, json!({"device_ids": north_devs[..2]})).await;
    assert!(matches!(r["state"].as_str(), Some("running" | "done")), "{r}");
    let d = finished(&a, r["id"].as_i64().unwrap()).await;
    assert!(d["results"][0]["stdout"].as_str().unwrap().contains("not executed"));

    // All three: over the threshold. One device per client: across clients. Both wait.
    let big = run(&a, sid, json!({"client_id": north})).await;
    assert_eq!((big["state"].as_str(), big["device_count"].as_i64()), (Some("awaiting_approval"), Some(3)));
    let cross = run(&a, sid, json!({"device_ids": [north_devs[0], south_devs[0]], "params": {"share": "\\\\north-fs\\secret"}})).await;
    assert_eq!(cross["state"], "awaiting_approval");
    // Nothing was sent yet.
    let (_, d) = a.get(&format!("/api/v1/script-runs/{}", big["id"])).await;
    assert!(d["results"].as_array().unwrap().iter().all(|r| r["state"] == "pending"), "{d}");
    // The requester cannot approve their own run.
    let (st, e) = a.post(&format!("/api/v1/script-runs/{}/approve", big["id"]), json!({})).await;
    assert_eq!(st, 403, "{e}");

    // A technician for Southwind only: sees the cross-client run but may not approve it; cannot see or target Northwind.
    make_user(&a, "south@example.com", "technician", Some(vec![south])).await;
    let t = s.client();
    t.login_ok("south@example.com", PASSWORD).await;
    let (st, _) = t.post(&format!("/api/v1/script-runs/{}/approve", cross["id"]), json!({})).await;
    assert_eq!(st, 403, "a run reaching beyond their clients");
    let (st, _) = t.get(&format!("/api/v1/script-runs/{}", big["id"])).await;
    assert_eq!(st, 404, "a run on Northwind only does not exist for them");
    let (_, d) = t.get(&format!("/api/v1/script-runs/{}", cross["id"])).await;
    assert_eq!(d["results"].as_array().unwrap().len(), 1, "only their device's part: {d}");
    // Of the run itself, too, only their part: their client, their device, no parameters.
    assert_eq!(d["client_ids"], json!([south]), "{d}");
    assert_eq!((d["device_count"].as_i64(), d["partial"].as_bool()), (Some(1), Some(true)), "{d}");
    assert_eq!(d["params"], json!({}), "{d}");
    let (_, whole) = a.get(&format!("/api/v1/script-runs/{}", cross["id"])).await;
    assert_eq!(whole["params"]["share"], "\\\\north-fs\\secret", "whoever sees all of it sees the parameters");
    assert_eq!(
        (whole["device_count"].as_i64(), whole["partial"].as_bool(), whole["client_ids"].as_array().unwrap().len()),
        (Some(2), Some(false), 2)
    );
    let (_, listed) = t.get("/api/v1/script-runs").await;
    assert!(listed["items"].as_array().unwrap().iter().all(|r| r["id"] == cross["id"]), "{listed}");
    let (st, _) = t.post(&format!("/api/v1/scripts/{sid}/runs"), json!({"device_ids": [north_devs[0]]})).await;
    assert_eq!(st, 404);
    let (st, _) = t.post("/api/v1/scripts", json!({"name": "x", "shell": "sh", "body": "true"})).await;
    assert_eq!(st, 403, "the library is not theirs to change");

    // A second administrator approves the big run and rejects the cross-client one.
    make_user(&a, "second@example.com", "admin", None).await;
    let b = s.client();
    b.login_ok("second@example.com", PASSWORD).await;
    let (st, ok) = b.post(&format!("/api/v1/script-runs/{}/approve", big["id"]), json!({})).await;
    assert!(st == 200 && matches!(ok["state"].as_str(), Some("running" | "done")), "{st} {ok}");
    let d = finished(&a, big["id"].as_i64().unwrap()).await;
    assert_eq!(d["results"].as_array().unwrap().len(), 3);
    let (st, no) = b.post(&format!("/api/v1/script-runs/{}/reject", cross["id"]), json!({})).await;
    assert_eq!((st, no["state"].as_str()), (200, Some("rejected")));
    let (st, _) = b.post(&format!("/api/v1/script-runs/{}/approve", cross["id"]), json!({})).await;
    assert_eq!(st, 409, "decided once");
    let (_, audit) = a.get("/api/v1/audit?action=script.approve").await;
    assert_eq!(audit["items"][0]["details"]["script_hash"], sc["hash"]);
    assert_eq!(audit["items"][0]["actor"], "second@example.com");

    // Bad scripts are refused with the field named.
    for (body, field) in [
        (json!({"name": "x", "shell": "zsh", "body": "true"}), "shell"),
        (json!({"name": "x", "shell": "sh", "body": "true", "run_as": "root;id"}), "run_as"),
        (json!({"name": "x", "shell": "sh", "body": "true", "timeout_secs": 0}), "timeout_secs"),
        (json!({"name": "", "shell": "sh", "body": "true"}), "name"),
    ] {
        let (st, e) = a.post("/api/v1/scripts", body).await;
        assert_eq!((st, e["error"]["field"].as_str()), (400, Some(field)), "{e}");
    }
}

#[tokio::test]
async fn recurring_runs_start_now_schedule_the_next_find_new_devices_and_can_be_cancelled() {
    let (s, a, client, site) = setup().await;
    let _one = simulate(&s, &token(&a, client, site, json!({})).await, 1);
    wait_for(&a, "/api/v1/devices?state=online", "one device", |v| v["total"] == 1).await;
    let sc = script(&a, "Nightly cleanup", "sh", "echo cleaned", json!({})).await;
    let (st, e) = a.post(&format!("/api/v1/scripts/{}/runs", sc["id"]), json!({"client_id": client, "repeat": "yearly"})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (400, Some("repeat")));

    // Daily, from now: the first occurrence runs at once and the next is scheduled a day later.
    let first = run(&a, sc["id"].as_i64().unwrap(), json!({"client_id": client, "repeat": "daily"})).await;
    let first_id = first["id"].as_i64().unwrap();
    let done = finished(&a, first_id).await;
    assert_eq!((done["device_count"].as_i64(), done["repeat"].as_str()), (Some(1), Some("daily")));
    let (_, runs) = a.get("/api/v1/script-runs").await;
    let next = runs["items"].as_array().unwrap().iter().find(|r| r["state"] == "scheduled").expect("the next occurrence").clone();
    let when = chrono::DateTime::parse_from_rfc3339(next["scheduled_for"].as_str().unwrap()).unwrap();
    let ahead = when.signed_duration_since(chrono::Utc::now()).num_seconds();
    assert!((86_000..=86_400).contains(&ahead), "a day ahead: {ahead} s");

    // A second device joins; the next occurrence (brought forward in the database) finds both.
    let _two = simulate(&s, &token(&a, client, site, json!({})).await, 1);
    wait_for(&a, "/api/v1/devices?state=online", "two devices", |v| v["total"] == 2).await;
    let store = steward::store::Store::open(s.env.data_dir(), s.env.database_url.as_deref()).await.unwrap();
    let q = sea_query::Query::update()
        .table(sea_query::Alias::new("script_runs"))
        .value(sea_query::Alias::new("scheduled_for"), chrono::Utc::now().timestamp_micros() - 1_000_000)
        .and_where(sea_query::Expr::col(sea_query::Alias::new("id")).eq(next["id"].as_i64().unwrap()))
        .to_owned();
    store.execute(&q).await.unwrap();
    let second = finished(&a, next["id"].as_i64().unwrap()).await;
    assert_eq!(second["results"].as_array().unwrap().len(), 2, "{second}");
    let (_, audit) = a.get("/api/v1/audit?action=script.run_scheduled").await;
    assert_eq!(audit["items"][0]["actor"], "scheduler", "{audit}");
    assert_eq!(audit["items"][0]["details"]["script_hash"], sc["hash"]);

    // Cancelling the now-next occurrence ends the schedule.
    let (_, runs) = a.get("/api/v1/script-runs").await;
    let third = runs["items"].as_array().unwrap().iter().find(|r| r["state"] == "scheduled").expect("a third occurrence").clone();
    let (st, c) = a.post(&format!("/api/v1/script-runs/{}/cancel", third["id"]), json!({})).await;
    assert_eq!((st, c["state"].as_str()), (200, Some("cancelled")));
    let (st, _) = a.post(&format!("/api/v1/script-runs/{first_id}/cancel"), json!({})).await;
    assert_eq!(st, 409, "a finished run cannot be cancelled");
    let (_, runs) = a.get("/api/v1/script-runs").await;
    assert!(runs["items"].as_array().unwrap().iter().all(|r| r["state"] != "scheduled"), "{runs}");
}

#[tokio::test]
async fn the_script_page_runs_on_a_whole_client_or_one_site() {
    let (s, a, client, chicago) = setup().await;
    let (_, denver) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Denver", "timezone": "America/Denver"})).await;
    let denver = denver["id"].as_i64().unwrap();
    let (_d1, _) = install(&s, &token(&a, client, chicago, json!({})).await);
    let (_d2, _) = install(&s, &token(&a, client, denver, json!({})).await);
    let (_, devices) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    let in_denver: Vec<i64> =
        devices["items"].as_array().unwrap().iter().filter(|d| d["site_id"] == denver).map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!((devices["total"].as_i64(), in_denver.len()), (Some(2), 1), "{devices}");
    let sc = script(&a, "Flush DNS", "bash", "true", json!({})).await;
    let id = sc["id"].as_i64().unwrap();

    let (_, page) = a.get_text(&format!("/scripts/{id}")).await;
    assert!(page.contains(&format!(r#"<option value="site:{client}:{denver}">Northwind: Denver</option>"#)), "{page}");
    assert!(page.contains(&format!(r#"<option value="client:{client}">Northwind: all sites</option>"#)), "{page}");

    let devices_of = |loc: String| {
        let a = &a;
        async move {
            let run = loc.rsplit('/').next().unwrap().to_string();
            let (_, r) = a.get(&format!("/api/v1/script-runs/{run}")).await;
            let mut ids: Vec<i64> = r["results"].as_array().unwrap().iter().map(|x| x["device_id"].as_i64().unwrap()).collect();
            ids.sort();
            ids
        }
    };
    let (st, loc, _) = a.form(&format!("/scripts/{id}/run"), &[("target", &format!("site:{client}:{denver}"))]).await;
    assert_eq!(st, 303);
    assert_eq!(devices_of(loc).await, in_denver, "one site's devices");
    let (st, loc, _) = a.form(&format!("/scripts/{id}/run"), &[("target", &format!("client:{client}"))]).await;
    assert_eq!(st, 303);
    assert_eq!(devices_of(loc).await.len(), 2, "every device of the client");
    for bad in ["", "site:", "galaxy:4", "site:abc", &format!("site:{denver}")] {
        let (st, _, body) = a.form(&format!("/scripts/{id}/run"), &[("target", bad)]).await;
        assert_eq!(st, 400, "{bad:?}: {body}");
        assert!(body.contains("choose a client or a site"), "{body}");
    }
}
