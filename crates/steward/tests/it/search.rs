//! The global search over the full-text index: words, phrases, numbers
//! and filters find the right tickets with their snippets, a new ticket
//! or reply is found moments after it is written, the index survives a
//! restart and is rebuilt when lost, a limited technician finds nothing
//! of another client's, and hostile queries get a 200 or a clear 400/422.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn ticket(a: &Client, client: i64, body: Value) -> Value {
    let (s, v) = a.post(&format!("/api/v1/clients/{client}/tickets"), body).await;
    assert_eq!(s, 201, "create ticket: {v}");
    v
}

fn q(s: &str) -> String {
    format!("/api/v1/search?{}", serde_urlencoded::to_string([("q", s)]).unwrap())
}

/// The ticket hits' labels for a search.
async fn labels(c: &Client, path: &str) -> Vec<String> {
    let (st, v) = c.get(path).await;
    assert_eq!(st, 200, "{path}: {v}");
    v["hits"].as_array().unwrap().iter().filter(|h| h["kind"] == "ticket").map(|h| h["label"].as_str().unwrap().to_string()).collect()
}

/// Waits (up to 15 s) until `path` finds a ticket whose label contains `want`.
async fn until_found(c: &Client, path: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (st, v) = c.get(path).await;
        assert_eq!(st, 200, "{path}: {v}");
        if let Some(h) = v["hits"].as_array().unwrap().iter().find(|h| h["label"].as_str().is_some_and(|l| l.contains(want))) {
            return h.clone();
        }
        assert!(Instant::now() < deadline, "{path} never found {want:?}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn tickets_are_found_by_words_phrases_numbers_and_filters() {
    let s = Server::start().await;
    let a = s.admin().await;
    let acme = make_client(&a, "Acme Dental").await;
    let bravo = make_client(&a, "Bravo Logistics").await;
    let printer = ticket(
        &a,
        acme,
        json!({"subject": "Printer offline in reception", "body": "The HP LaserJet shows a paper jam after the toner swap."}),
    )
    .await;
    let vpn =
        ticket(&a, bravo, json!({"subject": "VPN drops every hour", "body": "FortiClient disconnects; the warehouse printers are fine."}))
            .await;
    let (pid, pnum) = (printer["id"].as_i64().unwrap(), printer["number"].as_i64().unwrap());
    until_found(&a, &q("laserjet"), "Printer offline").await;
    until_found(&a, &q("forticlient"), "VPN drops").await;

    // A word of the body, with its snippet marking it.
    let hit = until_found(&a, &q("toner"), "Printer offline").await;
    let snip = &hit["snippet"];
    let text = snip["text"].as_str().unwrap();
    let (from, to) = (snip["highlights"][0][0].as_u64().unwrap() as usize, snip["highlights"][0][1].as_u64().unwrap() as usize);
    assert_eq!(text[from..to].to_lowercase(), "toner", "{hit}");
    assert_eq!(hit["url"], format!("/clients/{acme}/tickets/{pid}"));
    assert!(hit["detail"].as_str().unwrap().contains("Acme Dental"), "{hit}");
    // Stems: "printers" finds both printer tickets; all words must match.
    let both = labels(&a, &q("printers")).await;
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(labels(&a, &q("printer jam")).await.len(), 1);
    assert_eq!(labels(&a, &q("printer kangaroo")).await.len(), 0, "every word must match");
    // Phrases keep their order.
    assert_eq!(labels(&a, &q("\"paper jam\"")).await.len(), 1);
    assert_eq!(labels(&a, &q("\"jam paper\"")).await.len(), 0);
    // Longer phrases need every word in place, not just each pair somewhere.
    assert_eq!(labels(&a, &q("\"a paper jam after\"")).await.len(), 1);
    assert_eq!(labels(&a, &q("\"paper jam the toner\"")).await.len(), 0);
    assert_eq!(labels(&a, &q("\"jam after paper\"")).await.len(), 0);
    // Two common words ("after", "the") are looked up as one pair term.
    assert_eq!(labels(&a, &q("\"after the\"")).await.len(), 1);
    assert_eq!(labels(&a, &q("\"the after\"")).await.len(), 0);
    // Phrases and words together; a phrase that misses sinks the query.
    assert_eq!(labels(&a, &q("reception \"paper jam\"")).await.len(), 1);
    assert_eq!(labels(&a, &q("kangaroo \"paper jam\"")).await.len(), 0);
    assert_eq!(labels(&a, &q("\"paper jam\" \"toner swap\"")).await.len(), 1);
    assert_eq!(labels(&a, &q("\"paper jam\" \"swap toner\"")).await.len(), 0);
    // A slop or an operator goes to the query parser as it is.
    assert_eq!(labels(&a, &q("\"paper after\"~1")).await.len(), 1);
    assert_eq!(labels(&a, &q("\"paper after\"")).await.len(), 0);
    assert_eq!(labels(&a, &q("kangaroo OR \"paper jam\"")).await.len(), 1);
    // A phrase's words are marked in the snippet.
    let hit = until_found(&a, &q("\"paper jam\""), "Printer offline").await;
    let text = hit["snippet"]["text"].as_str().unwrap();
    let marked: Vec<String> = hit["snippet"]["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize].to_lowercase())
        .collect();
    assert_eq!(marked, vec!["paper", "jam"], "{hit}");
    // The number, with or without its '#'; the client's name.
    assert_eq!(labels(&a, &q(&format!("#{pnum}"))).await, vec![format!("#{pnum} Printer offline in reception")]);
    assert_eq!(labels(&a, &q(&pnum.to_string())).await.len(), 1);
    assert_eq!(labels(&a, &q("bravo printers")).await.len(), 1);
    // Filters: client, status kind, opened dates.
    assert_eq!(labels(&a, &format!("{}&client_id={bravo}", q("printers"))).await.len(), 1);
    assert_eq!(labels(&a, &format!("{}&status=closed", q("printers"))).await.len(), 0);
    assert_eq!(labels(&a, &format!("{}&status=active", q("printers"))).await.len(), 2);
    assert_eq!(labels(&a, &format!("{}&from=2000-01-01&to=2001-01-01", q("printers"))).await.len(), 0);
    assert_eq!(labels(&a, &format!("{}&from=2000-01-01", q("printers"))).await.len(), 2);

    // A reply, a status change and a new subject are searchable moments later.
    let vid = vpn["id"].as_i64().unwrap();
    let (st, _) = a
        .post(&format!("/api/v1/clients/{bravo}/tickets/{vid}/entries"), json!({"kind": "note", "body": "Replaced the Meraki firewall"}))
        .await;
    assert_eq!(st, 201);
    until_found(&a, &q("meraki"), "VPN drops").await;
    a.patch(&format!("/api/v1/clients/{bravo}/tickets/{vid}"), json!({"status": "Closed", "subject": "VPN tunnel flaps"})).await;
    until_found(&a, &format!("{}&status=closed", q("meraki")), "VPN tunnel flaps").await;
    assert_eq!(labels(&a, &format!("{}&status=active", q("meraki"))).await.len(), 0);

    // Clients and contacts come from their own source, in the same answer.
    let (_, v) = a.get(&q("bravo")).await;
    assert!(v["hits"].as_array().unwrap().iter().any(|h| h["kind"] == "client"), "{v}");

    // The page marks the words and escapes everything people wrote.
    ticket(&a, acme, json!({"subject": "<script>alert(1)</script> xyzzy", "body": "<img src=x onerror=alert(2)> xyzzy"})).await;
    until_found(&a, &q("xyzzy"), "xyzzy").await;
    // The search form as a browser sends it, blank filters and all.
    let (st, page) = a.get_text("/search?q=printers&client_id=&status=&from=&to=").await;
    assert_eq!(st, 200, "{page}");
    let (st, page) = a.get_text("/search?q=xyzzy").await;
    assert_eq!(st, 200);
    assert!(page.contains("<mark>xyzzy</mark>"), "{page}");
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{page}");
    assert!(page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"), "{page}");
}

#[tokio::test]
async fn a_limited_technician_finds_nothing_of_another_client() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    ticket(&a, mine, json!({"subject": "Outlook search broken", "body": "mailbox quarantine"})).await;
    ticket(&a, theirs, json!({"subject": "Secret merger server", "body": "mailbox quarantine at the merger target"})).await;
    until_found(&a, &q("merger"), "Secret merger").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;

    let (_, v) = t.get(&q("mailbox quarantine")).await;
    let found = v["hits"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{v}");
    assert!(found[0]["label"].as_str().unwrap().contains("Outlook"));
    assert!(!v.to_string().contains("Secret") && !v.to_string().contains("Theirs"), "{v}");
    assert!(labels(&t, &q("merger")).await.is_empty());
    assert!(labels(&t, &q("theirs")).await.is_empty());
    // Asking for their client outright is a 404, as everywhere.
    let (st, _) = t.get(&format!("{}&client_id={theirs}", q("merger"))).await;
    assert_eq!(st, 404);
    let (_, page) = t.get_text("/search?q=merger").await;
    assert!(!page.contains("Secret"), "{page}");
}

#[tokio::test]
async fn hostile_queries_get_a_clear_answer_never_a_500() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    ticket(&a, c, json!({"subject": "Password reset for the CEO", "body": "MFA re-enrolled"})).await;
    until_found(&a, &q("password"), "Password reset").await;
    for bad in [
        "\"unbalanced",
        "a:b",
        "text:password",
        "client_id:1",
        "(((",
        ")))",
        "*",
        "password*",
        "[1 TO",
        "{a TO b}",
        "+-!^~",
        "AND OR NOT",
        "NOT password",
        "'; DROP TABLE tickets; --",
        "\u{202e}drowssap",
        "🙂🙃",
        "%00",
        "\\",
        "password~2",
        "title:\"x",
        "<script>alert(1)</script>",
        "${jndi:ldap://x}",
        "{{7*7}}",
        "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ",
    ] {
        let (st, v) = a.get(&q(bad)).await;
        // 422: only operators, nothing left to look for.
        assert!(st == 200 || st == 400 || st == 422, "{bad:?}: {st} {v}");
        if st != 200 {
            assert_eq!(v["error"]["field"], "q", "{bad:?}: {v}");
        }
        let (st, _) = a.get_text(&format!("/search?{}", serde_urlencoded::to_string([("q", bad)]).unwrap())).await;
        assert!(st == 200 || st == 400 || st == 422, "page {bad:?}: {st}");
    }
    // Too long: a clear 400 naming the field, on the API and the page.
    let (st, v) = a.get(&q(&"password ".repeat(40))).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("q")), "{v}");
    let (st, page) = a.get_text(&format!("/search?q={}", "x".repeat(500))).await;
    assert_eq!(st, 400);
    assert!(page.contains("at most 200 characters"), "{page}");
    // Empty: nothing to look for (422, as the schema allows it). Filters
    // of the wrong shape are 400; days that do not exist are 422.
    assert_eq!(a.get("/api/v1/search?q=%20").await.0, 422);
    assert_eq!(a.get("/api/v1/search").await.0, 422);
    for (param, value, want) in
        [("status", "melted", 400), ("from", "yesterday", 422), ("to", "2026-13-45", 422), ("limit", "0", 400), ("limit", "1000", 400)]
    {
        let (st, v) = a.get(&format!("{}&{param}={value}", q("password"))).await;
        assert_eq!((st, v["error"]["field"].as_str()), (want, Some(param)), "{param}={value}: {v}");
    }
    // The normal query still works afterwards.
    assert_eq!(labels(&a, &q("password")).await.len(), 1);
}

#[tokio::test]
async fn the_index_survives_a_restart_and_is_rebuilt_when_lost() {
    let mut s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    for i in 0..30 {
        ticket(&a, c, json!({"subject": format!("Backup job {i} failed"), "body": format!("Veeam error code E{i:03}")})).await;
    }
    until_found(&a, &q("E029"), "Backup job 29").await;
    s.restart();
    let a = s.admin().await;
    assert_eq!(labels(&a, &format!("{}&limit=50", q("veeam"))).await.len(), 30);

    // The index lost while the server is down: rebuilt on start, and by the CLI.
    s.terminate();
    let dir = s.env.data_dir().join("search");
    std::fs::remove_dir_all(&dir).unwrap();
    let (code, out, err) = s.env.cli(&["search", "reindex"], "");
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("30 documents"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
    s.restart();
    let a = s.admin().await;
    until_found(&a, &q("E017"), "Backup job 17").await;
    assert_eq!(labels(&a, &format!("{}&limit=50", q("veeam"))).await.len(), 30);
    // While the server runs, the CLI says the index is in use.
    let (code, _, err) = s.env.cli(&["search", "reindex"], "");
    assert_ne!(code, 0);
    assert!(err.contains("in use") || err.contains("another steward"), "{err}");
}
