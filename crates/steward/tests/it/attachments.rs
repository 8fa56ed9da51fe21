//! Attachments on tickets through the API and the pages, against the real
//! server on either engine: bytes come back identical with download-only
//! headers, the same bytes are kept once in the data directory, an
//! oversize upload is 413 and leaves nothing, hostile names and types are
//! defused, another client's files are 404 on every path, uploads are
//! audited, and a merge or client move takes the files along.

use crate::common::*;
use serde_json::{json, Value};
use std::path::Path;

/// A part of a multipart body: field name, file name, content type, bytes.
pub type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);
type OwnedPart = (&'static str, Option<&'static str>, Option<&'static str>, Vec<u8>);

/// A multipart body and its content type.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----stewardtestboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, ct, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n").as_bytes()),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes()),
        }
        if let Some(ct) = ct {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload(c: &Client, path: &str, parts: &[Part<'_>]) -> (u16, Value) {
    let (ct, body) = multipart(parts);
    let r = c.raw(reqwest::Method::POST, path).header("content-type", ct).body(body).send().await.unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// Every file under the data directory's file store (temporaries too).
fn stored_files(data_dir: &Path) -> Vec<std::path::PathBuf> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    let mut out = vec![];
    walk(&data_dir.join("files"), &mut out);
    out
}

async fn ticket(a: &Client, client: i64, subject: &str) -> i64 {
    let (st, t) = a.post(&format!("/api/v1/clients/{client}/tickets"), json!({"subject": subject, "priority": "P3", "body": "help"})).await;
    assert_eq!(st, 201, "{t}");
    t["id"].as_i64().unwrap()
}

#[tokio::test]
async fn files_come_back_identical_as_downloads_and_the_same_bytes_are_kept_once() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let t = ticket(&a, c, "Printer jams").await;
    let base = format!("/api/v1/clients/{c}/tickets/{t}");
    let (_, entry) = a.post(&format!("{base}/entries"), json!({"kind": "note", "body": "log attached"})).await;
    let entry_id = entry["id"].as_i64().unwrap();
    let pdf: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let id = entry_id.to_string();
    let (st, v) = upload(
        &a,
        &format!("{base}/attachments"),
        &[("entry_id", None, None, id.as_bytes()), ("file", Some("Bericht März.pdf"), Some("application/pdf"), &pdf)],
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let first = &v[0];
    assert_eq!(first["file_name"], "Bericht März.pdf");
    assert_eq!(first["content_type"], "application/pdf");
    assert_eq!(first["size"], 200_000);
    assert_eq!(first["entry_id"], entry_id);

    let r = a.raw(reqwest::Method::GET, first["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["content-disposition"], "attachment; filename=\"Bericht M_rz.pdf\"; filename*=UTF-8''Bericht%20M%C3%A4rz.pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf, "the bytes come back identical");

    // The same bytes again, on another ticket under another name: one file on disk.
    let t2 = ticket(&a, c, "Second").await;
    let (st, v2) =
        upload(&a, &format!("/api/v1/clients/{c}/tickets/{t2}/attachments"), &[("file", Some("copy.pdf"), Some("application/pdf"), &pdf)])
            .await;
    assert_eq!(st, 201, "{v2}");
    assert_eq!(v2[0]["sha256"], first["sha256"]);
    let sha = first["sha256"].as_str().unwrap();
    let files = stored_files(s.env.data_dir());
    assert_eq!(files, vec![s.env.data_dir().join("files").join(&sha[0..2]).join(&sha[2..4]).join(sha)], "one file, no temporaries");

    // The thread lists the file on its entry; the ticket's list has it too.
    let (_, thread) = a.get(&format!("{base}/entries")).await;
    let e = thread.as_array().unwrap().iter().find(|e| e["id"] == entry_id).unwrap();
    assert_eq!(e["attachments"][0]["id"], first["id"]);
    let (_, list) = a.get(&format!("{base}/attachments")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Audited, in the ticket's client.
    let (_, log) = a.get(&format!("/api/v1/audit?action=ticket.attach&client_id={c}")).await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    assert!(
        items.iter().any(|i| i["details"]["files"][0]["sha256"] == sha && i["target_id"].as_str() == Some(t.to_string().as_str())),
        "{log}"
    );
}

#[tokio::test]
async fn hostile_names_and_types_are_defused() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let t = ticket(&a, c, "Hostile").await;
    let path = format!("/api/v1/clients/{c}/tickets/{t}/attachments");
    let html = b"<html><script>alert(document.cookie)</script></html>";
    for (raw, kept, declared, served) in [
        ("../../etc/passwd", "passwd", "text/plain", "text/plain"),
        ("..\\\\..\\\\boot.ini", "boot.ini", "text/plain", "text/plain"),
        ("C:\\\\x", "x", "text/plain", "text/plain"),
        ("invoice\u{202e}fdp.exe", "invoicefdp.exe", "application/x-msdownload", "application/octet-stream"),
        ("page.html", "page.html", "text/html", "application/octet-stream"),
        ("logo.svg", "logo.svg", "image/svg+xml", "application/octet-stream"),
        ("..", "attachment", "image/png", "image/png"),
    ] {
        let (st, v) = upload(&a, &path, &[("file", Some(raw), Some(declared), html)]).await;
        assert_eq!(st, 201, "{raw}: {v}");
        assert_eq!(v[0]["file_name"], kept, "{raw}");
        assert_eq!(v[0]["content_type"], served, "{raw}");
        let r = a.raw(reqwest::Method::GET, v[0]["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], served);
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    // A NUL in the name (not expressible in a header-quoted name by every client, but by ours).
    let (st, v) = upload(&a, &path, &[("file", Some("a\u{0}b.txt"), Some("text/plain"), b"x")]).await;
    assert!(st == 400 || v[0]["file_name"] == "ab.txt", "{st} {v}");
    // Nothing escaped the file store.
    assert!(stored_files(s.env.data_dir()).iter().all(|p| p.starts_with(s.env.data_dir().join("files"))));
    assert!(!s.env.data_dir().join("passwd").exists() && !s.env.data_dir().join("etc").exists());
    // The page renders names as text.
    let (_, page) = a.get_text(&format!("/clients/{c}/tickets/{t}")).await;
    assert!(!page.contains("<script>alert"));
}

#[tokio::test]
async fn an_oversize_upload_is_413_and_leaves_nothing() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--attachment-max-bytes", "1000"]).await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let t = ticket(&a, c, "Big").await;
    let path = format!("/api/v1/clients/{c}/tickets/{t}/attachments");
    let big = vec![b'x'; 1001];
    let (st, v) = upload(&a, &path, &[("file", Some("big.bin"), None, &big)]).await;
    assert_eq!(st, 413, "{v}");
    assert_eq!(error_code(&v), "payload_too_large");
    // A small one first and a big one after: the whole request is refused, no row either.
    let (st, _) = upload(&a, &path, &[("file", Some("small.txt"), Some("text/plain"), b"ok"), ("file", Some("big.bin"), None, &big)]).await;
    assert_eq!(st, 413);
    let (_, list) = a.get(&path).await;
    assert_eq!(list, json!([]));
    // The small file's bytes may stay (unreferenced); no part of the big one does.
    let left = stored_files(s.env.data_dir());
    assert!(
        left.iter().all(|p| std::fs::metadata(p).unwrap().len() <= 2 && !p.starts_with(s.env.data_dir().join("files/tmp"))),
        "{left:?}"
    );
    assert_eq!(upload(&a, &path, &[("file", Some("exact.bin"), None, &big[..1000])]).await.0, 201, "exactly the limit is fine");
    // Not multipart: a clear error in the API's shape.
    let (st, v) = a.post(&path, json!({"file": "x"})).await;
    assert_eq!(st, 415, "{v}");
}

#[tokio::test]
async fn another_clients_files_are_404_on_every_path() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine").await;
    let theirs = make_client(&a, "Theirs").await;
    let my_t = ticket(&a, mine, "Mine").await;
    let their_t = ticket(&a, theirs, "Theirs").await;
    let (_, v) = upload(
        &a,
        &format!("/api/v1/clients/{theirs}/tickets/{their_t}/attachments"),
        &[("file", Some("secret.txt"), Some("text/plain"), b"secret")],
    )
    .await;
    let their_file = v[0]["id"].as_i64().unwrap();
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let tech = s.client();
    tech.login_ok("limited@msp.example", PASSWORD).await;
    for path in [
        format!("/api/v1/clients/{theirs}/tickets/{their_t}/attachments/{their_file}"),
        format!("/api/v1/clients/{theirs}/tickets/{their_t}/attachments"),
        // Their file through my client's and my ticket's path.
        format!("/api/v1/clients/{mine}/tickets/{their_t}/attachments/{their_file}"),
        format!("/api/v1/clients/{mine}/tickets/{my_t}/attachments/{their_file}"),
        format!("/clients/{theirs}/tickets/{their_t}/attachments/{their_file}"),
        format!("/clients/{mine}/tickets/{my_t}/attachments/{their_file}"),
    ] {
        let r = tech.raw(reqwest::Method::GET, &path).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(!r.text().await.unwrap().contains("secret"), "{path}");
    }
    let (st, _) =
        upload(&tech, &format!("/api/v1/clients/{theirs}/tickets/{their_t}/attachments"), &[("file", Some("x.txt"), None, b"x")]).await;
    assert_eq!(st, 404);
    let (st, _) =
        upload(&tech, &format!("/api/v1/clients/{mine}/tickets/{their_t}/attachments"), &[("file", Some("x.txt"), None, b"x")]).await;
    assert_eq!(st, 404, "their ticket under my client");
    let (st, v) =
        upload(&tech, &format!("/api/v1/clients/{mine}/tickets/{my_t}/attachments"), &[("file", Some("mine.txt"), None, b"mine")]).await;
    assert_eq!(st, 201, "{v}");
    assert!(tech.raw(reqwest::Method::GET, v[0]["url"].as_str().unwrap()).send().await.unwrap().status() == 200);
}

#[tokio::test]
async fn a_merge_and_a_client_move_take_the_files_along() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let other = make_client(&a, "Other").await;
    let src = ticket(&a, c, "Source").await;
    let dst = ticket(&a, c, "Target").await;
    let (_, v) =
        upload(&a, &format!("/api/v1/clients/{c}/tickets/{src}/attachments"), &[("file", Some("log.txt"), Some("text/plain"), b"log")])
            .await;
    let file = v[0]["id"].as_i64().unwrap();
    let (st, m) = a.post(&format!("/api/v1/clients/{c}/tickets/{src}/merge"), json!({"into_ticket_id": dst})).await;
    assert_eq!(st, 200, "{m}");
    let (_, list) = a.get(&format!("/api/v1/clients/{c}/tickets/{dst}/attachments")).await;
    assert_eq!(list[0]["id"], file);
    assert_eq!(a.get(&format!("/api/v1/clients/{c}/tickets/{src}/attachments")).await.1, json!([]));
    assert_eq!(
        a.raw(reqwest::Method::GET, &format!("/api/v1/clients/{c}/tickets/{dst}/attachments/{file}")).send().await.unwrap().status(),
        200
    );

    let (st, moved) = a.patch(&format!("/api/v1/clients/{c}/tickets/{dst}"), json!({"client_id": other})).await;
    assert_eq!(st, 200, "{moved}");
    let (_, list) = a.get(&format!("/api/v1/clients/{other}/tickets/{dst}/attachments")).await;
    assert_eq!(list[0]["url"], format!("/api/v1/clients/{other}/tickets/{dst}/attachments/{file}"));
    let r = a.raw(reqwest::Method::GET, list[0]["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"log");
    let old = a.raw(reqwest::Method::GET, &format!("/api/v1/clients/{c}/tickets/{dst}/attachments/{file}")).send().await.unwrap();
    assert_eq!(old.status(), 404, "no longer under the old client");
}

#[tokio::test]
async fn the_reply_form_takes_files_with_its_csrf_field_and_the_thread_links_them() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Acme").await;
    let t = ticket(&a, c, "Form").await;
    let csrf = a.csrf.lock().unwrap().clone().unwrap();
    let path = format!("/clients/{c}/tickets/{t}/entries");
    let send = |parts: Vec<OwnedPart>| {
        let (ct, body) = multipart(&parts.iter().map(|(n, f, t, b)| (*n, *f, *t, b.as_slice())).collect::<Vec<_>>());
        // As a browser without scripts sends it: the token only in the form.
        a.http.post(s.url(&path)).header("origin", s.base.clone()).header("content-type", ct).body(body).send()
    };
    let r = send(vec![
        ("_csrf", None, None, csrf.clone().into_bytes()),
        ("body", None, None, b"Here is the screenshot".to_vec()),
        ("file", Some("shot.png"), Some("image/png"), b"\x89PNG fake".to_vec()),
        ("kind", None, None, b"reply".to_vec()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, page) = a.get_text(&format!("/clients/{c}/tickets/{t}")).await;
    assert!(page.contains("shot.png") && page.contains(&format!("/clients/{c}/tickets/{t}/attachments/")), "the thread links the file");
    let (_, thread) = a.get(&format!("/api/v1/clients/{c}/tickets/{t}/entries")).await;
    let reply = thread.as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap();
    assert_eq!(reply["attachments"][0]["file_name"], "shot.png");
    let url = format!("/clients/{c}/tickets/{t}/attachments/{}", reply["attachments"][0]["id"]);
    let r = a.raw(reqwest::Method::GET, &url).send().await.unwrap();
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"shot.png\"; filename*=UTF-8''shot.png");

    // Without the token, or with it not first, nothing is taken.
    for parts in [
        vec![("body", None, None, b"x".to_vec()), ("_csrf", None, None, csrf.clone().into_bytes())],
        vec![("body", None, None, b"x".to_vec()), ("file", Some("f.txt"), None, b"x".to_vec())],
        vec![("_csrf", None, None, b"wrong".to_vec()), ("body", None, None, b"x".to_vec())],
    ] {
        assert_eq!(send(parts).await.unwrap().status(), 403);
    }
    assert_eq!(thread.as_array().unwrap().iter().filter(|e| e["kind"] == "reply").count(), 1);
}
