//! `/clients/{id}/import`: paste a CSV export, see what each row would do
//! (the dry run), then import it all or nothing.

use super::ops::{self, ImportReport, ImportRequest};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::docs::assets::types::{self, AssetType};
use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::page::html_status;
use crate::web::error::{form_error, status_for, PageResult, WebForm};
use crate::web::layout::Layout;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    l: Layout,
    client_id: i64,
    client_name: String,
    types: Vec<AssetType>,
    kind: String,
    type_id: Option<i64>,
    csv: String,
    report: Option<ImportReport>,
}

impl ImportPage {
    fn type_is(&self, id: &i64) -> bool {
        self.type_id == Some(*id)
    }
}

async fn page(app: &App, p: &Principal, client: i64, form: ImportForm, report: Option<ImportReport>, error: Option<String>) -> PageResult {
    if !p.can(Permission::DocsWrite) && !p.can(Permission::VaultWrite) {
        return Err(ApiError::Forbidden("importing needs docs:write or vault:write".into()).into());
    }
    let c = crate::tenancy::store::get_client(&mut app.store.clone(), p.client(client)?).await?.ok_or(ApiError::NotFound)?;
    Ok(html_status(
        status_for(&error),
        &ImportPage {
            l: Layout::new(app, p, format!("Import into {}", c.name), "assets").with_error(error),
            client_id: client,
            client_name: c.name,
            types: types::list(app, p, false).await.unwrap_or_default(),
            kind: form.kind.unwrap_or_else(|| "assets".into()),
            type_id: form.type_id,
            csv: form.csv.unwrap_or_default(),
            report,
        },
    ))
}

/// The form: what, of which type, the file's text, and whether to keep it.
#[derive(Debug, Default, Deserialize)]
pub struct ImportForm {
    kind: Option<String>,
    type_id: Option<i64>,
    csv: Option<String>,
    /// `1` imports; anything else is a dry run.
    commit: Option<String>,
}

pub async fn show(State(app): State<App>, p: Principal, ApiPath(client): ApiPath<i64>) -> PageResult {
    page(&app, &p, client, ImportForm::default(), None, None).await
}

pub async fn submit(State(app): State<App>, p: Principal, ApiPath(client): ApiPath<i64>, WebForm(f): WebForm<ImportForm>) -> PageResult {
    let req = ImportRequest {
        kind: f.kind.clone().unwrap_or_else(|| "assets".into()),
        type_id: f.type_id,
        csv: f.csv.clone().unwrap_or_default(),
        mapping: Default::default(),
        commit: f.commit.as_deref() == Some("1"),
    };
    let commit = req.commit;
    match ops::run(&app, &p, client, req).await {
        Ok(r) if commit && r.committed => {
            let form = ImportForm { kind: f.kind, type_id: f.type_id, ..Default::default() };
            page(&app, &p, client, form, Some(r), None).await
        }
        Ok(r) if commit => {
            let msg = format!("{} rows have errors: nothing was imported", r.errors);
            page(&app, &p, client, f, Some(r), Some(msg)).await
        }
        Ok(r) => page(&app, &p, client, f, Some(r), None).await,
        Err(e) => page(&app, &p, client, f, None, Some(form_error(e)?)).await,
    }
}
