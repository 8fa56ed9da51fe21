//! The audit chain: verified, then broken by editing the database directly
//! (edit, delete, reorder, rewrite-with-recomputed-hashes), caught by
//! `steward audit verify` naming the first bad entry; export and anchors.

use crate::common::*;
use serde_json::json;

async fn tamper(env: &Env, sql: &str) {
    raw_sql(env, sql).await
}

fn verify(env: &Env) -> (i32, String) {
    let (code, out, err) = env.cli(&["audit", "verify"], "");
    (code, format!("{out}{err}"))
}

async fn busy_server() -> (Server, Client) {
    let s = Server::start().await;
    let a = s.admin().await;
    for i in 0..5 {
        make_client(&a, &format!("Client {i}")).await;
    }
    (s, a)
}

#[tokio::test]
async fn an_intact_chain_verifies_over_the_cli_and_the_api() {
    let (s, a) = busy_server().await;
    let (code, out) = verify(&s.env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit chain ok"), "{out}");
    let (_, v) = a.get("/api/v1/audit/verify").await;
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["entries_verified"].as_i64().unwrap() >= 7);
    // Export: one JSON object per line, in order, with hashes linking.
    let (code, out, _) = s.env.cli(&["audit", "export"], "");
    assert_eq!(code, 0);
    let entries: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(entries.len() >= 7);
    for w in entries.windows(2) {
        assert_eq!(w[1]["prev_hash"], w[0]["hash"]);
        assert_eq!(w[1]["seq"].as_i64().unwrap(), w[0]["seq"].as_i64().unwrap() + 1);
    }
    // Admin creation on the CLI is attributed to the host.
    assert!(entries[0]["actor"].as_str().unwrap().starts_with("cli@"));
    // The web page can verify too.
    let (_, html) = a.get_text("/audit?verify=1").await;
    assert!(html.contains("The chain verifies"));
}

#[tokio::test]
async fn editing_an_entry_in_the_database_is_caught_at_that_entry() {
    let (s, a) = busy_server().await;
    tamper(&s.env, "UPDATE audit_log SET actor = 'mallory@evil.example' WHERE seq = 3").await;
    let (code, out) = verify(&s.env);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry 3"), "{out}");
    let (_, v) = a.get("/api/v1/audit/verify").await;
    assert_eq!((v["ok"].as_bool(), v["first_bad_seq"].as_i64()), (Some(false), Some(3)));
    let (_, html) = a.get_text("/audit?verify=1").await;
    assert!(html.contains("The chain is broken"));
}

#[tokio::test]
async fn deleting_or_reordering_entries_is_caught() {
    let (s, _a) = busy_server().await;
    tamper(&s.env, "DELETE FROM audit_log WHERE seq = 4").await;
    let (code, out) = verify(&s.env);
    assert_eq!(code, 1);
    assert!(out.contains("entry 5"), "a gap shows at the next entry: {out}");

    let (s, _a) = busy_server().await;
    // Swap the contents of entries 2 and 3 (keep sequence numbers).
    tamper(&s.env, "UPDATE audit_log SET seq = -2 WHERE seq = 2").await;
    tamper(&s.env, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
    tamper(&s.env, "UPDATE audit_log SET seq = 3 WHERE seq = -2").await;
    let (code, out) = verify(&s.env);
    assert_eq!(code, 1);
    assert!(out.contains("entry 2"), "{out}");

    let (s, _a) = busy_server().await;
    // Dropping the newest entry is caught by the head record.
    tamper(&s.env, "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").await;
    let (code, out) = verify(&s.env);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("removed from the end"), "{out}");
}

#[tokio::test]
async fn anchors_catch_a_wholesale_rewrite_of_the_chain() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let anchors = env.data_dir().join("anchors.jsonl");
    let anchor_arg = anchors.display().to_string();
    let s = Server::start_in(env, &["--audit-anchor-file", &anchor_arg, "--audit-anchor-interval-secs", "3600"]).await;
    let a = s.admin().await;
    make_client(&a, "Acme").await;
    // Anchor the head now from the host.
    let (code, out, err) = s.env.cli(&["audit", "anchor", "--audit-anchor-file", &anchor_arg], "");
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = s.env.cli(&["audit", "verify", "--anchors", &anchor_arg], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("anchors ok"));

    // An attacker with the database wipes the log and writes a fresh,
    // internally consistent chain: the chain verifies, the anchor does not.
    tamper(&s.env, "DELETE FROM audit_log").await;
    tamper(&s.env, "UPDATE audit_head SET seq = 0, hash = '0000000000000000000000000000000000000000000000000000000000000000'").await;
    let (code, out) = verify(&s.env);
    assert_eq!(code, 0, "an empty chain is self-consistent: {out}");
    let (code, out, _) = s.env.cli(&["audit", "verify", "--anchors", &anchor_arg], "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not match its anchors"), "{out}");
}

