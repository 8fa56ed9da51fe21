//! Least privilege: a technician limited to some clients sees nothing of the
//! others (404 on every route, found by walking the OpenAPI document and the
//! web route table), roles gate what each user may do, and an API token can
//! never exceed its creator.

use crate::common::*;
use serde_json::json;

/// Fills `{param}`s: client ids with `client`, anything else with `other`.
fn fill(path: &str, client: i64, other: i64) -> String {
    let mut out = String::new();
    let mut first = true;
    for seg in path.split('/') {
        if !out.is_empty() || seg.is_empty() {
            out.push('/');
        }
        if seg.starts_with('{') {
            out.push_str(&(if first { client } else { other }).to_string());
            first = false;
        } else {
            out.push_str(seg);
        }
    }
    out.replace("//", "/")
}

/// API routes that are not about one client's data. A new route must either
/// live under `/clients/{id}` (and so be scoped by the guard) or be listed
/// here after thought.
const GLOBAL_API: &[&str] = &[
    // The script library is global; runs are scoped by their devices (tests/it/scripts.rs).
    "/api/v1/scripts",
    "/api/v1/scripts/{id}",
    "/api/v1/scripts/{id}/runs",
    "/api/v1/script-runs",
    "/api/v1/script-runs/{id}",
    "/api/v1/script-runs/{id}/approve",
    "/api/v1/script-runs/{id}/reject",
    "/api/v1/script-runs/{id}/cancel",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/me",
    "/api/v1/me/password",
    "/api/v1/me/mfa/start",
    "/api/v1/me/mfa/confirm",
    "/api/v1/me/mfa/verify",
    "/api/v1/me/sessions",
    "/api/v1/me/sessions/{id}",
    "/api/v1/tokens",
    "/api/v1/tokens/{id}",
    "/api/v1/clients",
    "/api/v1/users",
    "/api/v1/users/{id}",
    "/api/v1/users/{id}/reset-mfa",
    "/api/v1/users/{id}/revoke-tokens",
    "/api/v1/audit",
    "/api/v1/audit/verify",
    "/api/v1/settings",
    "/api/v1/devices",
    // Each user's own device list columns and views; a view's client is
    // checked against the caller's (tests/it/device_overview.rs).
    "/api/v1/devices/views",
    "/api/v1/devices/columns",
    "/api/v1/devices/views/{name}",
    // Alerts of the caller's clients only (tests/it/alerts.rs), and the
    // dashboard's figures over them (tests/it/checks.rs).
    "/api/v1/alerts",
    "/api/v1/dashboard",
    // Installation-wide, administrators only (tests/it/webhooks.rs).
    "/api/v1/webhooks",
    "/api/v1/webhooks/{id}",
    "/api/v1/webhooks/{id}/deliveries",
    // Installation-wide, administrators only (tests/it/mail.rs).
    "/api/v1/mailboxes",
    "/api/v1/mailboxes/{id}",
    "/api/v1/mailboxes/{id}/test",
    "/api/v1/mailboxes/{id}/poll",
    "/api/v1/settings/smtp",
    "/api/v1/settings/smtp/test",
    // Mail templates: installation-wide text, administrators only.
    "/api/v1/settings/mail-templates",
    "/api/v1/settings/mail-templates/{kind}",
    "/api/v1/settings/mail-templates/{kind}/preview",
    // One's own mail notifications and watched boards (no client data).
    "/api/v1/me/mail-notifications",
    // Invoice runs bill every client: only users who see every client start
    // one, and a run lists only the caller's clients' invoices (tests/it/billing.rs).
    "/api/v1/invoice-runs",
    "/api/v1/invoice-runs/{id}",
    // The reconciliation and the accounting export: of the clients the
    // caller sees (tests/it/billing.rs).
    "/api/v1/reconciliation",
    "/api/v1/invoices/export",
    // How invoices are numbered and what they say of the MSP: no client data.
    "/api/v1/billing/settings",
    // Monitoring policies: installation-wide definitions (no client data),
    // read by technicians, written by administrators (tests/it/checks.rs).
    "/api/v1/monitoring/policies",
    "/api/v1/monitoring/policies/{id}",
    // The queue, bulk actions and numbers: filtered by the caller's clients
    // (tests/it/tickets.rs, a_limited_technician_sees_no_other_clients_tickets).
    "/api/v1/tickets",
    "/api/v1/tickets/bulk",
    "/api/v1/tickets/by-number/{number}",
    // Each user's own saved filters; applying one goes through the queue's
    // scoping (tests/it/saved_filters.rs).
    "/api/v1/saved-filters",
    "/api/v1/saved-filters/{id}",
    // Recurring tickets of the caller's clients only (tests/it/recurring.rs).
    "/api/v1/recurring-tickets",
    // The service desk's configuration is installation-wide.
    "/api/v1/ticket-statuses",
    "/api/v1/ticket-statuses/{id}",
    "/api/v1/ticket-priorities",
    "/api/v1/ticket-priorities/{id}",
    "/api/v1/ticket-boards",
    "/api/v1/ticket-boards/{id}",
    "/api/v1/business-calendars",
    "/api/v1/business-calendars/{id}",
    "/api/v1/sla-policies",
    "/api/v1/sla-policies/{id}",
    // Time: filtered by the caller's clients; approval and work types are
    // for service-desk administrators.
    "/api/v1/time-entries",
    // Reports count the caller's clients' tickets; another client's id is
    // 404 (tests/it/sla_report.rs).
    "/api/v1/reports/sla",
    "/api/v1/reports/sla.csv",
    // Global knowledge-base articles are every client's; only users who see
    // every client change them; the list's include_clients keeps to the
    // caller's clients (tests/it/docs.rs).
    "/api/v1/articles",
    "/api/v1/articles/{article_id}",
    "/api/v1/articles/{article_id}/versions",
    "/api/v1/articles/{article_id}/versions/{version}",
    "/api/v1/articles/{article_id}/diff",
    "/api/v1/articles/{article_id}/versions/{version}/restore",
    // Renders Markdown; touches no record.
    "/api/v1/articles/preview",
    // Asset types are global (defined by administrators); the expiry list
    // keeps to the caller's clients, another client's id is 404
    // (tests/it/assets.rs).
    "/api/v1/asset-types",
    "/api/v1/asset-types/{type_id}",
    "/api/v1/expiries",
    // Generates a password; touches no record (tests/it/vault.rs).
    "/api/v1/vault/password",
    "/api/v1/timesheets/approve",
    "/api/v1/work-types",
    "/api/v1/work-types/{id}",
    // Shared or the caller's own, for every client or one they see
    // (tests/it/canned.rs); rendering one is under the ticket's client.
    "/api/v1/canned-responses",
    "/api/v1/canned-responses/{id}",
    // Each user's own, limited to the clients they see.
    "/api/v1/notifications",
    "/api/v1/notifications/{id}/read",
    "/api/v1/notifications/read-all",
    // Every source keeps to the caller's clients; a client filter outside them is 404 (tests/it/search.rs).
    "/api/v1/search",
];
const GLOBAL_WEB: &[&str] = &[
    "/",
    // Agents authenticate inside the protocol, each as one device (tests/it/agent.rs).
    "/agent/v1/connect",
    // The agent binaries: public like the agent's source, nothing of a client (tests/it/agent.rs).
    "/agent/download/{platform}",
    // The knowledge base: global articles and the caller's clients' (tests/it/docs.rs).
    "/docs",
    "/docs/preview",
    "/articles/{article_id}",
    "/articles/{article_id}/diff",
    "/articles/{article_id}/versions/{version}/restore",
    // Assets and the expiry list of the caller's clients; the new-asset
    // form's client is checked like a path's (tests/it/assets.rs).
    "/docs/assets",
    "/docs/assets/new",
    "/docs/expiries",
    // Streams only the user's clients' devices (tests/it/live.rs).
    "/devices/events",
    // Ticked devices are each checked against the caller's clients; the
    // rest is the user's own settings (tests/it/device_overview.rs).
    "/devices/bulk",
    "/devices/columns",
    "/devices/views",
    "/devices/views/delete",
    // Alerts of the caller's clients only, and their live changes
    // (tests/it/alerts.rs, tests/it/checks.rs).
    "/alerts",
    "/alerts/events",
    // Monitoring policies: installation-wide definitions, read by
    // technicians, written by administrators (tests/it/checks.rs).
    "/monitoring/policies",
    "/monitoring/policies/{id}",
    "/monitoring/policies/{id}/delete",
    // The library is global; runs are scoped by their devices (tests/it/scripts.rs).
    "/scripts",
    "/scripts/{id}",
    "/scripts/{id}/run",
    "/script-runs/{id}",
    "/script-runs/{id}/approve",
    "/script-runs/{id}/reject",
    "/script-runs/{id}/cancel",
    "/search",
    "/login",
    "/login/mfa",
    "/logout",
    "/profile",
    "/profile/password",
    "/profile/mfa/start",
    "/profile/mfa/confirm",
    "/profile/sessions/{id}/revoke",
    "/tokens",
    "/tokens/{id}/revoke",
    "/clients",
    "/users",
    "/users/{id}",
    "/users/{id}/reset-mfa",
    "/users/{id}/revoke-tokens",
    "/audit",
    "/settings",
    // Mail settings: administrators only (tests/it/mail_desk.rs).
    "/settings/mail",
    "/settings/mail/mailboxes",
    "/settings/mail/mailboxes/{id}",
    "/settings/mail/smtp",
    "/settings/mail/smtp/test",
    "/settings/mail/templates/{kind}",
    "/settings/mail/templates/{kind}/preview",
    // Asset types: administrators only (tests/it/assets.rs).
    "/settings/asset-types",
    "/settings/asset-types/{type_id}",
    "/devices",
    // The queue, bulk actions and numbers, filtered by the caller's clients
    // (tests/it/tickets.rs); the stream only tells of their clients' tickets.
    "/tickets",
    "/tickets/new",
    "/tickets/bulk",
    "/tickets/events",
    "/t/{number}",
    // Saving and removing the user's own filters; recurring tickets of the
    // caller's clients (tests/it/saved_filters.rs, tests/it/recurring.rs).
    "/tickets/filters",
    "/tickets/filters/{filter_id}/delete",
    "/tickets/recurring",
    // A user's week, of the clients they see (tests/it/time.rs).
    "/timesheet",
    "/timesheet/approve",
    // The SLA report, of the caller's clients (tests/it/sla_report.rs).
    "/reports/sla",
    // Billing: runs (started only by users who see every client) and the
    // reconciliation of the caller's clients (tests/it/billing.rs).
    "/billing",
    "/billing/runs",
    "/billing/events",
];

