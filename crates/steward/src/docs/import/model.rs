//! Reading a CSV export into rows to import: pure, no I/O, property-tested.
//!
//! Columns are matched by their header's name, never by position (an
//! export's columns vary with its version and its user's choices): the
//! header is normalised (case, spaces, dashes, a byte-order mark), the
//! format it comes from recognised by its set of headers, and each column
//! mapped to a target by that format's aliases, by the asset type's own
//! field keys and labels, or by the caller's explicit mapping. Recognised
//! out of the box: ITFlow's credential and asset exports (and its import
//! templates), IT Glue's `passwords.csv` and `configurations.csv`, and
//! Hudu's password and asset exports (by their API field names: Hudu
//! publishes no export format).

use crate::docs::assets::model::{key_of, FieldDef};
use serde::Serialize;
use std::collections::BTreeMap;

/// The largest file accepted, and the most rows.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_ROWS: usize = 20_000;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Passwords,
    Assets,
}

/// A header as compared: lower case, words joined by `_`.
pub fn normalise(header: &str) -> String {
    key_of(header.trim_start_matches('\u{feff}')).trim_start_matches("f_").to_string()
}

/// The targets of a password import.
pub const PASSWORD_TARGETS: [&str; 8] = ["name", "username", "password", "url", "notes", "totp_secret", "folder", "organization"];

/// Aliases of the password targets, over every format (normalised headers).
const PASSWORD_ALIASES: &[(&str, &str)] = &[
    ("name", "name"),
    ("title", "name"),
    ("username", "username"),
    ("user_name", "username"),
    ("login", "username"),
    ("password", "password"),
    ("url", "url"),
    ("uri", "url"),
    ("website", "url"),
    ("notes", "notes"),
    ("description", "notes"),
    ("totp", "totp_secret"),
    ("otp_secret", "totp_secret"),
    ("totp_secret", "totp_secret"),
    ("password_folder", "folder"),
    ("password_category", "folder"),
    ("folder", "folder"),
    ("organization", "organization"),
    ("organization_name", "organization"),
    ("company", "organization"),
    ("company_name", "organization"),
    ("client", "organization"),
];

/// Aliases towards asset targets: `name`, `notes`, `organization`, and the
/// starter Configuration type's keys (ITFlow's and IT Glue's columns).
const ASSET_ALIASES: &[(&str, &str)] = &[
    ("name", "name"),
    ("title", "name"),
    ("notes", "notes"),
    ("description", "notes"),
    ("organization", "organization"),
    ("organization_name", "organization"),
    ("company", "organization"),
    ("company_name", "organization"),
    ("client", "organization"),
    ("type", "kind"),
    ("configuration_type", "kind"),
    ("configuration_type_name", "kind"),
    ("make", "manufacturer"),
    ("manufacturer_name", "manufacturer"),
    ("primary_manufacturer", "manufacturer"),
    ("model_name", "model"),
    ("primary_model", "model"),
    ("serial", "serial_number"),
    ("primary_serial", "serial_number"),
    ("primary_ip", "ip_address"),
    ("ip", "ip_address"),
    ("primary_mac", "mac_address"),
    ("mac", "mac_address"),
    ("purchase_date", "purchased"),
    ("purchased_at", "purchased"),
    ("warranty_expire", "warranty_ends"),
    ("warranty_expires_at", "warranty_ends"),
    ("warranty_expires", "warranty_ends"),
    ("physical_location", "location"),
    ("location_name", "location"),
];

/// Which export a header row comes from.
pub fn recognise(kind: Kind, headers: &[String]) -> &'static str {
    let has = |h: &str| headers.iter().any(|x| x == h);
    match kind {
        Kind::Passwords if has("uri") && has("name") && has("password") => "itflow",
        Kind::Passwords
            if has("organization") && has("password") && (has("otp_secret") || has("password_category") || has("resource_type")) =>
        {
            "itglue"
        }
        Kind::Passwords if has("company_name") && has("password") => "hudu",
        Kind::Assets if has("make") && has("serial_number") && has("warranty_expire") => "itflow",
        Kind::Assets if has("make") && has("serial") && has("os") => "itflow",
        Kind::Assets if has("organization") && (has("configuration_type") || has("primary_ip") || has("warranty_expires_at")) => "itglue",
        Kind::Assets if has("company_name") && (has("primary_serial") || has("asset_layout") || has("asset_layout_id")) => "hudu",
        _ => "generic",
    }
}

