//! Agent enrollment tokens: per site, shown once with the install commands
//! and the server's pin, expiring, limited in uses, revocable, audited; and
//! used atomically (concurrent enrolments never exceed the limit).

use crate::common::*;
use serde_json::json;
use steward::devices::enrollment::store::{self as enrollment, Refusal};

async fn site(a: &Client) -> (i64, i64) {
    let client = make_client(a, "Harbor Dental").await;
    let (st, s) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "Portland", "timezone": "America/Los_Angeles"})).await;
    assert_eq!(st, 201);
    (client, s["id"].as_i64().unwrap())
}

#[tokio::test]
async fn tokens_are_shown_once_with_install_commands_and_can_be_revoked() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (client, site) = site(&a).await;
    let base = format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens");

    let (st, t) = a.post(&base, json!({"name": "office rollout", "expires_in_hours": 48, "max_uses": 25})).await;
    assert_eq!(st, 201, "{t}");
    let secret = t["token"].as_str().unwrap();
    assert!(secret.starts_with("ste_") && secret.len() >= 40);
    assert_eq!(t["pin"], s.spki.as_str(), "the pin is the server's printed SPKI SHA-256");
    let linux = t["install_linux"].as_str().unwrap();
    for part in [secret, s.spki.as_str(), s.base.as_str(), "steward-agent install"] {
        assert!(linux.contains(part), "{part} missing from {linux}");
    }
    let windows = t["install_windows"].as_str().unwrap();
    assert!(windows.contains("install --server") && windows.contains(secret) && windows.contains(&s.spki), "{windows}");
    assert_eq!((t["state"].as_str(), t["max_uses"].as_i64(), t["uses"].as_i64()), (Some("active"), Some(25), Some(0)));

    // Listed by prefix only.
    let (_, list) = a.get(&base).await;
    assert_eq!(list["total"], 1);
    assert!(!list.to_string().contains(secret));
    assert!(secret.starts_with(list["items"][0]["prefix"].as_str().unwrap()));

    // Validation.
    for (body, field) in [
        (json!({"expires_in_hours": 0}), "expires_in_hours"),
        (json!({"expires_in_hours": 10000}), "expires_in_hours"),
        (json!({"max_uses": 0}), "max_uses"),
    ] {
        let (st, v) = a.post(&base, body).await;
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)));
    }
    let (st, _) = a.post(&format!("/api/v1/clients/{client}/sites/999999/enrollment-tokens"), json!({})).await;
    assert_eq!(st, 404);

    // Revoke.
    let id = t["id"].as_i64().unwrap();
    assert_eq!(a.delete(&format!("{base}/{id}")).await.0, 204);
    let (_, list) = a.get(&base).await;
    assert_eq!(list["items"][0]["state"], "revoked");
    let store = steward::store::Store::open(s.env.data_dir(), s.env.database_url.as_deref()).await.unwrap();
    assert_eq!(enrollment::consume(&mut store.clone(), secret).await.unwrap().unwrap_err(), Refusal::Revoked);

    // Audited, under the client.
    let (_, log) = a.get(&format!("/api/v1/audit?action=enrollment_token.&client_id={client}")).await;
    assert_eq!(log["total"], 2);

    // Read-only users may look but not create.
    make_user(&a, "ro@msp.example", "read_only", None).await;
    let ro = s.client();
    ro.login_ok("ro@msp.example", PASSWORD).await;
    assert_eq!(ro.get(&base).await.0, 200);
    assert_eq!(ro.post(&base, json!({})).await.0, 403);

    // Archived sites take no new tokens.
    a.patch(&format!("/api/v1/clients/{client}/sites/{site}"), json!({"archived": true})).await;
    let (st, v) = a.post(&base, json!({})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("site_id")));
}

#[tokio::test]
async fn concurrent_enrolments_never_exceed_the_use_limit() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (client, site) = site(&a).await;
    let (_, t) = a.post(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens"), json!({"max_uses": 3})).await;
    let secret = t["token"].as_str().unwrap().to_string();
    let store = steward::store::Store::open(s.env.data_dir(), s.env.database_url.as_deref()).await.unwrap();
    let mut tasks = vec![];
    for _ in 0..12 {
        let (store, secret) = (store.clone(), secret.clone());
        tasks.push(tokio::spawn(async move { enrollment::consume(&mut store.clone(), &secret).await.unwrap() }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(tok) => {
                ok += 1;
                assert!(tok.uses <= 3);
            }
            Err(r) => assert_eq!(r, Refusal::UsedUp),
        }
    }
    assert_eq!(ok, 3, "exactly max_uses enrolments succeed");
    assert_eq!(enrollment::consume(&mut store.clone(), "ste_not-a-token").await.unwrap().unwrap_err(), Refusal::Unknown);
    let (_, list) = a.get(&format!("/api/v1/clients/{client}/sites/{site}/enrollment-tokens")).await;
    assert_eq!((list["items"][0]["uses"].as_i64(), list["items"][0]["state"].as_str()), (Some(3), Some("used up")));
}

#[tokio::test]
async fn the_site_page_creates_a_token_and_shows_the_install_commands_once() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (client, site) = site(&a).await;
    let page = format!("/clients/{client}/sites/{site}");
    let (st, _, html) =
        a.form(&format!("{page}/enrollment-tokens"), &[("name", "laptops"), ("expires_in_hours", "2"), ("max_uses", "")]).await;
    assert_eq!(st, 200);
    assert!(html.contains("steward-agent install --server"), "install command shown");
    assert!(html.contains(&s.spki));
    let (_, html) = a.get_text(&page).await;
    assert!(html.contains("laptops") && !html.contains("steward-agent install --server"), "the secret is not shown again");
    let (st, _, html) = a.form(&format!("{page}/enrollment-tokens"), &[("expires_in_hours", "abc")]).await;
    assert_eq!(st, 400);
    assert!(html.contains("expires_in_hours"));
}
