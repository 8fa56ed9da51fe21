//! No request value reaches a client as one of axum's plain-text
//! rejections: a wrong-typed value in every query and path parameter the
//! OpenAPI document names gets `{"error":{"code","message","field"}}`
//! naming that parameter; out-of-range pages are refused, not clamped.

use crate::common::*;
use serde_json::{json, Value};

/// What to send instead of a value of `schema`'s type, if it has one.
fn wrong_value(schema: &Value) -> Option<&'static str> {
    let ty = &schema["type"];
    let is = |t: &str| ty == t || ty.as_array().is_some_and(|a| a.iter().any(|x| x == t));
    if is("integer") || is("number") {
        Some("abc")
    } else if is("boolean") {
        Some("maybe")
    } else if schema.get("enum").is_some() {
        Some("no-such-value")
    } else {
        None
    }
}

#[tokio::test]
async fn every_wrong_typed_parameter_is_named_in_the_standard_error_shape() {
    let s = Server::start().await;
    let a = s.admin().await;
    let client = make_client(&a, "Acme").await;
    let (_, spec) = a.get("/api/v1/openapi.json").await;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                let Some(bad) = wrong_value(&p["schema"]) else { continue };
                // Every other path parameter gets a real value (the client), this one the bad one.
                let mut url = path.replace(&format!("{{{name}}}"), bad);
                for q in &params {
                    if q["in"] == "path" {
                        url = url.replace(&format!("{{{}}}", q["name"].as_str().unwrap()), &client.to_string());
                    }
                }
                if p["in"] == "query" {
                    url = format!("{url}?{name}={bad}");
                }
                let r = a
                    .raw(reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), &url)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let body = r.text().await.unwrap();
                assert!(ctype.starts_with("application/json"), "{method} {url}: {ctype} {body}");
                let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{method} {url}: not JSON: {body}"));
                assert_eq!(status, 400, "{method} {url}: {v}");
                assert_eq!(error_code(&v), "invalid_field", "{method} {url}: {v}");
                assert_eq!(v["error"]["field"], name, "{method} {url} names the parameter: {v}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 60, "checked {checked} parameters");

    // The attack pass's examples, by hand.
    for (url, field) in [
        ("/api/v1/clients?limit=-1", "limit"),
        ("/api/v1/clients?limit=501", "limit"),
        ("/api/v1/clients?offset=-5", "offset"),
        ("/api/v1/clients?offset=9223372036854775808", "offset"),
        ("/api/v1/clients?archived=maybe", "archived"),
        ("/api/v1/clients?limit=1&limit=2", "limit"),
        ("/api/v1/scripts/abc", "id"),
        ("/api/v1/scripts/99999999999999999999", "id"),
    ] {
        let (st, v) = a.get(url).await;
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{url}: {v}");
    }
    // A body that is JSON but not an object, or that has a float where an
    // integer goes.
    let (st, v) = a.send("PATCH", "/api/v1/settings", json!([null, null])).await;
    assert_eq!((st, error_code(&v).as_str()), (400, "invalid_json"), "{v}");
    let (st, v) = a.patch(&format!("/api/v1/clients/{client}"), json!({"agent_heartbeat_secs": 60.0})).await;
    assert_eq!(st, 200, "60.0 is the integer 60: {v}");
    let (st, v) = a.patch(&format!("/api/v1/clients/{client}"), json!({"agent_heartbeat_secs": 60.5})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("agent_heartbeat_secs")), "{v}");
}

/// Every time the API answers is an RFC 3339 string: each property of the
/// document's schemas named `…_at` is a `date-time` string (or null), so a
/// time kept as microseconds cannot leak into an answer unnoticed, and
/// Schemathesis checks the answers against these schemas in CI.
#[tokio::test]
async fn every_time_in_the_document_is_an_rfc3339_string() {
    let s = Server::start().await;
    let a = s.admin().await;
    let (_, spec) = a.get("/api/v1/openapi.json").await;
    let schemas = spec["components"]["schemas"].as_object().expect("component schemas");
    let is_date_time = |p: &Value| -> bool {
        let direct = |x: &Value| {
            x["format"] == "date-time" && (x["type"] == "string" || x["type"].as_array().is_some_and(|t| t.contains(&json!("string"))))
        };
        let by_ref = |x: &Value| x["$ref"].as_str().is_some_and(|r| r.ends_with("/Timestamp"));
        direct(p)
            || by_ref(p)
            || p["oneOf"]
                .as_array()
                .or(p["anyOf"].as_array())
                .is_some_and(|alts| alts.iter().all(|x| direct(x) || by_ref(x) || x["type"] == "null"))
    };
    let mut seen = 0;
    for (name, schema) in schemas {
        for (prop, p) in schema["properties"].as_object().into_iter().flatten() {
            // `warn_at` is a fraction of a target, not a time.
            if prop.ends_with("_at") && prop != "warn_at" {
                seen += 1;
                assert!(is_date_time(p), "{name}.{prop} is not an RFC 3339 time in the document: {p}");
            }
        }
    }
    assert!(seen > 30, "the check saw the document's times ({seen})");
    assert!(schemas.contains_key("ResultRow"), "script results have their schema");
}

/// The document names each schema after one type: two types of one name
/// (an SLA policy's patch and a monitoring policy's, say) silently become
/// one schema, and the API then documents the wrong body for one of them.
/// Reads `src/` for every type deriving `ToSchema` (under its
/// `#[schema(as = …)]` name when it has one) and every `choice!`.
#[test]
fn every_schema_name_belongs_to_one_type() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut all = vec![];
    files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut all);
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            let item =
                t.strip_prefix("pub struct ").or_else(|| t.strip_prefix("pub enum ")).or_else(|| t.strip_prefix("pub(crate) struct "));
            if let Some(item) = item {
                let name: String = item.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                // The attributes right above the item.
                let attrs: Vec<&str> =
                    lines[..i].iter().rev().take_while(|l| l.trim().starts_with("#[") || l.trim().starts_with("///")).copied().collect();
                if attrs.iter().any(|a| a.contains("ToSchema")) {
                    let renamed = attrs.iter().find_map(|a| {
                        a.split("schema(as = ").nth(1).map(|r| r.split(')').next().unwrap().rsplit("::").next().unwrap().to_string())
                    });
                    seen.entry(renamed.unwrap_or(name)).or_default().push(f.display().to_string());
                }
            }
            if t.starts_with("crate::choice!(") || t.starts_with("choice!(") {
                let body = lines[i + 1..].iter().map(|l| l.trim()).find(|l| !l.starts_with("///")).unwrap_or("");
                if let Some((name, _)) = body.split_once(':') {
                    seen.entry(name.to_string()).or_default().push(f.display().to_string());
                }
            }
        }
    }
    assert!(seen.len() > 100, "the reader found the schemas: {}", seen.len());
    let twice: Vec<_> = seen.iter().filter(|(_, fs)| fs.len() > 1).collect();
    assert!(twice.is_empty(), "schema names used by more than one type: {twice:?}");
}
