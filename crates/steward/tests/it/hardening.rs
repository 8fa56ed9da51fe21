//! The weaknesses the attack pass found beside the four breaks, each shown
//! closed: the audit chain cannot be flooded by strangers nor rewritten
//! from the database alone, strangers cannot lock an account out, a token
//! obeys the MFA rule, secrets and files are kept private, look-alike text
//! is refused, and a settings checkbox means what it shows.

use crate::common::*;
use serde_json::{json, Value};
use sqlx::Connection;
use std::time::Duration;

async fn audit(a: &Client, prefix: &str) -> Vec<Value> {
    let (_, log) = a.get(&format!("/api/v1/audit?action={prefix}&limit=500")).await;
    log["items"].as_array().unwrap().clone()
}

/// Three hundred failed sign-ins from one address add two rows to the
/// chain at once (the first failure, the first throttling), and one summary
/// each when the window closes (here: at a clean stop), counting them all.
#[tokio::test]
async fn strangers_cannot_flood_the_audit_log() {
    let mut s = Server::start().await;
    let c = Client::from_address(&s.base, "127.0.0.5");
    for i in 0..300 {
        let (st, _) = c.login(&format!("user{}@msp.example", i % 7), "wrong wrong wrong", None).await;
        assert!(st == 401 || st == 429, "{st}");
    }
    let a = s.admin().await;
    let failed = audit(&a, "auth.login_failed").await;
    let throttled = audit(&a, "auth.throttled").await;
    assert_eq!((failed.len(), throttled.len()), (1, 1), "one row each, not 300: {failed:?} {throttled:?}");
    // A clean stop writes the window's summaries.
    s.restart();
    let a = s.admin().await;
    let summaries: Vec<Value> =
        audit(&a, "auth.").await.into_iter().filter(|e| e["action"].as_str().unwrap().ends_with(".summary")).collect();
    let counted: i64 = summaries.iter().map(|e| e["details"]["count"].as_i64().unwrap()).sum();
    assert_eq!(counted + 2, 300, "every attempt is counted once: {summaries:?}");
    assert!(summaries.iter().all(|e| e["source_ip"] == "127.0.0.5"));
    assert!(summaries.iter().any(|e| e["details"]["targets"].as_array().unwrap().len() >= 7), "the emails tried are named");
}

/// Refused enrolments (anyone can send them: a bad token) are counted
/// and summarised like failed sign-ins, and a crowd of sources cannot
/// write a row each: past the per-window cap they share one bucket.
#[tokio::test]
async fn refused_enrolments_and_a_crowd_of_sources_cannot_flood_the_audit_log() {
    use crate::common::agents::{raw_connect, raw_recv, raw_send};
    use base64::Engine as _;
    use ed25519_dalek::Signer;
    use steward_protocol::messages::{proof_bytes, Purpose};
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut s = Server::start().await;
    // A well-made agent (its proof checks out) with a token that is not one.
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    for i in 0..40 {
        let (mut ws, nonce) = raw_connect(&s.base).await;
        let proof = b64(&key.sign(&proof_bytes(Purpose::Enroll, &nonce, 0)).to_bytes());
        raw_send(
            &mut ws,
            json!({"type": "enroll", "protocol": 1, "token": format!("stw_enroll_bogus{i}"), "public_key": b64(key.verifying_key().as_bytes()),
                   "proof": proof, "hostname": "h", "os": "o", "agent_version": "1"}),
        )
        .await;
        let answer = raw_recv(&mut ws).await;
        assert_ne!(answer["type"], "enrolled", "{answer}");
    }
    let cap = steward::audit::runtime::SOURCES_PER_WINDOW;
    for n in 0..cap + 20 {
        let c = Client::from_address(&s.base, &format!("127.0.{}.{}", 10 + n / 200, 1 + n % 200));
        let (st, _) = c.login(&format!("user{n}@msp.example"), "wrong wrong wrong", None).await;
        assert!(st == 401 || st == 429, "{st}");
    }
    let a = s.admin().await;
    let refused = audit(&a, "device.enroll_refused").await;
    assert_eq!(refused.len(), 1, "one row for forty refusals from one source: {refused:?}");
    let failed = audit(&a, "auth.login_failed").await;
    assert!(failed.len() <= cap + 2, "at most one row per source up to the cap, not {}: the crowd shares one", failed.len());
    s.restart();
    let a = s.admin().await;
    let summaries: Vec<Value> =
        audit(&a, "device.enroll_refused").await.into_iter().filter(|e| e["action"].as_str().unwrap().ends_with(".summary")).collect();
    let counted: i64 = summaries.iter().map(|e| e["details"]["count"].as_i64().unwrap()).sum();
    assert_eq!(counted + 1, 40, "every refusal counted once: {summaries:?}");
    let crowd: i64 = audit(&a, "auth.login_failed")
        .await
        .into_iter()
        .filter(|e| e["action"].as_str().unwrap().ends_with(".summary") && e["source_ip"] == "(other sources)")
        .map(|e| e["details"]["count"].as_i64().unwrap())
        .sum();
    assert!(crowd >= 19, "the sources past the cap are summed up together: {crowd}");
}

