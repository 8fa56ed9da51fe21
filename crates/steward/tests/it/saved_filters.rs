//! Saved queue filters: each user's own (another user's id is not found),
//! stored normalized and checked as the queue reads them, applied to give
//! exactly the queue their parameters give, shown on the queue page, and
//! never wider than the user's clients.

use crate::common::*;
use serde_json::json;

async fn ticket(a: &Client, client: i64, subject: &str, priority: &str) -> i64 {
    let (st, v) = a.post(&format!("/api/v1/clients/{client}/tickets"), json!({"subject": subject, "priority": priority})).await;
    assert_eq!(st, 201, "{v}");
    v["id"].as_i64().unwrap()
}

fn subjects(v: &serde_json::Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_saved_filter_is_normalized_and_gives_exactly_its_queue() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    ticket(&a, c, "Server down", "P1").await;
    ticket(&a, c, "Mouse broken", "P4").await;
    let (st, f) =
        a.post("/api/v1/saved-filters", json!({"name": "Urgent", "query": "?sort=due&priority=P1&q=&status=new,open&offset=50"})).await;
    assert_eq!(st, 201, "{f}");
    // Known parameters in the queue's order, no empty ones, no page.
    assert_eq!(f["query"], "status=new%2Copen&priority=P1&sort=due");
    assert_eq!(f["href"], "/tickets?status=new%2Copen&priority=P1&sort=due");
    let (_, via_filter) = a.get(&format!("/api/v1/tickets?{}", f["query"].as_str().unwrap())).await;
    let (_, direct) = a.get("/api/v1/tickets?status=new,open&priority=P1&sort=due").await;
    assert_eq!(via_filter, direct);
    assert_eq!(subjects(&via_filter), vec!["Server down"]);

    // The queue page shows it as a tab, current when applied, and the save form.
    let (_, html) = a.get_text(f["href"].as_str().unwrap()).await;
    assert!(html.contains(r#"id="saved-filters""#) && html.contains("Save this filter"));
    let tabs = html.split(r#"id="saved-filters""#).nth(1).unwrap().split("</nav>").next().unwrap();
    assert!(tabs.contains(r#"aria-current="page">Urgent</a>"#), "{tabs}");
    assert!(html.contains("Server down") && !html.contains("Mouse broken"));

    // Renamed, moved, changed, removed.
    let id = f["id"].as_i64().unwrap();
    let (st, f2) = a.patch(&format!("/api/v1/saved-filters/{id}"), json!({"name": "P1s", "query": "priority=p1", "position": 5})).await;
    assert_eq!(st, 200, "{f2}");
    assert_eq!((f2["name"].as_str(), f2["query"].as_str(), f2["position"].as_i64()), (Some("P1s"), Some("priority=p1"), Some(5)));
    let (st, f3) = a.post("/api/v1/saved-filters", json!({"name": "Mine", "query": "assignee=me"})).await;
    assert_eq!(st, 201, "{f3}");
    assert_eq!(f3["position"], 6, "last by default");
    let (_, list) = a.get("/api/v1/saved-filters").await;
    assert_eq!(list.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect::<Vec<_>>(), vec!["P1s", "Mine"]);
    assert_eq!(a.post("/api/v1/saved-filters", json!({"name": "mine", "query": ""})).await.0, 409, "names are unique per user");
    assert_eq!(a.delete(&format!("/api/v1/saved-filters/{id}")).await.0, 204);
    assert_eq!(a.delete(&format!("/api/v1/saved-filters/{id}")).await.0, 404);
    let (_, log) = a.get("/api/v1/audit?action=saved_filter.").await;
    assert_eq!(log["total"], 4, "{log}");
}

#[tokio::test]
async fn a_stored_query_is_checked_as_the_queue_reads_it() {
    let s = Server::start().await;
    let a = s.admin().await;
    for (query, why) in [
        ("colour=blue", "unknown parameter"),
        ("status=open&status=new", "given twice"),
        ("status=sideways", "not a status kind"),
        ("priority=P9", "not a priority"),
        ("sort=random", "not a sort"),
        ("board_id=abc", "not a number"),
        ("assignee=someone", "not a user"),
    ] {
        let (st, v) = a.post("/api/v1/saved-filters", json!({"name": "x", "query": query})).await;
        assert_eq!(st, 422, "{query} ({why}): {v}");
        assert_eq!(v["error"]["field"], "query", "{v}");
    }
    let (st, v) = a.post("/api/v1/saved-filters", json!({"name": "  ", "query": ""})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("name")));
    let (st, _) = a.post("/api/v1/saved-filters", json!({"name": "x", "query": "", "extra": 1})).await;
    assert_eq!(st, 400);
    // An empty query is the default queue.
    let (st, v) = a.post("/api/v1/saved-filters", json!({"name": "Everything open", "query": ""})).await;
    assert_eq!((st, v["href"].as_str()), (201, Some("/tickets")));
}

#[tokio::test]
async fn each_user_sees_and_changes_only_their_own() {
    let s = Server::start().await;
    let a = s.admin().await;
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    let (_, mine) = a.post("/api/v1/saved-filters", json!({"name": "Admin's", "query": "assignee=me"})).await;
    let id = mine["id"].as_i64().unwrap();
    let (_, list) = t.get("/api/v1/saved-filters").await;
    assert_eq!(list, json!([]));
    assert_eq!(t.patch(&format!("/api/v1/saved-filters/{id}"), json!({"name": "Taken"})).await.0, 404);
    assert_eq!(t.delete(&format!("/api/v1/saved-filters/{id}")).await.0, 404);
    let (_, html) = t.get_text("/tickets").await;
    assert!(!html.contains("Admin&#x27;s") && !html.contains("Admin's"));
    assert_eq!(t.form(&format!("/tickets/filters/{id}/delete"), &[]).await.0, 404);
    // The same name is free for another user.
    assert_eq!(t.post("/api/v1/saved-filters", json!({"name": "Admin's", "query": ""})).await.0, 201);
    let (_, list) = a.get("/api/v1/saved-filters").await;
    assert_eq!(list[0]["name"], "Admin's");
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_saved_filter_never_widens_a_limited_technicians_scope() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    ticket(&a, mine, "My printer", "P3").await;
    ticket(&a, theirs, "Their secret outage", "P1").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    // Saving a filter naming their client is allowed (it is only words),
    // but applying it shows nothing of theirs.
    let (st, f) = t.post("/api/v1/saved-filters", json!({"name": "Theirs", "query": format!("client_id={theirs}&status=all")})).await;
    assert_eq!(st, 201, "{f}");
    let (st, v) = t.get(&format!("/api/v1/tickets?{}", f["query"].as_str().unwrap())).await;
    assert_eq!(st, 200);
    assert_eq!(v["total"], 0, "{v}");
    let (st, html) = t.get_text(f["href"].as_str().unwrap()).await;
    assert_eq!(st, 200);
    assert!(!html.contains("Their secret outage") && !html.contains("Theirs Ltd"));
    // Their own filter works as ever.
    let (_, f) = t.post("/api/v1/saved-filters", json!({"name": "All", "query": "status=all"})).await;
    let (_, v) = t.get(&format!("/api/v1/tickets?{}", f["query"].as_str().unwrap())).await;
    assert_eq!(subjects(&v), vec!["My printer"]);
}

#[tokio::test]
async fn the_queue_page_saves_and_removes_a_filter() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (st, loc, _) = a.form("/tickets/filters", &[("name", "Breached P1"), ("query", "sla_state=breached&priority=P1")]).await;
    assert_eq!((st, loc.as_str()), (303, "/tickets?priority=P1&sla_state=breached"));
    let (_, html) = a.get_text("/tickets").await;
    assert!(html.contains(">Breached P1</a>"), "{html}");
    let (st, _, html) = a.form("/tickets/filters", &[("name", "Bad"), ("query", "colour=blue")]).await;
    assert_eq!(st, 400);
    assert!(html.contains("is not a queue parameter"), "{html}");
    let (_, list) = a.get("/api/v1/saved-filters").await;
    let id = list[0]["id"].as_i64().unwrap();
    let (st, loc, _) = a.form(&format!("/tickets/filters/{id}/delete"), &[]).await;
    assert_eq!((st, loc.as_str()), (303, "/tickets"));
    let (_, list) = a.get("/api/v1/saved-filters").await;
    assert_eq!(list, json!([]));
}
