//! IT documentation: the knowledge base so far (articles in Markdown, per
//! client or global, in folders, with tags, every version kept, compared
//! and restorable, found by the global search). Markdown is rendered and
//! sanitized in one place (`markdown`), versions compared in another
//! (`diff`); both pure.

pub mod articles;
pub mod diff;
pub mod markdown;

use crate::app::domain::{get, post, Domain, NavGroup, NavItem, Need};
use crate::auth::roles::Permission::{DocsRead, DocsWrite};
use articles::{api, pages, search};
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
        .search(search::SOURCE)
        .indexer(search::INDEXER)
}
