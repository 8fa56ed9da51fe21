//! `steward demo`: a believable MSP on a fresh temporary data directory,
//! served until Ctrl-C. Everything goes through the same audited operations
//! as real use, so the demo's audit log verifies too. A fleet of simulated
//! agents (the agent crate's simulator, in this process) enrols on every
//! site over the real protocol and keeps reporting, so the device pages are
//! alive: they connect over TLS to a second listener beside the pages' plain
//! HTTP one (the next port up, on the same address), because agents never
//! speak plain HTTP. Real agents can enrol there too: the install command
//! on a site's page names it.
//!
//! The fleet is not all well: a few agents leave after enrolling (their
//! devices show offline) and one keeps dropping its connection (its
//! presence history flaps: online for `STEWARD_DEMO_FLAP_SECS`, 90 by
//! default, then away for half that; tests shorten it). Every device gets
//! a month of metric history as it enrols (`history`), so its charts show
//! every range at once.
//!
//! Browsers reach the demo over plain HTTP, from another machine too, so
//! its session cookie is not `Secure` (`Config::browsers_on_plain_http`).

use crate::app::{App, AppState};
use crate::audit::store::Actor;
use crate::auth::principal::Via;
use crate::auth::roles::Role;
use crate::config::Partial;
use crate::crypto::MasterKey;
use crate::store::Store;
use crate::tenancy::ops::{self, NewClient, NewContact, NewSite};
use crate::users::ops::{create as create_user, NewUserRequest};
use std::net::SocketAddr;
use std::time::Duration;
use steward_agent::simulate::{Churn, Enrolled, Flap};
use tokio::sync::mpsc::UnboundedSender;

pub mod assets;
pub mod billing;
pub mod desk;
pub mod docs;
pub mod history;
pub mod mail;
pub mod scripts;

struct DemoClient {
    name: &'static str,
    notes: &'static str,
    sites: &'static [(&'static str, &'static str, &'static str)],
    contacts: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const CLIENTS: &[DemoClient] = &[
    DemoClient {
        name: "Harbor Dental Group",
        notes: "Three practices. Imaging PCs must never reboot during clinic hours (08:00–18:00).",
        sites: &[
            ("Portland Main Office", "America/Los_Angeles", "1200 NW Naito Pkwy, Portland, OR"),
            ("Seattle Clinic", "America/Los_Angeles", "400 Pine St, Seattle, WA"),
        ],
        contacts: &[
            ("Dr. Maya Ellison", "Owner", "maya@harbordental.example", "+1 503 555 0142"),
            ("Tom Reyes", "Office manager", "tom@harbordental.example", "+1 503 555 0177"),
        ],
    },
    DemoClient {
        name: "Kessler & Voss Rechtsanwälte",
        notes: "Law firm. Client files are confidential: no remote sessions without the partner's approval.",
        sites: &[("Berlin Kanzlei", "Europe/Berlin", "Friedrichstraße 68, 10117 Berlin")],
        contacts: &[
            ("Anna Kessler", "Managing partner", "a.kessler@kv-recht.example", "+49 30 5550 1234"),
            ("Jonas Weber", "IT contact", "j.weber@kv-recht.example", "+49 30 5550 1299"),
        ],
    },
    DemoClient {
        name: "Northwind Logistics",
        notes: "24/7 warehouse operations. Escalate P1 tickets by phone.",
        sites: &[
            ("Chicago HQ", "America/Chicago", "233 S Wacker Dr, Chicago, IL"),
            ("Rotterdam Warehouse", "Europe/Amsterdam", "Waalhaven Z.z. 19, Rotterdam"),
            ("Singapore Hub", "Asia/Singapore", "10 Pasir Panjang Rd, Singapore"),
        ],
        contacts: &[
            ("Priya Natarajan", "COO", "priya@northwind.example", "+1 312 555 0110"),
            ("Lars de Vries", "Warehouse lead (Rotterdam)", "lars@northwind.example", "+31 10 555 0188"),
            ("Wei Ling Tan", "Regional IT", "weiling@northwind.example", "+65 5550 3321"),
        ],
    },
    DemoClient {
        name: "Bluegum Accounting",
        notes: "Busy season Feb–Jun: schedule maintenance for weekends.",
        sites: &[("Sydney Office", "Australia/Sydney", "88 George St, Sydney NSW")],
        contacts: &[("Chloe Murray", "Partner", "chloe@bluegum.example", "+61 2 5550 7788")],
    },
    DemoClient {
        name: "Fenwick Primary School",
        notes: "Term dates on the school website. Chromebooks managed separately.",
        sites: &[("Fenwick Campus", "Europe/London", "Fenwick Road, Leeds LS7")],
        contacts: &[
            ("Helen Price", "Head teacher", "head@fenwick.example", "+44 113 555 0100"),
            ("Sam Okafor", "Business manager", "bursar@fenwick.example", "+44 113 555 0101"),
        ],
    },
];

