//! The rules of flexible asset types and their values: pure, no I/O,
//! property-tested.
//!
//! A type is a list of fields, each of a kind (text, date, a link to a
//! device, …). An asset's values are checked against its type's fields
//! here: shape and range per kind, required fields present, no field the
//! type does not have. What needs the database (does the linked device
//! belong to the same client?) comes back as [`Reference`]s for the caller
//! to look up; dates of fields marked `expires` come back for the expiry
//! list; the searchable text never includes a vault reference.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The outbox's and the index's kind for assets.
pub const KIND: &str = "asset";

/// A type's fields as stored (never fails: what is stored was checked).
pub fn fields_of(json: &str) -> Vec<FieldDef> {
    serde_json::from_str(json).unwrap_or_default()
}

/// An asset's values as stored.
pub fn values_of(json: &str) -> Map<String, Value> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Most fields a type may have.
pub const MAX_FIELDS: usize = 60;
/// Most options of a select field, and the longest option.
pub const MAX_OPTIONS: usize = 100;
pub const MAX_OPTION_CHARS: usize = 100;
/// Longest label and key.
pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_KEY_CHARS: usize = 40;
/// Longest one-line and multi-line value.
pub const MAX_TEXT_CHARS: usize = 1_000;
pub const MAX_MULTILINE_CHARS: usize = 20_000;
/// Longest URL.
pub const MAX_URL_CHARS: usize = 2_000;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Multiline,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// One of the field's `options`.
    Select,
    /// An `http`, `https`, `ftp`, `sftp`, `ssh`, `rdp`, `smb` or `vnc` address.
    Url,
    Email,
    /// An IPv4 or IPv6 address, or a network in CIDR form.
    Ip,
    /// The id of a vault entry of the same client (never its secret).
    Vault,
    /// The id of another asset of the same client.
    Asset,
    /// The id of a managed device of the same client.
    Device,
    /// The id of a contact of the same client.
    Contact,
}

impl FieldKind {
    pub const ALL: [FieldKind; 12] = [
        FieldKind::Text,
        FieldKind::Multiline,
        FieldKind::Number,
        FieldKind::Date,
        FieldKind::Select,
        FieldKind::Url,
        FieldKind::Email,
        FieldKind::Ip,
        FieldKind::Vault,
        FieldKind::Asset,
        FieldKind::Device,
        FieldKind::Contact,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Multiline => "multiline",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Select => "select",
            FieldKind::Url => "url",
            FieldKind::Email => "email",
            FieldKind::Ip => "ip",
            FieldKind::Vault => "vault",
            FieldKind::Asset => "asset",
            FieldKind::Device => "device",
            FieldKind::Contact => "contact",
        }
    }

    pub fn parse(s: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A link to another record (checked against the database).
    pub fn is_reference(self) -> bool {
        matches!(self, FieldKind::Vault | FieldKind::Asset | FieldKind::Device | FieldKind::Contact)
    }
}

/// One field of a type, as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldDef {
    /// Stable name of the value (`[a-z0-9_]`, from the label when not given).
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// The choices of a `select` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A `date` field whose date is when something runs out (a domain, a
    /// certificate, a warranty, a licence): it joins the expiry list.
    #[serde(default)]
    pub expires: bool,
    /// A hint shown under the field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
}

/// A field as an admin writes it: the key may be left out.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    #[schema(max_length = 40, pattern = "^[a-z][a-z0-9_]*$")]
    pub key: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub options: Vec<String>,
    #[serde(default)]
    pub expires: bool,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub help: String,
}

/// The key a label suggests: lower case letters, digits and `_`,
/// starting with a letter.
pub fn key_of(label: &str) -> String {
    let mut key = String::new();
    for c in label.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    let mut key = key.trim_end_matches('_').to_string();
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key.insert_str(0, "f_");
    }
    key.chars().take(MAX_KEY_CHARS).collect::<String>().trim_end_matches('_').to_string()
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= MAX_KEY_CHARS
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn one_line(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars().any(|c| crate::validate::forbidden(c, false)) {
        return Err("must not contain control or text-direction characters".into());
    }
    Ok(t.to_string())
}

