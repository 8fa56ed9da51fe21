//! The page layout every signed-in page extends: who is signed in, the CSRF
//! token for forms, the side bar built from what the domains registered
//! (each entry shown to whoever meets its need), and the page's message.

use crate::app::domain::{NavGroup, NavItem};
use crate::app::App;
use crate::auth::principal::Principal;

/// A side-bar link as the template shows it.
pub struct NavLink {
    pub group: &'static str,
    /// The first link of its group carries the group's heading.
    pub first_of_group: bool,
    pub id: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    pub key: char,
}

/// What the layout needs on every page.
pub struct Layout {
    pub title: String,
    pub active: &'static str,
    pub user_name: String,
    pub user_email: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub nav: Vec<NavLink>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub version: &'static str,
}

/// The entries `p` may follow, grouped and ordered.
fn nav_for(items: &[NavItem], p: &Principal) -> Vec<NavLink> {
    let mut shown: Vec<&NavItem> = items.iter().filter(|i| i.need.check(Some(p)).is_ok()).collect();
    shown.sort_by_key(|i| (i.group, i.order));
    let mut last: Option<NavGroup> = None;
    shown
        .into_iter()
        .map(|i| {
            let first_of_group = last != Some(i.group);
            last = Some(i.group);
            NavLink { group: i.group.label(), first_of_group, id: i.id, label: i.label, href: i.href, key: i.key }
        })
        .collect()
}

impl Layout {
    pub fn new(app: &App, p: &Principal, title: impl Into<String>, active: &'static str) -> Layout {
        Layout {
            title: title.into(),
            active,
            user_name: p.user.name.clone(),
            user_email: p.user.email.clone(),
            role_label: p.role.label(),
            csrf: p.csrf().to_string(),
            nav: nav_for(&app.registered().nav, p),
            notice: None,
            error: None,
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    pub fn with_error(mut self, e: Option<String>) -> Layout {
        self.error = e;
        self
    }

    pub fn with_notice(mut self, n: Option<String>) -> Layout {
        self.notice = n;
        self
    }
}
