//! Sign-in, MFA, sessions, CSRF/Origin and throttling, against the real server.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn password_sign_in_and_errors_that_do_not_leak_accounts() {
    let s = Server::start().await;
    let c = s.client();
    let (st, v) = c.login(ADMIN_EMAIL, "wrong password here", None).await;
    assert_eq!((st, error_code(&v).as_str()), (401, "invalid_credentials"));
    let (st2, v2) = c.login("nobody@msp.example", "wrong password here", None).await;
    assert_eq!(st2, 401);
    assert_eq!(v["error"]["message"], v2["error"]["message"], "same answer whether or not the email exists");

    let (st, me) = c.login(ADMIN_EMAIL, PASSWORD, None).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["role"], "admin");
    let (st, me) = c.get("/api/v1/me").await;
    assert_eq!((st, me["email"].as_str()), (200, Some(ADMIN_EMAIL)));

    // Failed and successful sign-ins are audited.
    let (_, log) = c.get("/api/v1/audit?action=auth.").await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    // The first failure from an address is written at once; the rest of
    // its window go into one summary (tests/it/hardening.rs).
    assert_eq!(actions.iter().filter(|a| **a == "auth.login_failed").count(), 1, "{actions:?}");
    assert!(actions.contains(&"auth.login"));

    // Logout ends the session.
    let (st, _) = c.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(st, 204);
    let (st, _) = c.get("/api/v1/me").await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn session_cookie_is_host_prefixed_secure_httponly_lax_and_rotates() {
    let s = Server::start().await;
    let c = s.client();
    let r =
        c.raw(reqwest::Method::POST, "/api/v1/auth/login").json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD})).send().await.unwrap();
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-steward_session="), "{cookie}");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let c = s.client();
    let r2 =
        c.raw(reqwest::Method::POST, "/api/v1/auth/login").json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD})).send().await.unwrap();
    let cookie2 = r2.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert_ne!(cookie.split(';').next(), cookie2.split(';').next(), "a new session id at every sign-in");
}

#[tokio::test]
async fn totp_mfa_sign_in_replay_and_recovery_codes() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (secret, codes) = enrol_mfa(&a).await;
    assert_eq!(codes.len(), 10);

    let c = s.client();
    let (st, v) = c.login(ADMIN_EMAIL, PASSWORD, None).await;
    assert_eq!((st, error_code(&v).as_str()), (401, "mfa_required"));
    let (st, v) = c.login(ADMIN_EMAIL, PASSWORD, Some("000000")).await;
    assert_eq!((st, error_code(&v).as_str()), (401, "invalid_mfa_code"));

    // The enrolment consumed this step's code; the next step's works once.
    let code = totp_code(&secret, 1);
    let (st, me) = c.login(ADMIN_EMAIL, PASSWORD, Some(&code)).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["mfa_enabled"], true);
    let (st, v) = s.client().login(ADMIN_EMAIL, PASSWORD, Some(&code)).await;
    assert_eq!((st, error_code(&v).as_str()), (401, "invalid_mfa_code"), "a TOTP code is accepted once only");
    // An older step's code is refused too.
    let (st, _) = s.client().login(ADMIN_EMAIL, PASSWORD, Some(&totp_code(&secret, 0))).await;
    assert_eq!(st, 401);

    // A recovery code works once.
    let (st, _) = s.client().login(ADMIN_EMAIL, PASSWORD, Some(&codes[3])).await;
    assert_eq!(st, 200);
    let (st, _) = s.client().login(ADMIN_EMAIL, PASSWORD, Some(&codes[3])).await;
    assert_eq!(st, 401);

    // The TOTP secret is encrypted at rest: not in the database in clear.
    let (_, out, _) = s.env.cli(&["audit", "export"], "");
    assert!(!out.contains(&secret));
    if s.env.database_url.is_none() {
        let db = std::fs::read(s.env.data_dir().join("steward.db")).unwrap();
        let raw = totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap();
        assert!(!db.windows(raw.len()).any(|w| w == raw.as_slice()), "raw secret bytes found in the database file");
        assert!(!String::from_utf8_lossy(&db).contains(&secret), "base32 secret found in the database file");
    }
}

