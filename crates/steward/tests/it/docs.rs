//! The knowledge base against the real server on either engine: articles
//! written, changed (each change a version), compared and restored;
//! hostile Markdown rendered clean; global articles for every client but
//! changed only by users who see every client; a limited technician finds
//! nothing of another client's, on any route or in the search; the pages.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn article(c: &Client, path: &str, body: Value) -> Value {
    let (st, a) = c.post(path, body).await;
    assert_eq!(st, 201, "{path}: {a}");
    a
}

fn search(s: &str) -> String {
    format!("/api/v1/search?{}", serde_urlencoded::to_string([("q", s)]).unwrap())
}

/// The article hits' labels for a search.
async fn found(c: &Client, q: &str) -> Vec<String> {
    let (st, v) = c.get(&search(q)).await;
    assert_eq!(st, 200, "{v}");
    v["hits"].as_array().unwrap().iter().filter(|h| h["kind"] == "article").map(|h| h["label"].as_str().unwrap().to_string()).collect()
}

/// Waits until a search finds (or stops finding) an article titled `title`.
async fn until_search(c: &Client, q: &str, title: &str, present: bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if found(c, q).await.iter().any(|l| l == title) == present {
            return;
        }
        assert!(Instant::now() < deadline, "search {q:?} {} {title:?}", if present { "never found" } else { "still finds" });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn articles_are_written_versioned_compared_and_restored() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Harbor Dental").await;
    let base = format!("/api/v1/clients/{c}/articles");
    let v1 =
        "# Restore from the NAS\n\n| Share | Path |\n|---|---|\n| X-rays | \\\\nas\\xray |\n\n1. Open the backup app\n2. Pick the day\n";
    let art =
        article(&a, &base, json!({"title": "Restore a file", "body_markdown": v1, "folder": "Backup", "tags": ["NAS", "restore", "nas"]}))
            .await;
    let id = art["id"].as_i64().unwrap();
    assert_eq!((art["version"].as_i64(), art["client_id"].as_i64()), (Some(1), Some(c)));
    assert_eq!(art["tags"], json!(["nas", "restore"]), "tags are canonical");
    let html = art["body_html"].as_str().unwrap();
    assert!(html.contains("<h1>Restore from the NAS</h1>") && html.contains("<table>") && html.contains("<ol>"), "{html}");

    // A change is a new version; the same text again is none.
    let v2 = v1.replace("2. Pick the day", "2. Pick the day and the hour\n3. Check the file opens");
    let (st, art) = a.patch(&format!("{base}/{id}"), json!({"body_markdown": v2, "title": "Restore a file from the NAS"})).await;
    assert_eq!(st, 200, "{art}");
    assert_eq!(art["version"], 2);
    let (_, same) = a.patch(&format!("{base}/{id}"), json!({"body_markdown": v2})).await;
    assert_eq!(same["version"], 2, "nothing changed, no version");
    // The same text with a form's CR LF line endings is no change either.
    let (_, same) = a.patch(&format!("{base}/{id}"), json!({"body_markdown": v2.replace('\n', "\r\n")})).await;
    assert_eq!(same["version"], 2, "line endings are not a change");
    // A change made on an old version is refused, not lost.
    let (st, e) = a.patch(&format!("{base}/{id}"), json!({"body_markdown": "stale", "expected_version": 1})).await;
    assert_eq!(st, 409, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("version 2"), "{e}");
    let (_, versions) = a.get(&format!("{base}/{id}/versions")).await;
    let numbers: Vec<i64> = versions.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [2, 1], "newest first");
    assert_eq!(versions[1]["title"], "Restore a file");
    assert_eq!(versions[0]["author"], "admin");

    // The diff of the two: the changed line out, two lines in.
    let (st, d) = a.get(&format!("{base}/{id}/diff")).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!((d["from"].as_i64(), d["to"].as_i64()), (Some(1), Some(2)));
    let ops: Vec<(String, String)> =
        d["lines"].as_array().unwrap().iter().filter(|l| l["op"] != "same").map(|l| (l["op"].to_string(), l["text"].to_string())).collect();
    assert_eq!(
        ops,
        [
            ("\"removed\"".into(), "\"2. Pick the day\"".into()),
            ("\"added\"".into(), "\"2. Pick the day and the hour\"".into()),
            ("\"added\"".into(), "\"3. Check the file opens\"".into())
        ]
    );
    assert_eq!((d["title_from"].as_str(), d["title_to"].as_str()), (Some("Restore a file"), Some("Restore a file from the NAS")));

    // Restore version 1: a new version with version 1's text.
    let (st, art) = a.post(&format!("{base}/{id}/versions/1/restore"), json!({})).await;
    assert_eq!(st, 200, "{art}");
    // (Kept trimmed: the final line break is not part of the text.)
    assert_eq!(
        (art["version"].as_i64(), art["body_markdown"].as_str(), art["title"].as_str()),
        (Some(3), Some(v1.trim_end()), Some("Restore a file"))
    );
    let (_, v3) = a.get(&format!("{base}/{id}/versions/3")).await;
    assert_eq!(v3["note"], "restored version 1");
    let (_, old) = a.get(&format!("{base}/{id}/versions/2")).await;
    assert_eq!(old["body_markdown"], v2.trim_end(), "what it replaced is kept");

    // Every change is in the audit log.
    let (_, audit) = a.get("/api/v1/audit?limit=50").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_id"].as_str() == Some(id.to_string().as_str()))
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in ["article.create", "article.update", "article.restore"] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }

    // Lists: by folder and tag; archived leave them.
    let (_, list) = a.get(&format!("{base}?folder=Backup&tag=NAS")).await;
    assert_eq!(list["total"], 1, "{list}");
    assert!(list["items"][0].get("body_markdown").is_none(), "lists carry no text");
    let (_, list) = a.get(&format!("{base}?tag=printer")).await;
    assert_eq!(list["total"], 0);
    let (st, list) = a.get(&format!("{base}?offset=9223372036854775806&limit=1")).await;
    assert_eq!((st, list["total"].as_i64()), (200, Some(1)), "{list}");
    let (st, _) = a.patch(&format!("{base}/{id}"), json!({"archived": true})).await;
    assert_eq!(st, 200);
    let (_, list) = a.get(&base).await;
    assert_eq!(list["total"], 0);
    let (_, list) = a.get(&format!("{base}?archived=true")).await;
    assert_eq!(list["total"], 1);

    // Bad input gets a clear error.
    for (body, status, field) in [
        (json!({"title": "", "body_markdown": "x"}), 400, "title"),
        (json!({"title": "T", "body_markdown": "   "}), 422, "body_markdown"),
        (json!({"title": "T", "body_markdown": "x", "tags": ["<b>"]}), 422, "tags"),
        (json!({"title": "T", "body_markdown": "x".repeat(200_001)}), 400, "body_markdown"),
        (json!({"title": "T", "body_markdown": "x", "colour": "red"}), 400, ""),
    ] {
        let (st, e) = a.post(&base, body).await;
        assert_eq!(st, status, "{e}");
        if !field.is_empty() {
            assert_eq!(e["error"]["field"], field, "{e}");
        }
    }
    let (st, e) = a.get(&format!("{base}/{id}/diff?from=1&to=99")).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("to")), "{e}");
    let (st, _) = a.get(&format!("{base}/{id}/versions/99")).await;
    assert_eq!(st, 404);
    let (st, _) = a.post(&format!("{base}/{id}/versions/99/restore"), json!({})).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn hostile_markdown_is_rendered_clean_everywhere() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let evil = "Hi <script>alert(1)</script>\n\n[click](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n<iframe src=https://evil.example></iframe>\n\n[ok](https://ok.example)";
    let art = article(&a, &format!("/api/v1/clients/{c}/articles"), json!({"title": "<b>Evil</b>", "body_markdown": evil})).await;
    let check = |html: &str| {
        for bad in ["<script", "javascript:", "onerror", "<iframe"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
    };
    let html = art["body_html"].as_str().unwrap();
    check(html);
    assert!(html.contains(r#"href="https://ok.example" rel="noopener noreferrer nofollow""#), "{html}");
    assert_eq!(art["body_markdown"], evil, "the Markdown is kept as written");
    let (_, p) = a.post("/api/v1/articles/preview", json!({"body_markdown": evil})).await;
    check(p["body_html"].as_str().unwrap());
    let (st, page) = a.get_text(&format!("/clients/{c}/articles/{}", art["id"])).await;
    assert_eq!(st, 200);
    let body = page.split(r#"id="article-body">"#).nth(1).unwrap().split("</article>").next().unwrap();
    check(body);
    assert!(body.contains("https://ok.example"), "{body}");
    // The editor holds the Markdown as text, escaped.
    let editor = page.split(r#"name="body_markdown""#).nth(1).unwrap().split("</textarea>").next().unwrap();
    assert!(editor.contains("&lt;script&gt;") || editor.contains("&#60;script&#62;"), "{editor}");
    assert!(!editor.contains("<script"), "{editor}");
    assert!(page.contains("&lt;b&gt;Evil&lt;/b&gt;") || page.contains("&#60;b&#62;Evil"), "the title is text: {page}");
}

#[tokio::test]
async fn global_articles_are_everyones_and_a_limited_technician_sees_only_their_clients() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    let sop =
        article(&a, "/api/v1/articles", json!({"title": "Onboarding checklist", "body_markdown": "Create the mailbox zebracorn"})).await;
    assert!(sop["client_id"].is_null());
    let secret = article(
        &a,
        &format!("/api/v1/clients/{theirs}/articles"),
        json!({"title": "Merger firewall plan", "body_markdown": "zebracorn vlan"}),
    )
    .await;
    let sid = secret["id"].as_i64().unwrap();
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;

    // The global article: read, never changed by a limited user.
    let (st, g) = t.get(&format!("/api/v1/articles/{}", sop["id"])).await;
    assert_eq!((st, g["title"].as_str()), (200, Some("Onboarding checklist")));
    let (st, e) = t.patch(&format!("/api/v1/articles/{}", sop["id"]), json!({"title": "Hijacked"})).await;
    assert_eq!(st, 403, "{e}");
    let (st, _) = t.post("/api/v1/articles", json!({"title": "Mine", "body_markdown": "x"})).await;
    assert_eq!(st, 403);
    let (st, _) = t.post(&format!("/api/v1/articles/{}/versions/1/restore", sop["id"]), json!({})).await;
    assert_eq!(st, 403);
    // Their own client's: written and read.
    let own =
        article(&t, &format!("/api/v1/clients/{mine}/articles"), json!({"title": "Printer setup", "body_markdown": "zebracorn toner"}))
            .await;

    // Another client's: 404 on every route, never listed or found.
    for path in [
        format!("/api/v1/clients/{theirs}/articles"),
        format!("/api/v1/clients/{theirs}/articles/{sid}"),
        format!("/api/v1/clients/{theirs}/articles/{sid}/versions"),
        format!("/api/v1/clients/{theirs}/articles/{sid}/versions/1"),
        format!("/api/v1/clients/{theirs}/articles/{sid}/diff"),
        format!("/clients/{theirs}/articles/{sid}"),
        format!("/clients/{theirs}/articles/{sid}/diff"),
        // Their id under my client is not found either.
        format!("/api/v1/clients/{mine}/articles/{sid}"),
        format!("/api/v1/articles/{sid}"),
    ] {
        let (st, body) = t.get_text(&path).await;
        assert_eq!(st, 404, "GET {path}");
        assert!(!body.contains("Merger"), "{path}: {body}");
    }
    let (st, _) = t.patch(&format!("/api/v1/clients/{theirs}/articles/{sid}"), json!({"title": "x"})).await;
    assert_eq!(st, 404);
    let (st, _) = t.post(&format!("/api/v1/clients/{theirs}/articles/{sid}/versions/1/restore"), json!({})).await;
    assert_eq!(st, 404);
    let (st, _) = t.post(&format!("/api/v1/clients/{theirs}/articles"), json!({"title": "x", "body_markdown": "x"})).await;
    assert_eq!(st, 404);
    // The pages' forms hold the same line: no global article, none of theirs.
    let (st, _, _) = t.form("/docs", &[("owner", "global"), ("title", "x"), ("body_markdown", "x")]).await;
    assert_eq!(st, 403);
    let (st, _, _) = t.form("/docs", &[("owner", &theirs.to_string()), ("title", "x"), ("body_markdown", "x")]).await;
    assert_eq!(st, 404);
    let (st, _, _) = t.form(&format!("/articles/{}", sop["id"]), &[("title", "Hijacked")]).await;
    assert_eq!(st, 403);
    let (st, _, _) = t.form(&format!("/articles/{}/versions/1/restore", sop["id"]), &[]).await;
    assert_eq!(st, 403);
    let (st, _, _) = t.form(&format!("/articles/{sid}"), &[("title", "x")]).await;
    assert_eq!(st, 403, "their article is not global either, and the limited user may not change global ones");
    let (_, g) = a.get(&format!("/api/v1/articles/{}", sop["id"])).await;
    assert_eq!(g["title"], "Onboarding checklist", "unchanged");
    let (_, all) = t.get("/api/v1/articles?include_clients=true").await;
    let titles: Vec<&str> = all["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Onboarding checklist", "Printer setup"], "{all}");
    let (_, page) = t.get_text("/docs").await;
    assert!(page.contains("Printer setup") && page.contains("Onboarding checklist") && !page.contains("Merger"), "{page}");
    let (st, _) = t.get_text(&format!("/docs?owner={theirs}")).await;
    assert_eq!(st, 404);

    // The search: the admin finds all three, the technician two.
    until_search(&a, "zebracorn", "Merger firewall plan", true).await;
    until_search(&a, "zebracorn", "Printer setup", true).await;
    let mut seen = found(&t, "zebracorn").await;
    seen.sort();
    assert_eq!(seen, ["Onboarding checklist", "Printer setup"]);
    let (_, v) = t.get(&search("merger")).await;
    assert!(!v.to_string().contains("Merger"), "{v}");
    // Found by words of the text, not its markup; archived leaves the search.
    let (_, v) = t.get(&search("toner")).await;
    let hit = v["hits"].as_array().unwrap().iter().find(|h| h["kind"] == "article").expect("found by a word of the text");
    assert_eq!(hit["url"], format!("/clients/{mine}/articles/{}", own["id"]));
    t.patch(&format!("/api/v1/clients/{mine}/articles/{}", own["id"]), json!({"archived": true})).await;
    until_search(&t, "toner", "Printer setup", false).await;

    // A read-only user reads, never writes; a client contact neither.
    make_user(&a, "ro@msp.example", "read_only", None).await;
    let ro = s.client();
    ro.login_ok("ro@msp.example", PASSWORD).await;
    let (st, _) = ro.get(&format!("/api/v1/clients/{theirs}/articles/{sid}")).await;
    assert_eq!(st, 200);
    let (st, _) = ro.patch(&format!("/api/v1/clients/{theirs}/articles/{sid}"), json!({"title": "x"})).await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn the_pages_write_show_compare_and_restore_an_article() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Harbor Dental").await;
    let (st, loc, body) = a
        .form(
            "/docs",
            &[
                ("owner", &c.to_string()),
                ("title", "Wi-Fi for guests"),
                ("folder", "Network"),
                ("tags", "wifi, guest"),
                ("body_markdown", "SSID **Harbor-Guest**"),
            ],
        )
        .await;
    assert_eq!(st, 303, "{body}");
    assert!(loc.starts_with(&format!("/clients/{c}/articles/")), "{loc}");
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("<strong>Harbor-Guest</strong>") && page.contains("Network"), "{page}");
    // A change, then the comparison and a restore, through the forms.
    let (st, to, _) = a
        .form(
            &loc,
            &[("title", "Wi-Fi for guests"), ("folder", "Network"), ("tags", "wifi guest"), ("body_markdown", "SSID **Harbor-Visitors**")],
        )
        .await;
    assert_eq!((st, to.as_str()), (303, loc.as_str()));
    let (_, diff) = a.get_text(&format!("{loc}/diff?from=1&to=2")).await;
    assert!(diff.contains("diff-removed") && diff.contains("Harbor-Guest") && diff.contains("Harbor-Visitors"), "{diff}");
    let (st, _, _) = a.form(&format!("{loc}/versions/1/restore"), &[]).await;
    assert_eq!(st, 303);
    let (_, page) = a.get_text(&loc).await;
    assert!(page.contains("<strong>Harbor-Guest</strong>") && page.contains("restored version 1"), "{page}");
    // The preview renders (and sanitizes) what the editor holds.
    let (st, _, preview) = a.form("/docs/preview", &[("body_markdown", "# Hi <script>x</script>")]).await;
    assert_eq!(st, 200);
    assert!(preview.contains("<h1>Hi </h1>") || preview.contains("<h1>Hi"), "{preview}");
    assert!(!preview.contains("<script"), "{preview}");
    // The list, the client's panel, and a refused form keeps the page.
    let (_, list) = a.get_text("/docs?owner=global").await;
    assert!(!list.contains("Wi-Fi for guests"));
    let (_, client_page) = a.get_text(&format!("/clients/{c}")).await;
    assert!(client_page.contains("Wi-Fi for guests"), "the client's page lists its articles");
    let (st, _, refused) = a.form("/docs", &[("owner", "nobody"), ("title", "x"), ("body_markdown", "x")]).await;
    assert_eq!(st, 400);
    assert!(refused.contains("owner: choose Global or a client"), "{refused}");
}

#[tokio::test]
async fn a_ticket_shows_the_articles_about_its_subject() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Harbor Dental").await;
    let other = make_client(&a, "Other Ltd").await;
    article(
        &a,
        &format!("/api/v1/clients/{c}/articles"),
        json!({"title": "Front desk printer", "body_markdown": "The MFP jams: open tray 2."}),
    )
    .await;
    article(&a, "/api/v1/articles", json!({"title": "Printer triage", "body_markdown": "Check the queue, then the driver."})).await;
    article(&a, &format!("/api/v1/clients/{c}/articles"), json!({"title": "VPN", "body_markdown": "FortiClient profile."})).await;
    article(&a, &format!("/api/v1/clients/{other}/articles"), json!({"title": "Their printer", "body_markdown": "printer secrets"})).await;
    until_search(&a, "printer", "Their printer", true).await;
    let (_, t) = a.post(&format!("/api/v1/clients/{c}/tickets"), json!({"subject": "Printer (front desk) keeps jamming"})).await;
    let (st, page) = a.get_text(&format!("/clients/{c}/tickets/{}", t["id"])).await;
    assert_eq!(st, 200);
    let panel = page.split(r#"id="related-articles""#).nth(1).expect("the related articles panel").split("</section>").next().unwrap();
    assert!(panel.contains("Front desk printer") && panel.contains("Printer triage"), "{panel}");
    assert!(!panel.contains("VPN"), "nothing shares a word: {panel}");
    assert!(!panel.contains("Their printer"), "never another client's: {panel}");
}
