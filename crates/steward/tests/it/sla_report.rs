//! The SLA report, end to end: attainment per client, technician, priority
//! and month counted from tickets' real clocks (met, breached, pending;
//! tickets without targets only as tickets), p50/p90 of business time,
//! the CSV download keeping would-be formulas as text, the page with its
//! chart, a limited technician seeing only their clients, and bad input
//! answered with a clear error.

use crate::common::*;
use serde_json::{json, Value};

fn ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339()
}

const EVIL: &str = "=HYPERLINK(\"http://evil.example\",\"pay\")";

struct Desk {
    s: Server,
    evil: i64,
    beta: i64,
    tech: i64,
}

/// A 24x7 policy (P1 60/240 min, P2 120/480, nothing for P3) and five
/// tickets whose clocks are known:
/// - evil #1, P1, the technician's: answered after 10 min, resolved after
///   100 (both met);
/// - evil #2, P1, the technician's: answered after 100 min, resolved after
///   300 (both breached);
/// - beta #3, P2, unassigned, 10 min old, unanswered (both pending);
/// - beta #4, P2, 130 min old, unanswered (first response breached,
///   resolution pending);
/// - beta #5, P3: no targets.
async fn desk() -> Desk {
    let s = Server::start().await;
    let a = s.admin().await;
    standard_sla_policy(&a).await;
    let evil = make_client(&a, EVIL).await;
    let beta = make_client(&a, "Beta Ltd").await;
    let tech = make_user(&a, "tech@msp.example", "technician", Some(vec![evil])).await;
    let ticket = |client: i64, body: Value| {
        let a = &a;
        async move {
            let (st, t) = a.post(&format!("/api/v1/clients/{client}/tickets"), body).await;
            assert_eq!(st, 201, "{t}");
            format!("/api/v1/clients/{client}/tickets/{}", t["id"])
        }
    };
    for (opened, answered) in [(100, 90), (300, 200)] {
        let path = ticket(evil, json!({"subject": "Mail down", "priority": "P1", "assignee_id": tech, "opened_at": ago(opened)})).await;
        let (st, v) = a.post(&format!("{path}/entries"), json!({"kind": "reply", "body": "On it.", "created_at": ago(answered)})).await;
        assert_eq!(st, 201, "{v}");
        let (st, v) = a.patch(&path, json!({"status": "resolved"})).await;
        assert_eq!(st, 200, "{v}");
    }
    ticket(beta, json!({"subject": "New starter", "priority": "P2", "opened_at": ago(10)})).await;
    ticket(beta, json!({"subject": "Printer jams", "priority": "P2", "opened_at": ago(130)})).await;
    ticket(beta, json!({"subject": "Quote for laptops", "priority": "P3"})).await;
    Desk { s, evil, beta, tech }
}

fn row<'a>(r: &'a Value, key: &str) -> &'a Value {
    r["rows"].as_array().unwrap().iter().find(|x| x["key"] == key).unwrap_or_else(|| panic!("no row {key}: {r}"))
}

fn near(v: &Value, want: i64) -> bool {
    v.as_i64().is_some_and(|x| (x - want).abs() <= 60)
}