/// Seeds a demo MSP; returns the admin's email and password.
/// What the seed made that the fleet needs.
pub struct Seeded {
    pub email: String,
    pub password: String,
    /// (client id, site id, host-name prefix) for every site.
    pub sites: Vec<(i64, i64, String)>,
    admin: crate::auth::principal::Principal,
}

pub async fn seed(app: &App) -> anyhow::Result<Seeded> {
    let password = format!("demo-{}", &crate::crypto::random_token()[..16]);
    let store = &app.store;
    let cli = Actor::cli();
    let mk = |email: &str, name: &str, role: Role| NewUserRequest {
        email: email.into(),
        name: name.into(),
        role,
        password: password.clone(),
        clients: None,
    };
    let admin =
        create_user(store, &cli, mk("admin@steward.example", "Alex Admin", Role::Admin)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let p = crate::auth::guard::principal_for(
        app,
        admin.clone(),
        Via::Session { id: 0, csrf: String::new(), mfa_at: None },
        "local".into(),
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Critical alerts open tickets, so the demo shows an alert becoming one.
    crate::settings::store::set(store, &p.actor(), crate::settings::store::ALERT_TICKETS, "critical").await?;
    let mut ids = vec![];
    let mut sites = vec![];
    let mut desk_clients = vec![];
    for c in CLIENTS {
        let client = ops::create_client(
            app,
            &p,
            NewClient { name: c.name.into(), notes: c.notes.into(), agent_heartbeat_secs: None, agent_metrics_secs: None },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut site_ids = vec![];
        let mut contact_ids = vec![];
        for (name, tz, addr) in c.sites {
            let s = ops::create_site(
                app,
                &p,
                client.id,
                NewSite {
                    name: (*name).into(),
                    timezone: (*tz).into(),
                    address: (*addr).into(),
                    agent_heartbeat_secs: None,
                    agent_metrics_secs: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            site_ids.push(s.id);
            let initials: String =
                c.name.split_whitespace().filter_map(|w| w.chars().next()).filter(|ch| ch.is_ascii_alphabetic()).take(3).collect();
            sites.push((client.id, s.id, format!("{}{}-", initials.to_uppercase(), site_ids.len())));
        }
        for (i, (name, title, email, phone)) in c.contacts.iter().enumerate() {
            let req = NewContact {
                name: (*name).into(),
                title: (*title).into(),
                email: (*email).into(),
                phone: (*phone).into(),
                site_id: site_ids.get(i % site_ids.len().max(1)).copied(),
                // Everyone but the first (the owner, billed by the flat fee) is a covered user.
                covered: i > 0,
            };
            contact_ids.push(ops::create_contact(app, &p, client.id, req).await.map_err(|e| anyhow::anyhow!("{e}"))?.id);
        }
        ids.push(client.id);
        desk_clients.push((client.id, c.name, c.sites[0].0, contact_ids, c.sites[0].1));
    }
    let actor = p.actor();
    let mut techs = vec![admin.id];
    for (email, name, role, limit) in [
        ("tech@steward.example", "Taylor Tech", Role::Technician, None),
        ("junior@steward.example", "Jordan Junior", Role::Technician, Some(vec![ids[0], ids[3]])),
        ("billing@steward.example", "Blair Billing", Role::Billing, None),
        ("auditor@steward.example", "Riley Readonly", Role::ReadOnly, None),
        ("maya@harbordental.example", "Dr. Maya Ellison", Role::ClientContact, Some(vec![ids[0]])),
    ] {
        let mut req = mk(email, name, role);
        req.clients = limit.clone();
        let u = create_user(store, &actor, req).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if role == Role::Technician && limit.is_none() {
            techs.push(u.id);
        }
    }
    desk::seed(app, &p, &desk_clients, &techs).await?;
    vault(app, &p, &ids).await?;
    docs::seed(app, &p, &ids).await?;
    assets::seed(app, &p, &ids).await?;
    billing::seed(app, &p, &ids).await?;
    mail::seed(app, &p, &ids).await?;
    scripts::seed(app, &p).await?;
    Ok(Seeded { email: admin.email, password, sites, admin: p })
}

/// A few believable credentials per client, each with a generated
/// password (the demo's own: nothing real), one with a TOTP seed.
async fn vault(app: &App, p: &crate::auth::principal::Principal, clients: &[i64]) -> anyhow::Result<()> {
    use crate::vault::model::{generate, Classes};
    let entries = [
        ("Firewall admin", "admin", "https://192.0.2.1", "Network", "Web UI on the LAN side only.", false),
        (
            "Microsoft 365 global admin",
            "admin@tenant.example",
            "https://admin.microsoft.com",
            "Cloud",
            "Break-glass account; MFA seed below.",
            true,
        ),
        ("Wi-Fi (staff)", "", "", "Network", "WPA2-Enterprise fallback PSK.", false),
        ("Backup appliance", "backup-svc", "https://192.0.2.20:8443", "Servers", "", false),
    ];
    let classes = Classes { lower: true, upper: true, digits: true, symbols: true };
    for (i, client) in clients.iter().enumerate() {
        for (name, user, url, folder, notes, totp) in entries.iter().take(2 + i % 3) {
            let password = generate(&mut rand::rngs::OsRng, 20, classes).unwrap_or_default();
            let input = crate::vault::ops::NewEntry {
                name: (*name).into(),
                username: (*user).into(),
                password,
                url: (*url).into(),
                totp_secret: totp.then(|| crate::auth::totp::secret_base32(&crate::auth::totp::new_secret())),
                notes: (*notes).into(),
                fields: Default::default(),
                folder: (*folder).into(),
            };
            crate::vault::ops::create(app, p, *client, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// Agents per demo site.
const AGENTS_PER_SITE: usize = 6;
/// Agents that leave after enrolling: one on every other site.
const LEAVE_AFTER: Duration = Duration::from_secs(3);

/// How the demo's flapping device comes and goes.
fn flap() -> Flap {
    let up = std::env::var("STEWARD_DEMO_FLAP_SECS").ok().and_then(|s| s.parse::<f64>().ok()).filter(|s| *s > 0.0).unwrap_or(90.0);
    Flap { up: Duration::from_secs_f64(up), down: Duration::from_secs_f64(up / 2.0) }
}

/// What the fleet of site `i` (of the demo's list) does: the first site's
/// first agent flaps, every other site loses its last agent.
fn churn(i: usize, enrolled: &UnboundedSender<Enrolled>) -> Churn {
    Churn { leaving: i % 2, leave_after: LEAVE_AFTER, flapping: (i == 0).then(flap), enrolled: Some(enrolled.clone()) }
}

/// What the fleet is like, for the banner.
struct Fleet {
    agents_at: SocketAddr,
    started: usize,
    leaving: usize,
    flapping: String,
}

/// Serves the app over TLS for agents on the pages' address, one port up
/// (any free port when that is taken), and starts a simulated fleet on
/// every site, each device given its history as it enrols.
async fn start_fleet(app: &App, seeded: &Seeded) -> anyhow::Result<Fleet> {
    let tls = crate::http::tls::load(&app.cfg.data_dir, None, None)?;
    let _ = app.agent_pin.set(tls.spki_sha256.clone());
    let web = app.cfg.listen;
    let next = SocketAddr::new(web.ip(), if web.port() == 0 { 0 } else { web.port().wrapping_add(1) });
    let listener = std::net::TcpListener::bind(next).or_else(|_| std::net::TcpListener::bind(SocketAddr::new(web.ip(), 0)))?;
    listener.set_nonblocking(true)?;
    let agents_at = listener.local_addr()?;
    let _ = app.agent_port.set(agents_at.port());
    // The simulated fleet, in this process, dials the address itself (or
    // loopback, where the listener takes every address).
    let dial = if agents_at.ip().is_unspecified() {
        SocketAddr::new(
            if agents_at.is_ipv4() { std::net::Ipv4Addr::LOCALHOST.into() } else { std::net::Ipv6Addr::LOCALHOST.into() },
            agents_at.port(),
        )
    } else {
        agents_at
    };
    let url = format!("https://{dial}");
    let service = crate::routes::assemble(app).router.into_make_service_with_connect_info::<SocketAddr>();
    let acceptor = crate::http::lean_tls::Acceptor::new(
        tls.config,
        crate::http::handshake_gate::HandshakeGate::configured(&app.cfg),
        crate::http::pending::Unauthenticated::configured(&app.cfg),
        std::time::Duration::from_secs(app.cfg.http_header_timeout_secs),
    );
    let cfg = app.cfg.clone();
    tokio::spawn(async move {
        let mut server = axum_server::from_tcp(listener).acceptor(acceptor);
        crate::server::timeouts(server.http_builder(), &cfg);
        if let Err(e) = server.serve(service).await {
            eprintln!("steward demo: the agents' listener stopped: {e}");
        }
    });
    let (enrolled, news) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(history::backfill_each(app.clone(), news));
    let mut fleet = Fleet { agents_at, started: 0, leaving: 0, flapping: String::new() };
    // A few of the fleet's checks fail (a stopped service, a full disk…),
    // a few flap: the alerts page has something to show.
    steward_agent::checks::simulated::set_shares(3.0, 1.0);
    for (i, (client, site, prefix)) in seeded.sites.iter().enumerate() {
        let req = crate::devices::enrollment::api::NewEnrollmentToken {
            name: "demo fleet".into(),
            expires_in_hours: Some(1),
            max_uses: Some(AGENTS_PER_SITE as u32),
        };
        let t = crate::devices::enrollment::api::create_for(app, &seeded.admin, *client, *site, req, url.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let churn = churn(i, &enrolled);
        fleet.leaving += churn.leaving;
        if churn.flapping.is_some() {
            fleet.flapping = format!("{prefix}00000");
        }
        let (url, pin, prefix) = (url.clone(), tls.spki_sha256.clone(), prefix.clone());
        tokio::spawn(async move {
            let opts = steward_agent::simulate::Options { count: AGENTS_PER_SITE, ramp_secs: 2.0, name_prefix: prefix, progress: false };
            if let Err(e) = steward_agent::simulate::run_with(&url, &t.token, &pin, opts, churn).await {
                eprintln!("steward demo: simulated agents stopped: {e}");
            }
        });
        fleet.started += AGENTS_PER_SITE;
    }
    Ok(fleet)
}

fn tls_pin(app: &App) -> String {
    app.agent_pin.get().cloned().unwrap_or_default()
}

/// Runs the demo until Ctrl-C.
pub async fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("steward-demo-{}", &crate::crypto::random_token()[..10]));
    std::fs::create_dir_all(&dir)?;
    // Fall back to any free port when the default one is taken.
    let listen = match std::net::TcpListener::bind(listen).or_else(|_| std::net::TcpListener::bind(SocketAddr::new(listen.ip(), 0))) {
        Ok(l) => l.local_addr()?,
        Err(e) => anyhow::bail!("cannot listen on {listen}: {e}"),
    };
    let cfg = Partial {
        data_dir: Some(dir.clone()),
        listen: Some(listen),
        plain_http: Some(true),
        audit_anchor_file: Some(dir.join("audit-anchors.jsonl")),
        // The devices that leave raise their alerts (and tickets) while
        // someone is still looking, not after a quarter of an hour.
        alert_offline_after_secs: Some(120),
        ..Default::default()
    }
    .finish()?;
    let cfg = crate::config::Config { browsers_on_plain_http: true, ..cfg };
    let store = Store::open(&cfg.data_dir, None).await?;
    let master = MasterKey::load_or_create(&cfg.master_key_path())?;
    let app = AppState::open(store, cfg, master).await?;
    let seeded = seed(&app).await?;
    let fleet = start_fleet(&app, &seeded).await?;
    let (email, password) = (&seeded.email, &seeded.password);
    println!("Steward demo MSP on {} (deleted when you stop it)", dir.display());
    if listen.ip().is_unspecified() {
        println!(
            "  open http://localhost:{port}/ here, or http://<this machine's address>:{port}/ from another machine",
            port = listen.port()
        );
    } else {
        println!("  open http://{listen}/");
    }
    println!("  sign in as {email} with password {password}");
    println!("  other users (same password): tech@, junior@ (limited to 2 clients), billing@, auditor@ (read-only) at steward.example");
    println!("  {} simulated agents report live over the real agent protocol, each with a month of metrics", fleet.started);
    let f = flap();
    println!(
        "  {} of them go offline after enrolling; {} flaps (online {} s, offline {} s)",
        fleet.leaving,
        fleet.flapping,
        f.up.as_secs_f64(),
        f.down.as_secs_f64()
    );
    println!("  devices offline for 2 min raise critical alerts, which open tickets (Settings)");
    println!("  agents connect over TLS at {} (pin {}); a site's page shows the install command", fleet.agents_at, tls_pin(&app));
    println!("  pages over plain HTTP for the demo; a real install serves TLS (steward serve)");
    let r = crate::server::serve(app).await;
    let _ = std::fs::remove_dir_all(&dir);
    r
}