/// Failures from many addresses throttle the account, but the owner with
/// the right password from an address with no failures still signs in; a
/// wrong password then gets 429, so guessing is no faster.
#[tokio::test]
async fn strangers_cannot_lock_an_account_out() {
    let s = Server::start().await;
    let per_address = steward::auth::throttle::PER_PAIR;
    let addresses = steward::auth::throttle::PER_ACCOUNT.div_ceil(per_address);
    for n in 0..addresses {
        let c = Client::from_address(&s.base, &format!("127.0.1.{}", n + 1));
        for _ in 0..per_address {
            c.login(ADMIN_EMAIL, "a wrong guess!!", None).await;
        }
    }
    let owner = Client::from_address(&s.base, "127.0.2.1");
    let (st, _) = owner.login(ADMIN_EMAIL, "a wrong guess!!", None).await;
    assert_eq!(st, 429, "a wrong answer is refused while the account is throttled");
    let clean = Client::from_address(&s.base, "127.0.2.2");
    let (st, v) = clean.login(ADMIN_EMAIL, PASSWORD, None).await;
    assert_eq!(st, 200, "the right password from a clean address signs in: {v}");
    let guesser = Client::from_address(&s.base, "127.0.1.1");
    let (st, _) = guesser.login(ADMIN_EMAIL, PASSWORD, None).await;
    assert_eq!(st, 429, "an address that has guessed is held up");
}

/// A token of a user who has not enrolled MFA stops working once MFA is
/// required; a password change can revoke the user's tokens, and an
/// administrator can revoke all of a user's tokens.
#[tokio::test]
async fn tokens_obey_the_mfa_rule_and_can_be_revoked_with_the_password() {
    let s = Server::start().await;
    let a = s.admin().await;
    enrol_mfa(&a).await;
    let tech_id = make_user(&a, "tech@msp.example", "technician", None).await;
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;
    let (_, t) = tech.post("/api/v1/tokens", json!({"name": "sync", "scopes": ["clients:read"]})).await;
    let bot = Client::with_token(&s.base, t["token"].as_str().unwrap());
    assert_eq!(bot.get("/api/v1/clients").await.0, 200);
    assert_eq!(a.patch("/api/v1/settings", json!({"require_mfa": true})).await.0, 200);
    let (st, v) = bot.get("/api/v1/clients").await;
    assert_eq!((st, error_code(&v).as_str()), (403, "mfa_enrollment_required"), "{v}");
    assert_eq!(a.patch("/api/v1/settings", json!({"require_mfa": false})).await.0, 200);
    assert_eq!(bot.get("/api/v1/clients").await.0, 200);

    // Changing the password can take the tokens with it.
    let (st, _) = tech
        .post("/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": "a brand new passphrase", "revoke_tokens": true}))
        .await;
    assert_eq!(st, 204);
    assert_eq!(bot.get("/api/v1/clients").await.0, 401);
    // An administrator revokes every token of a user.
    tech.login_ok("tech@msp.example", "a brand new passphrase").await;
    let (_, t2) = tech.post("/api/v1/tokens", json!({"name": "again", "scopes": ["clients:read"]})).await;
    let bot2 = Client::with_token(&s.base, t2["token"].as_str().unwrap());
    assert_eq!(bot2.get("/api/v1/clients").await.0, 200);
    let (st, v) = a.post(&format!("/api/v1/users/{tech_id}/revoke-tokens"), json!({})).await;
    assert_eq!((st, v["revoked"].as_i64()), (200, Some(1)), "{v}");
    assert_eq!(bot2.get("/api/v1/clients").await.0, 401);
    assert!(!audit(&a, "user.tokens_revoke").await.is_empty());
    // Starting MFA enrolment replaces the stored secret: it is audited.
    let (st, _) = tech.post("/api/v1/me/mfa/start", json!({})).await;
    assert_eq!(st, 200);
    assert_eq!(audit(&a, "user.mfa_start").await.len(), 2, "the administrator's and the technician's");
}