#[tokio::test]
async fn attainment_and_business_times_are_counted_per_group() {
    let d = desk().await;
    let a = d.s.admin().await;
    let (st, r) = a.get("/api/v1/reports/sla?group=client").await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["group"], "client");
    assert_eq!(r["timezone"], "UTC");
    let keys: Vec<&str> = r["rows"].as_array().unwrap().iter().map(|x| x["label"].as_str().unwrap()).collect();
    assert_eq!(keys, [EVIL, "Beta Ltd"], "by name");

    let e = row(&r, &d.evil.to_string());
    assert_eq!((e["tickets"].as_i64(), e["with_sla"].as_i64()), (Some(2), Some(2)));
    let fr = &e["first_response"];
    assert_eq!((fr["met"].as_i64(), fr["breached"].as_i64(), fr["pending"].as_i64()), (Some(1), Some(1), Some(0)), "{e}");
    assert_eq!(fr["attainment_percent"], 50.0);
    assert_eq!((fr["p50_business_seconds"].as_i64(), fr["p90_business_seconds"].as_i64()), (Some(600), Some(6000)), "{fr}");
    let res = &e["resolution"];
    assert_eq!((res["met"].as_i64(), res["breached"].as_i64()), (Some(1), Some(1)), "{e}");
    assert!(near(&res["p50_business_seconds"], 6000) && near(&res["p90_business_seconds"], 18000), "{res}");

    let b = row(&r, &d.beta.to_string());
    assert_eq!((b["tickets"].as_i64(), b["with_sla"].as_i64()), (Some(3), Some(2)), "the P3 ticket has no targets: {b}");
    let fr = &b["first_response"];
    assert_eq!((fr["met"].as_i64(), fr["breached"].as_i64(), fr["pending"].as_i64()), (Some(0), Some(1), Some(1)), "{b}");
    assert_eq!(fr["attainment_percent"], 0.0);
    assert!(fr["p50_business_seconds"].is_null(), "nothing answered yet: {fr}");
    assert_eq!(b["resolution"]["pending"], 2);
    assert!(b["resolution"]["attainment_percent"].is_null(), "nothing judged yet: {b}");

    let t = &r["total"];
    assert_eq!((t["tickets"].as_i64(), t["with_sla"].as_i64()), (Some(5), Some(4)));
    assert_eq!(t["first_response"]["attainment_percent"], 33.3);

    // By technician (unassigned last), by priority (in order), by month.
    let (_, r) = a.get("/api/v1/reports/sla?group=technician").await;
    let labels: Vec<(&str, i64)> =
        r["rows"].as_array().unwrap().iter().map(|x| (x["key"].as_str().unwrap(), x["tickets"].as_i64().unwrap())).collect();
    assert_eq!(labels, [(d.tech.to_string().as_str(), 2), ("none", 3)], "{r}");
    let (_, r) = a.get("/api/v1/reports/sla?group=priority").await;
    let labels: Vec<&str> = r["rows"].as_array().unwrap().iter().map(|x| x["key"].as_str().unwrap()).collect();
    assert_eq!(labels, ["P1", "P2", "P3"], "{r}");
    assert_eq!(row(&r, "P1")["resolution"]["attainment_percent"], 50.0);
    for tz in ["UTC", "Pacific/Kiritimati", "America/Adak"] {
        let (st, r) = a.get(&format!("/api/v1/reports/sla?group=month&timezone={tz}")).await;
        assert_eq!(st, 200, "{r}");
        let sum: i64 = r["rows"].as_array().unwrap().iter().map(|x| x["tickets"].as_i64().unwrap()).sum();
        assert_eq!(sum, 5, "{tz}: {r}");
        assert!(r["rows"][0]["key"].as_str().unwrap().len() == 7, "YYYY-MM: {r}");
    }
    // One client, and a period that holds none of them.
    let (_, r) = a.get(&format!("/api/v1/reports/sla?client_id={}", d.beta)).await;
    assert_eq!(r["total"]["tickets"], 3);
    let (_, r) = a.get("/api/v1/reports/sla?from=2020-01-01&to=2020-02-01").await;
    assert_eq!((r["rows"].as_array().unwrap().len(), r["total"]["tickets"].as_i64()), (0, Some(0)));
}

