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
    threshold: u32,
}

pub async fn show(State(app): State<App>, p: Principal) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    let (require_mfa, threshold) = (super::require_mfa(&app.store).await?, super::script_approval_threshold(&app.store).await?);
    Ok(html(&SettingsPage { l: Layout::new(&p, "Settings", "settings"), require_mfa, threshold }))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    require_mfa: Option<String>,
    script_approval_threshold: Option<String>,
}

pub async fn update(State(app): State<App>, p: Principal, WebForm(f): WebForm<SettingsForm>) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    let v = f.require_mfa.is_some();
    if super::require_mfa(&app.store).await? != v {
        super::set(&app.store, &p.actor(), super::REQUIRE_MFA, if v { "true" } else { "false" }).await?;
    }
    let current = super::script_approval_threshold(&app.store).await?;
    let threshold = match f.script_approval_threshold.as_deref().map(str::trim) {
        None | Some("") => current,
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| crate::http::error::ApiError::invalid("script_approval_threshold", "a whole number from 0 to 100000"))?,
    };
    if threshold != current {
        super::set(&app.store, &p.actor(), super::SCRIPT_APPROVAL_THRESHOLD, &threshold.to_string()).await?;
    }
    Ok(html(&SettingsPage { l: Layout::new(&p, "Settings", "settings").with_notice(Some("Saved.".into())), require_mfa: v, threshold }))
}
