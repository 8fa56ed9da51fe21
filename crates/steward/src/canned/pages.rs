//! The canned-response picker on a ticket's page (a panel): the responses
//! usable on this ticket; `assets/app.js` asks the render endpoint and puts
//! the text into the reply box as its value (plain text, never HTML).

use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use askama::Template;

pub struct Choice {
    pub name: String,
    pub url: String,
    pub personal: bool,
}

#[derive(Template)]
#[template(path = "canned_picker.html")]
struct Picker {
    choices: Vec<Choice>,
}

pub const TICKET_PANEL: Panel = Panel { slot: Slot::Ticket, order: 5, render: picker };

fn picker<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client_id), Some(ticket_id)) = (ctx.client, ctx.ticket) else { return Ok(None) };
        if !p.can(Permission::TicketsWrite) || !p.sees_client(client_id) {
            return Ok(None);
        }
        let rows = super::store::list(&mut app.store.clone(), p, Some(client_id)).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let choices = rows
            .into_iter()
            .map(|r| Choice {
                url: format!("/api/v1/clients/{client_id}/tickets/{ticket_id}/canned/{}/render", r.id),
                name: r.name,
                personal: r.owner_id.is_some(),
            })
            .collect();
        Fragment::render(&Picker { choices }).map(Some)
    })
}
