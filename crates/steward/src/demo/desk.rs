//! The demo's service desk: SLA calendars in the clients' own time zones,
//! a policy per client, and a few hundred tickets in every status with
//! threads and time, opened over the last weeks (as an import would, so
//! their clocks run from then), including some about to breach. All
//! through the same audited operations as real use.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::time::rfc3339;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// What clients write in, by the kind of problem.
const PROBLEMS: &[(&str, &str, &[&str])] = &[
    ("Printer in {site} shows offline", "The {site} printer says offline since this morning; nobody can print invoices.", &["printer"]),
    ("Outlook keeps asking for the password", "Outlook prompts for my password every few minutes after the update.", &["email", "m365"]),
    ("VPN drops every hour", "FortiClient disconnects roughly every hour when working from home.", &["vpn"]),
    ("Password reset for {contact}", "{contact} is locked out after the holidays and needs a reset plus MFA re-enrolment.", &["account"]),
    ("New starter next Monday", "Please set up a laptop, mailbox and Teams for our new colleague starting Monday.", &["onboarding"]),
    ("Backup job failed on the file server", "Last night's Veeam job ended with error 'Failed to create snapshot'.", &["backup"]),
    ("Wi-Fi very slow in the meeting room", "Video calls freeze in the big meeting room; the other rooms are fine.", &["network"]),
    ("Shared drive S: missing", "The S: drive no longer shows up in Explorer for the front desk.", &["files"]),
    ("Phishing email received", "We received an email asking to confirm our bank details. Did anyone click it?", &["security"]),
    ("Certificate expiring on the website", "The hosting provider warns that the TLS certificate expires in 10 days.", &["web"]),
    ("Laptop very slow to boot", "It takes ten minutes to reach the desktop since last week.", &["hardware"]),
    ("Teams camera not working", "The built-in camera shows a black picture in Teams, fine in the Camera app.", &["m365", "hardware"]),
];

const REPLIES: &[&str] = &[
    "Thanks for letting us know. I'm looking at it now and will update you within the hour.",
    "I've connected remotely and restarted the service; can you try again?",
    "Could you send a screenshot of the error message?",
    "This is fixed on our side. Please confirm it works for you.",
    "We've ordered the replacement part; it should arrive on Thursday.",
];

const NOTES: &[&str] = &[
    "Event log shows disk warnings since Tuesday; checking SMART data.",
    "Same issue as last month: the print spooler hangs after the driver update.",
    "Called the ISP: known outage in the area, ticket 88412 with them.",
    "Reset done, MFA re-enrolled, user confirmed by phone.",
];

fn input<T: serde::de::DeserializeOwned>(v: Value) -> anyhow::Result<T> {
    Ok(serde_json::from_value(v)?)
}

