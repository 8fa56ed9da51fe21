//! How a ticket entry that came by mail is shown: who sent it, whether a
//! person must look at it (a stranger's reply, a machine's mail, a
//! bounce, something unreadable), its quoted thread folded, its formatted
//! (sanitized) HTML with inline `cid:` images pointing at the ticket's
//! copies, and the contact it proposes. Pure: from the entry's stored
//! details and the ticket's files.

use serde_json::Value;

/// An entry's mail, for its page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MailView {
    pub from: String,
    pub review: bool,
    /// Why it is never answered automatically (empty: a person's).
    pub automatic: String,
    pub bounce: bool,
    pub readable: bool,
    pub quoted: String,
    /// Sanitized at ingest; `cid:` images rewritten to the kept files.
    pub html: Option<String>,
    pub remote_images: u64,
    /// `Name <address>` of a sender who could become a contact.
    pub proposed: Option<String>,
    pub files_not_kept: Vec<String>,
}

/// The mail part of `details` (`None` for an entry that is not a mail);
/// `url_of(sha256)` is where the entry's file with that hash is served.
pub fn mail_view(details: Option<&str>, url_of: impl Fn(&str) -> Option<String>) -> Option<MailView> {
    let d: Value = serde_json::from_str(details?).ok()?;
    let m = d.get("mail")?;
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let html = m.get("html").and_then(Value::as_str).map(|h| {
        let mut h = h.to_string();
        if let Some(inline) = m.get("inline").and_then(Value::as_object) {
            for (cid, sha) in inline {
                if let Some(url) = sha.as_str().and_then(&url_of) {
                    h = h.replace(&format!("\"cid:{cid}\""), &format!("\"{url}\""));
                }
            }
        }
        h
    });
    let proposed = m.get("proposed_contact").and_then(|p| {
        let email = p.get("email")?.as_str()?;
        Some(match p.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            Some(name) => format!("{name} <{email}>"),
            None => email.to_string(),
        })
    });
    Some(MailView {
        from: s("from"),
        review: m.get("review").and_then(Value::as_bool).unwrap_or(false),
        automatic: s("automatic"),
        bounce: m.get("bounce").and_then(Value::as_bool).unwrap_or(false),
        readable: m.get("readable").and_then(Value::as_bool).unwrap_or(true),
        quoted: s("quoted"),
        html,
        remote_images: m.get("remote_images_blocked").and_then(Value::as_u64).unwrap_or(0),
        proposed,
        files_not_kept: m
            .get("files_not_kept")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
    })
}

/// The entry's HTML with its remote images, for the page that shows it
/// on request (`None`: it has none held back).
pub fn with_images(details: Option<&str>) -> Option<String> {
    let d: Value = serde_json::from_str(details?).ok()?;
    d.get("mail")?.get("html_with_images")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inline_images_point_at_the_kept_files_and_the_rest_is_read() {
        let d = json!({"mail": {"from": "a@b.example", "html": "<p><img src=\"cid:x@y\"><img src=\"cid:gone\"></p>", "inline": {"x@y": "abc", "gone": "def"},
            "review": true, "automatic": "auto-submitted", "quoted": "> old", "remote_images_blocked": 2,
            "proposed_contact": {"email": "bob@b.example", "name": "Bob"}}})
        .to_string();
        let v = mail_view(Some(&d), |sha| (sha == "abc").then(|| "/files/1".to_string())).unwrap();
        assert_eq!(v.html.as_deref(), Some("<p><img src=\"/files/1\"><img src=\"cid:gone\"></p>"));
        assert!(v.review && v.readable && !v.bounce);
        assert_eq!((v.automatic.as_str(), v.quoted.as_str(), v.remote_images), ("auto-submitted", "> old", 2));
        assert_eq!(v.proposed.as_deref(), Some("Bob <bob@b.example>"));
        assert_eq!(mail_view(Some("{\"field\":\"status\"}"), |_| None), None);
        assert_eq!(mail_view(None, |_| None), None);
    }
}
