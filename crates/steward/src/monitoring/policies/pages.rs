//! The monitoring policies page: every policy with its checks (type, key,
//! interval, severity, hysteresis) and where it is assigned; administrators
//! add a policy, change one (its checks as JSON, checked field by field
//! like the API) or remove it.

use super::ops::{self, MonitoringPolicy, NewPolicy, PolicyPatch};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::http::extract::ApiPath;
use crate::http::page::html;
use crate::web::error::{see_other, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// A check as a row of the page.
struct CheckRow {
    key: String,
    check_type: String,
    interval_secs: String,
    severity: String,
    hysteresis: String,
}

struct PolicyView {
    p: MonitoringPolicy,
    rows: Vec<CheckRow>,
    /// The checks as the edit box shows them.
    json: String,
    assigned: String,
}

#[derive(Template)]
#[template(path = "monitoring_policies.html")]
struct PoliciesPage {
    l: Layout,
    policies: Vec<PolicyView>,
    can_write: bool,
}

fn view(p: MonitoringPolicy) -> PolicyView {
    let s = |c: &serde_json::Value, k: &str| c[k].as_str().map(str::to_string).unwrap_or_else(|| c[k].to_string());
    let rows = p
        .checks
        .iter()
        .map(|c| CheckRow {
            key: s(c, "key"),
            check_type: s(c, "type"),
            interval_secs: s(c, "interval_secs"),
            severity: s(c, "severity"),
            hysteresis: format!("{} / {}", c["fail_after"], c["recover_after"]),
        })
        .collect();
    let assigned = if p.assigned_to.is_empty() {
        "not assigned".to_string()
    } else {
        p.assigned_to
            .iter()
            .map(|a| if a.id == 0 { a.level.as_str().to_string() } else { format!("{} #{}", a.level.as_str(), a.id) })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let json = serde_json::to_string_pretty(&p.checks).unwrap_or_default();
    PolicyView { p, rows, json, assigned }
}

pub async fn list(State(app): State<App>, p: Principal) -> PageResult {
    let policies = ops::list(&app, &p).await?.into_iter().map(view).collect();
    Ok(html(&PoliciesPage {
        l: Layout::new(&app, &p, "Monitoring policies", "policies"),
        policies,
        can_write: p.can(Permission::SettingsWrite),
    }))
}

#[derive(Deserialize)]
pub struct PolicyForm {
    name: String,
    checks: String,
    #[serde(default)]
    ticket_on: String,
}

/// The form's checks: a JSON list (a parse error names the line).
fn checks_of(f: &PolicyForm) -> Result<Vec<serde_json::Value>, crate::error::ApiError> {
    let text = if f.checks.trim().is_empty() { "[]" } else { f.checks.as_str() };
    serde_json::from_str(text).map_err(|e| crate::error::ApiError::refused("checks", format!("not a JSON list of checks: {e}")))
}

fn ticket_on(f: &PolicyForm) -> Option<String> {
    Some(f.ticket_on.clone()).filter(|t| !t.is_empty())
}

pub async fn create(State(app): State<App>, p: Principal, WebForm(f): WebForm<PolicyForm>) -> PageResult {
    let new = NewPolicy { name: f.name.clone(), checks: checks_of(&f)?, ticket_on: ticket_on(&f) };
    let made = ops::create(&app, &p, new).await?;
    Ok(see_other(&format!("/monitoring/policies#policy-{}", made.id)))
}

pub async fn update(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>, WebForm(f): WebForm<PolicyForm>) -> PageResult {
    let patch = PolicyPatch { name: Some(f.name.clone()), checks: Some(checks_of(&f)?), ticket_on: Some(ticket_on(&f)) };
    ops::update(&app, &p, id, patch).await?;
    Ok(see_other(&format!("/monitoring/policies#policy-{id}")))
}

pub async fn delete(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> PageResult {
    ops::delete(&app, &p, id).await?;
    Ok(see_other("/monitoring/policies"))
}