/// Each column's target (`None`: not imported), by position.
pub fn map_columns(kind: Kind, headers: &[String], fields: &[FieldDef], explicit: &BTreeMap<String, String>) -> Vec<Option<String>> {
    let chosen = |h: &String| explicit.iter().find(|(k, _)| normalise(k) == *h).map(|(_, t)| t.clone());
    let auto: Vec<Option<String>> = headers.iter().map(|h| if chosen(h).is_some() { None } else { auto_target(kind, h, fields) }).collect();
    // The caller's choices first, then columns named like their target
    // (`Notes` before `Description`), then the rest by position: each
    // target filled by one column.
    let mut taken: Vec<String> = headers.iter().filter_map(chosen).filter(|t| !t.is_empty()).collect();
    let mut out: Vec<Option<String>> = headers.iter().map(|h| chosen(h).filter(|t| !t.is_empty())).collect();
    let exact = |i: usize| {
        auto[i].as_deref().is_some_and(|t| *t == headers[i] || fields.iter().any(|f| f.key == t && normalise(&f.label) == headers[i]))
    };
    let mut order: Vec<usize> = (0..headers.len()).collect();
    order.sort_by_key(|i| (!exact(*i), *i));
    for i in order {
        if let Some(t) = &auto[i] {
            if !taken.contains(t) {
                taken.push(t.clone());
                out[i] = Some(t.clone());
            }
        }
    }
    out
}

fn auto_target(kind: Kind, h: &str, fields: &[FieldDef]) -> Option<String> {
    match kind {
        Kind::Passwords => PASSWORD_ALIASES.iter().find(|(a, _)| *a == h).map(|(_, t)| t.to_string()),
        Kind::Assets => fields.iter().find(|f| f.key == h || normalise(&f.label) == h).map(|f| f.key.clone()).or_else(|| {
            let t = ASSET_ALIASES.iter().find(|(a, _)| *a == h).map(|(_, t)| *t)?;
            (matches!(t, "name" | "notes" | "organization") || fields.iter().any(|f| f.key == t)).then(|| t.to_string())
        }),
    }
}

/// Whether `target` is something an import of `kind` can fill.
pub fn valid_target(kind: Kind, target: &str, fields: &[FieldDef]) -> bool {
    match kind {
        Kind::Passwords => PASSWORD_TARGETS.contains(&target),
        Kind::Assets => matches!(target, "name" | "notes" | "organization") || fields.iter().any(|f| f.key == target),
    }
}

/// A parsed file: its normalised headers and its rows (as many cells as
/// headers each, short rows padded).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    /// The headers as written, for the report.
    pub written: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Why a file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileError(pub String);

/// Stands for PHP's `\"` while the file is read.
const KEPT_QUOTE: char = '\u{e000}';

/// Reads CSV text (RFC 4180). ITFlow writes with PHP's `fputcsv`, which
/// leaves a quote after a backslash undoubled (`"a\"b"` is `a\"b`): in a
/// file holding `\"`, that pair is kept as it is, as PHP reads it back.
pub fn parse(text: &str) -> Result<Table, FileError> {
    if text.len() > MAX_BYTES {
        return Err(FileError(format!("the file is larger than {} MiB", MAX_BYTES / 1024 / 1024)));
    }
    let text = text.trim_start_matches('\u{feff}');
    if text.contains("\\\"") && !text.contains(KEPT_QUOTE) {
        let mut t = read(&text.replace("\\\"", &KEPT_QUOTE.to_string()))?;
        let back = |c: &mut String| *c = c.replace(KEPT_QUOTE, "\\\"");
        t.rows.iter_mut().flatten().for_each(back);
        t.written.iter_mut().for_each(back);
        return Ok(t);
    }
    read(text)
}

