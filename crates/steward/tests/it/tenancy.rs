//! Clients, sites and contacts over the API and the pages: CRUD, validation
//! (400 naming the field), the error shape for malformed, unknown and
//! oversized bodies, pagination, and hostile HTML rendered inertly.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn clients_sites_and_contacts_round_trip_with_validation() {
    let s = Server::start().await;
    let a = s.admin().await;

    // Create and read back.
    let id = make_client(&a, "Harbor Dental").await;
    let (st, v) = a.get(&format!("/api/v1/clients/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(v["name"], "Harbor Dental");

    // Names are unique, case-insensitively: 409.
    let (st, v) = a.post("/api/v1/clients", json!({"name": "harbor dental"})).await;
    assert_eq!((st, error_code(&v).as_str()), (409, "conflict"));

    // Validation names the field.
    let (st, v) = a.post("/api/v1/clients", json!({"name": "   "})).await;
    assert_eq!(st, 400);
    assert_eq!(v["error"]["field"], "name");

    // Sites need a real IANA zone.
    let (st, v) = a.post(&format!("/api/v1/clients/{id}/sites"), json!({"name": "Main", "timezone": "Mars/Olympus"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("timezone")));
    let (st, site) = a.post(&format!("/api/v1/clients/{id}/sites"), json!({"name": "Main", "timezone": "America/Los_Angeles"})).await;
    assert_eq!(st, 201, "{site}");
    let site_id = site["id"].as_i64().unwrap();

    // Contacts: email checked, site must belong to the client.
    let (st, v) = a.post(&format!("/api/v1/clients/{id}/contacts"), json!({"name": "Tom", "email": "not-an-email"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("email")));
    let other = make_client(&a, "Other Co").await;
    let (st, other_site) = a.post(&format!("/api/v1/clients/{other}/sites"), json!({"name": "X", "timezone": "UTC"})).await;
    assert_eq!(st, 201);
    let (st, v) = a.post(&format!("/api/v1/clients/{id}/contacts"), json!({"name": "Tom", "site_id": other_site["id"]})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("site_id")));
    let (st, contact) = a
        .post(
            &format!("/api/v1/clients/{id}/contacts"),
            json!({"name": "Tom Reyes", "email": "Tom@Harbor.Example", "phone": "+1 503 555 0177", "site_id": site_id}),
        )
        .await;
    assert_eq!(st, 201, "{contact}");
    assert_eq!(contact["email"], "tom@harbor.example");

    // Update and archive.
    let cid = contact["id"].as_i64().unwrap();
    let (st, v) = a.patch(&format!("/api/v1/clients/{id}/contacts/{cid}"), json!({"title": "Office manager", "site_id": null})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["title"], "Office manager");
    assert!(v["site_id"].is_null());
    let (st, v) = a.patch(&format!("/api/v1/clients/{id}/sites/{site_id}"), json!({"timezone": "Europe/Berlin"})).await;
    assert_eq!((st, v["timezone"].as_str()), (200, Some("Europe/Berlin")));
    let (st, v) = a.delete(&format!("/api/v1/clients/{other}")).await;
    assert_eq!((st, v["archived"].as_bool()), (200, Some(true)));
    let (_, list) = a.get("/api/v1/clients").await;
    assert_eq!(list["total"], 1, "archived clients are hidden: {list}");
    let (_, list) = a.get("/api/v1/clients?archived=true").await;
    assert_eq!(list["total"], 2);

    // A record of another client is not reachable through this client.
    let (st, _) = a.get(&format!("/api/v1/clients/{id}/sites/{}", other_site["id"])).await;
    assert_eq!(st, 404);

    // Every change landed in the audit log with before/after.
    let (_, audit) = a.get("/api/v1/audit?action=contact.update").await;
    let e = &audit["items"][0];
    assert_eq!(e["details"]["before"]["title"], "");
    assert_eq!(e["details"]["after"]["title"], "Office manager");
    assert_eq!(e["client_id"], id);
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_in_one_shape() {
    // A 64 KiB body limit keeps the oversized body small enough to sit in the
    // socket buffers: the server answers 413 without reading it, and a body
    // larger than the buffers would race that answer with a reset.
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--body-limit-bytes", "65536"]).await;
    let a = s.admin().await;

    let raw = |body: &'static str| a.raw(reqwest::Method::POST, "/api/v1/clients").header("content-type", "application/json").body(body);
    let r = raw("{\"name\": ").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "invalid_json");

    let r = raw("{\"name\": \"A\", \"evil\": true}").send().await.unwrap();
    assert_eq!(r.status(), 400, "unknown fields are rejected");
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("evil"), "{v}");

    let r = raw("[1,2,3]").send().await.unwrap();
    assert_eq!(r.status(), 400);

    // Over the limit: 413 in the same shape.
    let big = format!("{{\"name\":\"x\",\"notes\":\"{}\"}}", "a".repeat(100 * 1024));
    // (connection: close, because the server answers before reading the whole body.)
    let r = a
        .raw(reqwest::Method::POST, "/api/v1/clients")
        .header("content-type", "application/json")
        .header("connection", "close")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "payload_too_large");

    // Wrong content type, unknown route, wrong method.
    let r = a.raw(reqwest::Method::POST, "/api/v1/clients").header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(r.status(), 415);
    let (st, v) = a.get("/api/v1/nope").await;
    assert_eq!((st, error_code(&v).as_str()), (404, "not_found"));
    let (st, v) = a.send("PUT", "/api/v1/clients", json!({})).await;
    assert_eq!((st, error_code(&v).as_str()), (405, "method_not_allowed"));
    // Path ids that are not numbers: 400 naming the parameter, never 500.
    let (st, v) = a.get("/api/v1/clients/abc").await;
    assert_eq!((st, error_code(&v).as_str(), v["error"]["field"].as_str()), (400, "invalid_field", Some("id")));
}