#[tokio::test]
async fn a_limited_technician_gets_404_for_another_clients_records_on_every_route() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    let (_, their_site) = a.post(&format!("/api/v1/clients/{theirs}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let (_, their_contact) = a.post(&format!("/api/v1/clients/{theirs}/contacts"), json!({"name": "Secret Person"})).await;
    let (_, my_site) = a.post(&format!("/api/v1/clients/{mine}/sites"), json!({"name": "Mine HQ", "timezone": "UTC"})).await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;

    // Walk every API route from the generated OpenAPI document.
    let (_, spec) = a.get("/api/v1/openapi.json").await;
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "the document lists the routes");
    let mut walked = 0;
    for (path, item) in paths {
        if !path.starts_with("/api/v1/clients/{id}") {
            assert!(GLOBAL_API.contains(&path.as_str()), "new route {path} is neither under /clients/{{id}} nor reviewed as global");
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let other_id = if path.contains("sites/") { their_site["id"].as_i64().unwrap() } else { their_contact["id"].as_i64().unwrap() };
            let url = fill(path, theirs, other_id);
            let (st, v) = t.send(&method.to_uppercase(), &url, json!({"name": "x"})).await;
            assert_eq!(st, 404, "{method} {url} must not exist for the limited technician: {v}");
            assert_eq!(error_code(&v), "not_found");
            walked += 1;
            // And the same route on their own client is not a 404 (the check is not blanket).
            if method == "get" {
                let own_other = if path.contains("sites/") { my_site["id"].as_i64().unwrap() } else { 0 };
                let (st, _) = t.get(&fill(path, mine, own_other)).await;
                // Only where every id in the path is one of theirs (a client, or their site).
                let needs = item[method]["x-steward-needs"].as_str().unwrap_or_default();
                if needs.starts_with("billing") {
                    // A technician sees no money, not even their own client's.
                    assert_eq!(st, 403, "GET {path} on their own client, without the billing permission");
                } else if path.matches('{').count() == 1 || path.contains("/sites/{site_id}") {
                    assert_eq!(st, 200, "GET {path} on their own client");
                }
            }
        }
    }
    assert!(walked >= 10, "walked {walked} client-scoped API routes");

    // Walk every web route from the router's own table.
    for path in steward::routes::page_table().into_iter().map(|p| p.path).collect::<std::collections::BTreeSet<_>>() {
        if !path.starts_with("/clients/{id}") {
            assert!(GLOBAL_WEB.contains(&path), "new page route {path} is neither under /clients/{{id}} nor reviewed as global");
            continue;
        }
        let url = fill(path, theirs, their_site["id"].as_i64().unwrap());
        let (st, body) = t.get_text(&url).await;
        assert_eq!(st, 404, "GET {url}");
        assert!(!body.contains("Theirs") && !body.contains("Secret Person"));
        let (st, _, body) = t.form(&url, &[("name", "x"), ("timezone", "UTC"), ("archived", "true")]).await;
        assert_eq!(st, 404, "POST {url}");
        assert!(!body.contains("Theirs"));
    }

    // Lists and search only show their clients.
    let (_, list) = t.get("/api/v1/clients").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], mine);
    let (_, html) = t.get_text("/search?q=Secret").await;
    assert!(!html.contains("Secret Person"));
    let (_, html) = t.get_text("/search?q=HQ").await;
    assert!(html.contains("Mine HQ") && !html.contains("/clients/{theirs}"));
    // They cannot create clients they would not see.
    let (st, _) = t.post("/api/v1/clients", json!({"name": "Sneaky"})).await;
    assert_eq!(st, 403);
    // Nothing of theirs changed.
    let (_, c) = a.get(&format!("/api/v1/clients/{theirs}")).await;
    assert_eq!(c["name"], "Theirs Ltd");
}