fn read(text: &str) -> Result<Table, FileError> {
    let mut b = csv::ReaderBuilder::new();
    b.flexible(true).has_headers(true);
    let mut r = b.from_reader(text.as_bytes());
    let written: Vec<String> = r.headers().map_err(|e| FileError(format!("the header row: {e}")))?.iter().map(str::to_string).collect();
    if written.iter().all(|h| h.trim().is_empty()) {
        return Err(FileError("the file has no header row".into()));
    }
    let headers: Vec<String> = written.iter().map(|h| normalise(h)).collect();
    let mut rows = vec![];
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| FileError(format!("row {}: {e}", i + 2)))?;
        if rows.len() >= MAX_ROWS {
            return Err(FileError(format!("more than {MAX_ROWS} rows: split the file")));
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut cells: Vec<String> = rec.iter().map(str::to_string).collect();
        cells.resize(headers.len(), String::new());
        rows.push(cells);
    }
    Ok(Table { headers, written, rows })
}

/// A cell as ITFlow exported it: since 2026 it puts `'` before a value
/// starting with `=`, `+`, `-`, `@`, a tab or a return (against formula
/// injection in spreadsheets), passwords too. That `'` is taken off.
pub fn unformula(format: &str, v: &str) -> String {
    match (format, v.strip_prefix('\'')) {
        ("itflow", Some(rest)) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => v.to_string(),
    }
}

/// One row's values by target (empty cells left out).
pub fn values(row: &[String], targets: &[Option<String>], format: &str) -> BTreeMap<String, String> {
    row.iter()
        .zip(targets)
        .filter_map(|(cell, t)| {
            let v = unformula(format, cell.trim());
            Some((t.clone()?, v)).filter(|(_, v)| !v.is_empty())
        })
        .collect()
}

