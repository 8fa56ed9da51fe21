//! What the search index holds and how queries are read: pure rules, no
//! I/O. (Where the index stands in the outbox is [`cursor`].)
//!
//! A document is one record (a ticket with its whole thread) as text plus
//! the few values searches filter on.

pub mod cursor;

use std::collections::BTreeSet;

/// Longest query text accepted, in characters; longer gets a clear 400.
pub const MAX_QUERY_CHARS: usize = 200;

/// Longest text indexed per document, in bytes (a thread of a few
/// thousand replies is cut, its start kept).
pub const MAX_DOC_BYTES: usize = 256 * 1024;

/// One record as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// What kind of record ("ticket").
    pub kind: &'static str,
    pub id: i64,
    pub client_id: i64,
    /// The status kind (`new` … `closed`) for the status filter.
    pub status: String,
    /// When it was opened (µs), for the date filter.
    pub opened_at: i64,
    /// The title shown with a hit (e.g. `#10234 Printer offline`).
    pub title: String,
    /// Everything searchable, title included.
    pub text: String,
}

/// The text of a document, cut at [`MAX_DOC_BYTES`] on a character edge.
pub fn clip(mut text: String) -> String {
    if text.len() > MAX_DOC_BYTES {
        let mut end = MAX_DOC_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Why a search request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    Empty,
    TooLong,
}

/// The query text: trimmed, control characters turned into spaces,
/// refused when empty or longer than [`MAX_QUERY_CHARS`].
pub fn query_text(raw: &str) -> Result<String, QueryError> {
    let t: String = raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let t = t.trim();
    if t.is_empty() {
        return Err(QueryError::Empty);
    }
    if t.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    Ok(t.to_string())
}

/// A query of words and quoted phrases only, taken apart: the phrases
/// (their inside text) and the rest. `None` when it has no phrase or uses
/// anything else (an operator, a field, a group, a slop, an unbalanced
/// quote): the query parser then reads it as it is.
///
/// The index keeps each pair of adjacent words as one term, so a phrase is
/// looked up by its pairs instead of by reading word positions (a phrase of
/// two common words cost 100 ms that way; see `search::runtime::index`).
/// Taking phrases out is only safe where every part must match anyway:
/// words and phrases joined by the implied AND.
pub fn plain_phrases(text: &str) -> Option<(Vec<String>, String)> {
    match text.matches('"').count() {
        0 => return None,
        // An odd number of quotes leaves the last phrase open.
        n if n % 2 == 1 => return None,
        _ => {}
    }
    let mut phrases = vec![];
    let mut rest = String::new();
    for (i, part) in text.split('"').enumerate() {
        if i % 2 == 1 {
            phrases.push(part.to_string());
            rest.push(' ');
        } else {
            if i > 0 && part.starts_with(['~', '*']) {
                return None;
            }
            rest.push_str(part);
        }
    }
    let plain = |s: &str| {
        s.split_whitespace().all(|w| {
            !matches!(w, "AND" | "OR" | "NOT" | "IN")
                && !w.starts_with(['-', '+'])
                && !w.contains([':', '(', ')', '[', ']', '{', '}', '^', '~', '*', '\\'])
        })
    };
    (phrases.iter().all(|p| plain(p)) && plain(&rest)).then_some((phrases, rest))
}

/// Words so common that a phrase of two of them would read the positions
/// of a large share of the index: the index keeps the pairs of these words
/// (and only these: pairs of all words made the index 2.4 times larger and
/// its build 6 times slower). A phrase with a rarer word is checked by
/// positions, which is cheap because the rarer word's documents are few.
///
/// Chosen from the documents a rebuild starts with (a word in at least
/// `MIN_SHARE` of them, the `MAX_COMMON` most frequent), and kept with the
/// index so every document is paired by the same set; an index that never
/// saw a rebuild uses [`DEFAULT_COMMON`].
pub const MIN_SHARE: f64 = 0.10;
pub const MAX_COMMON: usize = 200;

/// English's most frequent words (as typed; the index analyzes them): the
/// common words of an index before its first rebuild.
pub const DEFAULT_COMMON: &[&str] = &[
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as", "is", "it", "be", "are", "was", "not",
    "no", "this", "that", "we", "i", "you", "he", "she", "they", "our", "your", "my", "me", "us", "can", "will", "have", "has", "had",
    "do", "does", "did", "but", "if", "so", "there", "when", "what", "which", "all", "get", "after", "again", "now", "please", "thanks",
    "work", "working", "use", "user",
];

/// The common words of a sample: each document given as its set of
/// analyzed words.
pub fn common_words<'a>(docs: impl IntoIterator<Item = &'a BTreeSet<String>>) -> BTreeSet<String> {
    let mut df: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut n = 0usize;
    for d in docs {
        n += 1;
        for w in d {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    let min = ((n as f64 * MIN_SHARE).ceil() as usize).max(2);
    let mut frequent: Vec<(usize, &str)> = df.into_iter().filter(|(_, c)| *c >= min).map(|(w, c)| (c, w)).collect();
    frequent.sort_by(|a, b| b.cmp(a));
    frequent.into_iter().take(MAX_COMMON).map(|(_, w)| w.to_string()).collect()
}

/// The pair term of two adjacent analyzed words (a space never occurs
/// inside a word).
pub fn pair_term(a: &str, b: &str) -> String {
    format!("{a} {b}")
}

/// The pair terms of a text's analyzed words, given as (position, word):
/// one per two common words at adjacent positions.
pub fn pairs<'a>(words: &'a [(usize, String)], common: &'a std::collections::HashSet<String>) -> impl Iterator<Item = String> + 'a {
    words
        .windows(2)
        .filter(|w| w[1].0 == w[0].0 + 1 && common.contains(&w[0].1) && common.contains(&w[1].1))
        .map(|w| pair_term(&w[0].1, &w[1].1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phrases_come_apart_only_from_plain_queries() {
        assert_eq!(plain_phrases("vpn outlook"), None, "no phrase");
        assert_eq!(plain_phrases(r#"the "printer offline" again"#), Some((vec!["printer offline".into()], "the   again".into())));
        assert_eq!(plain_phrases(r#""a b" "c d""#).map(|p| p.0), Some(vec!["a b".into(), "c d".into()]));
        for q in [r#""a b"~2"#, r#"x OR "a b""#, r#"-x "a b""#, r#""a b" subject:x"#, r#""unbalanced"#, r#""a (b)""#, r#""a b"*"#] {
            assert_eq!(plain_phrases(q), None, "{q}");
        }
    }

    #[test]
    fn pairs_are_adjacent_common_words_only() {
        let w = |v: &[(usize, &str)]| v.iter().map(|(p, s)| (*p, s.to_string())).collect::<Vec<_>>();
        let all: std::collections::HashSet<String> = ["a", "b", "c"].map(String::from).into();
        assert_eq!(pairs(&w(&[(0, "a"), (1, "b"), (2, "c")]), &all).collect::<Vec<_>>(), vec!["a b", "b c"]);
        // A gap (a word the analyzer dropped) breaks the pair.
        assert_eq!(pairs(&w(&[(0, "a"), (2, "b"), (3, "c")]), &all).collect::<Vec<_>>(), vec!["b c"]);
        // A rare word pairs with nothing.
        let ab: std::collections::HashSet<String> = ["a", "b"].map(String::from).into();
        assert_eq!(pairs(&w(&[(0, "a"), (1, "b"), (2, "c")]), &ab).collect::<Vec<_>>(), vec!["a b"]);
    }

    #[test]
    fn common_words_are_the_frequent_ones_of_the_sample() {
        let docs: Vec<BTreeSet<String>> = (0..100)
            .map(|i| {
                let mut d: BTreeSet<String> = ["the".to_string()].into();
                if i % 10 == 0 {
                    d.insert("printer".into());
                }
                d.insert(format!("unique{i}"));
                d
            })
            .collect();
        let c = common_words(&docs);
        assert_eq!(c, ["printer", "the"].map(String::from).into(), "in 100 % and 10 % of documents; each unique word in one");
        let rare: Vec<BTreeSet<String>> = (0..100).map(|i| if i < 9 { ["vpn".to_string()].into() } else { BTreeSet::new() }).collect();
        assert!(common_words(&rare).is_empty(), "9 % is not common");
        assert!(common_words(&[]).is_empty());
    }

    proptest! {
        /// Whatever is quoted comes back as the phrases, the rest keeps every
        /// word outside them, and nothing is read twice.
        #[test]
        fn a_plain_query_keeps_every_word(words in proptest::collection::vec("[a-z]{1,6}", 1..8), quoted in proptest::collection::vec(any::<bool>(), 8)) {
            prop_assume!(quoted.iter().take(words.len()).any(|q| *q));
            let mut text = String::new();
            let (mut want_phrases, mut want_rest) = (vec![], vec![]);
            for (i, w) in words.iter().enumerate() {
                if quoted.get(i).copied().unwrap_or(false) {
                    text.push_str(&format!(" \"{w} {w}\" "));
                    want_phrases.push(format!("{w} {w}"));
                } else {
                    text.push_str(&format!(" {w} "));
                    want_rest.push(w.clone());
                }
            }
            let (phrases, rest) = plain_phrases(&text).expect("plain");
            prop_assert_eq!(phrases, want_phrases);
            prop_assert_eq!(rest.split_whitespace().map(String::from).collect::<Vec<_>>(), want_rest);
        }

        /// Never panics, and anything with an operator or a lone quote is left
        /// to the parser.
        #[test]
        fn any_text_is_split_or_left_alone(text in ".{0,60}") {
            if let Some((phrases, rest)) = plain_phrases(&text) {
                prop_assert!(text.matches('"').count() % 2 == 0);
                prop_assert!(!rest.contains('"') && phrases.iter().all(|p| !p.contains('"')));
                prop_assert!(!rest.split_whitespace().any(|w| w == "OR" || w.starts_with('-')));
            }
        }
    }

    #[test]
    fn queries_are_trimmed_and_capped() {
        assert_eq!(query_text("  vpn\tdrops \n"), Ok("vpn drops".into()));
        assert_eq!(query_text(" \u{0} "), Err(QueryError::Empty));
        assert_eq!(query_text(&"x".repeat(MAX_QUERY_CHARS)).map(|s| s.len()), Ok(MAX_QUERY_CHARS));
        assert_eq!(query_text(&"x".repeat(MAX_QUERY_CHARS + 1)), Err(QueryError::TooLong));
    }

    proptest! {
        #[test]
        fn clipping_keeps_the_start_and_valid_utf8(s in "\\PC{0,64}", n in 0usize..5000) {
            let long = s.repeat(n);
            let cut = clip(long.clone());
            prop_assert!(cut.len() <= MAX_DOC_BYTES);
            prop_assert!(long.starts_with(&cut));
        }

        #[test]
        fn any_query_text_is_accepted_or_refused_never_panics(s in "\\PC{0,300}") {
            if let Ok(t) = query_text(&s) {
                prop_assert!(!t.is_empty() && t.chars().count() <= MAX_QUERY_CHARS);
                prop_assert!(!t.chars().any(char::is_control));
            }
        }
    }
}