#[tokio::test]
async fn roles_gate_what_users_may_do() {
    let s = Server::start().await;
    let a = s.admin().await;
    let client = make_client(&a, "Acme").await;
    make_user(&a, "ro@msp.example", "read_only", None).await;
    make_user(&a, "bill@msp.example", "billing", None).await;
    make_user(&a, "tech@msp.example", "technician", None).await;
    let ro = s.client();
    ro.login_ok("ro@msp.example", PASSWORD).await;
    assert_eq!(ro.get("/api/v1/clients").await.0, 200);
    assert_eq!(ro.patch(&format!("/api/v1/clients/{client}"), json!({"name": "Hacked"})).await.0, 403);
    assert_eq!(ro.post("/api/v1/users", json!({"email": "x@y.example", "name": "x", "role": "admin", "password": PASSWORD})).await.0, 403);
    assert_eq!(ro.get("/api/v1/audit").await.0, 403);
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;
    assert_eq!(tech.patch(&format!("/api/v1/clients/{client}"), json!({"notes": "ok"})).await.0, 200);
    assert_eq!(tech.get("/api/v1/users").await.0, 403);
    assert_eq!(tech.patch("/api/v1/settings", json!({"require_mfa": true})).await.0, 403);
    // Administrators cannot lock themselves out by demoting or disabling themselves.
    let (_, me) = a.get("/api/v1/me").await;
    let (st, _) = a.patch(&format!("/api/v1/users/{}", me["id"]), json!({"role": "technician"})).await;
    assert_eq!(st, 422, "refused, with the reason");
}

