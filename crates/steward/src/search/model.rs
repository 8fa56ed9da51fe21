//! What the search index holds and how its cursor moves: pure rules, no I/O.
//!
//! A document is one record (a ticket with its whole thread) as text plus
//! the few values searches filter on. The cursor says which outbox rows
//! the index has applied; [`advance`] keeps it honest on PostgreSQL, where
//! a row with a smaller id can commit after one with a larger id.

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

/// A change the outbox recorded: which record, and when (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub created_at: i64,
}

/// The index's place in the outbox: every row with an id up to `through`
/// is applied, and so is every id in `seen` (all above `through`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub through: i64,
    pub seen: BTreeSet<i64>,
}

/// How long a transaction may stay open and still have its outbox row
/// found: a row is only passed over once rows older than this follow it.
pub const SETTLE_US: i64 = 60_000_000;

/// After the rows `applied` (every row after `c.through` that is visible
/// now, oldest id first, each applied now or before): which ids count as done for good.
///
/// `through` moves up to the last applied row older than `now - SETTLE_US`
/// and no further: a row with a smaller id than a fresh one may still be
/// in an open transaction (ids are taken at insert, visible at commit), so
/// only once a settle time has passed are the ids below it taken as
/// complete. Rows applied above `through` stay in `seen` so they are not
/// applied twice.
pub fn advance(c: &Cursor, applied: &[Pending], now: i64) -> Cursor {
    let mut seen = c.seen.clone();
    seen.extend(applied.iter().map(|p| p.id));
    let settled = applied.iter().filter(|p| p.created_at < now - SETTLE_US).map(|p| p.id).max();
    let through = settled.map_or(c.through, |s| s.max(c.through));
    seen.retain(|id| *id > through);
    Cursor { through, seen }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(id: i64, created_at: i64) -> Pending {
        Pending { id, created_at }
    }

    #[test]
    fn a_late_commit_below_the_cursor_is_not_skipped() {
        let now = 1_000 * SETTLE_US;
        // Row 2 is still in an open transaction; 1 and 3 are visible and new.
        let c = advance(&Cursor::default(), &[p(1, now - 10), p(3, now - 5)], now);
        assert_eq!(c.through, 0, "nothing is settled yet");
        assert_eq!(c.seen, BTreeSet::from([1, 3]));
        // A minute later row 2 has committed and is applied: all settle.
        let later = now + 2 * SETTLE_US;
        let c = advance(&c, &[p(1, now - 10), p(2, now - 8), p(3, now - 5)], later);
        assert_eq!(c.through, 3);
        assert!(c.seen.is_empty());
    }

    #[test]
    fn queries_are_trimmed_and_capped() {
        assert_eq!(query_text("  vpn\tdrops \n"), Ok("vpn drops".into()));
        assert_eq!(query_text(" \u{0} "), Err(QueryError::Empty));
        assert_eq!(query_text(&"x".repeat(MAX_QUERY_CHARS)).map(|s| s.len()), Ok(MAX_QUERY_CHARS));
        assert_eq!(query_text(&"x".repeat(MAX_QUERY_CHARS + 1)), Err(QueryError::TooLong));
    }

    proptest! {
        /// The cursor never moves back, never passes an unapplied id, and
        /// every applied id is either below it or remembered.
        #[test]
        fn the_cursor_is_monotone_and_never_skips(
            through in 0i64..50,
            ids in proptest::collection::btree_set(0i64..200, 0..40),
            ages in proptest::collection::vec(0i64..(3 * SETTLE_US), 40),
            now in (3 * SETTLE_US)..(4 * SETTLE_US),
        ) {
            let start = Cursor { through, seen: BTreeSet::new() };
            let applied: Vec<Pending> = ids.iter().filter(|i| **i > through).zip(&ages).map(|(i, a)| p(*i, now - a)).collect();
            let c = advance(&start, &applied, now);
            prop_assert!(c.through >= start.through);
            for a in &applied {
                prop_assert!(a.id <= c.through || c.seen.contains(&a.id));
            }
            prop_assert!(c.seen.iter().all(|s| *s > c.through));
            // Only ids that were applied (or already done) lie at or below it.
            prop_assert!(c.through == start.through || applied.iter().any(|a| a.id == c.through));
        }

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
