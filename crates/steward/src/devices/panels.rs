//! What devices add to other pages: a client's devices on its page, the
//! devices figure on the home page, and devices in the global search.

use super::ops::DeviceInfo;
use super::store::query::DeviceFilter;
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot, Stat};
use crate::app::search::{Ask, SearchHit, SearchSource};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use askama::Template;

/// A device in a list: what it is and where.
pub struct Row {
    pub d: DeviceInfo,
    pub client: String,
    pub site: String,
}

#[derive(Template)]
#[template(path = "client_devices.html")]
struct ClientDevices {
    client_id: i64,
    csrf: String,
    can_write: bool,
    devices: Vec<Row>,
    total: i64,
}

/// Devices shown on a client's page at most (the device list pages on).
const ON_CLIENT_PAGE: u64 = 100;

pub const CLIENT_PANEL: Panel = Panel { slot: Slot::Client, order: 10, render: client_devices };

fn client_devices<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(client_id) = ctx.client else { return Ok(None) };
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let f = DeviceFilter { client_id: Some(client_id), ..Default::default() };
        let (found, total) =
            super::store::query::search(&mut app.store.snapshot().await?, Some(&[client_id]), &f, ON_CLIENT_PAGE, 0).await?;
        let devices =
            found.into_iter().map(|r| Row { d: DeviceInfo::of(r.device, app), client: r.client_name, site: r.site_name }).collect();
        let panel = ClientDevices { client_id, csrf: p.csrf().to_string(), can_write: p.can(Permission::ClientsWrite), devices, total };
        Fragment::render(&panel).map(Some)
    })
}

pub const DEVICE_COUNT: Panel = Panel { slot: Slot::HomeStat, order: 20, render: device_count };

fn device_count<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let mut db = app.store.snapshot().await?;
        let scope = p.clients.as_deref();
        let online = DeviceFilter { state: Some("online".into()), ..Default::default() };
        let (_, n) = super::store::query::search(&mut db, scope, &online, 1, 0).await?;
        let stat = Stat { label: "Devices online", value: n.to_string(), href: "/devices?state=online" };
        Fragment::render(&stat).map(Some)
    })
}

pub const SEARCH: SearchSource = SearchSource { name: "devices", search };

/// Devices by host name, IP address, signed-in user or serial number, then
/// by installed software ("which machines have AnyDesk").
fn search<'a>(app: &'a App, p: &'a Principal, ask: &'a Ask) -> BoxFut<'a, Result<Vec<SearchHit>, ApiError>> {
    Box::pin(async move {
        let (q, limit) = (ask.text.trim(), ask.limit);
        if !p.can(Permission::ClientsRead) || ask.ticket_filters() || q.is_empty() {
            return Ok(vec![]);
        }
        let mut db = app.store.snapshot().await?;
        let scope = ask.scope.as_deref();
        let f = DeviceFilter { q: Some(q.to_string()), ..Default::default() };
        let (rows, _) = super::store::query::search(&mut db, scope, &f, limit, 0).await?;
        let needle = q.to_lowercase();
        let mut hits: Vec<SearchHit> = rows
            .into_iter()
            .filter(|r| r.device.revoked_at.is_none())
            .map(|r| {
                let why = matched(&r.now, &needle).map(|w| format!(" · {w}")).unwrap_or_default();
                SearchHit {
                    kind: "device",
                    url: format!("/clients/{}/devices/{}", r.device.client_id, r.device.id),
                    label: r.device.hostname,
                    detail: format!("{} · {}{why}", r.client_name, r.site_name),
                    snippet: None,
                }
            })
            .collect();
        let room = limit.saturating_sub(hits.len() as u64);
        if room > 0 {
            let shown: Vec<String> = hits.iter().map(|h| h.url.clone()).collect();
            for s in super::store::software::devices_with(&mut db, scope, q, room * 2).await? {
                let Some(d) = super::store::by_id(&mut db, s.device_id).await? else { continue };
                let url = format!("/clients/{}/devices/{}", d.client_id, d.id);
                if shown.contains(&url) || hits.iter().any(|h| h.url == url) || hits.len() as u64 >= limit {
                    continue;
                }
                let version = if s.version.is_empty() { String::new() } else { format!(" {}", s.version) };
                hits.push(SearchHit {
                    kind: "device",
                    url,
                    label: d.hostname,
                    detail: format!("has {}{version} installed", s.name),
                    snippet: None,
                });
            }
        }
        Ok(hits)
    })
}

/// Which of a device's facts the search text matched, to say why it is
/// listed (the host name needs no saying).
fn matched(now: &super::store::query::NowRow, needle: &str) -> Option<String> {
    let has = |v: &Option<String>| v.as_deref().filter(|v| v.to_lowercase().contains(needle)).map(str::to_string);
    if let Some(a) = has(&now.addresses) {
        return a.split_whitespace().find(|x| x.to_lowercase().contains(needle)).map(|x| format!("IP {x}"));
    }
    if let Some(u) = has(&now.users) {
        return Some(format!("signed in: {u}"));
    }
    has(&now.serial).map(|s| format!("serial {s}"))
}
