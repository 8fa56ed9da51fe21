//! Contracts and invoices (issue 16) through the API, on both engines:
//! contracts are checked line by line; an invoice run bills each kind of
//! line from what Steward sees (devices enrolled by agents, time logged on
//! tickets), prorated by the day, once per contract and period however
//! often it runs; drafts are edited with reasons, finalized with gapless
//! numbers (also under concurrent finalizes), and credited; money is never
//! shown to those without the billing permission.

use crate::common::agents::*;
use crate::common::*;
use serde_json::{json, Value};

/// Starts a run for the period and waits for it to finish.
async fn run(a: &Client, start: &str, end: &str) -> Value {
    let (st, r) = a.post("/api/v1/invoice-runs", json!({"period_start": start, "period_end": end})).await;
    assert_eq!(st, 202, "{r}");
    let path = format!("/api/v1/invoice-runs/{}", r["id"]);
    let done = wait_for(a, &path, "the run to finish", |v| v["state"] != "running").await;
    assert_eq!(done["state"], "done", "{done}");
    done
}

fn line<'a>(inv: &'a Value, kind: &str) -> &'a Value {
    inv["lines"].as_array().unwrap().iter().find(|l| l["kind"] == kind).unwrap_or_else(|| panic!("no {kind} line: {inv}"))
}