/// Checks a type's fields; the error names the field (`fields[2].label`).
pub fn check_fields(input: &[FieldInput]) -> Result<Vec<FieldDef>, (String, String)> {
    if input.len() > MAX_FIELDS {
        return Err(("fields".into(), format!("at most {MAX_FIELDS} fields")));
    }
    let mut keys = BTreeSet::new();
    let mut out = vec![];
    for (i, f) in input.iter().enumerate() {
        let at = |what: &str| format!("fields[{i}].{what}");
        let label = one_line(&f.label, MAX_LABEL_CHARS).map_err(|e| (at("label"), e))?;
        if label.is_empty() {
            return Err((at("label"), "must not be empty".into()));
        }
        let key = match &f.key {
            Some(k) if !valid_key(k) => {
                return Err((at("key"), format!("must be 1–{MAX_KEY_CHARS} of a-z, 0-9 and _, starting with a letter")));
            }
            Some(k) => k.clone(),
            None => key_of(&label),
        };
        if !keys.insert(key.clone()) {
            return Err((at("key"), format!("`{key}` is used by another field")));
        }
        let mut options = vec![];
        if f.kind == FieldKind::Select {
            if f.options.is_empty() || f.options.len() > MAX_OPTIONS {
                return Err((at("options"), format!("a select field needs 1–{MAX_OPTIONS} options")));
            }
            let mut seen = BTreeSet::new();
            for o in &f.options {
                let o = one_line(o, MAX_OPTION_CHARS).map_err(|e| (at("options"), e))?;
                if o.is_empty() || !seen.insert(o.to_lowercase()) {
                    return Err((at("options"), "options must be distinct and not empty".into()));
                }
                options.push(o);
            }
        } else if !f.options.is_empty() {
            return Err((at("options"), "only a select field has options".into()));
        }
        if f.expires && f.kind != FieldKind::Date {
            return Err((at("expires"), "only a date field can expire".into()));
        }
        let help = one_line(&f.help, 300).map_err(|e| (at("help"), e))?;
        out.push(FieldDef { key, label, kind: f.kind, required: f.required, options, expires: f.expires, help });
    }
    Ok(out)
}

/// A linked record a value names, for the caller to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub key: String,
    pub kind: FieldKind,
    pub id: i64,
}

/// An asset's values after checking.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checked {
    /// Only the type's fields, each in its one stored form; empty ones left out.
    pub values: Map<String, Value>,
    pub references: Vec<Reference>,
    /// `(field key, date)` of each filled `expires` field.
    pub expiries: Vec<(String, NaiveDate)>,
    /// The words the search may find: every value but links' ids.
    pub text: String,
}

/// Checks `input` against the type's fields. The error names the value
/// (`fields.serial_number`).
pub fn check_values(defs: &[FieldDef], input: &Map<String, Value>) -> Result<Checked, (String, String)> {
    if let Some(k) = input.keys().find(|k| !defs.iter().any(|d| &d.key == *k)) {
        return Err((format!("fields.{}", short(k)), "the asset type has no such field".into()));
    }
    let mut out = Checked::default();
    for d in defs {
        let at = format!("fields.{}", d.key);
        let raw = input.get(&d.key).filter(|v| !is_empty(v));
        let Some(raw) = raw else {
            if d.required {
                return Err((at, "is required".into()));
            }
            continue;
        };
        let value = check_value(d, raw).map_err(|e| (at, e))?;
        if d.kind.is_reference() {
            let id = value.as_i64().unwrap_or_default();
            out.references.push(Reference { key: d.key.clone(), kind: d.kind, id });
        } else {
            let shown = match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.text.push_str(&shown);
            out.text.push('\n');
        }
        if d.expires {
            if let Some(day) = value.as_str().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) {
                out.expiries.push((d.key.clone(), day));
            }
        }
        out.values.insert(d.key.clone(), value);
    }
    Ok(out)
}