/// The chain is keyed: someone with only the database who changes an entry
/// and re-hashes from there on (or deletes the newest and rewinds the head)
/// is caught, by the key or by the anchor written next to the data directory.
#[tokio::test]
async fn the_audit_chain_cannot_be_rewritten_from_the_database_alone() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let anchors = env.data_dir().join("anchors.jsonl");
    let mut s = Server::start_in(env, &["--audit-anchor-interval-secs", "1"]).await;
    let a = s.admin().await;
    for i in 0..5 {
        make_client(&a, &format!("Client {i}")).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    s.terminate();
    assert!(std::fs::read_to_string(&anchors).unwrap().lines().count() >= 1, "anchors are written by default");
    let (code, out, _) = s.env.cli(&["audit", "verify", "--anchors", anchors.to_str().unwrap()], "");
    assert_eq!(code, 0, "an untouched chain verifies: {out}");

    // Rewrite entry 3 and re-hash every entry after it with plain SHA-256,
    // as a database-only attacker could; then move the head to match.
    let rows = db_rows(&s.env).await;
    let mut prev = rows[1].2.clone();
    for (seq, _, _, _) in rows.iter().skip(2) {
        let fake = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(format!("{prev}{seq}").as_bytes()));
        exec(&s.env, &format!("UPDATE audit_log SET prev_hash = '{prev}', hash = '{fake}', actor = 'mallory' WHERE seq = {seq}")).await;
        prev = fake;
    }
    let last = rows.last().unwrap().0;
    exec(&s.env, &format!("UPDATE audit_head SET hash = '{prev}' WHERE id = 1")).await;
    let (code, out, _) = s.env.cli(&["audit", "verify"], "");
    assert_eq!(code, 1, "a re-hashed chain does not verify without the key: {out}");
    assert!(out.contains("entry 3"), "{out}");

    // The same attacker re-hashes the whole chain properly as plain SHA-256
    // and marks it as "from before keys" (`keyed_from` past the head):
    // still refused, at its first entry, for want of the key.
    let store = steward::store::Store::open(s.env.data_dir(), s.env.database_url.as_deref()).await.unwrap();
    let entries = steward::audit::store::page_after(&store, 0, 10_000).await.unwrap();
    store.close().await;
    let mut prev = steward::audit::chain::GENESIS.to_string();
    for e in &entries {
        let mut forged = e.clone();
        forged.actor = if e.seq == 3 { "mallory".into() } else { e.actor.clone() };
        let hash = steward::audit::chain::entry_hash(None, &prev, &forged);
        exec(
            &s.env,
            &format!("UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}', actor = '{}' WHERE seq = {}", forged.actor, e.seq),
        )
        .await;
        prev = hash;
    }
    exec(&s.env, &format!("UPDATE audit_head SET hash = '{prev}', keyed_from = 1000000 WHERE id = 1")).await;
    let (code, out, _) = s.env.cli(&["audit", "verify"], "");
    assert_eq!(code, 1, "a chain re-hashed without the key does not verify, whatever keyed_from says: {out}");
    assert!(out.contains("entry 1: hashed without the chain's key"), "{out}");
    exec(&s.env, "UPDATE audit_head SET keyed_from = NULL WHERE id = 1").await;
    assert_eq!(s.env.cli(&["audit", "verify"], "").0, 1, "nor with keyed_from cleared");

    // Restore it, then delete the newest entry and rewind the head to the one before:
    // a chain that is valid in itself, but shorter than its anchors say.
    for (seq, prev_hash, hash, actor) in rows.iter() {
        exec(&s.env, &format!("UPDATE audit_log SET prev_hash = '{prev_hash}', hash = '{hash}', actor = '{actor}' WHERE seq = {seq}"))
            .await;
    }
    exec(&s.env, &format!("UPDATE audit_head SET hash = '{}' WHERE id = 1", rows.last().unwrap().2)).await;
    let (code, out, _) = s.env.cli(&["audit", "verify"], "");
    assert_eq!(code, 0, "restored: {out}");
    let before_last = &rows[rows.len() - 2];
    exec(&s.env, &format!("DELETE FROM audit_log WHERE seq = {last}")).await;
    exec(&s.env, &format!("UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1", before_last.0, before_last.2)).await;
    let (code, out, _) = s.env.cli(&["audit", "verify"], "");
    assert_eq!(code, 0, "a truncated chain is consistent in itself: {out}");
    let (code, out, _) = s.env.cli(&["audit", "verify", "--anchors", anchors.to_str().unwrap()], "");
    assert_eq!(code, 1, "the anchor next to the data directory catches a truncation: {out}");
}

