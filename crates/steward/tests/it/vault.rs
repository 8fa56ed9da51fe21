//! The credentials vault, end to end: secrets never leave the server but
//! through the reveal (not in lists, entries, pages, the audit log, logs,
//! the search index, the database file, its WAL or a backup: the canary);
//! a reveal needs a session with a recent second factor (never a token),
//! is audited and logged with its fields, and a burst is refused and told
//! to the administrators; changes keep versions that can be revealed and
//! restored; a sealed value copied onto another entry does not open; and
//! bad input gets a clear error.

use crate::common::*;
use serde_json::{json, Value};

const PASSWORD_CANARY: &str = "Canary-Pw-7f3a9e1d";
const FIELD_CANARY: &str = "Canary-Field-91c2b4";
const SEED: &str = "JBSWY3DPEHPK3PXP";

/// A server, an administrator with a second factor (so reveals work), one
/// client and an entry with a password, a TOTP seed and a secret field.
async fn vault() -> (Server, Client, String, i64, Value) {
    let s = Server::start().await;
    let a = s.admin().await;
    let (secret, _) = enrol_mfa(&a).await;
    let c = make_client(&a, "Harbor Dental").await;
    let (st, e) = a
        .post(
            &format!("/api/v1/clients/{c}/vault"),
            json!({"name": "Firewall admin", "username": "admin", "password": PASSWORD_CANARY, "url": "https://192.0.2.1",
                   "totp_secret": "jbsw y3dp ehpk 3pxp", "notes": "Rack 3", "fields": {"recovery key": FIELD_CANARY}, "folder": "Network"}),
        )
        .await;
    assert_eq!(st, 201, "{e}");
    (s, a, secret, c, e)
}

fn no_canary(what: &str, text: &str) {
    assert!(!text.contains(PASSWORD_CANARY) && !text.contains(FIELD_CANARY) && !text.contains(SEED), "a secret in {what}: {text}");
}

