//! IT documentation: the knowledge base (articles in Markdown, per client
//! or global, in folders, with tags, every version kept, compared and
//! restorable) and documented assets (flexible types, configurations
//! matched to devices, relationships, the expiry list), all found by the
//! global search. Markdown is rendered and sanitized in one place
//! (`markdown`), versions compared in another (`diff`); both pure.

pub mod articles;
pub mod assets;
pub mod diff;
pub mod import;
pub mod markdown;

use crate::app::domain::{get, post, BoxFut, Domain, Job, NavGroup, NavItem, Need};
use crate::app::App;
use crate::auth::roles::Permission::{DocsRead, DocsWrite, SettingsWrite};
use articles::{api, pages, search};
use assets::api as assets_api;
use assets::pages as asset_pages;
use std::time::Duration;
use utoipa_axum::routes;

pub fn domain() -> Domain {
    let (read, write) = (Need::Perm(DocsRead), Need::Perm(DocsWrite));
    Domain::new("docs")
        .api(read, routes!(api::list))
        .api(write, routes!(api::create))
        .api(read, routes!(api::get))
        .api(write, routes!(api::update))
        .api(read, routes!(api::versions))
        .api(read, routes!(api::version))
        .api(read, routes!(api::diff))
        .api(write, routes!(api::restore))
        .api(read, routes!(api::list_global))
        .api(write, routes!(api::create_global))
        .api(read, routes!(api::get_global))
        .api(write, routes!(api::update_global))
        .api(read, routes!(api::versions_global))
        .api(read, routes!(api::version_global))
        .api(read, routes!(api::diff_global))
        .api(write, routes!(api::restore_global))
        .api(read, routes!(api::preview))
        .api(read, routes!(assets_api::list_types))
        .api(Need::Perm(SettingsWrite), routes!(assets_api::create_type))
        .api(read, routes!(assets_api::get_type))
        .api(Need::Perm(SettingsWrite), routes!(assets_api::update_type))
        .api(read, routes!(assets_api::list))
        .api(write, routes!(assets_api::create))
        .api(read, routes!(assets_api::get))
        .api(write, routes!(assets_api::update))
        .api(read, routes!(assets_api::configurations))
        .api(write, routes!(assets_api::document_device))
        .api(read, routes!(assets_api::relations_of))
        .api(write, routes!(assets_api::relate))
        .api(write, routes!(assets_api::unrelate))
        .api(read, routes!(assets_api::expiries))
        .api(Need::SignedIn, routes!(import::api::import))
        .pages([
            get("/docs", read, pages::list),
            post("/docs", write, pages::create),
            post("/docs/preview", read, pages::preview),
            get("/articles/{article_id}", read, pages::show_global),
            post("/articles/{article_id}", write, pages::update_global),
            get("/articles/{article_id}/diff", read, pages::diff_global),
            post("/articles/{article_id}/versions/{version}/restore", write, pages::restore_global),
            get("/clients/{id}/articles/{article_id}", read, pages::show),
            post("/clients/{id}/articles/{article_id}", write, pages::update),
            get("/clients/{id}/articles/{article_id}/diff", read, pages::diff),
            post("/clients/{id}/articles/{article_id}/versions/{version}/restore", write, pages::restore),
        ])
        .nav(NavItem { group: NavGroup::Docs, order: 10, id: "docs", label: "Knowledge base", href: "/docs", key: 'k', need: read })
        .panel(pages::CLIENT_PANEL)
        .panel(pages::TICKET_PANEL)
        .pages(asset_pages::routes(read, write))
        .pages([
            get("/clients/{id}/import", Need::SignedIn, import::pages::show),
            post("/clients/{id}/import", Need::SignedIn, import::pages::submit),
        ])
        .nav(NavItem { group: NavGroup::Docs, order: 15, id: "assets", label: "Assets", href: "/docs/assets", key: 'i', need: read })
        .nav(NavItem { group: NavGroup::Docs, order: 20, id: "expiries", label: "Expiring", href: "/docs/expiries", key: 'x', need: read })
        .panel(assets::panels::CLIENT_PANEL)
        .panel(assets::panels::DEVICE_PANEL)
        .panel(assets::panels::TICKET_PANEL)
        .panel(assets::panels::HOME_PANEL)
        .search(search::SOURCE)
        .indexer(search::INDEXER)
        .search(assets::search::SOURCE)
        .indexer(assets::search::INDEXER)
        .job(Job { name: "docs.expiry", every: |c| Some(Duration::from_secs(c.expiry_check_secs.max(1))), run: expiry_job })
}

fn expiry_job(app: App) -> BoxFut<'static, anyhow::Result<()>> {
    Box::pin(async move {
        assets::expiry::warn(&app).await?;
        Ok(())
    })
}
