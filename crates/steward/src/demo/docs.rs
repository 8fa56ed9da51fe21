//! The demo's knowledge base: global procedures every technician follows
//! and a few articles per client, some with an earlier version, through
//! the same audited operations as the pages.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::docs::articles::ops::{self, ArticlePatch, NewArticle};

const GLOBAL: &[(&str, &str, &[&str], &str)] = &[
    (
        "New user onboarding",
        "Procedures",
        &["onboarding", "m365"],
        "Follow this for every new starter, whatever the client.\n\n\
         - [ ] Create the Microsoft 365 account and assign the licence\n\
         - [ ] Add to the client's security groups (see the client's *Access* article)\n\
         - [ ] Enrol the laptop: run the site's install command, then check it reports\n\
         - [ ] Set up MFA with the user on the phone\n\
         - [ ] Log the time on the onboarding ticket\n",
    ),
    (
        "Offboarding a leaver",
        "Procedures",
        &["offboarding", "security"],
        "1. Block sign-in and revoke sessions **first**.\n\
         2. Convert the mailbox to shared; give the manager access.\n\
         3. Wipe or collect devices; archive them in Steward.\n\
         4. Rotate every shared password the person knew (the vault's password report lists them).\n",
    ),
    (
        "Escalation and on-call",
        "Procedures",
        &["escalation"],
        "| Priority | First response | Who |\n|---|---|---|\n| P1 | 30 min | on-call engineer, then the team lead |\n\
         | P2 | 2 h | the client's primary technician |\n| P3/P4 | next business day | the queue |\n",
    ),
];

const PER_CLIENT: &[(&str, &str, &[&str], &str)] = &[
    (
        "Backup and restore",
        "Backup",
        &["backup", "restore"],
        "Nightly image of the file server at 01:00 to the NAS, copied off-site at 03:00.\n\n\
         ## Restoring a file\n\n1. Open the backup console on the server\n2. Pick the night before the loss\n3. Restore to a new folder and let the user check it\n",
    ),
    (
        "Printers",
        "Network",
        &["printer"],
        "| Printer | Where | IP |\n|---|---|---|\n| Front desk MFP | reception | 192.0.2.40 |\n| Back office laser | office | 192.0.2.41 |\n\n\
         Toner is ordered by the office manager; jams on the MFP: open tray 2 first.\n",
    ),
];

pub async fn seed(app: &App, p: &Principal, clients: &[i64]) -> anyhow::Result<()> {
    let e = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    for (title, folder, tags, body) in GLOBAL {
        let input = NewArticle {
            title: (*title).into(),
            body_markdown: (*body).into(),
            folder: (*folder).into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        };
        ops::create(app, p, None, input).await.map_err(e)?;
    }
    for (i, client) in clients.iter().enumerate() {
        for (title, folder, tags, body) in PER_CLIENT {
            let input = NewArticle {
                title: (*title).into(),
                body_markdown: (*body).into(),
                folder: (*folder).into(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
            };
            let a = ops::create(app, p, Some(*client), input).await.map_err(e)?;
            // Some have a history to compare.
            if i % 2 == 0 && *folder == "Backup" {
                let patch =
                    ArticlePatch { body_markdown: Some(body.replace("01:00", "22:00").replace("03:00", "00:30")), ..Default::default() };
                ops::update(app, p, Some(*client), a.id, patch).await.map_err(e)?;
            }
        }
    }
    Ok(())
}