#[tokio::test]
async fn secrets_leave_only_through_the_reveal_which_is_audited() {
    let (s, a, secret, c, e) = vault().await;
    let id = e["id"].as_i64().unwrap();
    let base = format!("/api/v1/clients/{c}/vault");
    assert_eq!((e["has_totp"].as_bool(), e["version"].as_i64(), e["field_names"].clone()), (Some(true), Some(1), json!(["recovery key"])));
    no_canary("the created entry", &e.to_string());
    for path in [base.clone(), format!("{base}/{id}"), format!("{base}/{id}/versions"), format!("/api/v1/clients/{c}/vault-report")] {
        let (st, v) = a.get(&path).await;
        assert_eq!(st, 200, "{path}: {v}");
        no_canary(&path, &v.to_string());
    }
    for page in [format!("/clients/{c}/vault"), format!("/clients/{c}/vault/{id}"), format!("/clients/{c}")] {
        let (st, html) = a.get_text(&page).await;
        assert_eq!(st, 200, "{page}");
        assert!(html.contains("Firewall admin"), "{page}: {html}");
        no_canary(&page, &html);
    }

    let (st, r) = a.post(&format!("{base}/{id}/reveal"), json!({})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["password"].as_str(), r["fields"]["recovery key"].as_str(), r["totp_secret"].as_str()),
        (Some(PASSWORD_CANARY), Some(FIELD_CANARY), Some(SEED))
    );
    let code = r["totp_code"].as_str().unwrap();
    assert!([totp_code(SEED, 0), totp_code(SEED, -1)].contains(&code.to_string()), "the current code of the seed: {code}");
    assert!((1..=30).contains(&r["totp_seconds_left"].as_i64().unwrap()));

    // Audited with what was revealed, and listed on the entry's page; the
    // audit log itself holds no secret.
    let (_, audit) = a.get("/api/v1/audit?limit=50").await;
    no_canary("the audit log", &audit.to_string());
    let rev = audit["items"].as_array().unwrap().iter().find(|x| x["action"] == "vault.reveal").expect("the reveal is audited");
    assert_eq!(rev["details"]["fields"], json!(["password", "totp_secret", "field:recovery key"]), "{rev}");
    assert_eq!(rev["target_id"], id.to_string());
    let (_, html) = a.get_text(&format!("/clients/{c}/vault/{id}")).await;
    assert!(html.contains("password, totp_secret, field:recovery key"), "the reveal log: {html}");

    // A change keeps the earlier version, which can be revealed and restored.
    let (st, v2) = a.patch(&format!("{base}/{id}"), json!({"password": "Second-Password-2", "notes": "Rack 4"})).await;
    assert_eq!((st, v2["version"].as_i64()), (200, Some(2)), "{v2}");
    assert_ne!(v2["password_changed_at"], e["password_changed_at"]);
    let (_, versions) = a.get(&format!("{base}/{id}/versions")).await;
    assert_eq!(versions[0]["version"], 1, "{versions}");
    let (_, old) = a.post(&format!("{base}/{id}/reveal"), json!({"version": 1})).await;
    assert_eq!(old["password"], PASSWORD_CANARY);
    let (_, now) = a.post(&format!("{base}/{id}/reveal"), json!({})).await;
    assert_eq!(
        (now["password"].as_str(), now["fields"]["recovery key"].as_str()),
        (Some("Second-Password-2"), Some(FIELD_CANARY)),
        "fields kept"
    );
    let (st, v3) = a.post(&format!("{base}/{id}/versions/1/restore"), json!({})).await;
    assert_eq!((st, v3["version"].as_i64(), v3["notes"].as_str()), (200, Some(3), Some("Rack 3")), "{v3}");
    let (_, back) = a.post(&format!("{base}/{id}/reveal"), json!({})).await;
    assert_eq!(back["password"], PASSWORD_CANARY);
    assert_eq!(a.post(&format!("{base}/{id}/versions/99/restore"), json!({})).await.0, 422);

    // Reused passwords are found by their keyed hashes.
    let (_, twin) = a.post(&base, json!({"name": "Switch admin", "password": PASSWORD_CANARY})).await;
    let (_, report) = a.get(&format!("/api/v1/clients/{c}/vault-report")).await;
    let fw = report.as_array().unwrap().iter().find(|x| x["entry_id"] == id).unwrap();
    assert_eq!(fw["reused_with"], json!([twin["id"]]), "{report}");
    let (st, page) = a.get_text(&format!("/clients/{c}/vault-report")).await;
    assert_eq!(st, 200);
    assert!(page.contains("Switch admin") && page.contains("2 reused"), "the report's page: {page}");
    no_canary("the report page", &page);

    // Archived: out of the list, kept, and back again.
    assert_eq!(a.delete(&format!("{base}/{id}")).await.0, 204);
    let (_, list) = a.get(&base).await;
    assert_eq!(list["total"], 1, "{list}");
    let (_, list) = a.get(&format!("{base}?archived=true")).await;
    assert_eq!(list["total"], 2);
    let (st, v) = a.patch(&format!("{base}/{id}"), json!({"archived": false})).await;
    assert_eq!((st, v["archived_at"].clone()), (200, Value::Null));

    // A fresh code proves the second factor again.
    let (st, _) = a.post("/api/v1/me/mfa/verify", json!({"code": "000000"})).await;
    assert_eq!(st, 401);
    let (st, v) = a.post("/api/v1/me/mfa/verify", json!({"code": totp_code(&secret, 1)})).await;
    assert_eq!(st, 204, "{v}");
    drop(s);
}