#[tokio::test]
async fn an_api_token_never_exceeds_its_creator() {
    let s = Server::start().await;
    let a = s.admin().await;
    let client = make_client(&a, "Acme").await;
    let tech_id = make_user(&a, "tech@msp.example", "technician", None).await;
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;

    // Asking for more than the role allows is refused.
    let (st, v) = tech.post("/api/v1/tokens", json!({"name": "too much", "scopes": ["clients:read", "users:write"]})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("scopes")));
    let (st, v) =
        tech.post("/api/v1/tokens", json!({"name": "sync", "scopes": ["clients:read", "clients:write"], "expires_in_days": 30})).await;
    assert_eq!(st, 201, "{v}");
    let secret = v["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("stw_") && secret.len() >= 40);

    // The token works, without cookies or CSRF.
    let bot = Client::with_token(&s.base, &secret);
    assert_eq!(bot.get("/api/v1/clients").await.0, 200);
    assert_eq!(bot.patch(&format!("/api/v1/clients/{client}"), json!({"notes": "from a script"})).await.0, 200);
    // It cannot manage tokens or credentials.
    assert_eq!(bot.post("/api/v1/tokens", json!({"name": "child", "scopes": ["clients:read"]})).await.0, 403);
    // The secret is stored only as a hash and listed only by prefix.
    let (_, list) = tech.get("/api/v1/tokens").await;
    assert!(!list.to_string().contains(&secret));
    assert_eq!(list["total"], 1);
    assert!(secret.starts_with(list["items"][0]["prefix"].as_str().unwrap()));

    // A read-only token cannot write even though its creator could.
    let (_, ro) = tech.post("/api/v1/tokens", json!({"name": "ro", "scopes": ["clients:read"]})).await;
    let ro_bot = Client::with_token(&s.base, ro["token"].as_str().unwrap());
    assert_eq!(ro_bot.patch(&format!("/api/v1/clients/{client}"), json!({"notes": "x"})).await.0, 403);

    // Demote the creator: the token shrinks with them.
    let (st, _) = a.patch(&format!("/api/v1/users/{tech_id}"), json!({"role": "read_only"})).await;
    assert_eq!(st, 200);
    assert_eq!(bot.patch(&format!("/api/v1/clients/{client}"), json!({"notes": "now?"})).await.0, 403);
    assert_eq!(bot.get("/api/v1/clients").await.0, 200);
    let (_, me) = bot.get("/api/v1/me").await;
    assert_eq!(me["permissions"], json!(["clients:read"]));

    // Disable the creator: every token dies.
    let (st, _) = a.patch(&format!("/api/v1/users/{tech_id}"), json!({"disabled": true})).await;
    assert_eq!(st, 200);
    assert_eq!(bot.get("/api/v1/clients").await.0, 401);
    let (st, _) = a.patch(&format!("/api/v1/users/{tech_id}"), json!({"disabled": false})).await;
    assert_eq!(st, 200);
    assert_eq!(bot.get("/api/v1/clients").await.0, 401, "re-enabling the user does not revive revoked tokens");

    // Garbage and revoked tokens: 401 in the standard shape.
    let (st, v) = Client::with_token(&s.base, "stw_forged").get("/api/v1/me").await;
    assert_eq!((st, error_code(&v).as_str()), (401, "unauthenticated"));
    let (_, t2) = a.post("/api/v1/tokens", json!({"name": "admin script", "scopes": ["audit:read"]})).await;
    let (st, _) = a.delete(&format!("/api/v1/tokens/{}", t2["id"])).await;
    assert_eq!(st, 204);
    assert_eq!(Client::with_token(&s.base, t2["token"].as_str().unwrap()).get("/api/v1/audit").await.0, 401);

    // Token life cycle is audited.
    let (_, log) = a.get("/api/v1/audit?action=token.").await;
    assert!(log["total"].as_i64().unwrap() >= 4, "{log}");
}

