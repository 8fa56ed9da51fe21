//! The settings page (administrators).

use crate::auth::roles::Permission;
use crate::auth::Principal;
use crate::http::page::html;
use crate::http::App;
use crate::web::{Layout, PageResult, WebForm};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    l: Layout,
    require_mfa: bool,
}

pub async fn show(State(app): State<App>, p: Principal) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    Ok(html(&SettingsPage { l: Layout::new(&p, "Settings", "settings"), require_mfa: super::require_mfa(&app.store).await? }))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    require_mfa: Option<String>,
}

pub async fn update(State(app): State<App>, p: Principal, WebForm(f): WebForm<SettingsForm>) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    let v = f.require_mfa.is_some();
    if super::require_mfa(&app.store).await? != v {
        super::set(&app.store, &p.actor(), super::REQUIRE_MFA, if v { "true" } else { "false" }).await?;
    }
    Ok(html(&SettingsPage { l: Layout::new(&p, "Settings", "settings").with_notice(Some("Saved.".into())), require_mfa: v }))
}
