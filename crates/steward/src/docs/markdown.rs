//! Articles' Markdown as HTML people can trust: CommonMark with tables,
//! strike-through and task lists (`pulldown-cmark`), then every tag and
//! attribute not on an allow-list removed (`ammonia`), so what a colleague
//! (or an import) wrote cannot run a script, load a frame, or link to
//! `javascript:`. Links open without handing over the page (`noopener`).
//! Pure, no I/O.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::sync::LazyLock;

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        // Task lists' boxes: always a checkbox (whatever type was written),
        // never editable.
        .add_tags(["input"])
        .add_tag_attributes("input", ["checked"])
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "");
    b
});

/// The article's HTML, sanitized.
pub fn render(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    SANITIZER.clean(&raw).to_string()
}

/// The words of an article without its markup, for the search index.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for e in Parser::new_ext(markdown, options()) {
        match e {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell) => {
                out.push('\n')
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                out.push_str(&dest_url);
                out.push(' ');
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn markdown_renders_with_tables_and_task_lists() {
        let html = render(
            "# Backup\n\n| Job | When |\n|---|:--:|\n| NAS | 02:00 |\n\n- [x] check the log\n- [ ] test a restore\n\n~~old~~ `code`",
        );
        assert!(html.contains("<h1>Backup</h1>"), "{html}");
        assert!(html.contains("<table>") && html.contains("<td>02:00</td>"), "{html}");
        assert!(html.contains("checked") && html.contains("type=\"checkbox\"") && html.contains("disabled"), "{html}");
        assert!(html.contains("<del>old</del>") && html.contains("<code>code</code>"), "{html}");
    }

    #[test]
    fn scripts_handlers_frames_and_javascript_links_are_removed() {
        let html = render(concat!(
            "<script>alert(1)</script>\n\n",
            "[click](javascript:alert(2)) [data](data:text/html;base64,PHNjcmlwdD4=)\n\n",
            "<img src=x onerror=alert(3)> <iframe src=https://evil.example></iframe>\n\n",
            "<a href=\"https://ok.example\" onclick=\"alert(4)\">ok</a> <div style=\"background:url(javascript:alert(5))\">x</div>\n\n",
            "<input type=text name=password> <form action=https://evil.example><button>go</button></form>",
        ));
        for bad in ["<script", "javascript:", "data:text", "onerror", "onclick", "<iframe", "<form", "background", "type=\"text\"", "name="]
        {
            assert!(!html.to_lowercase().contains(bad), "{bad} survived: {html}");
        }
        assert!(html.contains(r#"<a href="https://ok.example" rel="noopener noreferrer nofollow">ok</a>"#), "{html}");
    }

    #[test]
    fn plain_text_keeps_words_and_link_targets() {
        let t = plain_text("# VPN *set-up*\n\nUse [the portal](https://vpn.example) and `forticlient`.");
        assert!(t.contains("VPN") && t.contains("set-up") && t.contains("https://vpn.example") && t.contains("forticlient"), "{t}");
        assert!(!t.contains('#') && !t.contains('*') && !t.contains("]("), "{t}");
    }

    proptest! {
        /// Whatever is written, nothing that runs comes out.
        #[test]
        fn nothing_executable_survives(parts in proptest::collection::vec(prop_oneof![
            Just("<script>x</script>".to_string()),
            Just("<img src=a onerror=x>".to_string()),
            Just("[a](javascript:x)".to_string()),
            Just("<a href='jAvAsCrIpT:x'>a</a>".to_string()),
            Just("<svg onload=x>".to_string()),
            Just("<style>*{}</style>".to_string()),
            Just("<object data=x>".to_string()),
            Just("<meta http-equiv=refresh>".to_string()),
            Just("\n\n| a | b |\n|---|---|\n| <b onmouseover=x>c</b> | d |\n\n".to_string()),
            "[ -~\n]{0,30}",
        ], 0..12)) {
            // The words may survive as text (escaped, or a link swallowed by
            // a raw HTML block); never in markup. Every `<` left is a tag.
            let html = render(&parts.concat()).to_lowercase();
            for tag in html.split('<').skip(1).map(|t| t.split('>').next().unwrap_or_default()) {
                let name = tag.trim_start_matches('/').split([' ', '>']).next().unwrap_or_default();
                prop_assert!(!["script", "svg", "style", "object", "meta", "iframe"].contains(&name), "<{}> in {}", tag, html);
                prop_assert!(!tag.split_whitespace().skip(1).any(|a| a.starts_with("on")), "a handler in <{}>", tag);
                prop_assert!(!tag.contains("javascript:"), "javascript: in <{}>", tag);
            }
        }
    }
}
