//! Documented assets against the real server on either engine: the
//! starter types and an admin's own, values checked per kind, links kept
//! within the client, changes merged and audited, configurations matched
//! to real (simulated) agents' devices, relationships both ways, the
//! expiry list and its warnings, the search, the pages, and a limited
//! technician who finds nothing of another client's anywhere.

use crate::common::agents::{setup, simulate, token, wait_for};
use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn type_named(a: &Client, name: &str) -> Value {
    let (st, v) = a.get("/api/v1/asset-types").await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no type {name}: {v}")).clone()
}

async fn asset(a: &Client, client: i64, body: Value) -> Value {
    let (st, v) = a.post(&format!("/api/v1/clients/{client}/assets"), body).await;
    assert_eq!(st, 201, "{v}");
    v
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string()
}

async fn search_labels(c: &Client, q: &str) -> Vec<String> {
    let (st, v) = c.get(&format!("/api/v1/search?{}", serde_urlencoded::to_string([("q", q)]).unwrap())).await;
    assert_eq!(st, 200, "{v}");
    v["hits"].as_array().unwrap().iter().filter(|h| h["kind"] == "asset").map(|h| h["label"].as_str().unwrap().to_string()).collect()
}

async fn until_found(c: &Client, q: &str, label: &str, present: bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while search_labels(c, q).await.iter().any(|l| l == label) != present {
        assert!(Instant::now() < deadline, "search {q:?}: {label:?} {}", if present { "never found" } else { "still found" });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn types_define_fields_and_assets_are_checked_linked_merged_and_audited() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Harbor Dental").await;
    let other = make_client(&a, "Other Ltd").await;

    // The starter set is there, and each of its definitions is valid: saved
    // back unchanged, it is accepted as it is.
    let (_, types) = a.get("/api/v1/asset-types").await;
    let names: Vec<&str> = types.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for want in [
        "Configuration",
        "Firewall",
        "Wi-Fi network",
        "Line-of-business application",
        "Domain",
        "TLS certificate",
        "ISP circuit",
        "Microsoft 365 tenant",
        "Software licence",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for t in types.as_array().unwrap() {
        let (st, back) = a.patch(&format!("/api/v1/asset-types/{}", t["id"]), json!({"fields": t["fields"]})).await;
        assert_eq!(st, 200, "{}: {back}", t["name"]);
        assert_eq!(back["fields"], t["fields"]);
    }
    assert_eq!(types.as_array().unwrap().iter().filter(|t| t["configuration"] == true).count(), 1);

    // An admin's own type; definitions that cannot work are refused by field.
    let fields = json!([
        {"label": "Serial number", "kind": "text", "required": true},
        {"label": "Model", "kind": "select", "options": ["DS920+", "RS1221+"]},
        {"label": "Admin page", "kind": "url"},
        {"label": "LAN", "kind": "ip"},
        {"label": "Admin login", "kind": "vault"},
        {"label": "Disks", "kind": "number"},
        {"label": "Warranty ends", "kind": "date", "expires": true},
        {"label": "Backs up", "kind": "asset"},
        {"label": "Owner", "kind": "contact"}
    ]);
    let (st, nas) = a.post("/api/v1/asset-types", json!({"name": "NAS", "fields": fields})).await;
    assert_eq!(st, 201, "{nas}");
    assert_eq!(nas["fields"][0]["key"], "serial_number");
    let (st, _) = a.post("/api/v1/asset-types", json!({"name": "nas", "fields": []})).await;
    assert_eq!(st, 409, "names are unique in any case");
    for (bad, field) in [
        (json!([{"label": "A", "kind": "text"}, {"label": "a", "kind": "text"}]), "fields[1].key"),
        (json!([{"label": "Pick", "kind": "select"}]), "fields[0].options"),
        (json!([{"label": "When", "kind": "text", "expires": true}]), "fields[0].expires"),
        (json!([{"label": "X", "kind": "text", "key": "Bad Key"}]), "fields[0].key"),
    ] {
        let (st, e) = a.post("/api/v1/asset-types", json!({"name": "Broken", "fields": bad})).await;
        assert_eq!(st, 422, "{e}");
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    let (st, _) = a.post("/api/v1/asset-types", json!({"name": "Broken", "fields": [{"label": "X", "kind": "colour"}]})).await;
    assert_eq!(st, 400, "an unknown kind is not the schema");
    let nas_id = nas["id"].as_i64().unwrap();

    // Records to link to: a vault entry and a contact of this client, and one of another.
    let (st, entry) = a
        .post(
            &format!("/api/v1/clients/{c}/vault"),
            json!({"name": "NAS admin", "username": "admin", "password": "canary-Zq81-nas-secret"}),
        )
        .await;
    assert_eq!(st, 201, "{entry}");
    let (_, their_entry) = a.post(&format!("/api/v1/clients/{other}/vault"), json!({"name": "Their admin", "password": "x-1234567"})).await;
    let (_, contact) =
        a.post(&format!("/api/v1/clients/{c}/contacts"), json!({"name": "Dr. Ada Lane", "email": "ada@harbor.example"})).await;

    let made = asset(
        &a,
        c,
        json!({"type_id": nas_id, "name": "Backup NAS", "fields": {
            "serial_number": " 2040QBR7781 ", "model": "ds920+", "admin_page": "HTTPS://nas.harbor.example:5001/", "lan": "10.20.0.0/24",
            "admin_login": entry["id"], "disks": "4", "warranty_ends": day(20), "owner": contact["id"]},
            "notes": "In the comms cupboard"}),
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    assert_eq!(made["fields"]["serial_number"], "2040QBR7781", "trimmed");
    assert_eq!(made["fields"]["model"], "DS920+", "the option as defined");
    assert_eq!(made["fields"]["admin_page"], "https://nas.harbor.example:5001/");
    assert_eq!(made["fields"]["disks"], 4.0);
    let links = made["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["key"] == "admin_login" && l["label"] == "NAS admin"), "{made}");
    assert!(links.iter().any(|l| l["key"] == "owner" && l["label"] == "Dr. Ada Lane"), "{made}");
    assert!(!made.to_string().contains("canary-Zq81"), "a vault link is never its secret");

    // Values that do not fit their kind are refused, naming the field.
    for (key, value) in [
        ("warranty_ends", json!("31/12/2027")),
        ("admin_page", json!("javascript:alert(1)")),
        ("lan", json!("10.20.0.999")),
        ("model", json!("DS218")),
        ("disks", json!("four")),
        ("admin_login", their_entry["id"].clone()),
        ("backs_up", json!(id + 1000)),
        ("colour", json!("red")),
    ] {
        let (st, e) = a.patch(&format!("/api/v1/clients/{c}/assets/{id}"), json!({"fields": {key: value}})).await;
        assert_eq!(st, 422, "{key}: {e}");
        assert_eq!(e["error"]["field"], format!("fields.{key}"), "{e}");
    }
    let (st, e) = a.post(&format!("/api/v1/clients/{c}/assets"), json!({"type_id": nas_id, "name": "No serial", "fields": {}})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("fields.serial_number")), "{e}");
    let (st, e) = a
        .post(
            &format!("/api/v1/clients/{c}/assets"),
            json!({"type_id": nas_id, "name": "X", "fields": {"serial_number": "1"}, "device_id": 1}),
        )
        .await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("device_id")), "only a configuration has a device: {e}");
    let (st, _) = a.patch(&format!("/api/v1/clients/{c}/assets/{id}"), json!({"fields": {"backs_up": id}})).await;
    assert_eq!(st, 422, "not itself");

    // A change merges: the fields given change, the rest stay; "" empties one.
    let (st, changed) =
        a.patch(&format!("/api/v1/clients/{c}/assets/{id}"), json!({"fields": {"disks": 6, "lan": ""}, "name": "Backup NAS 1"})).await;
    assert_eq!(st, 200, "{changed}");
    assert_eq!((changed["fields"]["disks"].as_f64(), changed["fields"]["serial_number"].as_str()), (Some(6.0), Some("2040QBR7781")));
    assert!(changed["fields"].get("lan").is_none(), "{changed}");
    let (_, audit) = a.get(&format!("/api/v1/audit?action=asset.&client_id={c}")).await;
    let entries: Vec<&Value> = audit["items"].as_array().unwrap().iter().filter(|e| e["target_id"] == json!(id.to_string())).collect();
    assert!(entries.iter().any(|e| e["action"] == "asset.create"), "{audit}");
    let upd = entries.iter().find(|e| e["action"] == "asset.update").expect("the change is audited");
    assert_eq!(upd["details"]["before"]["fields"]["disks"], 4.0, "{upd}");
    assert_eq!(upd["details"]["after"]["fields"]["disks"], 6.0, "{upd}");

    // The type's kind of a field in use cannot change; a new field can come.
    let mut f2: Vec<Value> = nas["fields"].as_array().unwrap().clone();
    f2[5]["kind"] = json!("text");
    let (st, e) = a.patch(&format!("/api/v1/asset-types/{nas_id}"), json!({"fields": f2})).await;
    assert_eq!(st, 409, "{e}");
    let mut f3: Vec<Value> = nas["fields"].as_array().unwrap().clone();
    f3.push(json!({"label": "Firmware", "kind": "text"}));
    let (st, t) = a.patch(&format!("/api/v1/asset-types/{nas_id}"), json!({"fields": f3})).await;
    assert_eq!((st, t["fields"].as_array().unwrap().len()), (200, 10), "{t}");
    let (st, _) = a.patch(&format!("/api/v1/clients/{c}/assets/{id}"), json!({"fields": {"firmware": "DSM 7.2"}})).await;
    assert_eq!(st, 200);

    // Found by the search by its values, never by a vault secret.
    until_found(&a, "2040QBR7781", "Backup NAS 1", true).await;
    until_found(&a, "cupboard", "Backup NAS 1", true).await;
    assert!(search_labels(&a, "canary-Zq81-nas-secret").await.is_empty());

    // Lists by type and name; archived leaves lists and the search.
    let (_, l) = a.get(&format!("/api/v1/clients/{c}/assets?type_id={nas_id}&q=nas")).await;
    assert_eq!(l["total"], 1, "{l}");
    let (st, _) = a.patch(&format!("/api/v1/clients/{c}/assets/{id}"), json!({"archived": true})).await;
    assert_eq!(st, 200);
    let (_, l) = a.get(&format!("/api/v1/clients/{c}/assets")).await;
    assert_eq!(l["total"], 0, "{l}");
    until_found(&a, "2040QBR7781", "Backup NAS 1", false).await;

    // Technicians document but do not define types; read-only users read.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    let (st, _) = t.post("/api/v1/asset-types", json!({"name": "Mine", "fields": []})).await;
    assert_eq!(st, 403);
    asset(&t, c, json!({"type_id": nas_id, "name": "Second NAS", "fields": {"serial_number": "S2"}})).await;
    make_user(&a, "ro@msp.example", "read_only", None).await;
    let ro = s.client();
    ro.login_ok("ro@msp.example", PASSWORD).await;
    let (st, _) = ro.get(&format!("/api/v1/clients/{c}/assets/{id}")).await;
    assert_eq!(st, 200);
    let (st, _) =
        ro.post(&format!("/api/v1/clients/{c}/assets"), json!({"type_id": nas_id, "name": "x", "fields": {"serial_number": "1"}})).await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn relationships_show_both_ways_and_the_expiry_list_warns_once_per_threshold() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_with_env(env, &["--expiry-check-secs", "1"], &[]).await;
    let a = s.admin().await;
    let c = make_client(&a, "Harbor Dental").await;
    let other = make_client(&a, "Other Ltd").await;
    let app_type = type_named(&a, "Line-of-business application").await["id"].clone();
    let domain = type_named(&a, "Domain").await["id"].clone();
    let cert = type_named(&a, "TLS certificate").await["id"].clone();
    let pms =
        asset(&a, c, json!({"type_id": app_type, "name": "Dentrix", "fields": {"vendor": "Henry Schein", "licence_ends": day(400)}})).await;
    let web =
        asset(&a, c, json!({"type_id": domain, "name": "harbor.example", "fields": {"domain_name": "harbor.example", "expires": day(10)}}))
            .await;
    let tls = asset(
        &a,
        c,
        json!({"type_id": cert, "name": "portal cert", "fields": {"common_name": "portal.harbor.example", "expires": day(-2)}}),
    )
    .await;
    let theirs = asset(
        &a,
        other,
        json!({"type_id": domain, "name": "other.example", "fields": {"domain_name": "other.example", "expires": day(5)}}),
    )
    .await;
    let (pid, wid) = (pms["id"].as_i64().unwrap(), web["id"].as_i64().unwrap());

    // Related once, shown from both ends.
    let rel = format!("/api/v1/clients/{c}/relations");
    let (st, r) =
        a.post(&rel, json!({"from": {"kind": "asset", "id": pid}, "to": {"kind": "asset", "id": wid}, "label": "is reached at"})).await;
    assert_eq!(st, 201, "{r}");
    assert_eq!((r["from_label"].as_str(), r["to_label"].as_str()), (Some("Dentrix"), Some("harbor.example")));
    for (id, n) in [(pid, 1), (wid, 1)] {
        let (_, list) = a.get(&format!("{rel}?kind=asset&id={id}")).await;
        assert_eq!(list.as_array().unwrap().len(), n, "{list}");
    }
    let (st, _) = a.post(&rel, json!({"from": {"kind": "asset", "id": wid}, "to": {"kind": "asset", "id": pid}})).await;
    assert_eq!(st, 409, "the same pair the other way round");
    let (st, e) = a.post(&rel, json!({"from": {"kind": "asset", "id": pid}, "to": {"kind": "asset", "id": theirs["id"]}})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("to.id")), "not another client's: {e}");
    let (st, _) = a.post(&rel, json!({"from": {"kind": "asset", "id": pid}, "to": {"kind": "password", "id": 1}})).await;
    assert_eq!(st, 422);
    let (_, page) = a.get_text(&format!("/clients/{c}/assets/{wid}")).await;
    assert!(page.contains("← is reached at") && page.contains("Dentrix"), "the other end shows it too");
    let (st, _) = a.delete(&format!("{rel}/{}", r["id"])).await;
    assert_eq!(st, 204);
    let (_, list) = a.get(&format!("{rel}?kind=asset&id={pid}")).await;
    assert!(list.as_array().unwrap().is_empty());

    // The expiry list: soonest first, past ones in, within the window only.
    let (st, list) = a.get(&format!("/api/v1/expiries?within_days=30&client_id={c}")).await;
    assert_eq!(st, 200, "{list}");
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["portal cert", "harbor.example"], "{list}");
    assert_eq!(list[0]["days_left"], -2);
    let (_, all) = a.get("/api/v1/expiries?within_days=500").await;
    assert_eq!(all.as_array().unwrap().len(), 4, "{all}");

    // Warnings: a technician of this client is told of its dates once per
    // threshold; one limited to the other client only of that one's.
    make_user(&a, "tech@msp.example", "technician", Some(vec![c])).await;
    make_user(&a, "them@msp.example", "technician", Some(vec![other])).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    let them = s.client();
    them.login_ok("them@msp.example", PASSWORD).await;
    let told = |v: &Value| {
        v.as_array().unwrap().iter().filter(|n| n["kind"] == "expiry").map(|n| n["text"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let n = wait_for(&t, "/api/v1/notifications", "two expiry warnings", |v| told(v).len() >= 2).await;
    let texts = told(&n);
    assert!(texts.iter().any(|x| x.contains("harbor.example") && x.contains("in 10 days")), "{texts:?}");
    assert!(texts.iter().any(|x| x.contains("portal cert") && x.contains("expired")), "{texts:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, n) = t.get("/api/v1/notifications").await;
    assert_eq!(told(&n).len(), 2, "each once: {:?}", told(&n));
    let (_, n) = them.get("/api/v1/notifications").await;
    assert!(told(&n).iter().all(|x| x.contains("other.example")), "{n}");
    // A date moved nearer the day is told again at the next threshold.
    let (st, _) = a.patch(&format!("/api/v1/clients/{c}/assets/{wid}"), json!({"fields": {"expires": day(3)}})).await;
    assert_eq!(st, 200);
    wait_for(&t, "/api/v1/notifications", "the 7-day warning", |v| told(v).iter().any(|x| x.contains("in 3 days"))).await;

    // The thresholds are a setting; the home page shows what is near.
    let (st, set) = a.patch("/api/v1/settings", json!({"expiry_warn_days": [7, 60, 7]})).await;
    assert_eq!((st, set["expiry_warn_days"].clone()), (200, json!([60, 7])), "{set}");
    let (st, _) = a.patch("/api/v1/settings", json!({"expiry_warn_days": [0]})).await;
    assert_eq!(st, 422, "schema-valid, refused by meaning");
    let (_, home) = t.get_text("/").await;
    assert!(home.contains("Expiring within 60 days") && home.contains("portal cert") && !home.contains("other.example"), "{home}");
    let (_, page) = t.get_text("/docs/expiries").await;
    assert!(page.contains("harbor.example") && !page.contains("other.example"));
    // Archived, it leaves the list.
    a.patch(&format!("/api/v1/clients/{c}/assets/{}", tls["id"]), json!({"archived": true})).await;
    let (_, list) = a.get(&format!("/api/v1/expiries?client_id={c}")).await;
    assert!(!list.to_string().contains("portal cert"), "{list}");
}

#[tokio::test]
async fn managed_devices_are_configurations_with_their_live_inventory() {
    let (s, a, c, site) = setup().await;
    let _sim = simulate(&s, &token(&a, c, site, json!({"max_uses": 2})).await, 2);
    let devices = wait_for(&a, &format!("/api/v1/clients/{c}/devices"), "two enrolled devices", |v| v["total"] == 2).await;
    let d1 = devices["items"][0]["id"].as_i64().unwrap();
    let host = devices["items"][0]["hostname"].as_str().unwrap().to_string();

    // Both devices are configurations before anyone documents them.
    let (_, items) = a.get(&format!("/api/v1/clients/{c}/configurations")).await;
    assert_eq!(items.as_array().unwrap().len(), 2, "{items}");
    assert!(items.as_array().unwrap().iter().all(|i| i["asset"].is_null() && i["device"]["id"].is_number()));

    // Documenting one makes its configuration, named after the host.
    let (st, doc) = a
        .put(
            &format!("/api/v1/clients/{c}/devices/{d1}/configuration"),
            json!({"fields": {"location": "Rack 2, U14", "purpose": "File server", "warranty_ends": day(200)}}),
        )
        .await;
    assert_eq!(st, 200, "{doc}");
    assert_eq!((doc["name"].as_str(), doc["device_id"].as_i64()), (Some(host.as_str()), Some(d1)));
    let (st, again) =
        a.put(&format!("/api/v1/clients/{c}/devices/{d1}/configuration"), json!({"fields": {"purpose": "File and print server"}})).await;
    assert_eq!((st, &again["id"]), (200, &doc["id"]), "the same configuration, changed");
    assert_eq!(again["fields"]["location"], "Rack 2, U14", "merged");

    // A switch has no agent: documented by hand, later matched to a device.
    let conf = type_named(&a, "Configuration").await["id"].clone();
    let sw = asset(&a, c, json!({"type_id": conf, "name": "Core switch", "fields": {"kind": "Switch", "ip_address": "10.0.0.2"}})).await;
    let (_, items) = a.get(&format!("/api/v1/clients/{c}/configurations")).await;
    assert_eq!(items.as_array().unwrap().len(), 3, "{items}");
    let (st, e) = a.patch(&format!("/api/v1/clients/{c}/assets/{}", sw["id"]), json!({"device_id": d1})).await;
    assert_eq!(st, 409, "a device has one configuration: {e}");

    // The asset page shows the live facts beside the documented ones; the
    // device page shows its documentation.
    let page =
        wait_for_page(&a, &format!("/clients/{c}/assets/{}", doc["id"]), |h| h.contains("Live from the agent") && h.contains("Addresses"))
            .await;
    assert!(page.contains("Rack 2, U14") && page.contains(&host), "{page}");
    let (_, dpage) = a.get_text(&format!("/clients/{c}/devices/{d1}")).await;
    assert!(dpage.contains("File and print server"), "the device page shows its documentation");
    let (_, cpage) = a.get_text(&format!("/clients/{c}/configurations")).await;
    assert!(cpage.contains("Core switch") && cpage.contains("Document it"), "{cpage}");

    // Another client's device cannot be documented from this client.
    let other = make_client(&a, "Other Ltd").await;
    let (st, _) = a.put(&format!("/api/v1/clients/{other}/devices/{d1}/configuration"), json!({})).await;
    assert_eq!(st, 404);
}

async fn wait_for_page(a: &Client, path: &str, f: impl Fn(&str) -> bool) -> String {
    crate::common::agents::wait_page(a, path, path, f).await
}

#[tokio::test]
async fn a_limited_technician_finds_nothing_of_another_clients_documentation() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    let fw = type_named(&a, "Firewall").await["id"].clone();
    let secret = asset(
        &a,
        theirs,
        json!({"type_id": fw, "name": "Merger firewall", "fields": {"serial_number": "quokkafw", "support_ends": day(5)}}),
    )
    .await;
    let sid = secret["id"].as_i64().unwrap();
    let (_, other_rel) = a
        .post(
            &format!("/api/v1/clients/{theirs}/relations"),
            json!({"from": {"kind": "asset", "id": sid}, "to": {"kind": "asset", "id": sid}, "label": "x"}),
        )
        .await;
    assert!(other_rel["error"].is_object(), "not to itself: {other_rel}");
    let mine_fw = asset(&a, mine, json!({"type_id": fw, "name": "Office firewall", "fields": {"serial_number": "quokkafw2"}})).await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;

    for path in [
        format!("/api/v1/clients/{theirs}/assets"),
        format!("/api/v1/clients/{theirs}/assets/{sid}"),
        format!("/api/v1/clients/{mine}/assets/{sid}"),
        format!("/api/v1/clients/{theirs}/configurations"),
        format!("/api/v1/clients/{theirs}/relations?kind=asset&id={sid}"),
        format!("/api/v1/expiries?client_id={theirs}"),
        format!("/clients/{theirs}/assets/{sid}"),
        format!("/clients/{mine}/assets/{sid}"),
        format!("/clients/{theirs}/configurations"),
        format!("/clients/{theirs}/assets/new?type_id={fw}"),
        format!("/docs/assets?client_id={theirs}"),
        format!("/docs/assets/new?client_id={theirs}&type_id={fw}"),
    ] {
        let (st, body) = t.get_text(&path).await;
        assert_eq!(st, 404, "GET {path}: {body}");
        assert!(!body.contains("Merger"), "{path}");
    }
    let (st, _) = t.patch(&format!("/api/v1/clients/{theirs}/assets/{sid}"), json!({"name": "x"})).await;
    assert_eq!(st, 404);
    let (st, _) = t.post(&format!("/api/v1/clients/{theirs}/assets"), json!({"type_id": fw, "name": "x"})).await;
    assert_eq!(st, 404);
    let (st, e) = t
        .post(
            &format!("/api/v1/clients/{mine}/relations"),
            json!({"from": {"kind": "asset", "id": mine_fw["id"]}, "to": {"kind": "asset", "id": sid}}),
        )
        .await;
    assert_eq!(st, 422, "their asset is not one of my client's: {e}");
    let (st, _, _) = t.form(&format!("/clients/{theirs}/assets"), &[("type_id", &fw.to_string()), ("name", "x")]).await;
    assert_eq!(st, 404);
    let (_, all) = t.get("/api/v1/expiries?within_days=3650").await;
    assert!(!all.to_string().contains("Merger"), "{all}");
    let (_, page) = t.get_text("/docs/assets").await;
    assert!(page.contains("Office firewall") && !page.contains("Merger"));
    until_found(&a, "quokkafw", "Merger firewall", true).await;
    until_found(&t, "quokkafw2", "Office firewall", true).await;
    assert!(search_labels(&t, "quokkafw").await.is_empty(), "never found by the limited technician");
}

#[tokio::test]
async fn the_pages_define_a_type_and_document_an_asset_with_its_form() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Harbor Dental").await;
    // A type made on its page, its fields added in the editor.
    let (st, loc, body) = a.form("/settings/asset-types", &[("name", "Printer"), ("description", "Printers and copiers")]).await;
    assert_eq!(st, 303, "{body}");
    let (st, page) = a.get_text(&loc).await;
    assert_eq!(st, 200);
    assert!(page.contains("field.0.label") && page.contains("New field"), "the editor shows the field and empty rows");
    let (st, _, body) = a
        .form(
            &loc,
            &[
                ("name", "Printer"),
                ("field.0.label", "Notes"),
                ("field.0.kind", "multiline"),
                ("field.0.key", "notes"),
                ("field.1.label", "Toner"),
                ("field.1.kind", "select"),
                ("field.1.options", "TN-2420\nTN-2410"),
                ("field.1.required", "1"),
                ("field.1.position", "-1"),
                ("field.2.label", "Lease ends"),
                ("field.2.kind", "date"),
                ("field.2.expires", "1"),
            ],
        )
        .await;
    assert_eq!(st, 303, "{body}");
    let printer = type_named(&a, "Printer").await;
    let keys: Vec<&str> = printer["fields"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["toner", "notes", "lease_ends"], "in the order given: {printer}");
    assert_eq!(printer["fields"][2]["expires"], true);
    // A bad definition keeps the editor with the message.
    let (st, _, body) =
        a.form(&loc, &[("name", "Printer"), ("field.0.label", "When"), ("field.0.kind", "text"), ("field.0.expires", "1")]).await;
    assert_eq!(st, 400);
    assert!(body.contains("only a date field can expire"), "{body}");

    // The asset form is generated from the type; a refused value keeps what was typed.
    let tid = printer["id"].as_i64().unwrap();
    let (st, form) = a.get_text(&format!("/clients/{c}/assets/new?type_id={tid}")).await;
    assert_eq!(st, 200);
    assert!(form.contains(r#"name="f.toner""#) && form.contains("TN-2420") && form.contains(r#"type="date""#), "{form}");
    let (st, _, body) = a
        .form(
            &format!("/clients/{c}/assets"),
            &[("type_id", &tid.to_string()), ("name", "Front desk printer"), ("f.toner", ""), ("f.lease_ends", "2027-02-30")],
        )
        .await;
    assert_eq!(st, 400);
    assert!(body.contains("fields.toner") && body.contains("Front desk printer"), "{body}");
    let (st, loc, body) = a
        .form(
            &format!("/clients/{c}/assets"),
            &[("type_id", &tid.to_string()), ("name", "Front desk printer"), ("f.toner", "TN-2410"), ("f.lease_ends", &day(25))],
        )
        .await;
    assert_eq!(st, 303, "{body}");
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("TN-2410") && page.contains("Lease ends"), "{page}");
    // Changed on its page; the list, the client page and the expiries show it.
    let (st, _, body) = a.form(&loc, &[("name", "Front desk printer"), ("f.toner", "TN-2420"), ("notes", "Jams on A5")]).await;
    assert_eq!(st, 303, "{body}");
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("TN-2420") && page.contains("Jams on A5"));
    let (_, list) = a.get_text(&format!("/docs/assets?client_id={c}")).await;
    assert!(list.contains("Front desk printer"));
    let (_, client_page) = a.get_text(&format!("/clients/{c}")).await;
    assert!(client_page.contains("Front desk printer") && client_page.contains("Printer 1"), "the client panel");
    let (_, exp) = a.get_text("/docs/expiries").await;
    assert!(exp.contains("Front desk printer"));
    // Hostile values are shown as text.
    let (st, _, _) = a.form(&loc, &[("name", "<script>alert(1)</script>"), ("f.toner", "TN-2420")]).await;
    assert_eq!(st, 303);
    let (_, page) = a.get_text(&loc).await;
    assert!(!page.contains("<script>alert(1)"), "escaped: {page}");
}
