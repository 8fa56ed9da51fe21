//! What tenancy adds to other pages: the clients figure on the home page,
//! and clients, sites and contacts in the global search.

use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot, Stat};
use crate::app::search::{Ask, SearchHit, SearchSource};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;

pub const CLIENT_COUNT: Panel = Panel { slot: Slot::HomeStat, order: 10, render: client_count };

fn client_count<'a>(app: &'a App, p: &'a Principal, _: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        if !p.can(Permission::ClientsRead) {
            return Ok(None);
        }
        let q = super::store::ClientQuery { scope: p.clients.clone(), ..Default::default() };
        let (_, n) = super::store::list_clients(&mut app.store.clone(), &q, 1, 0).await?;
        Fragment::render(&Stat { label: "Clients", value: n.to_string(), href: "/clients" }).map(Some)
    })
}

pub const SEARCH: SearchSource = SearchSource { name: "clients, sites and contacts", search };

fn search<'a>(app: &'a App, p: &'a Principal, ask: &'a Ask) -> BoxFut<'a, Result<Vec<SearchHit>, ApiError>> {
    Box::pin(async move {
        let (q, limit) = (ask.text.as_str(), ask.limit);
        if !p.can(Permission::ClientsRead) || ask.ticket_filters() {
            return Ok(vec![]);
        }
        let found = super::store::search(&mut app.store.clone(), ask.scope.as_deref(), q, limit).await?;
        Ok(found.into_iter().map(|f| SearchHit { kind: f.kind, label: f.label, detail: f.detail, url: f.url, snippet: None }).collect())
    })
}
