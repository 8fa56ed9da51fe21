//! Mail templates: a subject and a plain-text body with `{{placeholders}}`,
//! from which both parts of a mail are made (the HTML part is the text
//! escaped, its line breaks kept), so the two never disagree. Rendering is
//! substitution only: a value is inserted as it is and never read again
//! for placeholders, so text a client wrote cannot expand into anything.
//! Pure; property-tested.

use serde::{Deserialize, Serialize};

/// The templates there are, and the placeholders each may use.
pub const KINDS: [(&str, &str, &[&str]); 6] = [
    ("acknowledgement", "to the client when their mail opens a ticket", &COMMON),
    ("reply", "a technician's public reply", &WITH_MESSAGE),
    ("resolution", "to the client when their ticket is resolved", &WITH_MESSAGE),
    ("staff_new_ticket", "to those watching a board: a new ticket on it", &COMMON),
    ("staff_client_reply", "to the assignee: the client wrote on their ticket", &WITH_MESSAGE),
    ("staff_sla", "to the assignee: an SLA warning or breach", &WITH_MESSAGE),
];

const COMMON: [&str; 7] =
    ["ticket.number", "ticket.subject", "ticket.url", "client.name", "contact.name", "technician.name", "company.name"];
const WITH_MESSAGE: [&str; 8] =
    ["ticket.number", "ticket.subject", "ticket.url", "client.name", "contact.name", "technician.name", "company.name", "message"];

/// The longest subject and body a template may have.
pub const MAX_SUBJECT: usize = 300;
pub const MAX_BODY: usize = 20_000;

/// A template as stored and edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// A mail made from a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The template shipped for `kind`.
pub fn default_for(kind: &str) -> Option<Template> {
    let (subject, body) = match kind {
        "acknowledgement" => (
            "We have your request: {{ticket.subject}}",
            "Hello {{contact.name}},\n\nthank you for your message. We have opened ticket {{ticket.number}} for it and will come back to you soon.\nWhen you write about it, just reply to this mail.\n\n{{company.name}}",
        ),
        "reply" => ("Re: {{ticket.subject}}", "{{message}}"),
        "resolution" => (
            "Resolved: {{ticket.subject}}",
            "Hello {{contact.name}},\n\nwe have resolved ticket {{ticket.number}}:\n\n{{message}}\n\nIf it is not fixed for you, just reply to this mail and the ticket opens again.\n\n{{company.name}}",
        ),
        "staff_new_ticket" => ("New ticket {{ticket.number}}: {{ticket.subject}}", "{{client.name}} ({{contact.name}}) opened {{ticket.number}}: {{ticket.subject}}\n\n{{ticket.url}}"),
        "staff_client_reply" => ("{{client.name}} wrote on {{ticket.number}}", "{{contact.name}} wrote on {{ticket.number}} ({{ticket.subject}}):\n\n{{message}}\n\n{{ticket.url}}"),
        "staff_sla" => ("{{message}}", "{{message}}\n\n{{ticket.number}}: {{ticket.subject}} ({{client.name}})\n{{ticket.url}}"),
        _ => return None,
    };
    Some(Template { subject: subject.into(), body: body.into() })
}

/// The placeholders `kind` may use (`None`: no such template).
pub fn placeholders(kind: &str) -> Option<&'static [&'static str]> {
    KINDS.iter().find(|(k, _, _)| *k == kind).map(|(_, _, p)| *p)
}

/// The placeholders named in `s`, in order (`{{ name }}`, spaces allowed).
fn named(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.push(after[..close].trim().to_string());
        rest = &after[close + 2..];
    }
    out
}

