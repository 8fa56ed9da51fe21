//! Enrollment on a site's page: the panel listing the site's tokens with
//! the form for a new one, and the page that shows a new token's install
//! commands (once: the secret is never shown again).

use super::api::{self, CreatedEnrollmentToken, EnrollmentTokenInfo, NewEnrollmentToken};
use crate::app::domain::BoxFut;
use crate::app::panels::{Fragment, Panel, PanelCtx, Slot};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html_status;
use crate::web::error::{form_error, see_other, status_for, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "enrollment_panel.html")]
struct EnrollmentPanel {
    client_id: i64,
    site_id: i64,
    csrf: String,
    tokens: Vec<EnrollmentTokenInfo>,
    error: Option<String>,
}

pub const SITE_PANEL: Panel = Panel { slot: Slot::Site, order: 10, render: panel };

fn panel<'a>(app: &'a App, p: &'a Principal, ctx: PanelCtx) -> BoxFut<'a, Result<Option<Fragment>, ApiError>> {
    Box::pin(async move {
        let (Some(client_id), Some(site_id)) = (ctx.client, ctx.site) else { return Ok(None) };
        if !p.can(Permission::ClientsWrite) {
            return Ok(None);
        }
        Fragment::render(&panel_for(app, p, client_id, site_id, None).await?).map(Some)
    })
}

async fn panel_for(app: &App, p: &Principal, client_id: i64, site_id: i64, error: Option<String>) -> Result<EnrollmentPanel, ApiError> {
    let tokens = super::store::list(&mut app.store.clone(), client_id, site_id).await?.into_iter().map(Into::into).collect();
    Ok(EnrollmentPanel { client_id, site_id, csrf: p.csrf().to_string(), tokens, error })
}

#[derive(Template)]
#[template(path = "enrollment_created.html")]
struct CreatedPage {
    l: Layout,
    client: String,
    site: String,
    client_id: i64,
    site_id: i64,
    t: Option<CreatedEnrollmentToken>,
    panel: Fragment,
}

#[derive(Deserialize)]
pub struct EnrollForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_in_hours: String,
    #[serde(default)]
    max_uses: String,
}

fn count(field: &str, v: &str) -> Result<Option<u32>, ApiError> {
    match v.trim() {
        "" => Ok(None),
        n => n.parse().map(Some).map_err(|_| ApiError::invalid(field, "must be a whole number")),
    }
}

/// Creates a token from the site page's form and shows its install commands.
pub async fn create(
    State(app): State<App>,
    p: Principal,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    ApiPath((id, site_id)): ApiPath<(i64, i64)>,
    WebForm(f): WebForm<EnrollForm>,
) -> PageResult {
    let req = (|| {
        Ok::<_, ApiError>(NewEnrollmentToken {
            name: f.name.clone(),
            expires_in_hours: count("expires_in_hours", &f.expires_in_hours)?,
            max_uses: count("max_uses", &f.max_uses)?,
        })
    })();
    let url = api::server_url(&app, &headers, &uri);
    let created = match req {
        Ok(req) => api::create_for(&app, &p, id, site_id, req, url).await,
        Err(e) => Err(e),
    };
    let (t, error) = match created {
        Ok(t) => (Some(t), None),
        Err(e) => (None, Some(form_error(e)?)),
    };
    let mut db = app.store.clone();
    let client = crate::tenancy::store::get_client(&mut db, p.client(id)?).await?.ok_or(ApiError::NotFound)?;
    let site = crate::tenancy::store::get_site(&mut db, p.client(id)?, site_id).await?.ok_or(ApiError::NotFound)?;
    let status = status_for(&error);
    let panel = Fragment::render(&panel_for(&app, &p, id, site_id, error).await?)?;
    let l = Layout::new(&app, &p, format!("Enrol agents at {}", site.name), "clients");
    Ok(html_status(status, &CreatedPage { l, client: client.name, site: site.name, client_id: id, site_id, t, panel }))
}

pub async fn revoke(State(app): State<App>, p: Principal, ApiPath((id, site_id, token_id)): ApiPath<(i64, i64, i64)>) -> PageResult {
    api::revoke_for(&app, &p, id, site_id, token_id).await?;
    Ok(see_other(&format!("/clients/{id}/sites/{site_id}#enrollment")))
}

/// `GET /agent/download/{platform}`: the binary, as an attachment.
/// Open to anyone: a machine being installed has no session, and nothing
/// in the agent is a secret.
pub async fn download(State(app): State<App>, ApiPath(platform): ApiPath<String>) -> PageResult {
    let b = app.agent_binaries.get(&platform).ok_or(ApiError::NotFound)?;
    let file = tokio::fs::File::open(&b.path).await.map_err(ApiError::internal)?;
    let size = file.metadata().await.map_err(ApiError::internal)?.len();
    Ok(crate::http::download::stream(file, b.platform.file, "application/octet-stream", size)?)
}