fn err(e: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Seeds the desk for `clients` (id, name, first site name, contact ids,
/// their time zone); tickets are assigned among `techs`. Returns how many
/// tickets it opened.
pub async fn seed(app: &App, p: &Principal, clients: &[(i64, &str, &str, Vec<i64>, &str)], techs: &[i64]) -> anyhow::Result<usize> {
    use crate::sla::ops::{create_calendar, create_policy};
    let mut policies = vec![];
    for (i, (client, name, _, _, tz)) in clients.iter().enumerate() {
        // The 24/7 client gets a round-the-clock calendar, the others their office hours.
        let always = name.contains("Northwind");
        let cal = if always {
            json!({"name": format!("{name}: 24x7"), "timezone": tz, "always": true})
        } else {
            let weekly: Vec<Value> = (1..=5)
                .flat_map(|d| [json!({"day": d, "start": "08:00", "end": "12:30"}), json!({"day": d, "start": "13:30", "end": "17:30"})])
                .collect();
            json!({"name": format!("{name}: office hours"), "timezone": tz, "weekly": weekly, "holidays": ["2026-12-25", "2026-12-26", "2027-01-01"]})
        };
        let cal = create_calendar(app, p, input(cal)?).await.map_err(err)?;
        let (fr, res) = if always { ([15, 30, 120, 240], [120, 240, 960, 2880]) } else { ([30, 60, 240, 480], [240, 480, 1440, 2880]) };
        let targets: Vec<Value> = (0..4)
            .map(|k| json!({"priority": format!("P{}", k + 1), "first_response_minutes": fr[k], "resolution_minutes": res[k]}))
            .collect();
        let policy = create_policy(
            app,
            p,
            input(json!({"name": format!("{name} SLA"), "calendar_id": cal.id, "targets": targets, "is_default": i == 0}))?,
        )
        .await
        .map_err(err)?;
        crate::tenancy::ops::update_client(app, p, *client, input(json!({"sla_policy_id": policy.id}))?).await.map_err(err)?;
        policies.push(policy.id);
    }

    let mut rng = StdRng::seed_from_u64(2026);
    let now = crate::time::now_us();
    let statuses =
        ["New", "Open", "Open", "Waiting on client", "Waiting on third party", "Scheduled", "Resolved", "Closed", "Closed", "Closed"];
    let mut opened = 0;
    for n in 0..240 {
        let (client, _, site, contacts, _) = &clients[n % clients.len()];
        let (subject, body, tags) = PROBLEMS[rng.gen_range(0..PROBLEMS.len())];
        let contact = contacts.get(rng.gen_range(0..contacts.len().max(1))).copied();
        let fill = |s: &str| s.replace("{site}", site).replace("{contact}", "the receptionist");
        // The last dozen are fresh P1/P2 tickets: their clocks are close to
        // warning or breach when the demo starts.
        let fresh = n >= 228;
        let age_us: i64 = if fresh { rng.gen_range(5..25) * 60_000_000 } else { rng.gen_range(1..(45 * 24 * 60)) * 60_000_000 };
        let status = if fresh { "New" } else { statuses[rng.gen_range(0..statuses.len())] };
        // A reply reopens a resolved ticket: the thread is written while it
        // is open, and the status set after it.
        let first_status = if status == "New" { "New" } else { "Open" };
        let priority = if fresh { ["P1", "P2"][n % 2] } else { ["P1", "P2", "P3", "P3", "P4"][rng.gen_range(0..5)] };
        let at = now - age_us;
        let t = crate::tickets::ops::create::create(
            app,
            p,
            *client,
            input(json!({
                "subject": fill(subject), "body": fill(body), "priority": priority, "status": first_status, "tags": tags,
                "contact_id": contact, "assignee_id": if fresh && n % 3 == 0 { None } else { Some(techs[n % techs.len()]) },
                "type": if tags.contains(&"onboarding") { "service_request" } else { "incident" },
                "opened_at": rfc3339(at),
            }))?,
        )
        .await
        .map_err(err)?;
        opened += 1;
        if fresh || status == "New" {
            continue;
        }
        // A thread: a reply (the first response), sometimes a note, time logged.
        let mut when = at + rng.gen_range(5..90) * 60_000_000;
        for k in 0..rng.gen_range(1..4) {
            if when >= now {
                break;
            }
            let (kind, text) =
                if k == 1 { ("note", NOTES[rng.gen_range(0..NOTES.len())]) } else { ("reply", REPLIES[rng.gen_range(0..REPLIES.len())]) };
            crate::tickets::ops::entries::add(
                app,
                p,
                *client,
                t.id,
                input(json!({"kind": kind, "body": text, "created_at": rfc3339(when)}))?,
            )
            .await
            .map_err(err)?;
            when += rng.gen_range(30..600) * 60_000_000;
        }
        let minutes = [15, 15, 30, 45, 60, 90][rng.gen_range(0..6)];
        crate::timesheets::ops::add(
            app,
            p,
            *client,
            t.id,
            input(
                json!({"minutes": minutes, "started_at": rfc3339(at + 10 * 60_000_000), "note": "Remote session", "billable": n % 5 != 0}),
            )?,
        )
        .await
        .map_err(err)?;
        if status != first_status {
            crate::tickets::ops::update::update(app, p, *client, t.id, input(json!({"status": status}))?).await.map_err(err)?;
        }
    }
    Ok(opened)
}
