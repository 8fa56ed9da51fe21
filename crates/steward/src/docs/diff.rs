//! Two versions of an article side by side: a line diff (`similar`'s
//! Myers), as lines kept, removed and added, in order. Pure, no I/O.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use std::time::Duration;

/// Past this, the diff stops looking for the smallest one and finishes
/// coarser (still exact): two large, wholly different texts would
/// otherwise keep a core busy for as long as they like.
const DEADLINE: Duration = Duration::from_millis(250);

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    /// `same`, `removed` (only in the older version) or `added`.
    #[schema(example = "added")]
    pub op: &'static str,
    pub text: String,
}

/// The lines of `old` and `new`, each once, in reading order.
pub fn lines(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::configure()
        .timeout(DEADLINE)
        .diff_lines(old, new)
        .iter_all_changes()
        .map(|c| DiffLine {
            op: match c.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Delete => "removed",
                ChangeTag::Insert => "added",
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn side(d: &[DiffLine], keep: &str) -> Vec<String> {
        d.iter().filter(|l| l.op == "same" || l.op == keep).map(|l| l.text.clone()).collect()
    }

    #[test]
    fn a_changed_line_is_removed_and_added() {
        let d = lines("a\nb\nc\n", "a\nB\nc\n");
        let ops: Vec<(&str, &str)> = d.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(ops, [("same", "a"), ("removed", "b"), ("added", "B"), ("same", "c")]);
    }

    proptest! {
        /// Each side of the diff is exactly that version.
        #[test]
        fn both_versions_come_back_from_the_diff(
            old in proptest::collection::vec("[a-c]{0,3}", 0..12),
            new in proptest::collection::vec("[a-c]{0,3}", 0..12),
        ) {
            let text = |v: &Vec<String>| v.iter().map(|l| format!("{l}\n")).collect::<String>();
            let d = lines(&text(&old), &text(&new));
            prop_assert_eq!(side(&d, "removed"), old);
            prop_assert_eq!(side(&d, "added"), new);
        }
    }
}