#[tokio::test]
async fn web_sign_in_goes_through_the_totp_step() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (secret, _) = enrol_mfa(&a).await;
    let c = s.client();
    let (st, html) = c.get_text("/login").await;
    assert_eq!(st, 200);
    assert!(html.contains("name=\"password\""));
    let (st, loc, _) = c.form("/login", &[("email", ADMIN_EMAIL), ("password", PASSWORD), ("next", "/clients")]).await;
    assert_eq!(st, 303);
    assert!(loc.starts_with("/login/mfa"), "{loc}");
    // Not signed in yet.
    let (st, _) = c.get("/api/v1/me").await;
    assert_eq!(st, 401);
    let (st, _, body) = c.form("/login/mfa", &[("code", "123456"), ("next", "/clients")]).await;
    assert_eq!(st, 401);
    assert!(body.contains("wrong or already used"));
    let (st, loc, _) = c.form("/login/mfa", &[("code", &totp_code(&secret, 1)), ("next", "/clients")]).await;
    assert_eq!((st, loc.as_str()), (303, "/clients"));
    let (st, _) = c.get("/api/v1/me").await;
    assert_eq!(st, 200);
    // An open redirect is not followed.
    let c2 = s.client();
    let (_, loc, _) = c2.form("/login", &[("email", "x@y.example"), ("password", "nope nope nope"), ("next", "//evil.example")]).await;
    assert_eq!(loc, "", "failed sign-in re-renders the form");
}

#[tokio::test]
async fn sessions_can_be_listed_and_revoked() {
    let s = Server::start().await;
    let laptop = s.admin().await;
    let phone = s.admin().await;
    let (_, list) = laptop.get("/api/v1/me/sessions").await;
    assert_eq!(list["total"], 2);
    let list = list["items"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let (_, one) = laptop.get("/api/v1/me/sessions?limit=1&offset=1").await;
    assert_eq!((one["items"].as_array().unwrap().len(), one["total"].as_i64()), (1, Some(2)));
    let other = list.iter().find(|x| x["current"] == false).unwrap()["id"].as_i64().unwrap();
    let (st, _) = laptop.delete(&format!("/api/v1/me/sessions/{other}")).await;
    assert_eq!(st, 204);
    let (st, _) = phone.get("/api/v1/me").await;
    assert_eq!(st, 401, "a revoked session stops working at once");
    let (st, _) = laptop.get("/api/v1/me").await;
    assert_eq!(st, 200);
    // Someone else's session id is simply not found.
    let (st, _) = laptop.delete("/api/v1/me/sessions/999999").await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn csrf_token_and_origin_are_required_for_cookie_writes() {
    let s = Server::start().await;
    let a = s.admin().await;
    let csrf = a.csrf.lock().unwrap().clone().unwrap();

    // No CSRF token.
    let r = a.http.post(s.url("/api/v1/clients")).json(&json!({"name": "A"})).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Wrong token.
    let r = a.http.post(s.url("/api/v1/clients")).header("x-csrf-token", "nope").json(&json!({"name": "A"})).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Right token, foreign Origin.
    let r = a
        .http
        .post(s.url("/api/v1/clients"))
        .header("x-csrf-token", &csrf)
        .header("origin", "https://evil.example")
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("cross-origin"));
    // Cross-site fetch metadata without Origin.
    let r = a
        .http
        .post(s.url("/api/v1/clients"))
        .header("x-csrf-token", &csrf)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A form post without the _csrf field.
    let r = a.http.post(s.url("/clients")).header("origin", &s.base).form(&[("name", "A")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Login CSRF: a cross-origin sign-in form is refused.
    let r = s
        .client()
        .http
        .post(s.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Same-origin with the token works.
    let r = a
        .http
        .post(s.url("/api/v1/clients"))
        .header("x-csrf-token", &csrf)
        .header("origin", &s.base)
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, list) = a.get("/api/v1/clients").await;
    assert_eq!(list["total"], 1, "none of the refused writes happened");
}

#[tokio::test]
async fn ten_failures_throttle_the_account_and_the_address_with_retry_after() {
    let s = Server::start().await;
    let c = s.client();
    for _ in 0..10 {
        let (st, _) = c.login(ADMIN_EMAIL, "not the password!", None).await;
        assert_eq!(st, 401);
    }
    let r =
        c.raw(reqwest::Method::POST, "/api/v1/auth/login").json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), 429, "even the right password is refused while throttled");
    let retry: u64 = r.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "too_many_attempts");
    // Another account from that address is not held up by this one's failures...
    let (st, _) = c.login("someone-else@msp.example", "not the password!", None).await;
    assert_eq!(st, 401);
    // ...until the address has failed often enough on any accounts (unknown emails count the same).
    for i in 0..(steward::auth::throttle::PER_ADDRESS - 11) {
        let (st, _) = c.login(&format!("guess{i}@msp.example"), "not the password!", None).await;
        assert_eq!(st, 401);
    }
    let (st, _) = c.login("someone-else@msp.example", PASSWORD, None).await;
    assert_eq!(st, 429, "the address is throttled for every account");

    // Audited. (Read it with a token made before... we are throttled, so read from the CLI.)
    let (code, out, _) = s.env.cli(&["audit", "export"], "");
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.contains("\"action\":\"auth.throttled\"")), "throttling is in the audit log");
}