#[tokio::test]
async fn a_reveal_needs_a_session_with_a_recent_second_factor_and_bursts_are_stopped() {
    let (s, a, _, c, e) = vault().await;
    let reveal = format!("/api/v1/clients/{c}/vault/{}/reveal", e["id"]);

    // A technician without a second factor sees the entry but cannot reveal.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    assert_eq!(t.get(&format!("/api/v1/clients/{c}/vault/{}", e["id"])).await.0, 200);
    let (st, v) = t.post(&reveal, json!({})).await;
    assert_eq!((st, error_code(&v)), (403, "mfa_required".to_string()), "{v}");
    assert_eq!(t.post("/api/v1/me/mfa/verify", json!({"code": "123456"})).await.0, 409, "nothing to verify without a second factor");
    // Setting one up proves it: the reveal goes through.
    enrol_mfa(&t).await;
    assert_eq!(t.post(&reveal, json!({})).await.0, 200);

    // An API token never reveals, whatever its scopes.
    let (st, tok) =
        a.post("/api/v1/tokens", json!({"name": "script", "scopes": ["vault:read", "vault:reveal"], "expires_in_days": 1})).await;
    assert_eq!(st, 201, "{tok}");
    let bot = Client::with_token(&s.base, tok["token"].as_str().unwrap());
    assert_eq!(bot.get(&format!("/api/v1/clients/{c}/vault")).await.0, 200);
    let (st, v) = bot.post(&reveal, json!({})).await;
    assert_eq!((st, error_code(&v)), (403, "forbidden".to_string()), "{v}");
    no_canary("the refusal", &v.to_string());

    // A read-only user sees entries and never reveals.
    make_user(&a, "auditor@msp.example", "read_only", None).await;
    let r = s.client();
    r.login_ok("auditor@msp.example", PASSWORD).await;
    assert_eq!(r.get(&format!("/api/v1/clients/{c}/vault")).await.0, 200);
    assert_eq!(r.post(&reveal, json!({})).await.0, 403);
    assert_eq!(r.post(&format!("/api/v1/clients/{c}/vault"), json!({"name": "x"})).await.0, 403);

    // A burst: thirty reveals in ten minutes, then refused; the
    // administrators hear of it once.
    for _ in 0..29 {
        assert_eq!(t.post(&reveal, json!({})).await.0, 200);
    }
    let (st, v) = t.post(&reveal, json!({})).await;
    assert_eq!((st, error_code(&v)), (429, "rate_limited".to_string()), "{v}");
    assert_eq!(t.post(&reveal, json!({})).await.0, 429);
    let (_, n) = a.get("/api/v1/notifications").await;
    let told: Vec<&Value> = n.as_array().unwrap().iter().filter(|x| x["kind"] == "vault.burst").collect();
    assert_eq!(told.len(), 1, "{n}");
    assert!(told[0]["text"].as_str().unwrap().contains("tech@msp.example"));
}

