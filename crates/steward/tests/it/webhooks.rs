//! Webhooks: an administrator's webhook receives the alerts' events,
//! signed (HMAC-SHA256 over timestamp and body) so a receiver can check
//! them; a receiver that fails is tried again later and the delivery log
//! says so; an address on this host is refused unless allowed; bad input
//! gets a clear error; the secret is never shown; only administrators.

use crate::common::agents::*;
use crate::common::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;

/// A receiver on loopback answering `status` to every POST, keeping what came.
async fn receiver(status: u16) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push((headers, body));
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn sign(secret: &str, ts: &str, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(format!("{ts}.{body}").as_bytes());
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

const SECRET: &str = "a-long-shared-secret-0123456789";

#[tokio::test]
async fn alert_events_reach_a_webhook_signed_and_failures_are_retried_and_logged() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(
        env,
        &[
            "--monitoring-check-secs",
            "1",
            "--alert-offline-after-secs",
            "1",
            "--webhook-check-secs",
            "1",
            "--webhook-allow-private",
            "127.0.0.1/32",
        ],
    )
    .await;
    let a = s.admin().await;
    let (good_url, good) = receiver(200).await;
    let (bad_url, bad) = receiver(500).await;

    // Bad input, each named; the secret is never shown.
    for (field, body) in [
        ("url", json!({"name": "x", "url": "ftp://example.com/", "secret": SECRET, "events": ["alert.open"]})),
        ("url", json!({"name": "x", "url": "https://user:pw@example.com/", "secret": SECRET, "events": ["alert.open"]})),
        ("secret", json!({"name": "x", "url": good_url, "secret": "short", "events": ["alert.open"]})),
        ("events", json!({"name": "x", "url": good_url, "secret": SECRET, "events": ["ticket.burn"]})),
        ("events", json!({"name": "x", "url": good_url, "secret": SECRET, "events": []})),
        ("client_ids", json!({"name": "x", "url": good_url, "secret": SECRET, "events": ["alert.open"], "client_ids": [999_999]})),
        ("policy_ids", json!({"name": "x", "url": good_url, "secret": SECRET, "events": ["alert.open"], "policy_ids": [999_999]})),
        ("min_severity", json!({"name": "x", "url": good_url, "secret": SECRET, "events": ["alert.open"], "min_severity": "info"})),
    ] {
        let (st, e) = a.post("/api/v1/webhooks", body).await;
        assert_eq!((st, e["error"]["field"].as_str()), (422, Some(field)), "{e}");
    }
    let (st, hook) = a
        .post(
            "/api/v1/webhooks",
            json!({"name": "PagerBridge", "url": good_url, "secret": SECRET, "events": ["alert.open", "alert.acknowledge"]}),
        )
        .await;
    assert_eq!(st, 201, "{hook}");
    assert!(hook.get("secret").is_none() && !hook.to_string().contains(SECRET), "{hook}");
    let (_, failing) =
        a.post("/api/v1/webhooks", json!({"name": "Broken", "url": bad_url, "secret": SECRET, "events": ["alert.open"]})).await;
    // Routed: one takes only another client's alerts, one only the Standard policy's critical ones.
    let client = make_client(&a, "Northwind").await;
    let other = make_client(&a, "Elsewhere").await;
    let (_, policies) = a.get("/api/v1/monitoring/policies").await;
    let standard = policies.as_array().unwrap().iter().find(|p| p["name"] == "Standard").unwrap()["id"].clone();
    let (others_url, others) = receiver(200).await;
    let (routed_url, routed) = receiver(200).await;
    let (st, _) = a
        .post(
            "/api/v1/webhooks",
            json!({"name": "Elsewhere only", "url": others_url, "secret": SECRET, "events": ["alert.open"], "client_ids": [other]}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, r) = a
        .post(
            "/api/v1/webhooks",
            json!({"name": "Standard, critical", "url": routed_url, "secret": SECRET, "events": ["alert.open"], "policy_ids": [standard], "min_severity": "critical"}),
        )
        .await;
    assert_eq!((st, &r["min_severity"], &r["policy_ids"]), (201, &json!("critical"), &json!([standard])), "{r}");
    let (_, list) = a.get("/api/v1/webhooks").await;
    assert!(!list.to_string().contains(SECRET) && list.as_array().unwrap().len() == 4);

    // A device goes away: its alert is announced, signed.
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let sim = simulate(&s, &token(&a, client, site["id"].as_i64().unwrap(), json!({})).await, 1);
    wait_for(&a, "/api/v1/devices", "the device online", |v| v["items"][0]["online"] == true).await;
    drop(sim);
    let open = wait_for(&a, "/api/v1/alerts?state=unresolved", "the offline alert", |v| v["total"] == 1).await;
    let alert_id = open["items"][0]["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while good.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no delivery arrived");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (headers, body) = good.lock().unwrap()[0].clone();
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(h("x-steward-event"), "alert.open");
    assert_eq!(h("x-steward-signature"), sign(SECRET, &h("x-steward-timestamp"), &body), "a receiver can check the signature");
    assert_ne!(h("x-steward-signature"), sign("another-secret-entirely-123", &h("x-steward-timestamp"), &body));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((v["event"].as_str(), v["data"]["alert"]["id"].as_i64()), (Some("alert.open"), Some(alert_id)), "{v}");
    assert_eq!(v["data"]["alert"]["policy_id"], standard, "the alert says which policy's check it is: {v}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while routed.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the routed webhook got nothing");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // Acknowledged: announced too (the hook takes that event).
    a.post(&format!("/api/v1/clients/{client}/alerts/{alert_id}/ack"), json!({"note": "on it"})).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while good.lock().unwrap().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no acknowledgement delivery");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(good.lock().unwrap()[1].0.get("x-steward-event").unwrap(), "alert.acknowledge");
    let (_, log) = a.get(&format!("/api/v1/webhooks/{}/deliveries", hook["id"])).await;
    assert!(log.as_array().unwrap().iter().all(|d| d["state"] == "delivered" && d["last_status"] == 200), "{log}");

    // The failing receiver: tried, logged with its status, due again later.
    let log = wait_for(&a, &format!("/api/v1/webhooks/{}/deliveries", failing["id"]), "a failed attempt", |v| {
        v.as_array().is_some_and(|d| d.first().is_some_and(|d| d["attempts"] == 1))
    })
    .await;
    let d = &log[0];
    assert_eq!((d["state"].as_str(), d["last_status"].as_i64()), (Some("pending"), Some(500)), "{d}");
    assert!(d["next_attempt_at"].is_string() && d["last_error"].as_str().unwrap().contains("500"));
    assert_eq!(bad.lock().unwrap().len(), 1, "not retried at once");
    assert!(others.lock().unwrap().is_empty(), "another client's webhook heard nothing of Northwind");

    // Deleted: gone from the list; not for a non-administrator at all.
    assert_eq!(a.delete(&format!("/api/v1/webhooks/{}", failing["id"])).await.0, 204);
    assert_eq!(a.delete(&format!("/api/v1/webhooks/{}", failing["id"])).await.0, 404);
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    assert_eq!(t.get("/api/v1/webhooks").await.0, 403);
    assert_eq!(t.post("/api/v1/webhooks", json!({"name": "x", "url": good_url, "secret": SECRET, "events": ["alert.open"]})).await.0, 403);
}

#[tokio::test]
async fn a_webhook_to_this_host_is_refused_at_send_time_by_default() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--monitoring-check-secs", "1", "--alert-offline-after-secs", "1", "--webhook-check-secs", "1"]).await;
    let a = s.admin().await;
    let (url, seen) = receiver(200).await;
    let (_, hook) = a.post("/api/v1/webhooks", json!({"name": "Local", "url": url, "secret": SECRET, "events": ["alert.open"]})).await;
    let client = make_client(&a, "Northwind").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let sim = simulate(&s, &token(&a, client, site["id"].as_i64().unwrap(), json!({})).await, 1);
    wait_for(&a, "/api/v1/devices", "the device online", |v| v["items"][0]["online"] == true).await;
    drop(sim);
    let log = wait_for(&a, &format!("/api/v1/webhooks/{}/deliveries", hook["id"]), "a refused attempt", |v| {
        v.as_array().is_some_and(|d| d.first().is_some_and(|d| d["attempts"] == 1))
    })
    .await;
    assert!(log[0]["last_error"].as_str().unwrap().contains("which deliveries may not reach"), "{log}");
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the local receiver");
}

