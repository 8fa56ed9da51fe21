//! What the service desk adds to other pages: open and breached tickets
//! on the home page, and a client's and a device's open tickets on theirs.

use super::queue::Line;
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot, Stat};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::sla::model::ClockState;
use crate::tickets::model::Kind;
use crate::tickets::store::Queue;
use crate::time::now_us;
use askama::Template;

#[derive(Template)]
#[template(path = "ticket_panel.html")]
struct TicketPanel {
    title: &'static str,
    lines: Vec<Line>,
    total: crate::store::Total,
    query: String,
    new_for_client: Option<i64>,
}

async fn open_count(app: &App, p: &Principal, sla: Option<ClockState>) -> Result<crate::store::Total, ApiError> {
    let q = Queue { scope: p.clients.clone(), kinds: Kind::active(), sla_state: sla, hide_merged: true, ..Default::default() };
    Ok(crate::tickets::store::queue(&mut app.store.snapshot().await?, &q, 1, 0).await?.1)
}

pub const OPEN_COUNT: Panel = Panel { slot: Slot::HomeStat, order: 30, render: open_tickets };
pub const BREACHED_COUNT: Panel = Panel { slot: Slot::HomeStat, order: 31, render: breached_tickets };

fn open_tickets<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::TicketsRead) {
            return Ok(None);
        }
        Fragment::render(&Stat { label: "Open tickets", value: open_count(app, p, None).await?.to_string(), href: "/tickets" }).map(Some)
    })
}

fn breached_tickets<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::TicketsRead) {
            return Ok(None);
        }
        let n = open_count(app, p, Some(ClockState::Breached)).await?;
        Fragment::render(&Stat { label: "SLA breached", value: n.to_string(), href: "/tickets?sla_state=breached" }).map(Some)
    })
}

async fn panel(
    app: &App,
    p: &Principal,
    title: &'static str,
    q: Queue,
    query: String,
    new_for_client: Option<i64>,
) -> Result<Option<Fragment>, ApiError> {
    if !p.can(Permission::TicketsRead) {
        return Ok(None);
    }
    let mut db = app.store.snapshot().await?;
    let (rows, total) = crate::tickets::store::queue(&mut db, &q, 10, 0).await?;
    let now = now_us();
    let lines = crate::tickets::view::queue_items(&mut db, rows).await?.into_iter().map(|i| Line::from_item(i, now)).collect();
    Fragment::render(&TicketPanel { title, lines, total, query, new_for_client }).map(Some)
}

pub const CLIENT_PANEL: Panel = Panel { slot: Slot::Client, order: 5, render: client_tickets };
pub const DEVICE_PANEL: Panel = Panel { slot: Slot::Device, order: 5, render: device_tickets };

fn client_tickets<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(c) = ctx.client else { return Ok(None) };
        let q = Queue {
            scope: p.clients.clone(),
            client_id: Some(c),
            kinds: Kind::active(),
            hide_merged: true,
            sort: crate::tickets::store::Sort::Due,
            ..Default::default()
        };
        let new = p.can(Permission::TicketsWrite).then_some(c);
        panel(app, p, "Open tickets", q, format!("client_id={c}"), new).await
    })
}

fn device_tickets<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let Some(d) = ctx.device else { return Ok(None) };
        let q = Queue { scope: p.clients.clone(), device_id: Some(d), kinds: Kind::active(), hide_merged: true, ..Default::default() };
        panel(app, p, "Open tickets about this device", q, format!("device_id={d}"), None).await
    })
}