/// Names of the other client's records that must never reach the limited
/// technician, whatever they send.
const SECRETS: [&str; 3] = ["Theirs Ltd", "Bravo Secret Datacenter", "Secret Person"];

/// A client id that arrives anywhere but the path (a query parameter here)
/// reaches nothing of a client outside the caller's set: every API list and
/// page is asked with the other client's ids in each parameter it takes,
/// and none of that client's names, nor a reference to its site, appears.
#[tokio::test]
async fn another_clients_id_in_a_query_parameter_reveals_nothing() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{theirs}/sites"), json!({"name": "Bravo Secret Datacenter", "timezone": "UTC"})).await;
    let their_site = site["id"].as_i64().unwrap();
    a.post(&format!("/api/v1/clients/{theirs}/contacts"), json!({"name": "Secret Person"})).await;
    let (_, my_site) = a.post(&format!("/api/v1/clients/{mine}/sites"), json!({"name": "Mine HQ", "timezone": "UTC"})).await;
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    let leaked = |body: &str| -> Option<String> {
        SECRETS.iter().find(|n| body.contains(*n)).map(|n| n.to_string()).or_else(|| {
            [format!("\"client_id\":{theirs}"), format!("\"site_id\":{their_site}")].into_iter().find(|m| body.contains(m.as_str()))
        })
    };
    let value_for = |name: &str| match name {
        "site_id" => their_site.to_string(),
        n if n.ends_with("_id") || n == "id" => theirs.to_string(),
        _ => "Secret".to_string(),
    };

    // The API: each GET operation's declared query parameters, one at a time.
    let (_, spec) = a.get("/api/v1/openapi.json").await;
    let mut asked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let params: Vec<&serde_json::Value> = op["parameters"].as_array().map(|v| v.iter().collect()).unwrap_or_default();
        let url = fill(path, mine, my_site["id"].as_i64().unwrap());
        for p in params.iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            let q = serde_urlencoded::to_string([(name, value_for(name))]).unwrap();
            let (st, body) = t.get_text(&format!("{url}?{q}")).await;
            assert!(st < 500, "GET {url}?{q}: {st}");
            assert_eq!(leaked(&body), None, "GET {url}?{q} shows another client's data: {body}");
            asked += 1;
        }
    }
    assert!(asked >= 15, "asked {asked} query parameters");

    // The pages: every page outside /clients/{id} (a client's own pages are
    // the guard's), with every client-ish parameter a page reads.
    for path in steward::routes::page_table().into_iter().filter(|p| p.method == "GET").map(|p| p.path) {
        if path.starts_with("/clients/{id}") || path.contains('{') || path.ends_with("/events") || path == "/agent/v1/connect" {
            // Event streams never end; their scoping is tested with the live pages.
            continue;
        }
        for name in ["client_id", "site_id", "device_id", "user_id", "q", "action"] {
            let q = serde_urlencoded::to_string([(name, value_for(name))]).unwrap();
            let (st, body) = t.get_text(&format!("{path}?{q}")).await;
            assert!(st < 500, "GET {path}?{q}: {st}");
            assert_eq!(leaked(&body), None, "GET {path}?{q} shows another client's data");
        }
        // Both at once, as the device list's filter form sends them.
        let q = format!("client_id={theirs}&site_id={their_site}");
        let (_, body) = t.get_text(&format!("{path}?{q}")).await;
        assert_eq!(leaked(&body), None, "GET {path}?{q} shows another client's data");
    }
}