#[tokio::test]
async fn an_alert_storm_reaches_a_webhook_as_a_few_calls_and_one_digest() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let args = [
        "--monitoring-check-secs",
        "1",
        "--alert-offline-after-secs",
        "1",
        "--webhook-check-secs",
        "1",
        "--webhook-allow-private",
        "127.0.0.1/32",
        "--webhook-storm-limit",
        "2",
        "--webhook-digest-secs",
        "1",
    ];
    let s = Server::start_in(env, &args).await;
    let a = s.admin().await;
    let (url, seen) = receiver(200).await;
    let (_, hook) = a.post("/api/v1/webhooks", json!({"name": "Pager", "url": url, "secret": SECRET, "events": ["alert.open"]})).await;
    let client = make_client(&a, "Northwind").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    // A site's link goes down: five devices at once.
    let sim = simulate(&s, &token(&a, client, site["id"].as_i64().unwrap(), json!({})).await, 5);
    wait_for(&a, "/api/v1/devices?state=online", "five online", |v| v["total"] == 5).await;
    drop(sim);
    wait_for(&a, "/api/v1/alerts?state=unresolved", "five offline alerts", |v| v["total"] == 5).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let digest = loop {
        let got = seen.lock().unwrap().clone();
        if let Some((_, body)) = got.iter().find(|(h, _)| h.get("x-steward-event").is_some_and(|e| e == "alert.digest")) {
            break serde_json::from_str::<Value>(body).unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "no digest came: {} calls", got.len());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let calls: Vec<String> = seen.lock().unwrap().iter().map(|(h, _)| h["x-steward-event"].to_str().unwrap().to_string()).collect();
    assert_eq!(calls.iter().filter(|e| *e == "alert.open").count(), 2, "two one by one, then the storm held: {calls:?}");
    assert_eq!(digest["data"]["count"], 3, "{digest}");
    let held: Vec<&str> = digest["data"]["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(held, ["alert.open"; 3], "{digest}");
    let (_, log) = a.get(&format!("/api/v1/webhooks/{}/deliveries", hook["id"])).await;
    let states: Vec<&str> = log.as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "digested").count(), 3, "{log}");
}