#[tokio::test]
async fn passwords_follow_the_policy_and_changing_one_signs_out_other_sessions() {
    let s = Server::start().await;
    let a = s.admin().await;
    let other = s.admin().await;
    for (bad, why) in [("short", "12"), ("password1234", "common"), ("qwertyqwerty", "common")] {
        let (st, v) = a.post("/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": bad})).await;
        assert_eq!(st, if bad == "short" { 400 } else { 422 }, "{bad}: too short breaks the schema, common is refused");
        assert!(v["error"]["message"].as_str().unwrap().contains(why), "{v}");
    }
    let (st, v) =
        a.post("/api/v1/me/password", json!({"current_password": "wrong wrong wrong", "new_password": "a brand new passphrase"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("current_password")));
    let (st, _) = a.post("/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})).await;
    assert_eq!(st, 204);
    assert_eq!(other.get("/api/v1/me").await.0, 401);
    assert_eq!(a.get("/api/v1/me").await.0, 200);
    assert_eq!(s.client().login(ADMIN_EMAIL, "a brand new passphrase", None).await.0, 200);
}

#[tokio::test]
async fn require_mfa_holds_users_to_enrolment_until_they_enrol() {
    let s = Server::start().await;
    let a = s.admin().await;
    make_user(&a, "tech@msp.example", "technician", None).await;
    let (st, _) = a.patch("/api/v1/settings", json!({"require_mfa": true})).await;
    assert_eq!(st, 200);
    let t = s.client();
    t.login_ok("tech@msp.example", PASSWORD).await;
    let (st, v) = t.get("/api/v1/clients").await;
    assert_eq!((st, error_code(&v).as_str()), (403, "mfa_enrollment_required"));
    let (st, me) = t.get("/api/v1/me").await;
    assert_eq!((st, me["must_enroll_mfa"].as_bool()), (200, Some(true)));
    let r = t.http.get(s.url("/clients")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    enrol_mfa(&t).await;
    assert_eq!(t.get("/api/v1/clients").await.0, 200);
    // The policy holds the administrator too (not enrolled either).
    assert_eq!(a.get("/api/v1/audit").await.0, 403);
    // The settings change is audited with before/after.
    let (_, out, _) = s.env.cli(&["audit", "export"], "");
    let e: serde_json::Value =
        out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|e| e["action"] == "settings.update").unwrap();
    let d: serde_json::Value = serde_json::from_str(e["details"].as_str().unwrap()).unwrap();
    assert_eq!((d["before"].clone(), d["after"].clone()), (serde_json::Value::Null, json!("true")));
}

#[tokio::test]
async fn no_administrator_means_nothing_works_but_the_instructions() {
    let env = Env::new().await;
    let s = Server::start_in(env, &[]).await;
    let c = s.client();
    let (st, html) = c.get_text("/").await;
    assert_eq!(st, 503);
    assert!(html.contains("steward admin create"));
    let (st, v) = c.login("anyone@msp.example", PASSWORD, None).await;
    assert_eq!((st, error_code(&v).as_str()), (503, "setup_required"));
    assert_eq!(c.get_text("/healthz").await.0, 200);
    // Creating the first admin on the host opens it up, without a restart.
    s.env.create_admin(ADMIN_EMAIL);
    assert_eq!(c.login(ADMIN_EMAIL, PASSWORD, None).await.0, 200);
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let s = Server::start().await;
    let a = s.admin().await;
    for path in ["/", "/login", "/clients", "/api/v1/me", "/api/v1/nope", "/assets/app.css", "/healthz"] {
        let r = a.http.get(s.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("no CSP on {path}")).to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert!(h.get("referrer-policy").is_some());
    }
}
