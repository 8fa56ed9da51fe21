//! Agent settings end to end: inherited server → client → site → device,
//! each setting on its own; sent in `Welcome`, pushed to connected agents
//! at once (hand-made agents and the real one), and shown by the API and
//! the pages with where each value comes from.

use crate::common::agents::*;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Agent settings are inherited server → client → site, each setting on its
/// own; agents get theirs in `Welcome`, connected agents get changes at
/// once, and the API and pages say where each value comes from.
#[tokio::test]
async fn agent_settings_are_inherited_from_client_to_site_and_reach_connected_agents() {
    let (s, a, client, _) = setup().await;
    let client_url = format!("/api/v1/clients/{client}");
    let sites = format!("{client_url}/sites");
    // Out-of-range values are refused, naming the field.
    for (field, bad) in [("agent_heartbeat_secs", json!(4)), ("agent_heartbeat_secs", json!(3601)), ("agent_metrics_secs", json!(9))] {
        let (st, e) = a.patch(&client_url, json!({ field: bad })).await;
        assert_eq!(st, 400, "{field}={bad}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(field), "{e}");
        let (st, e) = a.post(&sites, json!({"name": "Lab", "timezone": "UTC", field: bad})).await;
        assert_eq!(st, 400, "site {field}={bad}: {e}");
    }
    let (st, c) = a.patch(&client_url, json!({"agent_heartbeat_secs": 20, "agent_metrics_secs": 120})).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!((c["agent_heartbeat_secs"].as_i64(), c["agent_metrics_secs"].as_i64()), (Some(20), Some(120)));
    let (st, lab) = a.post(&sites, json!({"name": "Lab", "timezone": "UTC", "agent_heartbeat_secs": 7})).await;
    assert_eq!(st, 201, "{lab}");
    let (_, office) = a.post(&sites, json!({"name": "Office", "timezone": "UTC"})).await;
    let (lab, office) = (lab["id"].as_i64().unwrap(), office["id"].as_i64().unwrap());

    // Welcome: the site's heartbeat and the client's metrics period; a site
    // without settings takes both from the client.
    let lab_tok = token(&a, client, lab, json!({})).await;
    let (mut lab_ws, lab_dev, welcome) = raw_enroll(&s.base, &lab_tok, &ed25519_dalek::SigningKey::from_bytes(&[33; 32]), "lab-1").await;
    assert_eq!((welcome["heartbeat_secs"].as_u64(), welcome["metrics_secs"].as_u64()), (Some(7), Some(120)), "{welcome}");
    let office_tok = token(&a, client, office, json!({})).await;
    let (mut office_ws, _, welcome) = raw_enroll(&s.base, &office_tok, &ed25519_dalek::SigningKey::from_bytes(&[34; 32]), "office-1").await;
    assert_eq!((welcome["heartbeat_secs"].as_u64(), welcome["metrics_secs"].as_u64()), (Some(20), Some(120)), "{welcome}");
    let (_, d) = a.get(&format!("{client_url}/devices/{lab_dev}")).await;
    assert_eq!(
        d["agent_settings"],
        json!({"heartbeat_secs": 7, "heartbeat_from": "site", "metrics_secs": 120, "metrics_from": "client", "offline_after_secs": 21}),
        "{d}"
    );

    // A client change reaches every connected agent of the client at once,
    // each with its own resolved values.
    let (st, _) = a.patch(&client_url, json!({"agent_metrics_secs": 300})).await;
    assert_eq!(st, 200);
    let m = next_within(&mut lab_ws, "lab settings").await;
    assert_eq!(m, json!({"type": "settings", "heartbeat_secs": 7, "metrics_secs": 300}));
    let m = next_within(&mut office_ws, "office settings").await;
    assert_eq!(m, json!({"type": "settings", "heartbeat_secs": 20, "metrics_secs": 300}));
    // A site change reaches only that site's agents; a patch that leaves
    // the settings alone sends nothing.
    let (st, same) = a.patch(&format!("{sites}/{lab}"), json!({"name": "Lab A"})).await;
    assert_eq!((st, same["agent_heartbeat_secs"].as_i64()), (200, Some(7)), "{same}");
    let (st, cleared) = a.patch(&format!("{sites}/{lab}"), json!({"agent_heartbeat_secs": null})).await;
    assert!(st == 200 && cleared["agent_heartbeat_secs"].is_null(), "{cleared}");
    let m = next_within(&mut lab_ws, "lab back to the client's heartbeat").await;
    assert_eq!(m, json!({"type": "settings", "heartbeat_secs": 20, "metrics_secs": 300}));
    // Clearing the client returns everyone to the server's settings.
    let (st, _) = a.patch(&client_url, json!({"agent_heartbeat_secs": null, "agent_metrics_secs": null})).await;
    assert_eq!(st, 200);
    let m = next_within(&mut office_ws, "office back to the server's settings").await;
    assert_eq!(
        m,
        json!({"type": "settings", "heartbeat_secs": 30, "metrics_secs": 60}),
        "only one message for office, after two site patches of Lab"
    );
    let m = next_within(&mut lab_ws, "lab back to the server's settings").await;
    assert_eq!(m, json!({"type": "settings", "heartbeat_secs": 30, "metrics_secs": 60}), "the name-only patch sent nothing");
    let (_, log) = a.get(&format!("/api/v1/audit?action=client.update&client_id={client}")).await;
    assert!(log["total"].as_i64().unwrap() >= 3, "each change is audited: {log}");

    // The silence window follows a pushed heartbeat: at 5 s, a device that
    // says nothing is cut off after 15 s, not the server's 90 s.
    let (st, _) = a.patch(&format!("{sites}/{lab}"), json!({"agent_heartbeat_secs": 5})).await;
    assert_eq!(st, 200);
    assert_eq!(next_within(&mut lab_ws, "5 s heartbeat").await["heartbeat_secs"], 5);
    let bye = tokio::time::timeout(Duration::from_secs(25), raw_recv(&mut lab_ws)).await.expect("cut off after three 5 s periods");
    assert_eq!(bye["code"], "silent", "{bye}");

    // Pages: the client page sets them, the site page shows what an empty
    // field inherits, the device page what the agent runs with.
    let page = format!("/clients/{client}/agent-settings");
    let (st, _, body) = a.form(&page, &[("agent_heartbeat_secs", "soon"), ("agent_metrics_secs", "")]).await;
    assert_eq!(st, 400, "the form comes back with the error");
    assert!(body.contains("agent_heartbeat_secs: must be a whole number"), "the error names the field");
    let (st, _, _) = a.form(&page, &[("agent_heartbeat_secs", "45"), ("agent_metrics_secs", "")]).await;
    assert_eq!(st, 303);
    let (_, c) = a.get(&client_url).await;
    assert_eq!((c["agent_heartbeat_secs"].as_i64(), c["agent_metrics_secs"].as_i64()), (Some(45), None), "{c}");
    let m = next_within(&mut office_ws, "office gets the page's change").await;
    assert_eq!(m["heartbeat_secs"], 45);
    let (_, html) = a.get_text(&format!("/clients/{client}")).await;
    assert!(html.contains("name=\"agent_heartbeat_secs\"") && html.contains("value=\"45\""), "the client page shows the setting");
    let site_page = format!("/clients/{client}/sites/{office}");
    let (_, html) = a.get_text(&site_page).await;
    assert!(html.contains("blank: the client's 45 s") && html.contains("blank: the server's 60 s"), "the site page says what it inherits");
    let fields = |h: &'static str, m: &'static str| {
        [("name", "Office"), ("timezone", "UTC"), ("address", ""), ("agent_heartbeat_secs", h), ("agent_metrics_secs", m)]
    };
    let (st, _, body) = a.form(&site_page, &fields("", "5")).await;
    assert_eq!(st, 400);
    assert!(body.contains("agent_metrics_secs: must be between 10 and 3600 seconds"), "the error names the field");
    let (st, _, _) = a.form(&site_page, &fields("", "600")).await;
    assert_eq!(st, 303);
    let (_, v) = a.get(&format!("{sites}/{office}")).await;
    assert_eq!((v["agent_heartbeat_secs"].as_i64(), v["agent_metrics_secs"].as_i64()), (None, Some(600)), "{v}");
    let (_, html) = a.get_text(&format!("/clients/{client}/devices/{lab_dev}")).await;
    assert!(
        html.contains("Heartbeat every 5 s (site setting) · a metrics sample every 60 s (server setting) · offline after 15 s"),
        "device page"
    );
}

#[tokio::test]
async fn a_device_sets_its_own_agent_settings_above_its_site_and_client() {
    let (s, a, client, site) = setup().await;
    let client_url = format!("/api/v1/clients/{client}");
    assert_eq!(a.patch(&client_url, json!({"agent_heartbeat_secs": 20})).await.0, 200);
    let tok = token(&a, client, site, json!({"max_uses": 2})).await;
    let (mut own_ws, dev, welcome) = raw_enroll(&s.base, &tok, &ed25519_dalek::SigningKey::from_bytes(&[51; 32]), "critical-sql").await;
    assert_eq!(welcome["heartbeat_secs"], 20);
    let (mut other_ws, _, _) = raw_enroll(&s.base, &tok, &ed25519_dalek::SigningKey::from_bytes(&[52; 32]), "desk-1").await;
    let dev_url = format!("{client_url}/devices/{dev}");

    // Bad input: out of range, wrong type, unknown fields, not JSON.
    for (body, field) in [
        (json!({"agent_heartbeat_secs": 4}), "agent_heartbeat_secs"),
        (json!({"agent_metrics_secs": 3601}), "agent_metrics_secs"),
        (json!({"agent_metrics_secs": "often"}), ""),
        (json!({"hostname": "renamed"}), ""),
    ] {
        let (st, e) = a.patch(&dev_url, body.clone()).await;
        assert_eq!(st, 400, "{body}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(field), "{e}");
    }
    let r = a
        .raw(reqwest::Method::PATCH, &dev_url)
        .header("content-type", "application/json")
        .body("{\"agent_heartbeat_secs\":")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // The device's own heartbeat wins over its client's, reaches its agent
    // at once, and only its agent.
    let (st, v) = a.patch(&dev_url, json!({"agent_heartbeat_secs": 10})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["agent_heartbeat_secs"].as_i64(), v["applied_now"].as_bool()), (Some(10), Some(true)), "{v}");
    assert_eq!(next_within(&mut own_ws, "its own heartbeat").await, json!({"type": "settings", "heartbeat_secs": 10, "metrics_secs": 60}));
    let quiet = tokio::time::timeout(Duration::from_millis(300), raw_recv(&mut other_ws)).await;
    assert!(quiet.is_err(), "the other device of the site is not told: {quiet:?}");
    let (_, d) = a.get(&dev_url).await;
    assert_eq!(
        d["agent_settings"],
        json!({"heartbeat_secs": 10, "heartbeat_from": "device", "metrics_secs": 60, "metrics_from": "server", "offline_after_secs": 30})
    );
    // A client change afterwards leaves the device's own value in place.
    assert_eq!(a.patch(&client_url, json!({"agent_heartbeat_secs": 40, "agent_metrics_secs": 120})).await.0, 200);
    assert_eq!(next_within(&mut own_ws, "client change").await, json!({"type": "settings", "heartbeat_secs": 10, "metrics_secs": 120}));
    assert_eq!(next_within(&mut other_ws, "client change").await, json!({"type": "settings", "heartbeat_secs": 40, "metrics_secs": 120}));
    // `null` returns it to what it inherits.
    let (st, v) = a.patch(&dev_url, json!({"agent_heartbeat_secs": null})).await;
    assert!(st == 200 && v["agent_heartbeat_secs"].is_null(), "{v}");
    assert_eq!(v["agent_settings"]["heartbeat_from"], "client");
    assert_eq!(next_within(&mut own_ws, "back to the client's").await["heartbeat_secs"], 40);

    // Audited with before and after; a patch that changes nothing is not.
    let (st, same) = a.patch(&dev_url, json!({"agent_metrics_secs": null})).await;
    assert_eq!((st, same["applied_now"].as_bool()), (200, Some(true)), "{same}");
    let (_, log) = a.get(&format!("/api/v1/audit?action=device.update&client_id={client}")).await;
    assert_eq!(log["total"], 2, "{log}");
    let newest = &log["items"][0]["details"];
    assert_eq!(
        (newest["before"]["agent_heartbeat_secs"].as_i64(), newest["after"]["agent_heartbeat_secs"].as_i64()),
        (Some(10), None),
        "{log}"
    );

    // The device page: the form, its errors, and where each value comes from.
    let page = format!("/clients/{client}/devices/{dev}");
    let (st, _, body) = a.form(&format!("{page}/agent-settings"), &[("agent_heartbeat_secs", "soon"), ("agent_metrics_secs", "")]).await;
    assert_eq!(st, 400);
    assert!(body.contains("agent_heartbeat_secs: must be a whole number"), "the page names the field");
    let (st, _, _) = a.form(&format!("{page}/agent-settings"), &[("agent_heartbeat_secs", ""), ("agent_metrics_secs", "15")]).await;
    assert_eq!(st, 303);
    assert_eq!(next_within(&mut own_ws, "the page's change").await, json!({"type": "settings", "heartbeat_secs": 40, "metrics_secs": 15}));
    let (_, html) = a.get_text(&page).await;
    assert!(html.contains("a metrics sample every 15 s (device setting)"), "what it runs with");
    assert!(html.contains("value=\"15\"") && html.contains("blank: the client's 40 s"), "its own value, and what an empty field inherits");

    // A technician of another client cannot touch it; a removed device's
    // settings are refused.
    let other = crate::common::make_client(&a, "Elsewhere").await;
    crate::common::make_user(&a, "elsewhere@msp.example", "technician", Some(vec![other])).await;
    let t = s.client();
    t.login_ok("elsewhere@msp.example", crate::common::PASSWORD).await;
    assert_eq!(t.patch(&dev_url, json!({"agent_heartbeat_secs": 5})).await.0, 404);
    // Nor through a client it does not belong to, even for an administrator.
    assert_eq!(a.patch(&format!("/api/v1/clients/{other}/devices/{dev}"), json!({"agent_heartbeat_secs": 5})).await.0, 404);
    assert_eq!(a.delete(&dev_url).await.0, 204);
    let (st, e) = a.patch(&dev_url, json!({"agent_heartbeat_secs": 5})).await;
    assert_eq!(st, 409, "{e}");
}

/// The real agent adopts a heartbeat period pushed while it is connected:
/// with the server's 30 s it would be cut off by the new 15 s silence
/// window; it keeps to the new period and stays online.
#[tokio::test]
async fn the_real_agent_adopts_settings_pushed_while_it_is_connected() {
    let (s, a, client, site) = setup().await;
    let tok = token(&a, client, site, json!({})).await;
    let (_dir, cfg) = install(&s, &tok);
    let mut run =
        Command::new(agent_bin()).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let devices = format!("/api/v1/clients/{client}/devices");
    let v = wait_for(&a, &devices, "online", |v| v["items"][0]["online"] == true).await;
    let device = v["items"][0]["id"].as_i64().unwrap();
    let (st, _) = a.patch(&format!("/api/v1/clients/{client}/sites/{site}"), json!({"agent_heartbeat_secs": 5})).await;
    assert_eq!(st, 200);
    tokio::time::sleep(Duration::from_secs(22)).await;
    let (_, hist) = a.get(&format!("{devices}/{device}/presence")).await;
    assert_eq!(hist["items"][0]["online"], true, "still connected 22 s after the 15 s silence window began: {hist}");
    assert!(!hist.to_string().contains("silent"), "{hist}");
    run.kill().unwrap();
    let _ = run.wait();
}
