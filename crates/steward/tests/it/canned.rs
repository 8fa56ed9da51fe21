//! Canned responses through the API and the ticket page, on either engine:
//! who may keep which (shared ones by administrators, personal ones by
//! their owner), who sees which (a limited technician: the ones for every
//! client and for their clients), and placeholders filled in for a real
//! ticket, its contact, client and technician.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn shared_ones_are_kept_by_administrators_and_personal_ones_by_their_owner() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    make_user(&a, "tech@msp.example", "technician", None).await;
    make_user(&a, "other@msp.example", "technician", None).await;
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;
    let other = s.client();
    other.login_ok("other@msp.example", PASSWORD).await;

    let (st, shared) = a.post("/api/v1/canned-responses", json!({"name": "Greeting", "body": "Hello {{contact.first_name}}"})).await;
    assert_eq!(st, 201, "{shared}");
    assert_eq!((shared["owner_id"].clone(), shared["client_id"].clone()), (json!(null), json!(null)));
    let shared_id = shared["id"].as_i64().unwrap();
    // A technician may not add or change shared ones, only their own.
    let (st, _) = tech.post("/api/v1/canned-responses", json!({"name": "Mine shared", "body": "x"})).await;
    assert_eq!(st, 403);
    assert_eq!(tech.patch(&format!("/api/v1/canned-responses/{shared_id}"), json!({"body": "hacked"})).await.0, 403);
    assert_eq!(tech.delete(&format!("/api/v1/canned-responses/{shared_id}")).await.0, 403);
    let (st, mine) = tech
        .post(
            "/api/v1/canned-responses",
            json!({"name": "My sign-off", "body": "Cheers, {{technician.first_name}}", "personal": true, "client_id": c}),
        )
        .await;
    assert_eq!(st, 201, "{mine}");
    let mine_id = mine["id"].as_i64().unwrap();
    let (st, changed) = tech.patch(&format!("/api/v1/canned-responses/{mine_id}"), json!({"name": "Sign-off"})).await;
    assert_eq!(
        (st, changed["name"].as_str(), changed["body"].as_str()),
        (200, Some("Sign-off"), Some("Cheers, {{technician.first_name}}"))
    );
    // Another technician, and even the administrator, do not see someone's own.
    assert_eq!(other.get(&format!("/api/v1/canned-responses/{mine_id}")).await.0, 404);
    assert_eq!(other.patch(&format!("/api/v1/canned-responses/{mine_id}"), json!({"name": "x"})).await.0, 404);
    let (_, theirs) = other.get("/api/v1/canned-responses").await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "only the shared one: {theirs}");
    let (_, all) = tech.get("/api/v1/canned-responses").await;
    assert_eq!(all.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Greeting", "Sign-off"]);
    // Bad input names the field.
    let (st, v) = a.post("/api/v1/canned-responses", json!({"name": "", "body": "x"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("name")));
    let (st, v) = a.post("/api/v1/canned-responses", json!({"name": "Empty", "body": "  "})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("body")), "only spaces: well-formed, refused");
    let (st, v) = a.post("/api/v1/canned-responses", json!({"name": "Empty", "body": ""})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("body")), "nothing: breaks the schema");
    let (st, v) = a.post("/api/v1/canned-responses", json!({"name": "Nowhere", "body": "x", "client_id": 999_999})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("client_id")));

    assert_eq!(tech.delete(&format!("/api/v1/canned-responses/{mine_id}")).await.0, 204);
    assert_eq!(tech.get(&format!("/api/v1/canned-responses/{mine_id}")).await.0, 404);
    let (st, _) = a.patch(&format!("/api/v1/canned-responses/{shared_id}"), json!({"body": "Hi {{contact.name}}"})).await;
    assert_eq!(st, 200);
    let (_, log) = a.get("/api/v1/audit?action=canned.").await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect();
    for want in ["canned.create", "canned.update", "canned.delete"] {
        assert!(actions.contains(&want), "{want} audited: {actions:?}");
    }
}

