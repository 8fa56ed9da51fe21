//! The demo's documented assets: per client a firewall, the staff Wi-Fi
//! it serves, the domain and its certificate, the internet line, the
//! Microsoft 365 tenant and two configurations without an agent (a switch
//! and a printer), linked to the client's vault entries and related to
//! each other; some dates run out soon (one is past) so the expiry list
//! and the home page have something to say. All through the audited
//! operations the pages use.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::docs::assets::ops::{self, NewAsset};
use crate::docs::assets::relations::{self, End, NewRelation};
use crate::docs::assets::store;
use serde_json::{json, Map, Value};

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string()
}

pub async fn seed(app: &App, p: &Principal, clients: &[i64]) -> anyhow::Result<()> {
    let e = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    let mut db = app.store.clone();
    let types = store::types(&mut db, false).await?;
    let type_id = |name: &str| types.iter().find(|t| t.name == name).map(|t| t.id).ok_or_else(|| anyhow::anyhow!("no asset type {name}"));
    for (i, client) in clients.iter().enumerate() {
        let vault = store::choices(&mut db, "vault", *client, 100).await?;
        let entry = |name: &str| vault.iter().find(|(_, l)| l == name).map(|(id, _)| json!(id)).unwrap_or(Value::Null);
        let i = i as i64;
        let make = |type_name: &str, name: &str, fields: Value| -> anyhow::Result<NewAsset> {
            let fields: Map<String, Value> =
                fields.as_object().cloned().unwrap_or_default().into_iter().filter(|(_, v)| !v.is_null()).collect();
            Ok(NewAsset { type_id: type_id(type_name)?, name: name.into(), fields, notes: String::new(), device_id: None })
        };
        let fw = ops::create(
            app,
            p,
            *client,
            make(
                "Firewall",
                "Edge firewall",
                json!({"manufacturer": "Fortinet", "model": "FortiGate 60F", "serial_number": format!("FGT60F{:07}", 4_310_000 + i * 17),
                    "firmware": "7.4.4", "wan_address": format!("203.0.113.{}", 10 + i), "lan_network": "192.0.2.0/24",
                    "admin_page": "https://192.0.2.1", "admin_login": entry("Firewall admin"), "support_ends": day(45 + 120 * i)}),
            )?,
        )
        .await
        .map_err(e)?;
        ops::create(
            app,
            p,
            *client,
            make(
                "Wi-Fi network",
                "Staff Wi-Fi",
                json!({"ssid": "STAFF", "security": "WPA2/WPA3-Personal", "band": "Dual band", "vlan": 20, "passphrase": entry("Wi-Fi (staff)"),
                    "guest_network": "No", "served_by": fw.id}),
            )?,
        )
        .await
        .map_err(e)?;
        let domain_name = format!("client{}.example", i + 1);
        let domain = ops::create(
            app,
            p,
            *client,
            make(
                "Domain",
                &domain_name,
                json!({"domain_name": domain_name, "registrar": "Gandi", "dns_hosted_at": "Cloudflare",
                    "name_servers": "ada.ns.cloudflare.com\nbob.ns.cloudflare.com", "auto_renew": if i == 0 { "No" } else { "Yes" },
                    "expires": day(if i == 0 { 12 } else { 200 + 30 * i })}),
            )?,
        )
        .await
        .map_err(e)?;
        let cert = ops::create(
            app,
            p,
            *client,
            make(
                "TLS certificate",
                &format!("portal.{domain_name}"),
                json!({"common_name": format!("portal.{domain_name}"), "issuer": "Let's Encrypt R11", "used_on": "The client portal's reverse proxy",
                    "expires": day(if i == 1 { -3 } else { 25 + 20 * i })}),
            )?,
        )
        .await
        .map_err(e)?;
        let isp = ops::create(
            app,
            p,
            *client,
            make(
                "ISP circuit",
                "Fibre line",
                json!({"provider": "Metro Fibre", "account_number": format!("MF-{:06}", 120_400 + i), "type": "Fibre",
                    "speed": "500/500 Mbit/s", "public_address": format!("203.0.113.{}", 10 + i), "support_phone": "+1 555 0100",
                    "contract_ends": day(300 + 40 * i)}),
            )?,
        )
        .await
        .map_err(e)?;
        ops::create(
            app,
            p,
            *client,
            make(
                "Microsoft 365 tenant",
                &format!("{domain_name} tenant"),
                json!({"tenant_domain": format!("client{}.onmicrosoft.example", i + 1), "global_admin": entry("Microsoft 365 global admin"),
                    "licences": "12 × Business Premium\n2 × Exchange Online (Plan 1)", "renewal": day(90 + 15 * i)}),
            )?,
        )
        .await
        .map_err(e)?;
        for (name, kind, ip, model) in
            [("Core switch", "Switch", "192.0.2.2", "Aruba 2930F"), ("Front desk printer", "Printer", "192.0.2.40", "Brother MFC-L8900")]
        {
            let fields =
                json!({"kind": kind, "ip_address": ip, "model": model, "location": "Comms cupboard", "warranty_ends": day(500 + 10 * i)});
            ops::create(app, p, *client, make("Configuration", name, fields)?).await.map_err(e)?;
        }
        for (from, to, label) in [(fw.id, isp.id, "connects through"), (domain.id, cert.id, "is secured by")] {
            let r =
                NewRelation { from: End { kind: "asset".into(), id: from }, to: End { kind: "asset".into(), id: to }, label: label.into() };
            relations::create(app, p, *client, r).await.map_err(e)?;
        }
    }
    Ok(())
}
