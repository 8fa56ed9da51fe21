//! The home page: the figures and sections the domains put on it (clients,
//! devices, recent activity, …), as panels.

use crate::app::panels::{self, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::http::page::html;
use crate::web::error::PageResult;
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    stats: Vec<panels::Fragment>,
    sections: Vec<panels::Fragment>,
    mfa_enabled: bool,
}

pub async fn home(State(app): State<App>, p: Principal) -> PageResult {
    let stats = panels::render(&app, &p, Slot::HomeStat, PanelCtx::default()).await?;
    let sections = panels::render(&app, &p, Slot::Home, PanelCtx::default()).await?;
    Ok(html(&HomePage { l: Layout::new(&app, &p, "Home", "home"), stats, sections, mfa_enabled: p.user.totp_enabled }))
}
