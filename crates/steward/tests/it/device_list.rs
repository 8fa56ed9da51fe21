//! The device list as a technician uses it: filtered by client, site, OS,
//! state and host name, sorted by any column, paged without repeats, and
//! scoped (a technician limited to one client sees only its devices), over
//! simulated agents that report believable machines.

use crate::common::agents::*;
use crate::common::*;
use serde_json::{json, Value};
use std::collections::HashSet;

fn names(v: &Value, field: &str) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|d| d[field].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_device_list_filters_sorts_pages_and_scopes_in_the_database() {
    let (s, a, north, north_site) = setup().await;
    let south = make_client(&a, "Southwind").await;
    let (_, ss) = a.post(&format!("/api/v1/clients/{south}/sites"), json!({"name": "Lisbon", "timezone": "Europe/Lisbon"})).await;
    let sim_n = simulate(&s, &token(&a, north, north_site, json!({"max_uses": 30})).await, 30);
    let sim_s = simulate(&s, &token(&a, south, ss["id"].as_i64().unwrap(), json!({"max_uses": 5})).await, 5);
    // Every device online and reporting its inventory (which replaces the enrolment's OS label).
    let all = wait_for(&a, "/api/v1/devices?limit=500", "35 devices online with their inventory", |v| {
        v["total"] == 35 && v["items"].as_array().unwrap().iter().all(|d| d["online"] == true && d["os"] != "Simulated Linux")
    })
    .await;

    // Sorted by host name by default, then id; paging walks everything exactly once.
    let mut seen = vec![];
    for offset in (0..35).step_by(10) {
        let (_, page) = a.get(&format!("/api/v1/devices?limit=10&offset={offset}")).await;
        assert_eq!(page["total"], 35);
        seen.extend(page["items"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()));
    }
    assert_eq!(seen.len(), 35);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 35, "no device twice");
    let hosts = names(&all, "hostname");
    assert!(hosts.windows(2).all(|w| w[0] <= w[1]), "host name order");
    let (_, desc) = a.get("/api/v1/devices?limit=500&sort=hostname&order=desc").await;
    assert_eq!(names(&desc, "hostname").first(), hosts.last());
    let (_, by_client) = a.get("/api/v1/devices?limit=500&sort=client&order=desc").await;
    assert_eq!(names(&by_client, "client_name")[0], "Southwind");

    // Filters: client, site, OS (case-insensitive), host name, state.
    let (_, v) = a.get(&format!("/api/v1/devices?client_id={south}")).await;
    assert_eq!(v["total"], 5);
    assert!(names(&v, "site_name").iter().all(|n| n == "Lisbon"));
    let (_, v) = a.get(&format!("/api/v1/devices?client_id={north}&site_id={north_site}&limit=500")).await;
    assert_eq!(v["total"], 30);
    let windows = names(&all, "os").iter().filter(|o| o.to_lowercase().contains("windows")).count();
    assert!(windows > 0 && windows < 35, "the simulator reports a mixed fleet");
    let (_, v) = a.get("/api/v1/devices?os=WINDOWS&limit=500").await;
    assert_eq!(v["total"], windows as i64);
    assert!(names(&v, "os").iter().all(|o| o.contains("Windows")));
    let (_, v) = a.get("/api/v1/devices?q=sim-0000&limit=500").await;
    assert!(names(&v, "hostname").iter().all(|h| h.starts_with("sim-0000")) && v["total"].as_i64().unwrap() >= 2);
    // The stored flags the state filter reads follow the gateway within a batch.
    wait_for(&a, "/api/v1/devices?state=online", "every stored flag online", |v| v["total"] == 35).await;
    let (_, v) = a.get("/api/v1/devices?state=offline").await;
    assert_eq!(v["total"], 0);
    let (st, e) = a.get("/api/v1/devices?sort=serial").await;
    assert_eq!((st, e["error"]["field"].as_str()), (400, Some("sort")), "{e}");

    // A technician limited to Southwind sees its five, and nothing of Northwind.
    make_user(&a, "tech@example.com", "technician", Some(vec![south])).await;
    let t = s.client();
    t.login_ok("tech@example.com", PASSWORD).await;
    let (_, v) = t.get("/api/v1/devices?limit=500").await;
    assert_eq!(v["total"], 5);
    let (st, v) = t.get(&format!("/api/v1/devices?client_id={north}")).await;
    assert_eq!((st, error_code(&v).as_str()), (404, "not_found"), "another client in a filter is not found, like one that does not exist");
    let (st, html) = t.get_text("/devices").await;
    assert!(st == 200 && !html.contains("Northwind"), "the page is scoped too");

    // The page: filtered, sortable, paged.
    let (st, html) = a.get_text("/devices?os=windows&sort=hostname&order=desc").await;
    assert_eq!(st, 200);
    assert!(html.contains(&format!("1–{} of {windows}", windows.min(50))), "pager");
    let html = html.replace("&#38;", "&").replace("&amp;", "&");
    assert!(html.contains("os=windows&sort=hostname&order=asc"), "the header flips the order and keeps the filter");

    // Stopping one simulator takes exactly its devices offline.
    drop(sim_s);
    wait_for(&a, "/api/v1/devices?state=offline", "Southwind's devices offline", |v| v["total"] == 5).await;
    let (_, v) = a.get("/api/v1/devices?state=online").await;
    assert_eq!(v["total"], 30);
    drop(sim_n);
}
