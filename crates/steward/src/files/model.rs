//! What is kept of an uploaded file's name and type, and how it is named
//! when served: names lose every path part and control character (an
//! upload named `../../etc/passwd` is `passwd`), types outside a short
//! list of ones browsers never run become `application/octet-stream`, and
//! a download always says `attachment`, so nothing uploaded is ever
//! rendered as a page of ours.

/// The longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The name given to a file whose name leaves nothing.
pub const FALLBACK_NAME: &str = "attachment";

/// The only types served as themselves: none of them runs script in a
/// browser (no HTML, no SVG, no XML).
pub const SAFE_TYPES: [&str; 6] = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"];

/// The type everything else is served as.
pub const OPAQUE: &str = "application/octet-stream";

/// The name to keep for an uploaded file: only its last path part (either
/// separator, and a drive prefix), without control or bidirectional
/// characters, without leading dots or trailing dots and spaces (Windows
/// drops those, `x.exe.` opens as `x.exe`), at most [`MAX_NAME_CHARS`];
/// [`FALLBACK_NAME`] when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    // `C:x` names a file relative to drive C's working directory.
    let last = match last.char_indices().nth(1) {
        Some((i, ':')) if last[..i].chars().all(|c| c.is_ascii_alphabetic()) => &last[i + 1..],
        _ => last,
    };
    let cleaned: String = last.chars().filter(|c| !crate::validate::forbidden(*c, false) && *c != ':').collect();
    let edge = |c: char| c == '.' || c.is_whitespace();
    let capped: String = cleaned.trim_matches(edge).chars().take(MAX_NAME_CHARS).collect();
    let capped = capped.trim_end_matches(edge);
    if capped.is_empty() {
        FALLBACK_NAME.to_string()
    } else {
        capped.to_string()
    }
}

/// The type a file is served as: the declared one (parameters and case
/// aside) when it is one of [`SAFE_TYPES`], otherwise [`OPAQUE`].
pub fn served_type(declared: &str) -> &'static str {
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let essence = if essence == "image/jpg" { "image/jpeg".to_string() } else { essence };
    SAFE_TYPES.iter().find(|t| **t == essence).copied().unwrap_or(OPAQUE)
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback for
/// old clients and the real name percent-encoded (RFC 6266, RFC 8187).
pub fn content_disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn traversal_and_hostile_names_keep_only_a_plain_last_part() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(sanitize_file_name("C:\\x"), "x");
        assert_eq!(sanitize_file_name("C:x.txt"), "x.txt");
        assert_eq!(sanitize_file_name("/absolute/path/report.pdf"), "report.pdf");
        assert_eq!(sanitize_file_name("a\0b.txt"), "ab.txt");
        assert_eq!(sanitize_file_name("invoice\u{202e}fdp.exe"), "invoicefdp.exe");
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
        assert_eq!(sanitize_file_name("..."), FALLBACK_NAME);
        assert_eq!(sanitize_file_name(".."), FALLBACK_NAME);
        assert_eq!(sanitize_file_name("dir/"), FALLBACK_NAME);
        assert_eq!(sanitize_file_name(""), FALLBACK_NAME);
        assert_eq!(sanitize_file_name("x.exe. . "), "x.exe");
        assert_eq!(sanitize_file_name("line\nbreak.txt"), "linebreak.txt");
        assert_eq!(sanitize_file_name("Angebot Müller.pdf"), "Angebot Müller.pdf");
        assert_eq!(sanitize_file_name(&"a".repeat(500)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn only_harmless_types_are_served_as_themselves() {
        assert_eq!(served_type("image/PNG"), "image/png");
        assert_eq!(served_type("text/plain; charset=utf-8"), "text/plain");
        assert_eq!(served_type("image/jpg"), "image/jpeg");
        for t in
            ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/javascript", "", "text/html; x=text/plain"]
        {
            assert_eq!(served_type(t), OPAQUE, "{t}");
        }
    }

    #[test]
    fn the_disposition_is_always_an_attachment_with_the_name_encoded() {
        assert_eq!(content_disposition("a b.pdf"), "attachment; filename=\"a b.pdf\"; filename*=UTF-8''a%20b.pdf");
        assert_eq!(content_disposition("Müller\".txt"), "attachment; filename=\"M_ller_.txt\"; filename*=UTF-8''M%C3%BCller%22.txt");
    }

    proptest! {
        #[test]
        fn a_sanitized_name_is_one_plain_part(raw in "\\PC{0,300}|[./\\\\:a-z\u{0}\u{1f}\u{202e}]{0,40}") {
            let n = sanitize_file_name(&raw);
            prop_assert!(!n.is_empty());
            prop_assert!(!n.contains('/') && !n.contains('\\') && !n.contains(':'));
            prop_assert!(!n.starts_with('.'));
            prop_assert!(n != "..");
            prop_assert!(n.chars().count() <= MAX_NAME_CHARS);
            prop_assert!(!n.chars().any(|c| crate::validate::forbidden(c, false)));
            // Cleaning is stable: a kept name is kept as it is.
            prop_assert_eq!(sanitize_file_name(&n), n.clone());
        }

        #[test]
        fn a_disposition_header_is_always_valid(raw in "\\PC{0,100}") {
            let v = content_disposition(&sanitize_file_name(&raw));
            prop_assert!(v.starts_with("attachment; "));
            prop_assert!(axum::http::HeaderValue::from_str(&v).is_ok());
        }

        #[test]
        fn no_declared_type_outside_the_list_is_served(declared in "\\PC{0,60}") {
            let t = served_type(&declared);
            prop_assert!(t == OPAQUE || SAFE_TYPES.contains(&t));
        }
    }
}