#[tokio::test]
async fn lists_paginate_with_a_total() {
    let s = Server::start().await;
    let a = s.admin().await;
    for i in 0..7 {
        make_client(&a, &format!("Client {i:02}")).await;
    }
    let (_, p1) = a.get("/api/v1/clients?limit=3&offset=0").await;
    let (_, p3) = a.get("/api/v1/clients?limit=3&offset=6").await;
    assert_eq!(p1["total"], 7);
    assert_eq!(p1["items"].as_array().unwrap().len(), 3);
    assert_eq!(p1["items"][0]["name"], "Client 00");
    assert_eq!(p3["items"].as_array().unwrap().len(), 1);
    assert_eq!(p3["items"][0]["name"], "Client 06");
    let (_, f) = a.get("/api/v1/clients?q=client%200").await;
    assert_eq!(f["total"], 7);
    let (_, f) = a.get("/api/v1/clients?q=05").await;
    assert_eq!(f["total"], 1);
    // Search text is matched literally: % and _ are not wildcards.
    make_client(&a, "100% Pure_Water").await;
    for (q, n) in [("100%25", 1), ("e_w", 1), ("%25", 1), ("_", 1), ("client", 7)] {
        let (_, f) = a.get(&format!("/api/v1/clients?q={q}")).await;
        assert_eq!(f["total"], n, "q={q}");
    }
    // Every list pages the same way, sites and contacts included.
    let id = p1["items"][0]["id"].as_i64().unwrap();
    for tz in ["UTC", "Europe/Paris", "Asia/Tokyo"] {
        let (st, _) = a.post(&format!("/api/v1/clients/{id}/sites"), json!({"name": tz, "timezone": tz})).await;
        assert_eq!(st, 201);
    }
    let (_, sites) = a.get(&format!("/api/v1/clients/{id}/sites?limit=2&offset=2")).await;
    assert_eq!((sites["total"].as_i64(), sites["items"].as_array().unwrap().len()), (Some(3), 1));
}

#[tokio::test]
async fn hostile_html_is_stored_verbatim_and_rendered_escaped() {
    let s = Server::start().await;
    let a = s.admin().await;
    let evil = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let id = make_client(&a, &format!("Evil {evil}")).await;
    let (st, _) = a.post(&format!("/api/v1/clients/{id}/contacts"), json!({"name": evil, "title": "\"><svg onload=alert(1)>"})).await;
    assert_eq!(st, 201);
    for page in [format!("/clients/{id}"), "/clients".to_string(), "/search?q=script".to_string(), "/audit".to_string()] {
        let (st, html) = a.get_text(&page).await;
        assert_eq!(st, 200, "{page}");
        assert!(!html.contains("<script>alert"), "{page} rendered a raw script tag");
        assert!(!html.contains("<img src=x"), "{page} rendered a raw img tag");
        assert!(!html.contains("<svg onload"), "{page} rendered a raw svg tag");
    }
    let (_, html) = a.get_text(&format!("/clients/{id}")).await;
    assert!(
        html.contains("&#60;script&#62;alert(") || html.contains("&lt;script&gt;alert("),
        "escaped text is shown: {}",
        &html[html.find("<h1>").unwrap_or(0)..][..200]
    );
}

#[tokio::test]
async fn web_forms_create_and_edit_clients_with_errors_shown_inline() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (st, loc, _) = a.form("/clients", &[("name", "Bluegum Accounting"), ("notes", "Busy season Feb-Jun")]).await;
    assert_eq!(st, 303);
    assert!(loc.starts_with("/clients/"), "{loc}");
    let (st, _, body) = a.form("/clients", &[("name", "")]).await;
    assert_eq!(st, 400);
    assert!(body.contains("name: must not be empty"), "error shown on the page");
    let (st, _, body) = a.form(&format!("{loc}/sites"), &[("name", "Sydney"), ("timezone", "Australia/Nowhere")]).await;
    assert_eq!(st, 400);
    assert!(body.contains("timezone"));
    let (st, loc2, _) = a.form(&format!("{loc}/sites"), &[("name", "Sydney"), ("timezone", "Australia/Sydney")]).await;
    assert_eq!(st, 303, "{loc2}");
    let (_, html) = a.get_text(&loc).await;
    assert!(html.contains("Australia/Sydney") && html.contains("Busy season Feb-Jun"));
}
