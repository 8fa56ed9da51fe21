//! The ticket number in a subject: `[#10234]`, as Steward writes it in
//! every mail it sends, so a reply whose headers were lost (a forward, a
//! client that drops `In-Reply-To`) still finds its ticket.

/// The ticket number in `subject`, the last one written `[#N]`.
pub fn ticket_number(subject: &str) -> Option<i64> {
    let mut found = None;
    let mut rest = subject;
    while let Some(at) = rest.find("[#") {
        rest = &rest[at + 2..];
        let digits: &str = &rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())];
        if !digits.is_empty() && rest[digits.len()..].starts_with(']') {
            found = digits.parse().ok().or(found);
        }
    }
    found
}

/// A subject carrying the ticket's number, once.
pub fn with_number(subject: &str, number: i64) -> String {
    let tag = format!("[#{number}]");
    if subject.contains(&tag) {
        subject.to_string()
    } else {
        format!("{subject} {tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_are_found_where_steward_writes_them() {
        assert_eq!(ticket_number("Re: Printer jammed [#10234]"), Some(10234));
        assert_eq!(ticket_number("AW: [#7] Re: [#10234] VPN"), Some(10234));
        assert_eq!(ticket_number("Order #10234 shipped"), None);
        assert_eq!(ticket_number("[#] [#12a] [#"), None);
    }

    proptest! {
        #[test]
        fn a_numbered_subject_gives_its_number_back(subject in "[^\\[]{0,60}", n in 1i64..1_000_000_000) {
            prop_assert_eq!(ticket_number(&with_number(&subject, n)), Some(n));
        }

        #[test]
        fn any_subject_is_read_without_panicking(subject in ".{0,200}") {
            let _ = ticket_number(&subject);
        }
    }
}