#[tokio::test]
async fn secrets_are_nowhere_at_rest_and_a_sealed_value_moved_to_another_entry_does_not_open() {
    let (s, a, _, c, e) = vault().await;
    let (_, other) = a.post(&format!("/api/v1/clients/{c}/vault"), json!({"name": "Wi-Fi", "password": "Another-Secret-55"})).await;
    // Searchable by name, never by a secret.
    let (_, hits) = a.get(&format!("/api/v1/search?q={PASSWORD_CANARY}")).await;
    no_canary("search hits", &hits["hits"].to_string());

    // The canary: the data directory (the database, its WAL, the search
    // index, files, the server's log) and a backup hold no secret.
    if s.env.database_url.is_none() {
        let backup = s.env.data_dir().join("backup.db");
        let (code, out, err) = run_cli(
            &["backup".into(), "--data-dir".into(), s.env.data_dir().display().to_string(), "--to".into(), backup.display().to_string()],
            "",
        );
        assert_eq!(code, 0, "{out}{err}");
    }
    let mut scanned = 0;
    let mut stack = vec![s.env.data_dir().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap_or_default();
            scanned += 1;
            for canary in [PASSWORD_CANARY, FIELD_CANARY, SEED, "Another-Secret-55"] {
                assert!(!bytes.windows(canary.len()).any(|w| w == canary.as_bytes()), "{canary} in {}", p.display());
            }
        }
    }
    assert!(scanned >= 3, "the scan read the data directory ({scanned} files)");

    // A sealed value copied onto another entry (behind the server's back)
    // does not open: the reveal fails without showing either secret.
    let (id, other_id) = (e["id"].as_i64().unwrap(), other["id"].as_i64().unwrap());
    raw_sql(&s.env, &format!("UPDATE vault_entries SET sealed = (SELECT sealed FROM vault_entries WHERE id = {id}) WHERE id = {other_id}"))
        .await;
    let (st, v) = a.post(&format!("/api/v1/clients/{c}/vault/{other_id}/reveal"), json!({})).await;
    assert_eq!(st, 500, "{v}");
    no_canary("the error", &v.to_string());
    assert!(s.stderr().contains(&format!("vault entry {other_id} version 1 does not open")), "the log names the entry");
    no_canary("the log", &s.stderr());
    // The entry it came from still opens.
    assert_eq!(a.post(&format!("/api/v1/clients/{c}/vault/{id}/reveal"), json!({})).await.1["password"], PASSWORD_CANARY);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_another_clients_vault_does_not_exist() {
    let (s, a, _, c, e) = vault().await;
    let base = format!("/api/v1/clients/{c}/vault");
    for (body, status, field) in [
        (json!({"name": ""}), 400, "name"),
        (json!({"name": "x", "totp_secret": "not a seed!"}), 422, "totp_secret"),
        (json!({"name": "x", "password": "p".repeat(1_001)}), 400, "password"),
        (json!({"name": "x", "fields": {" ": "v"}}), 422, "fields"),
        (json!({"name": "x", "notes": "bell\u{7}"}), 400, "notes"),
        (json!({"name": "x", "url": "u".repeat(201)}), 400, "url"),
    ] {
        let (st, v) = a.post(&base, body.clone()).await;
        assert_eq!((st, v["error"]["field"].as_str()), (status, Some(field)), "{body}: {v}");
    }
    assert_eq!(a.post(&base, json!({"name": "x", "secret": "y"})).await.0, 400, "unknown fields are refused");
    let (st, v) = a.get("/api/v1/vault/password?length=32&symbols=false").await;
    assert_eq!(st, 200);
    let p = v["password"].as_str().unwrap();
    assert!(p.len() == 32 && p.chars().all(|c| c.is_ascii_alphanumeric()), "{p}");
    let (_, v) = a.get("/api/v1/vault/password?words=5").await;
    assert_eq!(v["password"].as_str().unwrap().split('-').count(), 5);
    assert_eq!(a.get("/api/v1/vault/password?length=4").await.0, 400);
    assert_eq!(a.get("/api/v1/vault/password?lower=false&upper=false&digits=false&symbols=false").await.0, 422);

    // A technician limited to another client: the vault and its entry are not there.
    let mine = make_client(&a, "Mine Ltd").await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    enrol_mfa(&t).await;
    for path in
        [base.clone(), format!("{base}/{}", e["id"]), format!("{base}/{}/versions", e["id"]), format!("/api/v1/clients/{c}/vault-report")]
    {
        assert_eq!(t.get(&path).await.0, 404, "{path}");
    }
    assert_eq!(t.post(&format!("{base}/{}/reveal", e["id"]), json!({})).await.0, 404);
    assert_eq!(t.get_text(&format!("/clients/{c}/vault/{}", e["id"])).await.0, 404);
    assert_eq!(t.get_text(&format!("/clients/{c}/vault-report")).await.0, 404);
    // Nor under their own client's path.
    assert_eq!(t.post(&format!("/api/v1/clients/{mine}/vault/{}/reveal", e["id"]), json!({})).await.0, 404);
}