/// Every route declares what it needs, and the route enforces it: an API
/// token without the permission gets 403 on each operation that needs it,
/// and on every operation and page that needs an interactive sign-in.
#[tokio::test]
async fn every_route_declares_what_it_needs_and_a_token_without_it_is_refused() {
    let s = Server::start().await;
    let a = s.admin().await;
    let client = make_client(&a, "Acme").await;
    let (_, site) = a.post(&format!("/api/v1/clients/{client}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let site = site["id"].as_i64().unwrap();
    // A narrow token of the administrator: it may read the audit log, nothing else.
    let (_, tok) = a.post("/api/v1/tokens", json!({"name": "narrow", "scopes": ["audit:read"]})).await;
    let narrow = Client::with_token(&s.base, tok["token"].as_str().unwrap());

    let (_, spec) = a.get("/api/v1/openapi.json").await;
    let (mut refused, mut session_only) = (0, 0);
    for (path, item) in spec["paths"].as_object().unwrap() {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let need = op["x-steward-needs"].as_str().unwrap_or_else(|| panic!("{method} {path} declares no need"));
            let url = fill(path, client, site);
            let (st, v) = narrow.send(&method.to_uppercase(), &url, json!({})).await;
            match need {
                "anyone" | "signed-in" | "audit:read" => assert_ne!(st, 403, "{method} {path} ({need}) refused the token: {v}"),
                "session" => {
                    assert_eq!(st, 403, "{method} {path} needs an interactive sign-in, yet a token got {st}: {v}");
                    session_only += 1;
                }
                scope => {
                    assert!(spec.to_string().contains(scope), "{scope}");
                    assert_eq!(st, 403, "{method} {path} needs {scope}, yet a token without it got {st}: {v}");
                    refused += 1;
                }
            }
        }
    }
    assert!(refused >= 30 && session_only >= 8, "refused {refused}, session-only {session_only}");
    // The sessions of the token's owner are out of its reach (the attack pass
    // listed and ended them with a clients:read token).
    let (_, t2) = a.post("/api/v1/tokens", json!({"name": "reader", "scopes": ["clients:read"]})).await;
    let reader = Client::with_token(&s.base, t2["token"].as_str().unwrap());
    let (st, _) = reader.get("/api/v1/me/sessions").await;
    assert_eq!(st, 403);
    let (_, mine) = a.get("/api/v1/me/sessions").await;
    let id = mine["items"][0]["id"].as_i64().unwrap();
    assert_eq!(reader.delete(&format!("/api/v1/me/sessions/{id}")).await.0, 403);
    assert_eq!(a.get("/api/v1/me").await.0, 200, "the browser session is still signed in");

    // Pages: each declares its need in the route table, and enforces it.
    for p in steward::routes::page_table() {
        if p.path.contains('{') && !p.path.starts_with("/clients/{id}") {
            continue;
        }
        let url = fill(p.path, client, site);
        let r = narrow.raw(reqwest::Method::from_bytes(p.method.as_bytes()).unwrap(), &url).send().await.unwrap();
        let st = r.status().as_u16();
        match p.need {
            steward::app::domain::Need::Perm(perm) if perm.scope() != "audit:read" => {
                assert_eq!(st, 403, "{} {} needs {}, yet a token without it got {st}", p.method, p.path, perm.scope())
            }
            steward::app::domain::Need::Session => assert_eq!(st, 403, "{} {} is for an interactive sign-in", p.method, p.path),
            _ => {}
        }
    }
}
