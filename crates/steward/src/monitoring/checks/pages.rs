//! A device's checks on its page: each check it runs, its status (and
//! whether it flaps), a strip of its status over the last day, its last
//! output, and the level and policy it came from.

use super::model::{strip, Status};
use super::store as checks;
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::monitoring::policies::ops as policies;
use crate::time::now_us;
use askama::Template;
use std::collections::HashMap;

/// The strip's width in pixels (the template says it too).
const STRIP_WIDTH: u32 = 240;
const DAY_US: i64 = 86_400 * 1_000_000;

struct Row {
    key: String,
    check_type: String,
    status: String,
    badge: &'static str,
    flapping: bool,
    /// `(x, width, class)` of each stretch.
    segments: Vec<(String, String, &'static str)>,
    /// The strip in words, for screen readers.
    summary: String,
    output: String,
    updated_at: Option<String>,
    from: String,
    policy: String,
}

#[derive(Template)]
#[template(path = "device_checks.html")]
struct DeviceChecks {
    rows: Vec<Row>,
}

/// On the device page, after its alerts.
pub const DEVICE_PANEL: Panel = Panel { slot: Slot::Device, order: 2, render: device_checks };

fn device_checks<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client), Some(device)) = (ctx.client, ctx.device) else { return Ok(None) };
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let list = policies::checks_of_device(app, p, client, device).await?;
        if list.is_empty() {
            return Ok(None);
        }
        let now = now_us();
        // A month back finds the status each strip starts in.
        let mut changes: HashMap<String, Vec<(i64, Status)>> = HashMap::new();
        for c in checks::changes(&mut app.store.clone(), device, now - 30 * DAY_US).await? {
            if let Some(s) = Status::parse(&c.status) {
                changes.entry(c.check_key).or_default().push((c.at, s));
            }
        }
        let rows = list
            .into_iter()
            .map(|c| {
                let segs =
                    strip(Status::Pass, changes.get(&c.key).map(Vec::as_slice).unwrap_or(&[]), now - DAY_US, now, STRIP_WIDTH as f64, 2.0);
                let failing: f64 = segs.iter().filter(|s| s.status != Status::Pass).map(|s| s.w).sum();
                let summary = format!("failing {:.0} % of the last 24 hours", failing * 100.0 / STRIP_WIDTH as f64);
                Row {
                    badge: match c.status.as_str() {
                        "critical" => "bad",
                        "warning" => "warn",
                        _ => "ok",
                    },
                    segments: segs.iter().map(|s| (format!("{:.1}", s.x), format!("{:.1}", s.w), s.status.as_str())).collect(),
                    summary,
                    key: c.key,
                    check_type: c.check_type,
                    status: c.status,
                    flapping: c.flapping,
                    output: c.output,
                    updated_at: c.updated_at,
                    from: c.from.as_str().to_string(),
                    policy: c.policy,
                }
            })
            .collect();
        Fragment::render(&DeviceChecks { rows }).map(Some)
    })
}
