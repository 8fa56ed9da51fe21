//! The web UI's shell: the layout every page extends, the home page (filled
//! by the domains' panels; the search page is the `search` domain's),
//! and the HTML error page and form helpers every domain's `pages` uses.
//!
//! Pages are server-rendered (askama) and progressively enhanced with htmx
//! (`hx-boost` turns links and forms into partial page swaps). Every form
//! carries the session's CSRF token; the guard checks it.

pub mod error;
pub mod home;
pub mod layout;

use crate::app::domain::{get, Domain, NavGroup, NavItem, Need};

pub fn domain() -> Domain {
    Domain::new("web").pages([get("/", Need::SignedIn, home::home)]).nav(NavItem {
        group: NavGroup::Top,
        order: 0,
        id: "home",
        label: "Home",
        href: "/",
        key: 'h',
        need: Need::SignedIn,
    })
}