async fn db_rows(env: &Env) -> Vec<(i64, String, String, String)> {
    let q = "SELECT seq, prev_hash, hash, actor FROM audit_log ORDER BY seq";
    match &env.database_url {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as::<_, (i64, String, String, String)>(q).fetch_all(&mut c).await.unwrap()
        }
        None => {
            let mut c =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", env.data_dir().join("steward.db").display())).await.unwrap();
            sqlx::query_as::<_, (i64, String, String, String)>(q).fetch_all(&mut c).await.unwrap()
        }
    }
}

async fn exec(env: &Env, sql: &str) {
    raw_sql(env, sql).await
}

/// The data directory is the owner's alone, and a master key others can
/// read stops the server with the fix in the message.
#[cfg(unix)]
#[tokio::test]
async fn files_are_the_owners_alone_and_a_readable_master_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::sqlite();
    let data = env.data_dir().join("fresh");
    let args = ["--data-dir".to_string(), data.display().to_string()];
    let (code, _, err) = run_cli(
        &[
            "admin".into(),
            "create".into(),
            "--email".into(),
            ADMIN_EMAIL.into(),
            "--password-stdin".into(),
            args[0].clone(),
            args[1].clone(),
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{err}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for f in ["steward.db", "master.key"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    for f in ["steward.db-wal", "steward.db-shm"] {
        if data.join(f).exists() {
            assert_eq!(mode(&data.join(f)), 0o600, "{f}");
        }
    }
    std::fs::set_permissions(data.join("master.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, err) = run_cli(&["serve".into(), args[0].clone(), args[1].clone(), "--listen".into(), "127.0.0.1:0".into()], "");
    assert_ne!(code, 0);
    assert!(err.contains("chmod 600"), "says how to fix it: {err}");
}

/// Recovery codes carry at least 80 bits and the database keeps a keyed
/// hash of them, not their plain SHA-256.
#[tokio::test]
async fn recovery_codes_are_long_and_kept_under_a_keyed_hash() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (_, codes) = enrol_mfa(&a).await;
    for c in &codes {
        let letters: String = c.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        assert!(letters.len() as f64 * 5.0 >= 80.0, "{c}: at least 80 bits (5 bits a character)");
    }
    let plain: Vec<String> =
        codes.iter().map(|c| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(c.replace('-', "").as_bytes()))).collect();
    let stored = match &s.env.database_url {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as::<_, (String,)>("SELECT code_hash FROM recovery_codes").fetch_all(&mut c).await.unwrap()
        }
        None => {
            let mut c =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", s.env.data_dir().join("steward.db").display())).await.unwrap();
            sqlx::query_as::<_, (String,)>("SELECT code_hash FROM recovery_codes").fetch_all(&mut c).await.unwrap()
        }
    };
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|(h,)| !plain.contains(h)), "not the plain SHA-256 of a code");
    // And one works, once.
    let c = s.client();
    assert_eq!(c.login(ADMIN_EMAIL, PASSWORD, Some(&codes[3])).await.0, 200);
    assert_eq!(s.client().login(ADMIN_EMAIL, PASSWORD, Some(&codes[3])).await.0, 401);
}

