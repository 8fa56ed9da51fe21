//! Placeholders in canned responses: `{{contact.first_name}}` and friends
//! replaced by what they name for one ticket. Pure text substitution: a
//! value is inserted as it is and never read again for placeholders (a
//! contact named `{{technician.name}}` stays that text), an unknown or
//! unfilled placeholder stays visible for the technician to fix, and the
//! result is plain text, escaped wherever it is shown like any entry.

/// The placeholders known, for the pickers and the API's description.
pub const PLACEHOLDERS: [&str; 7] =
    ["contact.first_name", "contact.name", "ticket.number", "ticket.subject", "client.name", "technician.first_name", "technician.name"];

/// What the placeholders stand for on one ticket; `None` leaves the
/// placeholder as written (a ticket without a contact).
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub contact_name: Option<String>,
    /// `#10234`.
    pub ticket_number: Option<String>,
    pub ticket_subject: Option<String>,
    pub client_name: Option<String>,
    pub technician_name: Option<String>,
}

/// The first word of a name ("Ada Lovelace" → "Ada").
fn first_name(name: &str) -> Option<String> {
    name.split_whitespace().next().map(str::to_string)
}

impl Values {
    fn get(&self, key: &str) -> Option<String> {
        match key {
            "contact.first_name" => self.contact_name.as_deref().and_then(first_name),
            "contact.name" => self.contact_name.clone(),
            "ticket.number" => self.ticket_number.clone(),
            "ticket.subject" => self.ticket_subject.clone(),
            "client.name" => self.client_name.clone(),
            "technician.first_name" => self.technician_name.as_deref().and_then(first_name),
            "technician.name" => self.technician_name.clone(),
            _ => None,
        }
    }
}

/// `template` with every known placeholder (`{{ key }}`, spaces inside
/// allowed) replaced; everything else as written.
pub fn render(template: &str, v: &Values) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let value = after.find("}}").and_then(|close| v.get(after[..close].trim()).map(|val| (close, val)));
        match value {
            Some((close, val)) => {
                out.push_str(&val);
                rest = &after[close + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values() -> Values {
        Values {
            contact_name: Some("Ada Lovelace".into()),
            ticket_number: Some("#10234".into()),
            ticket_subject: Some("Printer offline".into()),
            client_name: Some("Acme Ltd".into()),
            technician_name: Some("Grace Hopper".into()),
        }
    }

    #[test]
    fn known_placeholders_are_filled_and_others_left_visible() {
        let t = "Hi {{contact.first_name}}, about {{ ticket.number }} ({{ticket.subject}}) for {{client.name}}: {{nope}} {{contact.name}}\n-- {{technician.first_name}} / {{technician.name}} {{ticket.number";
        assert_eq!(
            render(t, &values()),
            "Hi Ada, about #10234 (Printer offline) for Acme Ltd: {{nope}} Ada Lovelace\n-- Grace / Grace Hopper {{ticket.number"
        );
        assert_eq!(render("Hi {{contact.first_name}}", &Values::default()), "Hi {{contact.first_name}}");
        assert_eq!(render("{{{{ticket.number}}}}", &values()), "{{#10234}}");
    }

    #[test]
    fn values_are_never_read_for_placeholders() {
        let v = Values { contact_name: Some("{{technician.name}} <script>".into()), ..values() };
        assert_eq!(render("{{contact.name}}", &v), "{{technician.name}} <script>");
    }

    proptest! {
        #[test]
        fn rendering_never_panics_and_keeps_text_without_placeholders(t in "\\PC{0,200}", name in "\\PC{0,30}") {
            let v = Values { contact_name: Some(name), ..values() };
            let _ = render(&t, &v);
            let with_braces = format!("{t}{{{{ticket.number}}}}{{{{");
            let _ = render(&with_braces, &v);
            if !t.contains("{{") {
                prop_assert_eq!(render(&t, &v), t);
            }
        }

        #[test]
        fn every_known_placeholder_is_replaced(pick in 0usize..PLACEHOLDERS.len(), before in "[^{}]{0,20}", after in "[^{}]{0,20}") {
            let t = format!("{before}{{{{{}}}}}{after}", PLACEHOLDERS[pick]);
            let out = render(&t, &values());
            prop_assert!(!out.contains("{{"), "{}", out);
            prop_assert!(out.starts_with(&before) && out.ends_with(&after));
        }
    }
}
