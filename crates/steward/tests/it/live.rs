//! Live device state over server-sent events (`GET /devices/events`): a
//! page left open learns that a device came online, went offline or was
//! removed, and a technician limited to one client hears nothing of
//! another's devices.

use crate::common::agents::*;
use crate::common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Reads one kind of event from an open stream (`presence` from
/// `/devices/events` unless opened with [`Events::open_at`]).
pub struct Events {
    resp: reqwest::Response,
    buf: String,
    pub seen: Vec<Value>,
    event: &'static str,
}

impl Events {
    async fn open(c: &Client) -> Events {
        Events::open_at(c, "/devices/events", "presence").await
    }

    pub async fn open_at(c: &Client, path: &str, event: &'static str) -> Events {
        let resp = c.raw(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Events { resp, buf: String::new(), seen: vec![], event }
    }

    /// Waits (up to 20 s) until an event matching `f` arrives.
    /// Reads whatever arrives for `d` (to show that nothing did).
    pub async fn drain(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), self.resp.chunk()).await {
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if block.contains(&format!("event: {}", self.event)) {
                    let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                    self.seen.push(serde_json::from_str(data).unwrap());
                }
            }
        }
    }

    pub async fn until(&mut self, what: &str, f: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.seen.iter().any(&f) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}; saw {:?}", self.seen);
            if let Ok(chunk) = tokio::time::timeout(left, self.resp.chunk()).await {
                self.buf.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("stream open")));
                while let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    if block.contains(&format!("event: {}", self.event)) {
                        let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                        self.seen.push(serde_json::from_str(data).unwrap());
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn open_pages_hear_device_state_changes_for_their_clients_only() {
    let (s, a, north, north_site) = setup().await;
    let south = make_client(&a, "Southwind").await;
    let (_, ss) = a.post(&format!("/api/v1/clients/{south}/sites"), json!({"name": "Porto", "timezone": "Europe/Lisbon"})).await;
    make_user(&a, "tech@example.com", "technician", Some(vec![south])).await;
    let t = s.client();
    t.login_ok("tech@example.com", PASSWORD).await;
    let mut admin_events = Events::open(&a).await;
    let mut tech_events = Events::open(&t).await;

    let run = |token: String| {
        KillOnDrop(
            Command::new(agent_bin())
                .args(["simulate", "--server", &s.base, "--token", &token, "--pin", &s.spki, "--count", "1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let north_sim = run(token(&a, north, north_site, json!({})).await);
    let south_sim = run(token(&a, south, ss["id"].as_i64().unwrap(), json!({})).await);
    let id_of = |v: &Value| v["items"][0]["id"].as_i64().unwrap();
    let north_dev = id_of(&wait_for(&a, &format!("/api/v1/clients/{north}/devices"), "north online", |v| v["total"] == 1).await);
    let south_dev = id_of(&wait_for(&a, &format!("/api/v1/clients/{south}/devices"), "south online", |v| v["total"] == 1).await);

    let is = |id: i64, state: &'static str| move |e: &Value| e["device_id"] == id && e["state"] == state;
    admin_events.until("north online", is(north_dev, "online")).await;
    admin_events.until("south online", is(south_dev, "online")).await;
    tech_events.until("south online", is(south_dev, "online")).await;

    // Offline, then removed.
    drop(south_sim);
    tech_events.until("south offline", is(south_dev, "offline")).await;
    assert_eq!(a.delete(&format!("/api/v1/clients/{north}/devices/{north_dev}")).await.0, 204);
    admin_events.until("north removed", is(north_dev, "removed")).await;
    drop(north_sim);

    // The technician heard about Southwind's device only.
    assert!(tech_events.seen.iter().all(|e| e["device_id"] == south_dev), "{:?}", tech_events.seen);
    assert!(tech_events.seen.iter().all(|e| e.get("client_id").is_none()), "events carry nothing beyond id and state");
    // Signed out, the stream is refused.
    let (st, _) = s.client().get_text("/devices/events").await;
    assert!(st == 303 || st == 401, "{st}");
}
