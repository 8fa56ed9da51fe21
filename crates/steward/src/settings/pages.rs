//! The settings page (administrators).

use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::http::page::html;
use crate::web::{
    error::{PageResult, WebForm},
    layout::Layout,
};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    l: Layout,
    require_mfa: bool,
    threshold: u32,
    alert_tickets: String,
}

pub async fn show(State(app): State<App>, p: Principal) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    let (require_mfa, threshold) =
        (super::store::require_mfa(&app.store).await?, super::store::script_approval_threshold(&app.store).await?);
    let alert_tickets = super::store::alert_tickets(&app.store).await?;
    Ok(html(&SettingsPage { l: Layout::new(&app, &p, "Settings", "settings"), require_mfa, threshold, alert_tickets }))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    require_mfa: Option<String>,
    script_approval_threshold: Option<String>,
    alert_tickets: Option<String>,
}

pub async fn update(State(app): State<App>, p: Principal, WebForm(f): WebForm<SettingsForm>) -> PageResult {
    p.require(Permission::SettingsWrite)?;
    let v = crate::web::error::checkbox("require_mfa", f.require_mfa.as_deref())?;
    if super::store::require_mfa(&app.store).await? != v {
        super::store::set(&app.store, &p.actor(), super::store::REQUIRE_MFA, if v { "true" } else { "false" }).await?;
    }
    let current = super::store::script_approval_threshold(&app.store).await?;
    let threshold = match f.script_approval_threshold.as_deref().map(str::trim) {
        None | Some("") => current,
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| crate::error::ApiError::invalid("script_approval_threshold", "a whole number from 0 to 100000"))?,
    };
    if threshold != current {
        super::store::set(&app.store, &p.actor(), super::store::SCRIPT_APPROVAL_THRESHOLD, &threshold.to_string()).await?;
    }
    let tickets_now = super::store::alert_tickets(&app.store).await?;
    let alert_tickets = match f.alert_tickets.as_deref().map(str::trim) {
        None | Some("") => tickets_now.clone(),
        Some(v @ ("off" | "warning" | "critical")) => v.to_string(),
        Some(_) => return Err(crate::error::ApiError::invalid("alert_tickets", "use off, warning or critical").into()),
    };
    if alert_tickets != tickets_now {
        super::store::set(&app.store, &p.actor(), super::store::ALERT_TICKETS, &alert_tickets).await?;
    }
    Ok(html(&SettingsPage {
        l: Layout::new(&app, &p, "Settings", "settings").with_notice(Some("Saved.".into())),
        require_mfa: v,
        threshold,
        alert_tickets,
    }))
}
