//! Mail from machines: auto-replies, bulk and list mail, bounces. Such a
//! message may open or update a ticket, but never gets an automatic answer
//! (an acknowledgement answering an out-of-office that answers it back is
//! how reply storms start).

/// The headers that decide, lower-cased names, raw values.
pub struct Signals<'a> {
    pub auto_submitted: Option<&'a str>,
    pub precedence: Option<&'a str>,
    pub x_autoreply: bool,
    pub x_auto_response_suppress: bool,
    pub list_id: bool,
    /// `Return-Path: <>`: a delivery report's null sender.
    pub null_return_path: bool,
    /// `multipart/report` (a DSN or other report).
    pub report: bool,
}

/// Why the message must not be answered, if it must not.
pub fn reason(s: &Signals) -> Option<&'static str> {
    let auto = s.auto_submitted.map(|v| v.trim().to_ascii_lowercase());
    if s.report {
        return Some("a delivery report (bounce)");
    }
    if s.null_return_path {
        return Some("a null return path");
    }
    if auto.as_deref().is_some_and(|v| !v.is_empty() && !v.starts_with("no")) {
        return Some("Auto-Submitted");
    }
    if s.precedence.map(|v| v.trim().to_ascii_lowercase()).is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list")) {
        return Some("Precedence: bulk, junk or list");
    }
    if s.x_autoreply {
        return Some("X-Autoreply");
    }
    if s.x_auto_response_suppress {
        return Some("X-Auto-Response-Suppress");
    }
    if s.list_id {
        return Some("a mailing list (List-Id)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Signals<'static> {
        Signals {
            auto_submitted: None,
            precedence: None,
            x_autoreply: false,
            x_auto_response_suppress: false,
            list_id: false,
            null_return_path: false,
            report: false,
        }
    }

    #[test]
    fn a_person_writing_is_answered_and_machines_are_not() {
        assert_eq!(reason(&none()), None);
        assert_eq!(reason(&Signals { auto_submitted: Some(" no "), ..none() }), None);
        assert!(reason(&Signals { auto_submitted: Some("auto-replied"), ..none() }).is_some());
        assert!(reason(&Signals { precedence: Some("Bulk"), ..none() }).is_some());
        assert_eq!(reason(&Signals { precedence: Some("first-class"), ..none() }), None);
        assert!(reason(&Signals { x_autoreply: true, ..none() }).is_some());
        assert!(reason(&Signals { list_id: true, ..none() }).is_some());
        assert!(reason(&Signals { null_return_path: true, ..none() }).is_some());
        assert_eq!(reason(&Signals { report: true, ..none() }), Some("a delivery report (bounce)"));
    }
}