#[tokio::test]
async fn an_action_whose_audit_entry_cannot_be_written_does_not_happen() {
    let (s, a) = busy_server().await;
    // Break the audit table so inserts fail, then try to change something.
    tamper(&s.env, "ALTER TABLE audit_log RENAME TO audit_log_gone").await;
    let (st, v) = a.post("/api/v1/clients", json!({"name": "Should Not Exist"})).await;
    assert_eq!((st, error_code(&v).as_str()), (500, "internal"));
    tamper(&s.env, "ALTER TABLE audit_log_gone RENAME TO audit_log").await;
    let (_, list) = a.get("/api/v1/clients?q=Should").await;
    assert_eq!(list["total"], 0, "the client was not created without its audit entry");
    assert_eq!(verify(&s.env).0, 0);
}

#[tokio::test]
async fn anchors_can_be_posted_to_a_webhook() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (s, _a) = busy_server().await;
    // A real HTTP receiver on loopback that records what it was sent.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/steward-anchor", listener.local_addr().unwrap());
    let receiver = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                    .unwrap_or(0);
                if body.len() >= len {
                    sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await.unwrap();
                    return (head.to_string(), body.to_string());
                }
            }
            if n == 0 {
                panic!("connection closed early");
            }
        }
    });
    let args: Vec<String> =
        ["audit", "anchor", "--audit-anchor-webhook", &url].iter().map(|s| s.to_string()).chain(s.env.db_args()).collect();
    let (code, out, err) = tokio::task::spawn_blocking(move || run_cli(&args, "")).await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    let (head, body) = receiver.await.unwrap();
    assert!(head.starts_with("POST /steward-anchor"), "{head}");
    let anchor: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (_, export, _) = s.env.cli(&["audit", "export"], "");
    let last: serde_json::Value = serde_json::from_str(export.lines().last().unwrap()).unwrap();
    assert_eq!(anchor["seq"], last["seq"]);
    assert_eq!(anchor["hash"], last["hash"]);
}

/// The demo's fleet enrolls while people look at the log: a walk of the
/// chain that overlaps new entries must still verify (found when the demo's
/// verify raced its own simulated agents).
#[tokio::test]
async fn the_chain_verifies_while_entries_are_being_appended() {
    let (s, a) = busy_server().await;
    let writer = {
        let a = s.admin().await;
        tokio::spawn(async move {
            for i in 0..150 {
                make_client(&a, &format!("Busy {i}")).await;
            }
        })
    };
    let mut walks = 0;
    while !writer.is_finished() {
        let (st, v) = a.get("/api/v1/audit/verify").await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["ok"], true, "verify during appends, walk {walks}: {v}");
        walks += 1;
    }
    writer.await.unwrap();
    assert!(walks >= 5, "the walks overlapped the appends ({walks} walks)");
    let (_, v) = a.get("/api/v1/audit/verify").await;
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["entries_verified"].as_i64().unwrap() >= 150, "{v}");
}

/// Without a setting, anchors go to a file beside the data directory (not
/// in it, so a copy of the data directory alone does not carry them), and
/// the chain verifies against them.
#[tokio::test]
async fn anchors_go_beside_the_data_directory_by_default() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let (code, out, err) = env.cli(&["audit", "anchor"], "");
    assert_eq!(code, 0, "{out}{err}");
    let dir = std::path::absolute(env.data_dir()).unwrap();
    let expected = dir.parent().unwrap().join(format!("{}.audit-anchors.jsonl", dir.file_name().unwrap().to_string_lossy()));
    let anchors = std::fs::read_to_string(&expected).unwrap_or_else(|e| panic!("no anchor file at {}: {e}", expected.display()));
    assert!(anchors.lines().count() >= 1, "{anchors}");
    let (code, out, _) = env.cli(&["audit", "verify", "--anchors", expected.to_str().unwrap()], "");
    std::fs::remove_file(&expected).ok();
    assert_eq!(code, 0, "{out}");
}
