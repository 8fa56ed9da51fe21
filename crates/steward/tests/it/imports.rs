//! CSV imports against the real server on either engine: ITFlow's and IT
//! Glue's exports recognised and mapped by their headers, a dry run that
//! keeps nothing and says what each row would do, a commit refused whole
//! for one bad row, re-imports that change only what differs, rows of
//! another organization skipped, secrets sealed like any vault entry,
//! and the import held to the caller's clients and permissions.

use crate::common::*;
use serde_json::{json, Value};

const ITFLOW_CREDENTIALS: &str = "Name,Description,Username,Password,TOTP,URI\n\
Firewall admin,Edge firewall,admin,'-Xy1pass,,https://192.0.2.1\n\
\"Wi-Fi, staff\",\"PSK for \"\"STAFF\"\"\",,correct horse battery,,\n\
Backup NAS,,backup-svc,\"n4s\\\"quote\",JBSWY3DPEHPK3PXP,https://192.0.2.20:5001\n";

async fn import(a: &Client, client: i64, body: Value) -> (u16, Value) {
    a.post(&format!("/api/v1/clients/{client}/imports"), body).await
}

fn actions(r: &Value) -> Vec<String> {
    r["rows"].as_array().unwrap().iter().map(|x| x["action"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_itflow_credentials_export_is_checked_then_imported_into_the_vault() {
    let s = Server::start().await;
    let a = s.admin().await;
    enrol_mfa(&a).await;
    let c = make_client(&a, "Harbor Dental").await;
    let vault = format!("/api/v1/clients/{c}/vault");

    // The dry run: recognised, mapped, every row a creation; nothing kept.
    let (st, r) = import(&a, c, json!({"kind": "passwords", "csv": ITFLOW_CREDENTIALS})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!((r["format"].as_str(), r["committed"].as_bool()), (Some("itflow"), Some(false)));
    assert_eq!(actions(&r), ["create", "create", "create"], "{r}");
    let cols: Vec<(&str, Option<&str>)> =
        r["columns"].as_array().unwrap().iter().map(|c| (c["header"].as_str().unwrap(), c["target"].as_str())).collect();
    assert!(
        cols.contains(&("URI", Some("url")))
            && cols.contains(&("TOTP", Some("totp_secret")))
            && cols.contains(&("Description", Some("notes"))),
        "{cols:?}"
    );
    assert!(r["rows"][0]["note"].as_str().is_some_and(|n| n.contains("ITFlow")), "the formula guard is reported: {r}");
    assert!(!r.to_string().contains("Xy1pass") && !r.to_string().contains("correct horse"), "a report never carries a secret");
    let (_, list) = a.get(&vault).await;
    assert_eq!(list["total"], 0, "a dry run keeps nothing: {list}");

    // The commit: three sealed entries, the secrets as they were written.
    let (st, r) = import(&a, c, json!({"kind": "passwords", "csv": ITFLOW_CREDENTIALS, "commit": true})).await;
    assert_eq!((st, r["committed"].as_bool(), r["created"].as_i64()), (200, Some(true), Some(3)), "{r}");
    let (_, list) = a.get(&vault).await;
    let entries = list["items"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{list}");
    let id_of =
        |name: &str| entries.iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("{name} in {list}"))["id"].as_i64().unwrap();
    let reveal = |id: i64| {
        let a = &a;
        let vault = vault.clone();
        async move { a.post(&format!("{vault}/{id}/reveal"), json!({})).await.1 }
    };
    assert_eq!(reveal(id_of("Firewall admin")).await["password"], "-Xy1pass", "ITFlow's leading ' is taken off");
    assert_eq!(reveal(id_of("Backup NAS")).await["password"], "n4s\\\"quote", "PHP's undoubled quote kept as written");
    assert_eq!(
        reveal(id_of("Backup NAS")).await["totp_secret"].as_str().map(|t| t.replace(' ', "").to_uppercase()),
        Some("JBSWY3DPEHPK3PXP".into())
    );
    let (_, wifi) = a.get(&format!("{vault}/{}", id_of("Wi-Fi, staff"))).await;
    assert_eq!(wifi["notes"], "PSK for \"STAFF\"");
    let (_, audit) = a.get(&format!("/api/v1/audit?client_id={c}")).await;
    let acts: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(acts.iter().filter(|x| **x == "vault.create").count(), 3, "{acts:?}");
    assert!(acts.contains(&"import.commit"), "{acts:?}");

    // The same file again changes nothing; a changed password is a change
    // (a new version), the rest unchanged.
    let (_, r) = import(&a, c, json!({"kind": "passwords", "csv": ITFLOW_CREDENTIALS})).await;
    assert_eq!(actions(&r), ["unchanged", "unchanged", "unchanged"], "{r}");
    let changed = ITFLOW_CREDENTIALS.replace("correct horse battery", "new staple");
    let (st, r) = import(&a, c, json!({"kind": "passwords", "csv": changed, "commit": true})).await;
    assert_eq!((st, actions(&r)), (200, vec!["unchanged".to_string(), "change".into(), "unchanged".into()]), "{r}");
    assert_eq!(reveal(id_of("Wi-Fi, staff")).await["password"], "new staple");
    let (_, wifi) = a.get(&format!("{vault}/{}", id_of("Wi-Fi, staff"))).await;
    assert_eq!(wifi["version"], 2, "a new version: {wifi}");
    let (_, versions) = a.get(&format!("{vault}/{}/versions", id_of("Wi-Fi, staff"))).await;
    assert_eq!(versions[0]["version"], 1, "the earlier one kept: {versions}");
}

#[tokio::test]
async fn an_asset_import_with_one_bad_row_keeps_nothing_until_it_is_fixed() {
    let s = Server::start().await;
    let a = s.admin().await;
    let c = make_client(&a, "Harbor Dental").await;
    let (_, types) = a.get("/api/v1/asset-types").await;
    let conf = types.as_array().unwrap().iter().find(|t| t["configuration"] == true).unwrap()["id"].as_i64().unwrap();
    let header = "Name,Description,Type,Make,Model,Serial Number,Operating System,Purchase Date,Warranty Expire,Install Date,Assigned To,Location,Physical Location,Notes,Client,Primary IP";
    let csv = |warranty: &str| {
        format!(
            "{header}\n\
             FRONT-PC,Reception,Desktop,Dell,OptiPlex 7010,7XK2LM3,Windows 11,2024-02-01,2027-02-01,,Ann,HQ,Desk 1,Shared login,Harbor Dental,10.0.0.21\n\
             CORE-SW,,Switch,Aruba,2930F,CN12AB34,,,{warranty},,,HQ,Comms,,Harbor Dental,10.0.0.2\n\
             OTHER-PC,,Laptop,HP,EliteBook,5CG1,,,,,,,,,Another Client,\n"
        )
    };
    let (st, r) = import(&a, c, json!({"kind": "assets", "type_id": conf, "csv": csv("2027-13-45")})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["format"], "itflow");
    assert_eq!(actions(&r), ["create", "error", "skip"], "{r}");
    let bad = &r["rows"][1];
    assert_eq!((bad["line"].as_i64(), bad["errors"][0]["field"].as_str()), (Some(3), Some("fields.warranty_ends")), "{bad}");
    assert!(r["rows"][2]["note"].as_str().unwrap().contains("Another Client"));
    // A commit with an error row is refused whole.
    let (st, r) = import(&a, c, json!({"kind": "assets", "type_id": conf, "csv": csv("2027-13-45"), "commit": true})).await;
    assert_eq!((st, r["committed"].as_bool()), (422, Some(false)), "{r}");
    let (_, list) = a.get(&format!("/api/v1/clients/{c}/assets")).await;
    assert_eq!(list["total"], 0, "all or nothing: {list}");

    // Fixed, it goes in: ITFlow's types become the configuration's kinds,
    // the warranty joins the expiry list, the search finds the serials.
    let (st, r) = import(&a, c, json!({"kind": "assets", "type_id": conf, "csv": csv("2028-05-31"), "commit": true})).await;
    assert_eq!((st, r["created"].as_i64(), r["skipped"].as_i64()), (200, Some(2), Some(1)), "{r}");
    let (_, list) = a.get(&format!("/api/v1/clients/{c}/assets?q=front")).await;
    let pc = &list["items"][0];
    assert_eq!((pc["fields"]["kind"].as_str(), pc["fields"]["manufacturer"].as_str()), (Some("Workstation"), Some("Dell")), "{pc}");
    assert_eq!((pc["fields"]["ip_address"].as_str(), pc["notes"].as_str()), (Some("10.0.0.21"), Some("Shared login")), "{pc}");
    let (_, exp) = a.get(&format!("/api/v1/expiries?within_days=3650&client_id={c}")).await;
    assert_eq!(exp.as_array().unwrap().len(), 2, "{exp}");

    // An explicit mapping: a generic file whose columns say nothing known.
    let generic = "Device,Serial no.,Where\nPRN-1,SN-99,Front desk\n";
    let (st, e) = import(&a, c, json!({"kind": "assets", "type_id": conf, "csv": generic})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("mapping")), "no name column: {e}");
    let mapping = json!({"Device": "name", "Serial no.": "serial_number", "Where": "location"});
    let (st, r) = import(&a, c, json!({"kind": "assets", "type_id": conf, "csv": generic, "mapping": mapping, "commit": true})).await;
    assert_eq!((st, r["created"].as_i64()), (200, Some(1)), "{r}");
    let (st, e) = import(&a, c, json!({"kind": "assets", "type_id": conf, "csv": generic, "mapping": {"Device": "password"}})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (422, Some("mapping.Device")), "{e}");
    // Files that are not what they say get a clear answer.
    for (csv, field) in [("", "csv"), (",,\n1,2\n", "csv")] {
        let (st, e) = import(&a, c, json!({"kind": "assets", "type_id": conf, "csv": csv})).await;
        assert_eq!((st, e["error"]["field"].as_str()), (422, Some(field)), "{csv:?}: {e}");
    }
    let (st, _) = import(&a, c, json!({"kind": "assets", "csv": generic})).await;
    assert_eq!(st, 422, "an asset import names its type");
}

#[tokio::test]
async fn an_itglue_passwords_export_imports_only_this_clients_rows_and_only_for_those_allowed() {
    let s = Server::start().await;
    let a = s.admin().await;
    let mine = make_client(&a, "Mine Ltd").await;
    let theirs = make_client(&a, "Theirs Ltd").await;
    let csv = "id,organization,name,password_category,resource_type,resource_id,username,password,url,notes,otp_secret,archived\n\
               101,Mine Ltd,Router,Network,,,admin,r0uter-pw,https://192.0.2.1,,,No\n\
               102,Theirs Ltd,Their router,Network,,,admin,their-pw,,,,No\n";
    let (st, r) = import(&a, mine, json!({"kind": "passwords", "csv": csv, "commit": true})).await;
    assert_eq!((st, r["format"].as_str()), (200, Some("itglue")), "{r}");
    assert_eq!(actions(&r), ["create", "skip"]);
    let (_, list) = a.get(&format!("/api/v1/clients/{mine}/vault")).await;
    assert_eq!(list["items"][0]["folder"], "Network", "IT Glue's category is the folder: {list}");

    // A technician limited to one client imports nothing into another; a
    // read-only user into none.
    make_user(&a, "limited@msp.example", "technician", Some(vec![mine])).await;
    let t = s.client();
    t.login_ok("limited@msp.example", PASSWORD).await;
    let (st, _) = import(&t, theirs, json!({"kind": "passwords", "csv": csv, "commit": true})).await;
    assert_eq!(st, 404);
    let (st, _, _) = t.form(&format!("/clients/{theirs}/import"), &[("kind", "passwords"), ("csv", csv), ("commit", "1")]).await;
    assert_eq!(st, 404);
    let (_, list) = a.get(&format!("/api/v1/clients/{theirs}/vault")).await;
    assert_eq!(list["total"], 0);
    make_user(&a, "ro@msp.example", "read_only", None).await;
    let ro = s.client();
    ro.login_ok("ro@msp.example", PASSWORD).await;
    let (st, _) = import(&ro, mine, json!({"kind": "passwords", "csv": csv})).await;
    assert_eq!(st, 403);

    // The page: check, then import.
    let (st, page) = a.get_text(&format!("/clients/{theirs}/import")).await;
    assert_eq!(st, 200);
    assert!(page.contains("Paste a CSV export"));
    let (st, _, body) = a.form(&format!("/clients/{theirs}/import"), &[("kind", "passwords"), ("csv", csv)]).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("What the import would do") && body.contains("Their router") && body.contains("Import these 2 rows"), "{body}");
    let (st, _, body) = a.form(&format!("/clients/{theirs}/import"), &[("kind", "passwords"), ("csv", csv), ("commit", "1")]).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("Imported"), "{body}");
    let (_, list) = a.get(&format!("/api/v1/clients/{theirs}/vault")).await;
    assert_eq!(list["total"], 1, "{list}");
}