#[tokio::test]
async fn a_limited_technician_sees_the_global_ones_and_their_clients_only() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    for (name, client) in [("Everyone", None), ("For mine", Some(mine)), ("Theirs Secret", Some(theirs))] {
        let (st, v) = a.post("/api/v1/canned-responses", json!({"name": name, "body": "text", "client_id": client})).await;
        assert_eq!(st, 201, "{v}");
    }
    let (_, all) = a.get("/api/v1/canned-responses").await;
    let their_id = all.as_array().unwrap().iter().find(|c| c["name"] == "Theirs Secret").unwrap()["id"].as_i64().unwrap();
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    let (_, seen) = t.get("/api/v1/canned-responses").await;
    assert_eq!(seen.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Everyone", "For mine"]);
    assert_eq!(t.get(&format!("/api/v1/canned-responses/{their_id}")).await.0, 404);
    assert_eq!(t.get(&format!("/api/v1/canned-responses?client_id={theirs}")).await.0, 404);
    let (_, for_mine) = t.get(&format!("/api/v1/canned-responses?client_id={mine}")).await;
    assert_eq!(for_mine.as_array().unwrap().len(), 2);
    // Not through a ticket of theirs, nor a ticket of mine.
    let (_, my_ticket) = a.post(&format!("/api/v1/clients/{mine}/tickets"), json!({"subject": "Mine", "priority": "P3"})).await;
    let my_t = my_ticket["id"].as_i64().unwrap();
    let (st, _) = t.post(&format!("/api/v1/clients/{mine}/tickets/{my_t}/canned/{their_id}/render"), json!({})).await;
    assert_eq!(st, 404);
    // Nor may they make one for a client they do not see.
    let (st, v) = t.post("/api/v1/canned-responses", json!({"name": "x", "body": "x", "client_id": theirs, "personal": true})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("client_id")));
}

#[tokio::test]
async fn placeholders_are_filled_for_a_real_ticket_and_the_page_offers_the_picker() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme Widgets").await;
    let other = make_client(&a, "Other").await;
    let (_, contact) = a.post(&format!("/api/v1/clients/{c}/contacts"), json!({"name": "Ada Lovelace", "email": "ada@acme.example"})).await;
    let (st, v) = a
        .post("/api/v1/users", json!({"email": "grace@msp.example", "name": "Grace Hopper", "role": "technician", "password": PASSWORD}))
        .await;
    assert_eq!(st, 201, "{v}");
    let tech = s.client();
    tech.login_ok("grace@msp.example", PASSWORD).await;
    let (_, t) = a
        .post(&format!("/api/v1/clients/{c}/tickets"), json!({"subject": "VPN drops", "priority": "P2", "contact_id": contact["id"]}))
        .await;
    let (id, number) = (t["id"].as_i64().unwrap(), t["number"].as_i64().unwrap());
    let body = "Hi {{contact.first_name}} ({{contact.name}}),\nabout {{ticket.number}} \"{{ ticket.subject }}\" for {{client.name}}: {{ticket.secret}}\n-- {{technician.first_name}} / {{technician.name}}";
    let (_, canned) = a.post("/api/v1/canned-responses", json!({"name": "<b>Status</b>", "body": body})).await;
    let cid = canned["id"].as_i64().unwrap();
    let (st, r) = tech.post(&format!("/api/v1/clients/{c}/tickets/{id}/canned/{cid}/render"), json!({})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        r["text"],
        format!("Hi Ada (Ada Lovelace),\nabout #{number} \"VPN drops\" for Acme Widgets: {{{{ticket.secret}}}}\n-- Grace / Grace Hopper")
    );
    // A contact whose name looks like a placeholder is text, not a template.
    let (_, sneaky) = a.post(&format!("/api/v1/clients/{c}/contacts"), json!({"name": "{{technician.name}}"})).await;
    a.patch(&format!("/api/v1/clients/{c}/tickets/{id}"), json!({"contact_id": sneaky["id"]})).await;
    let (_, r) = tech.post(&format!("/api/v1/clients/{c}/tickets/{id}/canned/{cid}/render"), json!({})).await;
    assert!(r["text"].as_str().unwrap().starts_with("Hi {{technician.name}} ({{technician.name}})"), "{r}");
    // One for another client's tickets is refused on this one.
    let (_, only_other) = a.post("/api/v1/canned-responses", json!({"name": "Other only", "body": "x", "client_id": other})).await;
    let (st, v) = a.post(&format!("/api/v1/clients/{c}/tickets/{id}/canned/{}/render", only_other["id"]), json!({})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("canned_id")));

    // The ticket page offers the picker, the name escaped, pointing at the render endpoint.
    let (_, page) = tech.get_text(&format!("/clients/{c}/tickets/{id}")).await;
    assert!(page.contains("data-canned-insert") && page.contains(&format!("/api/v1/clients/{c}/tickets/{id}/canned/{cid}/render")));
    assert!(page.contains("&#60;b&#62;Status&#60;/b&#62;") && !page.contains("<b>Status</b>"));
    assert!(!page.contains("Other only"), "another client's response is not offered here");
}