#[tokio::test]
async fn the_csv_keeps_formulas_as_text_and_the_page_shows_the_report() {
    let d = desk().await;
    let a = d.s.admin().await;
    let resp = a.raw(reqwest::Method::GET, "/api/v1/reports/sla.csv?group=client&from=2026-01-01&to=2027-01-01").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/csv; charset=utf-8");
    assert_eq!(h["content-disposition"], "attachment; filename=\"sla-report-2026-01-01-to-2027-01-01-client.csv\"");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("\"group\",\"key\",\"label\",\"tickets\",\"with_sla\",\"first_response_met\""), "{csv}");
    assert_eq!(lines.len(), 4, "header, two clients, the total: {csv}");
    assert!(
        lines[1].starts_with(&format!(
            "\"client\",{},\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"pay\"\")\",2,2,1,1,0,50.0,10.0,100.0,",
            d.evil
        )),
        "the formula is text: {}",
        lines[1]
    );
    assert!(lines[3].starts_with("\"total\",\"total\",\"All tickets\",5,4,1,2,1,33.3,"), "{}", lines[3]);
    assert!(!lines.iter().skip(1).any(|l| l.starts_with('=') || l.contains(",=") || l.contains(",\"=")), "{csv}");

    let (st, page) = a.get_text(&format!("/reports/sla?group=client&client_id={}", d.evil)).await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("=HYPERLINK(&#34;http://evil.example&#34;,&#34;pay&#34;)"), "escaped as text: {page}");
    assert!(page.contains("50.0 %") && page.contains("<meter"), "{page}");
    assert!(page.contains("data-sla-trend=\"/api/v1/reports/sla?") && page.contains("group=month"), "the chart asks for months: {page}");
    assert!(page.contains("/api/v1/reports/sla.csv?") && !page.contains("Beta Ltd</td>"), "{page}");
    // The form as a browser sends it, blank fields and all.
    let (st, page) = a.get_text("/reports/sla?from=&to=&group=client&client_id=&timezone=").await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("Beta Ltd</td>") || page.contains("Beta Ltd</a>"), "all clients: {page}");
    // A refused period is said on the page, with the form to fix it.
    let (st, page) = a.get_text("/reports/sla?from=2026-07-01&to=2026-06-01").await;
    assert_eq!(st, 400);
    assert!(page.contains("must be after from") && page.contains("name=\"from\""), "{page}");
}

#[tokio::test]
async fn a_limited_technician_sees_only_their_clients_and_bad_input_is_refused_clearly() {
    let d = desk().await;
    let t = d.s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    let (st, r) = t.get("/api/v1/reports/sla?group=client").await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["total"]["tickets"], 2);
    let (st, r) = t.get("/api/v1/reports/sla?group=technician").await;
    assert_eq!((st, r["total"]["tickets"].as_i64()), (200, Some(2)), "{r}");
    for path in [
        format!("/api/v1/reports/sla?client_id={}", d.beta),
        format!("/api/v1/reports/sla.csv?client_id={}", d.beta),
        format!("/reports/sla?client_id={}", d.beta),
    ] {
        assert_eq!(t.get_text(&path).await.0, 404, "{path}");
    }
    let (_, csv) = t.get_text("/api/v1/reports/sla.csv?group=client").await;
    assert!(csv.contains("HYPERLINK") && !csv.contains("Beta"), "{csv}");
    let (_, page) = t.get_text("/reports/sla?group=client").await;
    assert!(!page.contains("Beta Ltd"), "not even in the client filter: {page}");

    let a = d.s.admin().await;
    for (query, status, field) in [
        ("from=2026-02-30", 400, "from"),
        ("from=yesterday", 400, "from"),
        ("to=2026-1-5", 400, "to"),
        ("from=2026-07-01&to=2026-06-01", 422, "to"),
        ("from=2020-01-01&to=2026-01-01", 422, "to"),
        ("group=weekly", 400, "group"),
        ("timezone=Mars/Base", 400, "timezone"),
        ("client_id=abc", 400, "client_id"),
        ("to=", 400, "to"),
        ("timezone=", 400, "timezone"),
    ] {
        let (st, v) = a.get(&format!("/api/v1/reports/sla?{query}")).await;
        assert_eq!((st, v["error"]["field"].as_str()), (status, Some(field)), "{query}: {v}");
    }
    assert_eq!(a.get("/api/v1/reports/sla?client_id=424242").await.0, 200, "an admin's unknown client is just empty");
}