/// Names with bidirectional controls and email addresses that mix
/// alphabets are refused, naming the field.
#[tokio::test]
async fn look_alike_text_is_refused() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (st, v) = a.post("/api/v1/clients", json!({"name": "invoice\u{202E}fdp.exe"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("name")), "{v}");
    let (st, v) =
        a.post("/api/v1/users", json!({"email": "\u{430}dmin@test.local", "name": "x", "role": "technician", "password": PASSWORD})).await;
    // The shape of an address, refused for what it is: 422.
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("email")), "{v}");
    let client = make_client(&a, "Acme").await;
    let (st, v) = a.post(&format!("/api/v1/clients/{client}/contacts"), json!({"name": "Bob", "email": "bob@ex\u{430}mple.com"})).await;
    // The shape of an address, refused for what it is: 422.
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("email")), "{v}");
}

/// A settings form's empty checkbox field is off, not on.
#[tokio::test]
async fn a_settings_checkbox_means_what_it_shows() {
    let s = Server::start().await;
    let a = s.admin().await;
    enrol_mfa(&a).await;
    let (st, _, _) = a.form("/settings", &[("require_mfa", ""), ("script_approval_threshold", "10")]).await;
    assert_eq!(st, 200);
    let (_, v) = a.get("/api/v1/settings").await;
    assert_eq!(v["require_mfa"], false, "an empty field leaves MFA off");
    let (st, _, _) = a.form("/settings", &[("require_mfa", "maybe")]).await;
    assert_eq!(st, 400, "a value a checkbox never sends is refused");
    let (st, _, _) = a.form("/settings", &[("require_mfa", "1")]).await;
    assert_eq!(st, 200);
    let (_, v) = a.get("/api/v1/settings").await;
    assert_eq!(v["require_mfa"], true);
}

/// With a one-minute idle timeout, activity in the first minute keeps the
/// session alive past it.
#[tokio::test]
async fn early_activity_extends_a_short_idle_timeout() {
    let env = Env::new().await;
    env.create_admin(ADMIN_EMAIL);
    let s = Server::start_in(env, &["--session-idle-minutes", "1"]).await;
    let a = s.admin().await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(a.get("/api/v1/me").await.0, 200);
    tokio::time::sleep(Duration::from_secs(45)).await;
    assert_eq!(a.get("/api/v1/me").await.0, 200, "65 s after sign-in, 45 s after activity: still signed in");
}

/// A request refused before its body is read (not signed in, a path id
/// that is not a number) gets its answer even with a large body, for a
/// client that sends the whole body before it reads (as Python's do): the
/// server reads a declared body first instead of closing the connection
/// under it, which such a client saw as a reset or a TLS EOF, never as our
/// 401 or 400 (the CI fuzzer lost requests this way).
#[tokio::test]
async fn a_request_refused_before_its_body_is_read_still_gets_its_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start().await;
    let addr = s.base.trim_start_matches("https://").to_string();
    let body = format!(r#"{{"name":"x","notes":"{}"}}"#, "n".repeat(900_000));
    for (path, want) in [("/api/v1/clients/1/vault", "401"), ("/api/v1/clients/not-a-number/vault", "401")] {
        for _ in 0..3 {
            let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let mut tls = crate::common::agents::tls_over(tcp).await.unwrap();
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            tls.write_all(head.as_bytes()).await.unwrap();
            // All of it, then read: the write fails if the server closed early.
            tls.write_all(body.as_bytes()).await.expect("the server reads the whole body before it answers");
            tls.flush().await.unwrap();
            let mut answer = String::new();
            let _ = tls.read_to_string(&mut answer).await;
            assert!(answer.starts_with(&format!("HTTP/1.1 {want}")), "{path}: {}", answer.lines().next().unwrap_or(""));
        }
    }
}