fn short(k: &str) -> String {
    k.chars().take(MAX_KEY_CHARS).collect()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// One value in its stored form.
fn check_value(d: &FieldDef, raw: &Value) -> Result<Value, String> {
    let text = || raw.as_str().ok_or_else(|| "must be text".to_string());
    match d.kind {
        FieldKind::Text => Ok(Value::String(one_line(text()?, MAX_TEXT_CHARS)?)),
        FieldKind::Multiline => {
            let t = text()?.trim();
            if t.chars().count() > MAX_MULTILINE_CHARS {
                return Err(format!("must be at most {MAX_MULTILINE_CHARS} characters"));
            }
            if t.chars().any(|c| crate::validate::forbidden(c, true)) {
                return Err("must not contain control or text-direction characters".into());
            }
            Ok(Value::String(t.replace("\r\n", "\n")))
        }
        FieldKind::Number => {
            let n = match raw {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match n {
                Some(n) if n.is_finite() && n.abs() < 1e15 => Ok(serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)),
                _ => Err("must be a number".into()),
            }
        }
        FieldKind::Date => {
            let t = text()?.trim();
            let day = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| "must be a date as YYYY-MM-DD".to_string())?;
            if !(1900..=2200).contains(&chrono::Datelike::year(&day)) {
                return Err("must be a year between 1900 and 2200".into());
            }
            Ok(Value::String(day.format("%Y-%m-%d").to_string()))
        }
        FieldKind::Select => {
            let t = text()?.trim();
            d.options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(t) || o.to_lowercase() == t.to_lowercase())
                .map(|o| Value::String(o.clone()))
                .ok_or_else(|| format!("must be one of: {}", d.options.join(", ")))
        }
        FieldKind::Url => url(text()?).map(Value::String),
        FieldKind::Email => crate::validate::Email::parse(text()?).map(|e| Value::String(e.into_string())),
        FieldKind::Ip => {
            let t = text()?.trim();
            let ok = t.len() <= 64 && (t.parse::<std::net::IpAddr>().is_ok() || crate::validate::cidr::Range::parse(t).is_some());
            if ok {
                Ok(Value::String(t.to_lowercase()))
            } else {
                Err("must be an IP address or a network such as 10.0.0.0/24".into())
            }
        }
        FieldKind::Vault | FieldKind::Asset | FieldKind::Device | FieldKind::Contact => {
            let id = match raw {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match id {
                Some(id) if id > 0 => Ok(Value::from(id)),
                _ => Err(format!("must be the id of a {}", d.kind.as_str())),
            }
        }
    }
}

/// The schemes a URL field accepts: never `javascript:` or `data:`.
const SCHEMES: [&str; 8] = ["http", "https", "ftp", "sftp", "ssh", "rdp", "smb", "vnc"];

/// A URL a page may link to.
pub fn url(s: &str) -> Result<String, String> {
    let t = s.trim();
    let refused = || format!("must be an address starting with {}://", SCHEMES.join("://, "));
    if t.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let (scheme, rest) = t.split_once("://").ok_or_else(refused)?;
    let known = SCHEMES.iter().any(|k| k.eq_ignore_ascii_case(scheme));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if !known || host.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>') {
        return Err(refused());
    }
    Ok(format!("{}://{rest}", scheme.to_ascii_lowercase()))
}

