//! Long messages travel as WebSocket fragments of at most [`FRAGMENT`]
//! bytes.
//!
//! A WebSocket reader's buffer grows to the largest frame it has received
//! and keeps that size for the life of the connection. The server holds one
//! connection per agent, so one inventory sent as a single 40 KiB frame
//! would cost 40 KiB per agent for as long as it stays online. Sent as
//! fragments, it costs the server a buffer of [`FRAGMENT`] bytes and a
//! reassembly buffer that is freed when the message is complete. Any
//! WebSocket peer reassembles fragments, so this needs no protocol change.

/// The largest WebSocket frame payload either side sends.
pub const FRAGMENT: usize = 512;

/// Splits `text` into pieces of at most `max` bytes (at least 4, the
/// longest UTF-8 character), cut only at character boundaries, so each
/// piece is valid UTF-8 on its own. Empty text gives one empty piece.
pub fn fragments(text: &str, max: usize) -> Vec<&str> {
    let max = max.max(4);
    let mut out = Vec::with_capacity(text.len() / max + 1);
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(fragments("{\"type\":\"heartbeat\"}", FRAGMENT), vec!["{\"type\":\"heartbeat\"}"]);
        assert_eq!(fragments("", FRAGMENT), vec![""]);
    }

    #[test]
    fn a_character_is_never_cut() {
        // "é" is two bytes: a cut at 3 would split the second one.
        assert_eq!(fragments("aééb", 4), vec!["aé", "éb"]);
    }

    proptest! {
        #[test]
        fn pieces_rebuild_the_text_and_respect_the_limit(text in "\\PC{0,300}", max in 0usize..64) {
            let pieces = fragments(&text, max);
            prop_assert_eq!(pieces.concat(), text.clone());
            prop_assert!(pieces.iter().all(|p| p.len() <= max.max(4)));
            // Only the last piece may be empty (and only when the text is).
            prop_assert!(pieces[..pieces.len() - 1].iter().all(|p| !p.is_empty()));
        }
    }
}
