//! The part of a reply that only quotes the thread: from the first line
//! that opens a quotation ("On … wrote:", Outlook's "-----Original
//! Message-----" or "From:" followed by "Sent:", or `>` lines running to
//! the end) to the end. It is folded on the ticket, not dropped: the split
//! is a position, so the visible part and the quoted part are the message.

/// Where the quotation starts, as a byte offset into `text` (at a line's
/// start); `None` when nothing is quoted, or when everything would be
/// (then it is all shown).
pub fn quote_start(text: &str) -> Option<usize> {
    let lines: Vec<(usize, &str)> = line_starts(text);
    let opens = |i: usize| -> bool {
        let l = lines[i].1.trim();
        let lower = l.to_ascii_lowercase();
        (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || lower.starts_with("-----original message-----")
            || (lower.starts_with("from:")
                && lines.iter().skip(i + 1).take(4).any(|(_, n)| n.trim().to_ascii_lowercase().starts_with("sent:")))
    };
    let mut start = None;
    for i in 0..lines.len() {
        if opens(i) {
            start = Some(i);
            break;
        }
        // `>` lines (and blank ones) running to the end.
        if lines[i].1.starts_with('>') && lines[i..].iter().all(|(_, l)| l.starts_with('>') || l.trim().is_empty()) {
            start = Some(i);
            break;
        }
    }
    let i = start?;
    let at = lines[i].0;
    text[..at].trim().is_empty().then_some(()).map_or(Some(at), |_| None)
}

/// The visible text and the quoted rest.
pub fn split(text: &str) -> (&str, &str) {
    match quote_start(text) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    }
}

fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = vec![];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        out.push((at, line.trim_end_matches(['\n', '\r'])));
        at += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_quoted_thread_is_split_off() {
        let t = "Thanks, that fixed it.\n\nOn Mon, 7 Dec 2026 at 10:00, Help Desk <help@msp.example> wrote:\n> Please restart.\n";
        let (visible, quoted) = split(t);
        assert_eq!(visible.trim(), "Thanks, that fixed it.");
        assert!(quoted.starts_with("On Mon"));
        let outlook = "Still broken.\r\n\r\nFrom: Help Desk\r\nSent: Monday\r\nTo: Ann\r\nSubject: Re: VPN\r\n\r\nTry again.\r\n";
        assert_eq!(split(outlook).0.trim(), "Still broken.");
        let tail = "Yes.\n> did it work?\n>\n> regards\n";
        assert_eq!(split(tail), ("Yes.\n", "> did it work?\n>\n> regards\n"));
        // Inline answers between quotes are not a trailing quotation.
        let inline = "> question one\nanswer one\n> question two\nanswer two\n";
        assert_eq!(split(inline), (inline, ""));
        // Only a quotation: all of it is shown.
        assert_eq!(split("> only quoted\n"), ("> only quoted\n", ""));
    }

    proptest! {
        #[test]
        fn nothing_is_lost(text in "(([a-zA-Z >:-]{0,30})\r?\n){0,12}") {
            let (visible, quoted) = split(&text);
            prop_assert_eq!(format!("{visible}{quoted}"), text.clone());
            if !quoted.is_empty() {
                prop_assert!(!visible.trim().is_empty());
            }
        }
    }
}
