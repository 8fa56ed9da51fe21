//! Mail HTML people can trust: an allow-list (`ammonia`) keeps text
//! formatting, tables, links and images, and removes everything else:
//! scripts, event handlers, `javascript:` and `data:` URLs, forms, frames,
//! `<style>` and `style=` (which could overlay our page), and remote
//! images, which would tell the sender when and where the mail was read
//! (tracking pixels); how many were held back is counted for the page.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Sanitized HTML and the number of remote images removed from it.
pub struct Clean {
    pub html: String,
    pub remote_images: usize,
}

/// `html` made safe to show inside our page.
pub fn clean(html: &str) -> Clean {
    sanitize(html, false)
}

/// `html` as safe, but with its remote images: what a person who asked to
/// see them is shown (on its own page, never inside ours).
pub fn with_remote_images(html: &str) -> String {
    sanitize(html, true).html
}

fn sanitize(html: &str, keep_remote: bool) -> Clean {
    let remote = Arc::new(AtomicUsize::new(0));
    let counter = remote.clone();
    let mut b = ammonia::Builder::default();
    b.url_schemes(["http", "https", "mailto", "cid"].into()).link_rel(Some("noopener noreferrer nofollow")).attribute_filter(
        move |element, attribute, value| {
            if element == "img" && attribute == "src" && !value.trim_start().to_ascii_lowercase().starts_with("cid:") {
                counter.fetch_add(1, Ordering::Relaxed);
                if !keep_remote {
                    return None;
                }
            }
            Some(value.into())
        },
    );
    let html = b.clean(html).to_string();
    Clean { html, remote_images: remote.load(Ordering::Relaxed) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_mail_html_comes_out_inert() {
        let hostile = r#"<p onclick="steal()">Hi<script>alert(1)</script></p>
            <a href="javascript:alert(2)">click</a><a href="https://ok.example/x">ok</a>
            <img src="https://tracker.example/pixel.gif"><img src="cid:logo@x">
            <iframe src="https://evil.example"></iframe><form action="/x"><input name=p></form>
            <div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>
            <style>body{display:none}</style><svg onload="alert(3)"></svg>"#;
        let c = clean(hostile);
        for bad in ["script", "onclick", "javascript:", "tracker.example", "iframe", "<form", "<input", "style", "onload", "alert"] {
            assert!(!c.html.contains(bad), "{bad} survived: {}", c.html);
        }
        assert!(c.html.contains("https://ok.example/x"), "{}", c.html);
        assert!(c.html.contains("cid:logo@x"), "{}", c.html);
        assert_eq!(c.remote_images, 1);
        let shown = with_remote_images(hostile);
        assert!(shown.contains("tracker.example/pixel.gif"), "{shown}");
        for bad in ["script", "onclick", "javascript:", "iframe", "<form", "style", "onload", "alert"] {
            assert!(!shown.contains(bad), "{bad} survived: {shown}");
        }
    }

    proptest! {
        #[test]
        fn no_input_brings_back_a_script(s in ".{0,300}") {
            let c = clean(&format!("<div>{s}</div><script>{s}</script>"));
            prop_assert!(!c.html.to_ascii_lowercase().contains("<script"));
        }
    }
}