#[tokio::test]
async fn an_invoice_run_bills_devices_fees_and_time_once_prorated_by_the_day() {
    let (s, a, client, site) = setup().await;
    let contracts = format!("/api/v1/clients/{client}/contracts");
    let (st, b) = a.patch(&format!("/api/v1/clients/{client}/billing"), json!({"currency": "usd", "tax_rate": "10"})).await;
    assert_eq!((st, b["currency"].as_str()), (200, Some("USD")), "{b}");

    // Bad contracts are refused with the field that is wrong (422: well-formed, refused for what it means).
    let base = json!({"name": "Managed services", "start_date": "2026-11-17", "billing_cycle": "monthly", "billed": "advance"});
    let with = |extra: Value| {
        let mut v = base.clone();
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    for (body, field) in [
        (
            with(json!({"lines": [{"kind": "flat", "description": "Fee", "unit_price": "10", "follow_count": true}]})),
            "lines[0].follow_count",
        ),
        (with(json!({"lines": [{"kind": "per_device", "description": "Devices", "unit_price": "12.345678"}]})), "lines[0].unit_price"),
        (with(json!({"lines": [{"kind": "block_hours", "description": "Block", "unit_price": "900"}]})), "lines[0].hours"),
        (with(json!({"start_date": "2026-13-01"})), "start_date"),
        (with(json!({"end_date": "2026-01-01"})), "end_date"),
        (with(json!({"currency": "XYZ"})), "currency"),
        (with(json!({"tax_rate": "120"})), "tax_rate"),
    ] {
        let (st, e) = a.post(&contracts, body.clone()).await;
        assert_eq!((st, e["error"]["field"].as_str()), (422, Some(field)), "{body} → {e}");
    }
    let (st, e) = a.post(&contracts, with(json!({"lines": [{"kind": "flat", "description": "Fee", "unit_price": 10}]}))).await;
    assert_eq!(st, 400, "money is a decimal string, never a float: {e}");

    let (_, types) = a.get("/api/v1/work-types").await;
    let type_id = |name: &str| types.as_array().unwrap().iter().find(|w| w["name"] == name).unwrap()["id"].as_i64().unwrap();
    let lines = json!([
        {"kind": "per_device", "description": "Managed devices", "unit_price": "50", "follow_count": true},
        {"kind": "flat", "description": "Service fee", "unit_price": "100"},
        {"kind": "time_and_materials", "description": "Support outside the agreement"},
    ]);
    let rates = json!([{"work_type_id": type_id("Remote support"), "rate": "120"}, {"work_type_id": type_id("On-site"), "included": true}]);
    let (st, contract) = a.post(&contracts, with(json!({"lines": lines, "rates": rates}))).await;
    assert_eq!(st, 201, "{contract}");
    assert_eq!((contract["currency"].as_str(), contract["lines"][1]["unit_price"].as_str()), (Some("USD"), Some("100")), "{contract}");

    // Two devices enrolled by (hand-made) agents; time on a ticket: 90 min billable remote, 60 min on site (included).
    let tok = token(&a, client, site, json!({"max_uses": 2})).await;
    let mut agents = vec![];
    for n in 0..2u8 {
        let key = ed25519_dalek::SigningKey::from_bytes(&[90 + n; 32]);
        agents.push(raw_enroll(&s.base, &tok, &key, &format!("pc-{n}")).await);
    }
    let (_, t) = a.post(&format!("/api/v1/clients/{client}/tickets"), json!({"subject": "Printer"})).await;
    let time = format!("/api/v1/clients/{client}/tickets/{}/time-entries", t["id"]);
    let (st, remote) = a.post(&time, json!({"minutes": 90, "work_type_id": type_id("Remote support")})).await;
    assert_eq!(st, 201, "{remote}");
    let (_, onsite) = a.post(&time, json!({"minutes": 60, "work_type_id": type_id("On-site")})).await;

    // December's run: the cycle starting in it, the devices counted now, the time worked.
    let dec = run(&a, "2026-12-01", "2026-12-31").await;
    assert_eq!(dec["invoice_ids"].as_array().unwrap().len(), 1, "{dec}");
    let id = dec["invoice_ids"][0].as_i64().unwrap();
    let path = format!("/api/v1/clients/{client}/invoices/{id}");
    let (_, inv) = a.get(&path).await;
    assert_eq!(
        (inv["state"].as_str(), inv["period_start"].as_str(), inv["period_end"].as_str()),
        (Some("draft"), Some("2026-12-01"), Some("2026-12-31"))
    );
    let devices = line(&inv, "per_device");
    assert_eq!((devices["quantity"].as_str(), devices["amount"].as_str()), (Some("2"), Some("100.00")), "{inv}");
    assert_eq!(devices["source"]["ids"].as_array().unwrap().len(), 2, "the devices counted: {devices}");
    assert_eq!(line(&inv, "flat")["amount"], "100.00");
    let worked = line(&inv, "time");
    assert_eq!(
        (worked["quantity"].as_str(), worked["unit_price"].as_str(), worked["amount"].as_str()),
        (Some("1.5"), Some("120"), Some("180.00"))
    );
    assert_eq!(worked["source"]["time_entry_ids"], json!([remote["id"]]));
    assert_eq!(line(&inv, "included_time")["source"]["time_entry_ids"], json!([onsite["id"]]));
    assert_eq!(
        (inv["subtotal"].as_str(), inv["tax"].as_str(), inv["total"].as_str()),
        (Some("380.00"), Some("38.00"), Some("418.00")),
        "{inv}"
    );

    // November's run: the contract's first, partial cycle (17–30 November: 14 of 30 days).
    let nov = run(&a, "2026-11-01", "2026-11-30").await;
    let (_, first) = a.get(&format!("/api/v1/clients/{client}/invoices/{}", nov["invoice_ids"][0])).await;
    assert_eq!(line(&first, "flat")["amount"], "46.67", "{first}");
    assert!(line(&first, "flat")["description"].as_str().unwrap().contains("14 of 30 days"), "{first}");
    assert!(first["lines"].as_array().unwrap().iter().all(|l| l["kind"] != "time"), "time is billed once: {first}");

    // Running December again makes nothing new.
    let again = run(&a, "2026-12-01", "2026-12-31").await;
    assert_eq!((again["invoices_made"].as_i64(), again["invoice_ids"].as_array().unwrap().len()), (Some(0), 0), "{again}");

    // A draft is edited with reasons; the totals follow; each edit is audited.
    let (st, e) = a.post(&format!("{path}/lines"), json!({"description": "Toner", "unit_price": "30", "quantity": 2})).await;
    assert_eq!(st, 400, "an edit says why: {e}");
    let (st, edited) =
        a.post(&format!("{path}/lines"), json!({"description": "Toner", "unit_price": "30", "quantity": 2, "reason": "left off"})).await;
    assert_eq!((st, edited["total"].as_str()), (201, Some("484.00")), "{edited}");
    let flat_id = line(&edited, "flat")["id"].clone();
    let (st, edited) = a.patch(&format!("{path}/lines/{flat_id}"), json!({"unit_price": "90", "reason": "agreed discount"})).await;
    assert_eq!((st, edited["total"].as_str()), (200, Some("473.00")), "{edited}");
    let time_line = line(&edited, "time")["id"].clone();
    let (st, edited) = a.delete(&format!("{path}/lines/{time_line}?reason=billed+elsewhere")).await;
    assert_eq!((st, edited["total"].as_str()), (200, Some("275.00")), "{edited}");
    let (_, log) = a.get("/api/v1/audit?action=invoice.line_change").await;
    assert!(log.to_string().contains("agreed discount"), "{log}");

    // Finalized: numbered, immutable; credited once by a numbered credit note.
    let (st, fin) = a.post(&format!("{path}/finalize"), json!({})).await;
    assert_eq!((st, fin["number"].as_str(), fin["state"].as_str()), (200, Some("INV-2026-000001"), Some("final")), "{fin}");
    assert!(fin["due_on"].is_string() && fin["issued_on"].is_string(), "{fin}");
    assert_eq!(a.post(&format!("{path}/finalize"), json!({})).await.0, 409);
    assert_eq!(a.patch(&format!("{path}/lines/{flat_id}"), json!({"unit_price": "1", "reason": "x"})).await.0, 409);
    let (st, note) = a.post(&format!("{path}/credit"), json!({"reason": "wrong client"})).await;
    assert_eq!((st, note["kind"].as_str(), note["number"].as_str()), (201, Some("credit_note"), Some("CN-2026-000001")), "{note}");
    assert_eq!((note["total"].as_str(), note["credited_invoice_id"].as_i64()), (Some("275.00"), Some(id)), "{note}");
    assert_eq!(a.post(&format!("{path}/credit"), json!({"reason": "again"})).await.0, 409);

    // No billing permission, no money; another client's contracts do not exist for a limited billing user.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;
    assert_eq!(tech.get(&contracts).await.0, 403);
    assert_eq!(tech.get(&path).await.0, 403);
    assert_eq!(tech.post("/api/v1/invoice-runs", json!({"period_start": "2026-12-01", "period_end": "2026-12-31"})).await.0, 403);
    let other = make_client(&a, "Other").await;
    make_user(&a, "books@msp.example", "billing", Some(vec![other])).await;
    let books = s.client();
    books.login_ok("books@msp.example", PASSWORD).await;
    assert_eq!(books.get(&contracts).await.0, 404);
    assert_eq!(books.get(&path).await.0, 404);
    assert_eq!(books.post("/api/v1/invoice-runs", json!({"period_start": "2026-12-01", "period_end": "2026-12-31"})).await.0, 403);
    let (_, seen) = books.get(&format!("/api/v1/invoice-runs/{}", dec["id"])).await;
    assert_eq!(seen["invoice_ids"], json!([]), "a run shows only the caller's clients' invoices: {seen}");
    drop(agents);
}

#[tokio::test]
async fn sixteen_concurrent_finalizes_take_sixteen_numbers_without_gaps() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mut clients = vec![];
    for n in 0..16 {
        let c = make_client(&a, &format!("Client {n}")).await;
        let body = json!({"name": "Fee", "start_date": "2026-01-01", "billing_cycle": "monthly", "billed": "arrears",
            "lines": [{"kind": "flat", "description": "Fee", "unit_price": "99.99"}]});
        assert_eq!(a.post(&format!("/api/v1/clients/{c}/contracts"), body).await.0, 201);
        clients.push(c);
    }
    let done = run(&a, "2026-11-01", "2026-11-30").await;
    let ids: Vec<i64> = done["invoice_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 16, "{done}");
    // Billed in one transaction, each client with its own entry in an unbroken chain.
    let (_, drafts) = a.get("/api/v1/audit?action=invoice.draft&limit=50").await;
    assert_eq!(drafts["items"].as_array().map(|i| i.len()), Some(16), "{drafts}");
    let (_, verify) = a.get("/api/v1/audit/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
    let (_, one) = a.get(&format!("/api/v1/clients/{}/invoices/{}", clients[0], ids[0])).await;
    assert_eq!(
        (one["period_start"].as_str(), one["total"].as_str()),
        (Some("2026-11-01"), Some("99.99")),
        "arrears: the cycle that ends in the period: {one}"
    );
    let finalizes = ids.iter().zip(&clients).map(|(id, c)| {
        let a = &a;
        async move { a.post(&format!("/api/v1/clients/{c}/invoices/{id}/finalize"), json!({})).await }
    });
    let results = futures_util::future::join_all(finalizes).await;
    let mut numbers: Vec<String> = results
        .iter()
        .map(|(st, v)| {
            assert_eq!(*st, 200, "{v}");
            v["number"].as_str().unwrap().to_string()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=16).map(|n| format!("INV-2026-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn reconciliation_finds_devices_and_users_not_billed_and_a_true_up_ends_it() {
    let (s, a, client, site) = setup().await;
    // Three devices from the real fleet simulator, classed by hand (whatever systems they simulate): one server.
    let tok = token(&a, client, site, json!({"max_uses": 3})).await;
    let _fleet = simulate(&s, &tok, 3);
    let list = wait_for(&a, &format!("/api/v1/devices?client_id={client}"), "three devices", |v| v["total"] == 3).await;
    let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    for (id, class) in ids.iter().zip(["server", "workstation", "workstation"]) {
        let (st, v) = a.patch(&format!("/api/v1/clients/{client}/devices/{id}"), json!({"device_class": class})).await;
        assert_eq!(st, 200, "{v}");
    }
    assert_eq!(a.patch(&format!("/api/v1/clients/{client}/devices/{}", ids[0]), json!({"device_class": "printer"})).await.0, 400);
    // Two covered users and one who is not.
    for (name, covered) in [("Ann", true), ("Bob", true), ("Cy", false)] {
        let (st, c) = a.post(&format!("/api/v1/clients/{client}/contacts"), json!({"name": name, "covered": covered})).await;
        assert_eq!((st, c["covered"].as_bool()), (201, Some(covered)), "{c}");
    }
    let body = json!({"name": "Managed", "start_date": "2026-01-01", "billing_cycle": "monthly", "billed": "advance", "lines": [
        {"kind": "per_device", "description": "Devices", "unit_price": "40", "quantity": 1},
        {"kind": "per_device", "description": "Servers", "unit_price": "120", "quantity": 0, "device_class": "server"},
        {"kind": "per_user", "description": "Users", "unit_price": "10", "follow_count": true},
    ]});
    let (st, contract) = a.post(&format!("/api/v1/clients/{client}/contracts"), body).await;
    assert_eq!(st, 201, "{contract}");
    // Another client's device that no contract bills.
    let other = make_client(&a, "Uncontracted").await;
    let (_, other_site) = a.post(&format!("/api/v1/clients/{other}/sites"), json!({"name": "HQ", "timezone": "UTC"})).await;
    let other_tok = token(&a, other, other_site["id"].as_i64().unwrap(), json!({})).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[61; 32]);
    let (_ws, stray, _) = raw_enroll(&s.base, &other_tok, &key, "stray-pc").await;

    let (st, r) = a.get(&format!("/api/v1/clients/{client}/reconciliation")).await;
    assert_eq!(st, 200, "{r}");
    let line = |r: &Value, d: &str| r["lines"].as_array().unwrap().iter().find(|l| l["description"] == d).unwrap().clone();
    let devices = line(&r, "Devices");
    assert_eq!((devices["billed_quantity"].as_str(), devices["managed_quantity"].as_i64()), (Some("1"), Some(3)), "{r}");
    assert_eq!((devices["difference"].as_str(), devices["monthly_difference"].as_str()), (Some("2"), Some("80.00")));
    assert_eq!(devices["unbilled_ids"].as_array().unwrap().len(), 2, "{devices}");
    let servers = line(&r, "Servers");
    assert_eq!((servers["managed_quantity"].as_i64(), servers["monthly_difference"].as_str()), (Some(1), Some("120.00")), "{servers}");
    let users = line(&r, "Users");
    assert_eq!(
        (users["managed_quantity"].as_i64(), users["difference"].as_str()),
        (Some(2), Some("0")),
        "a line that follows the count bills it: {users}"
    );
    assert_eq!(r["unbilled_per_month"], "200.00");
    let (_, all) = a.get("/api/v1/reconciliation").await;
    let stray_client =
        all["clients"].as_array().unwrap().iter().find(|c| c["client_id"] == other).expect("the uncontracted client").clone();
    assert_eq!(stray_client["uncounted_device_ids"], json!([stray]), "{all}");
    assert_eq!(all["totals"][0]["unbilled_per_month"], "200.00", "{all}");

    // One action bills what is managed; the difference is gone, and audited.
    let lines_path = format!("/api/v1/clients/{client}/contracts/{}/lines", contract["id"]);
    let (st, after) = a.post(&format!("{lines_path}/{}/true-up", devices["line_id"]), json!({})).await;
    assert_eq!((st, after["lines"][0]["quantity"].as_str()), (200, Some("3")), "{after}");
    let (_, r) = a.get(&format!("/api/v1/clients/{client}/reconciliation")).await;
    assert_eq!((line(&r, "Devices")["difference"].as_str(), r["unbilled_per_month"].as_str()), (Some("0"), Some("120.00")), "{r}");
    let (_, log) = a.get("/api/v1/audit?action=contract.true_up").await;
    assert_eq!(log["items"].as_array().map(|i| i.len()), Some(1), "{log}");

    // Invoiced and paid in part: the balance and its ageing follow.
    let done = run(&a, "2026-12-01", "2026-12-31").await;
    let id = done["invoice_ids"][0].as_i64().unwrap();
    let inv_path = format!("/api/v1/clients/{client}/invoices/{id}");
    let pay = |amount: &str| json!({"invoice_id": id, "paid_on": "2026-12-07", "amount": amount, "method": "bank_transfer", "reference": "=cmd|' /C calc'!A0"});
    assert_eq!(a.post(&format!("/api/v1/clients/{client}/payments"), pay("10.00")).await.0, 409, "not on a draft");
    let (_, fin) = a.post(&format!("{inv_path}/finalize"), json!({})).await;
    assert_eq!(fin["total"], "140.00", "3 × 40 + 0 servers (not trued up) + 2 × 10: {fin}");
    let (st, p) = a.post(&format!("/api/v1/clients/{client}/payments"), pay("100.00")).await;
    assert_eq!((st, p["amount"].as_str()), (201, Some("100.00")), "{p}");
    let (st, e) = a.post(&format!("/api/v1/clients/{client}/payments"), pay("40.01")).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("amount")), "more than is owed: {e}");
    assert_eq!(a.post(&format!("/api/v1/clients/{client}/payments"), pay("1.005")).await.0, 422);
    let (_, b) = a.get(&format!("/api/v1/clients/{client}/balance")).await;
    assert_eq!((b["open"].as_str(), b["not_due"].as_str()), (Some("40.00"), Some("40.00")), "{b}");
    assert_eq!(b["invoices"][0]["paid"], "100.00");
}

#[tokio::test]
async fn the_billing_pages_show_runs_invoices_and_what_is_owed_and_exports_keep_formulas_as_text() {
    let s = Server::start().await;
    let a = s.admin().await;
    let client = make_client(&a, "=HYPERLINK(\"http://evil\")").await;
    let body = json!({"name": "Support", "start_date": "2026-01-01", "billing_cycle": "monthly", "billed": "advance", "tax_rate": "20",
        "lines": [{"kind": "flat", "description": "Support <b>fee</b>", "unit_price": "100.00"}]});
    assert_eq!(a.post(&format!("/api/v1/clients/{client}/contracts"), body).await.0, 201);

    // A run started from the page.
    let (st, loc, _) = a.form("/billing/runs", &[("period_start", "2026-12-01"), ("period_end", "2026-12-31")]).await;
    assert_eq!(st, 303, "{loc}");
    let run_id: i64 = loc.rsplit("#run-").next().unwrap().parse().unwrap();
    let done = wait_for(&a, &format!("/api/v1/invoice-runs/{run_id}"), "the run", |v| v["state"] == "done").await;
    let id = done["invoice_ids"][0].as_i64().unwrap();
    let (st, page) = a.get_text("/billing").await;
    assert_eq!(st, 200);
    assert!(page.contains(&format!("id=\"run-{run_id}\" data-state=\"done\"")), "{page}");

    // The draft on its page: lines escaped, a line added with a reason, then finalized.
    let inv = format!("/clients/{client}/invoices/{id}");
    let (st, page) = a.get_text(&inv).await;
    assert_eq!(st, 200);
    assert!(page.contains("Support &#60;b&#62;fee") && !page.contains("<b>fee"), "what people wrote is escaped: {page}");
    let (st, _, refused) =
        a.form(&format!("{inv}/lines"), &[("description", "=1+1"), ("quantity", "1"), ("unit_price", "5"), ("reason", "")]).await;
    assert_eq!(st, 400, "an edit says why");
    assert!(refused.contains("reason"), "{refused}");
    let (st, loc, _) =
        a.form(&format!("{inv}/lines"), &[("description", "=1+1"), ("quantity", "1"), ("unit_price", "5"), ("reason", "forgotten")]).await;
    assert_eq!((st, loc.as_str()), (303, inv.as_str()));
    assert_eq!(a.form(&format!("{inv}/finalize"), &[]).await.0, 303);
    let (_, page) = a.get_text(&inv).await;
    assert!(page.contains("INV-2026-000001") && page.contains("<strong>126.00</strong>"), "105 + 20 % tax: {page}");
    let (st, loc, _) =
        a.form(&format!("{inv}/payments"), &[("paid_on", "2026-12-07"), ("amount", "26.00"), ("method", "card"), ("reference", "")]).await;
    assert_eq!(st, 303, "{loc}");
    let (_, page) = a.get_text(&format!("/clients/{client}/billing")).await;
    assert!(page.contains("Owed <span class=\"count\">100.00 USD</span>"), "{page}");
    let (_, page) = a.get_text(&format!("/clients/{client}")).await;
    assert!(page.contains("owes 100.00 USD"), "the client page's billing panel: {page}");

    // The PDF: the MSP, the number and the total, as pdftotext reads them.
    let (st, v) = a
        .patch(
            "/api/v1/billing/settings",
            json!({"company_name": "Acme IT Services", "company_address": "1 Main Street\nSpringfield", "invoice_format": "INV"}),
        )
        .await;
    assert_eq!((st, v["error"]["field"].as_str()), (422, Some("invoice_format")), "a format without its number: {v}");
    let (st, v) = a
        .patch("/api/v1/billing/settings", json!({"company_name": "Acme IT Services", "company_address": "1 Main Street\nSpringfield"}))
        .await;
    assert_eq!(st, 200, "{v}");
    let r = a.raw(reqwest::Method::GET, &format!("/api/v1/clients/{client}/invoices/{id}/pdf")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    // (pdftotext answers `-v`, not `--version`.)
    let pdftotext = std::process::Command::new("pdftotext").arg("-v").output().is_ok_and(|o| o.status.success());
    if pdftotext {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("i.pdf"), &pdf).unwrap();
        let out = std::process::Command::new("pdftotext").args(["-layout", "i.pdf", "-"]).current_dir(dir.path()).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for want in ["Acme IT Services", "Invoice INV-2026-000001", "Support <b>fee</b>", "126.00", "Tax 20 % on 105.00", "Left to pay USD"]
        {
            assert!(text.contains(want), "{want:?} in the PDF: {text}");
        }
    } else {
        assert!(!require_all(), "pdftotext (poppler-utils) is missing: the PDF's text is not checked");
        eprintln!("NOT TESTED: pdftotext is not installed, the invoice PDF's text was not read back");
    }

    // The exports keep a would-be formula as text.
    let r = a.raw(reqwest::Method::GET, &format!("/api/v1/clients/{client}/invoices/{id}/csv")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert!(csv.contains("\"'=1+1\"") && !csv.contains(",\"=1+1"), "{csv}");
    assert!(csv.contains("\"INV-2026-000001\",\"Total\""), "{csv}");
    let today = chrono::Utc::now().date_naive().to_string();
    let (st, text) = a.get_text(&format!("/api/v1/invoices/export?from={today}&to={today}&format=quickbooks")).await;
    assert_eq!(st, 200, "{text}");
    assert!(text.starts_with("\u{feff}\"InvoiceNo\",\"Customer\",\"InvoiceDate\""), "{text}");
    assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "the client's name stays text: {text}");
    let (st, text) = a.get_text(&format!("/api/v1/invoices/export?from={today}&to={today}&format=xero")).await;
    assert!(st == 200 && text.contains("\"*ContactName\"") && text.contains("INV-2026-000001"), "{text}");
    assert_eq!(a.get(&format!("/api/v1/invoices/export?from={today}&to={today}&format=sage")).await.0, 422);

    // No billing permission, no billing pages.
    make_user(&a, "tech@msp.example", "technician", None).await;
    let tech = s.client();
    tech.login_ok("tech@msp.example", PASSWORD).await;
    assert_eq!(tech.get_text("/billing").await.0, 403);
    assert_eq!(tech.get_text(&inv).await.0, 403);
    let (_, page) = tech.get_text(&format!("/clients/{client}")).await;
    assert!(!page.contains("id=\"billing\""), "no billing panel for a technician");
}

#[tokio::test]
async fn a_block_of_hours_is_drawn_down_rolls_over_once_and_bills_the_overage() {
    let s = Server::start().await;
    let a = s.admin().await;
    let client = make_client(&a, "Fabrikam").await;
    let body = json!({"name": "Projects", "start_date": "2026-10-01", "billing_cycle": "monthly", "billed": "advance",
        "lines": [{"kind": "block_hours", "description": "Project hours", "unit_price": "900.00", "hours": 10, "overage_rate": "150.00", "rollover": true}]});
    let (st, c) = a.post(&format!("/api/v1/clients/{client}/contracts"), body).await;
    assert_eq!(st, 201, "{c}");
    let (_, t) = a.post(&format!("/api/v1/clients/{client}/tickets"), json!({"subject": "Migration"})).await;
    let time = format!("/api/v1/clients/{client}/tickets/{}/time-entries", t["id"]);
    // October 6 h, November 13 h, December 12 h (in blocks of at most 8 h).
    for (day, hours) in [("2026-10-05", 6), ("2026-11-03", 8), ("2026-11-04", 5), ("2026-12-01", 8), ("2026-12-02", 4)] {
        let (st, e) = a.post(&time, json!({"minutes": hours * 60, "started_at": format!("{day}T09:00:00Z")})).await;
        assert_eq!(st, 201, "{e}");
    }
    let mut totals = vec![];
    for (from, to) in [("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-30"), ("2026-12-01", "2026-12-31")] {
        let done = run(&a, from, to).await;
        let (_, inv) = a.get(&format!("/api/v1/clients/{client}/invoices/{}", done["invoice_ids"][0])).await;
        let block = line(&inv, "block_hours");
        totals.push((inv["total"].as_str().unwrap().to_string(), block["source"]["carried_in"].as_str().unwrap().to_string(), inv.clone()));
    }
    // October: 6 of 10 used, 4 left. November: 4 carried + 10, 13 used (the carried ones first), 1 of its own left.
    assert_eq!((totals[0].0.as_str(), totals[0].1.as_str()), ("900.00", "0"), "{}", totals[0].2);
    assert_eq!((totals[1].0.as_str(), totals[1].1.as_str()), ("900.00", "4"), "{}", totals[1].2);
    assert!(totals[1].2["lines"].as_array().unwrap().iter().all(|l| l["kind"] != "block_hours_overage"), "{}", totals[1].2);
    // December: 1 carried + 10, 12 used: one hour over, at the overage rate.
    assert_eq!((totals[2].0.as_str(), totals[2].1.as_str()), ("1050.00", "1"), "{}", totals[2].2);
    let over = line(&totals[2].2, "block_hours_overage");
    assert_eq!((over["quantity"].as_str(), over["amount"].as_str()), (Some("1"), Some("150.00")), "{over}");
}
