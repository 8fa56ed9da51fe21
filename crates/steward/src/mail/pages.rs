//! The ticket page's mail actions: a mail shown with the remote images
//! held back from it (on its own page, sandboxed: no script, no forms, no
//! access to ours, only the images it asked for), and adding the sender a
//! mail proposed as a contact of the ticket's client.

use super::view::{mail_view, with_images};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::tenancy::ops::NewContact;
use crate::tickets::ops::update::TicketPatch;
use crate::web::error::{see_other, PageResult};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

/// What a mail shown with its images may do: show them, nothing else.
const IMAGES_CSP: &str = "default-src 'none'; img-src * data:; sandbox";

async fn entry_details(app: &App, p: &Principal, client: i64, ticket: i64, entry: i64) -> Result<Option<String>, ApiError> {
    p.require(Permission::TicketsRead)?;
    let scope = p.client(client)?;
    let mut db = app.store.snapshot().await?;
    crate::tickets::store::get(&mut db, scope, ticket).await?.ok_or(ApiError::NotFound)?;
    let e = crate::tickets::store::thread::entry(&mut db, ticket, entry).await?.ok_or(ApiError::NotFound)?;
    Ok(e.details)
}

pub async fn with_remote_images(
    State(app): State<App>,
    p: Principal,
    ApiPath((client, ticket, entry)): ApiPath<(i64, i64, i64)>,
) -> PageResult {
    let details = entry_details(&app, &p, client, ticket, entry).await?;
    let html = with_images(details.as_deref()).ok_or(ApiError::NotFound)?;
    let page = format!("<!doctype html><meta charset=\"utf-8\"><title>Mail</title>{html}");
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, IMAGES_CSP)], page).into_response())
}

pub async fn adopt_contact(State(app): State<App>, p: Principal, ApiPath((client, ticket, entry)): ApiPath<(i64, i64, i64)>) -> PageResult {
    p.require(Permission::TicketsWrite)?;
    let details = entry_details(&app, &p, client, ticket, entry).await?;
    let d: serde_json::Value = details.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
    let proposed = &d["mail"]["proposed_contact"];
    let email = proposed["email"].as_str().ok_or_else(|| ApiError::refused("entry_id", "this mail proposes no contact"))?;
    mail_view(details.as_deref(), |_| None).ok_or(ApiError::NotFound)?;
    let name = proposed["name"].as_str().filter(|n| !n.trim().is_empty()).unwrap_or(email);
    let input = NewContact {
        name: name.to_string(),
        email: email.to_string(),
        phone: String::new(),
        title: String::new(),
        site_id: None,
        covered: false,
    };
    let contact = crate::tenancy::ops::create_contact(&app, &p, client, input).await?;
    let mut db = app.store.snapshot().await?;
    let t = crate::tickets::store::get(&mut db, p.client(client)?, ticket).await?.ok_or(ApiError::NotFound)?;
    let tags: Vec<String> = crate::tickets::store::tags(&mut db, &[ticket])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .filter(|t| t != super::route::PROPOSED_CONTACT_TAG)
        .collect();
    drop(db);
    let patch = TicketPatch { contact_id: t.contact_id.is_none().then_some(Some(contact.id)), tags: Some(tags), ..Default::default() };
    crate::tickets::ops::update::update(&app, &p, client, ticket, patch).await?;
    Ok(see_other(&format!("/clients/{client}/tickets/{ticket}#entry-{entry}")))
}