/// A value as a page shows it (links' ids are shown by the caller).
pub fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn field(label: &str, kind: FieldKind) -> FieldInput {
        FieldInput { key: None, label: label.into(), kind, required: false, options: vec![], expires: false, help: String::new() }
    }

    fn defs() -> Vec<FieldDef> {
        let mut f = vec![
            field("Serial number", FieldKind::Text),
            field("Warranty ends", FieldKind::Date),
            field("Role", FieldKind::Select),
            field("Admin page", FieldKind::Url),
            field("LAN", FieldKind::Ip),
            field("Admin login", FieldKind::Vault),
            field("Runs on", FieldKind::Device),
            field("Ports", FieldKind::Number),
        ];
        f[0].required = true;
        f[1].expires = true;
        f[2].options = vec!["Edge".into(), "Core".into()];
        check_fields(&f).unwrap()
    }

    #[test]
    fn keys_come_from_labels_and_must_be_unique() {
        let d = defs();
        assert_eq!(d[0].key, "serial_number");
        assert_eq!(d[5].key, "admin_login");
        assert_eq!(key_of("  Wi-Fi (5 GHz) SSID "), "wi_fi_5_ghz_ssid");
        assert_eq!(key_of("365 tenant"), "f_365_tenant");
        let twice = [field("Name", FieldKind::Text), field("name", FieldKind::Text)];
        assert_eq!(check_fields(&twice).unwrap_err().0, "fields[1].key");
        let mut bad = field("When", FieldKind::Text);
        bad.expires = true;
        assert_eq!(check_fields(&[bad]).unwrap_err().0, "fields[0].expires");
        assert_eq!(check_fields(&[field("Pick", FieldKind::Select)]).unwrap_err().0, "fields[0].options");
    }

    #[test]
    fn values_are_checked_per_kind() {
        let d = defs();
        let ok = check_values(
            &d,
            json!({"serial_number": " FGT-1 ", "warranty_ends": "2027-03-01", "role": "edge", "admin_page": "HTTPS://10.0.0.1:4443/",
                "lan": "10.0.0.0/24", "admin_login": 98765, "runs_on": "12", "ports": "8"})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        assert_eq!(ok.values["serial_number"], json!("FGT-1"));
        assert_eq!(ok.values["role"], json!("Edge"));
        assert_eq!(ok.values["admin_page"], json!("https://10.0.0.1:4443/"));
        assert_eq!(ok.values["ports"], json!(8.0));
        assert_eq!(ok.expiries, vec![("warranty_ends".into(), NaiveDate::from_ymd_opt(2027, 3, 1).unwrap())]);
        assert_eq!(ok.references.len(), 2);
        assert!(!ok.text.contains("98765"), "a vault reference is never searchable text: {}", ok.text);
        for (key, value) in [
            ("serial_number", json!("")),
            ("warranty_ends", json!("01/03/2027")),
            ("role", json!("Distribution")),
            ("admin_page", json!("javascript:alert(1)")),
            ("admin_page", json!("data://text/html,x")),
            ("lan", json!("10.0.0.300")),
            ("admin_login", json!(-1)),
            ("ports", json!("many")),
            ("nope", json!("x")),
        ] {
            let mut input = json!({"serial_number": "S"}).as_object().unwrap().clone();
            input.insert(key.into(), value.clone());
            let err = check_values(&d, &input).unwrap_err();
            assert_eq!(err.0, format!("fields.{key}"), "{key} = {value}");
        }
    }

    proptest! {
        #[test]
        fn any_label_gives_a_valid_key(label in "\\PC{1,120}") {
            let k = key_of(&label);
            prop_assert!(valid_key(&k), "{:?} -> {:?}", label, k);
        }

        /// Whatever comes in, what is kept is one of the type's fields in
        /// its stored form: checking it again changes nothing.
        #[test]
        fn checked_values_check_again_unchanged(
            serial in "\\PC{0,40}", day in 0i64..100_000, role in "[A-Za-z]{0,6}", url in "[a-z]{0,8}://[a-z0-9./]{0,20}",
            ip in "[0-9a-f.:/]{0,20}", id in -5i64..1_000, n in proptest::num::f64::ANY,
        ) {
            let d = defs();
            let date = (NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(day)).to_string();
            let input = json!({"serial_number": serial, "warranty_ends": date, "role": role, "admin_page": url, "lan": ip,
                "admin_login": id, "ports": n});
            let mut input = input.as_object().unwrap().clone();
            // Drop whatever is wrong, one field at a time, until it passes.
            let checked = loop {
                match check_values(&d, &input) {
                    Ok(c) => break c,
                    Err((at, _)) => {
                        let key = at.trim_start_matches("fields.").to_string();
                        if key == "serial_number" { input.insert(key, json!("S")); } else { input.remove(&key); }
                    }
                }
            };
            let again = check_values(&d, &checked.values).unwrap();
            prop_assert_eq!(&again.values, &checked.values);
            prop_assert!(checked.values.keys().all(|k| d.iter().any(|f| &f.key == k)));
        }

        #[test]
        fn a_url_kept_is_never_a_script(s in "\\PC{0,60}") {
            if let Ok(u) = url(&s) {
                let lower = u.to_lowercase();
                let ok = SCHEMES.iter().any(|k| lower.starts_with(&format!("{}://", k)));
                prop_assert!(ok);
            }
        }
    }
}