/// Checks a template for `kind`: lengths, no control characters in the
/// subject, and only the placeholders it may use. The message says what is wrong.
pub fn check(kind: &str, t: &Template) -> Result<(), String> {
    let allowed = placeholders(kind).ok_or_else(|| format!("there is no template {kind:?}"))?;
    if t.subject.trim().is_empty() || t.subject.chars().count() > MAX_SUBJECT || t.subject.chars().any(char::is_control) {
        return Err(format!("the subject: 1 to {MAX_SUBJECT} characters on one line"));
    }
    if t.body.chars().count() > MAX_BODY {
        return Err(format!("the body: at most {MAX_BODY} characters"));
    }
    for name in named(&t.subject).into_iter().chain(named(&t.body)) {
        if !allowed.contains(&name.as_str()) {
            return Err(format!("{{{{{name}}}}} is not a placeholder of this template; it may use {}", allowed.join(", ")));
        }
    }
    Ok(())
}

/// `s` with each `{{name}}` replaced by its value (unknown names left as
/// they are); values are never themselves searched for placeholders.
fn fill(s: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                match values.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => {
                        out.push_str(v);
                        rest = &after[close + 2..];
                    }
                    // Not ours: keep its first brace and look again after it
                    // (`{{{message}}` still names `message`).
                    None => {
                        out.push('{');
                        rest = &rest[open + 1..];
                    }
                }
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text as HTML: escaped, line breaks kept.
pub fn html_of(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!("<div style=\"font-family:sans-serif\">{}</div>", escaped.replace('\n', "<br>\n"))
}

/// Renders `t` with `values`: a subject on one line, the text, its HTML.
pub fn render(t: &Template, values: &[(&str, String)]) -> RenderedMail {
    let subject: String = fill(&t.subject, values).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let text = fill(&t.body, values);
    RenderedMail { subject: subject.trim().to_string(), html: html_of(&text), text }
}

/// Sample values for a preview.
pub fn sample() -> Vec<(&'static str, String)> {
    vec![
        ("ticket.number", "#10234".into()),
        ("ticket.subject", "Printer on floor 2 jams".into()),
        ("ticket.url", "https://steward.example/clients/7/tickets/10234".into()),
        ("client.name", "Acme Dental".into()),
        ("contact.name", "Renée Ortiz".into()),
        ("technician.name", "Sam Tech".into()),
        ("company.name", "Your MSP".into()),
        ("message", "The paper path was dirty; it is cleaned and a test page printed fine.".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_shipped_templates_pass_their_own_check() {
        for (kind, _, _) in KINDS {
            check(kind, &default_for(kind).unwrap()).unwrap();
        }
    }

    #[test]
    fn placeholders_fill_and_the_html_part_is_the_text_escaped() {
        let t = Template { subject: "Re: {{ ticket.subject }} \n".into(), body: "Hi {{contact.name}},\n{{message}}\n{{unknown}}".into() };
        let r = render(&t, &[("ticket.subject", "Printer".into()), ("contact.name", "Ann".into()), ("message", "<b>done</b>".into())]);
        assert_eq!(r.subject, "Re: Printer");
        assert_eq!(r.text, "Hi Ann,\n<b>done</b>\n{{unknown}}");
        assert!(r.html.contains("&lt;b&gt;done&lt;/b&gt;<br>"), "{}", r.html);
    }

    #[test]
    fn a_wrong_placeholder_is_named() {
        let t = Template { subject: "x".into(), body: "{{message}}".into() };
        assert!(check("acknowledgement", &t).unwrap_err().contains("{{message}}"));
        assert!(check("reply", &t).is_ok());
        assert!(check("nope", &t).is_err());
        assert!(check("reply", &Template { subject: "a\nb".into(), body: String::new() }).is_err());
    }

    proptest! {
        #[test]
        fn a_value_is_inserted_literally_and_never_expanded(v in "\\PC{0,40}", body in "[a-z {}.]{0,60}") {
            let t = Template { subject: "s".into(), body: format!("{body}{{{{message}}}}") };
            let r = render(&t, &[("message", v.clone()), ("contact.name", "NAME".into())]);
            prop_assert!(r.text.ends_with(&v));
            let inner = r.html.trim_start_matches("<div style=\"font-family:sans-serif\">").trim_end_matches("</div>").replace("<br>", "");
            prop_assert!(!inner.contains('<'), "{}", r.html);
            prop_assert!(!r.subject.chars().any(char::is_control));
        }
    }
}