/// ITFlow's asset types as the Configuration type's kinds.
pub fn configuration_kind(v: &str) -> String {
    match v.trim().to_lowercase().as_str() {
        "desktop" => "Workstation".into(),
        "laptop" => "Laptop".into(),
        "server" => "Server".into(),
        "virtual machine" => "Virtual machine".into(),
        "firewall/router" | "firewall" => "Firewall".into(),
        "router" => "Router".into(),
        "switch" => "Switch".into(),
        "access point" => "Access point".into(),
        "printer" => "Printer".into(),
        "phone" | "mobile phone" | "tablet" => "Phone".into(),
        "nas" => "NAS".into(),
        "ups" => "UPS".into(),
        _ => "Other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::assets::model::{check_fields, FieldInput, FieldKind};
    use proptest::prelude::*;

    fn conf() -> Vec<FieldDef> {
        let f = |label: &str, kind| FieldInput {
            key: None,
            label: label.into(),
            kind,
            required: false,
            options: vec![],
            expires: false,
            help: String::new(),
        };
        let mut kind = f("Kind", FieldKind::Select);
        kind.options = vec!["Workstation".into(), "Other".into()];
        check_fields(&[
            kind,
            f("Manufacturer", FieldKind::Text),
            f("Serial number", FieldKind::Text),
            f("IP address", FieldKind::Ip),
            f("Warranty ends", FieldKind::Date),
        ])
        .unwrap()
    }

    #[test]
    fn each_export_is_recognised_and_mapped_by_its_headers() {
        let t = parse("\u{feff}Name,Description,Username,Password,TOTP,URI\nFirewall,edge,admin,'-Xy1,,https://fw\n").unwrap();
        assert_eq!(recognise(Kind::Passwords, &t.headers), "itflow");
        let map = map_columns(Kind::Passwords, &t.headers, &[], &BTreeMap::new());
        let v = values(&t.rows[0], &map, "itflow");
        assert_eq!(v["password"], "-Xy1", "ITFlow's formula guard is taken off");
        assert_eq!((v["notes"].as_str(), v["url"].as_str()), ("edge", "https://fw"));

        let t = parse("id,organization,name,password_category,username,password,url,notes,otp_secret\n1,Acme,Wi-Fi,Network,,s3cret,,,\n")
            .unwrap();
        assert_eq!(recognise(Kind::Passwords, &t.headers), "itglue");
        let map = map_columns(Kind::Passwords, &t.headers, &[], &BTreeMap::new());
        assert_eq!(map[0], None, "IT Glue's id is not imported");
        assert_eq!(values(&t.rows[0], &map, "itglue")["organization"], "Acme");

        let header = "Name,Description,Type,Make,Model,Serial Number,Operating System,Purchase Date,Warranty Expire,Install Date,Assigned To,Location,Physical Location,Notes,Client,Primary IP";
        let t = parse(&format!(
            "{header}\nPC-01,,Desktop,Dell,OptiPlex,ABC123,Windows 11,2024-01-02,2027-01-02,,Ann,HQ,Desk 4,,Acme,10.0.0.5\n"
        ))
        .unwrap();
        assert_eq!(recognise(Kind::Assets, &t.headers), "itflow");
        let map = map_columns(Kind::Assets, &t.headers, &conf(), &BTreeMap::new());
        let v = values(&t.rows[0], &map, "itflow");
        assert_eq!(v["kind"], "Desktop");
        assert_eq!((v["manufacturer"].as_str(), v["serial_number"].as_str()), ("Dell", "ABC123"));
        assert_eq!((v["warranty_ends"].as_str(), v["ip_address"].as_str(), v["organization"].as_str()), ("2027-01-02", "10.0.0.5", "Acme"));
        assert!(!v.contains_key("location"), "the type has no location field: not mapped");
        let notes_from: Vec<&String> = t.headers.iter().zip(&map).filter(|(_, m)| m.as_deref() == Some("notes")).map(|(h, _)| h).collect();
        assert_eq!(notes_from, ["notes"], "a column named Notes before Description");

        // An explicit mapping wins, and "" leaves a column out.
        let explicit = BTreeMap::from([("Serial Number".to_string(), "".to_string()), ("Model".to_string(), "manufacturer".to_string())]);
        let map = map_columns(Kind::Assets, &t.headers, &conf(), &explicit);
        let v = values(&t.rows[0], &map, "itflow");
        assert!(!v.contains_key("serial_number"));
        assert_eq!(v["manufacturer"], "OptiPlex", "the first column for a target wins, the explicit one here");
    }

    #[test]
    fn php_backslash_escapes_are_read_and_bad_files_say_why() {
        let t = parse("Name,Password\r\n\"Quote\",\"a\\\"b\"\r\n\"Two\",\"say \"\"hi\"\"\"\r\n").unwrap();
        assert_eq!(t.rows[0][1], "a\\\"b", "PHP's undoubled quote after a backslash");
        assert_eq!(t.rows[1][1], "say \"hi\"", "doubled quotes as usual");
        assert!(parse("").is_err());
        assert!(parse(",,\n1,2,3\n").unwrap_err().0.contains("no header"));
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused_never_panics(s in "\\PC{0,400}") {
            if let Ok(t) = parse(&s) {
                prop_assert!(t.rows.iter().all(|r| r.len() == t.headers.len()));
                let map = map_columns(Kind::Assets, &t.headers, &conf(), &BTreeMap::new());
                // Each target comes from one column at most.
                let mut targets: Vec<&String> = map.iter().flatten().collect();
                let n = targets.len();
                targets.sort();
                targets.dedup();
                prop_assert_eq!(targets.len(), n);
            }
        }

        #[test]
        fn the_formula_guard_is_taken_off_only_where_itflow_put_it(v in "\\PC{0,20}") {
            // A value that itself starts with ' and a guarded character reads as guarded: ambiguous by ITFlow's design.
            prop_assume!(!(v.starts_with('\'') && v[1..].starts_with(['=', '+', '-', '@', '\t', '\r'])));
            let guarded = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.clone() };
            prop_assert_eq!(unformula("itflow", &guarded), v.clone());
            prop_assert_eq!(unformula("generic", &guarded), guarded);
        }
    }
}
