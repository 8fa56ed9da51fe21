//! Tags on tickets and articles: one rule for what a tag is, so a filter
//! by tag means the same everywhere.

/// At most this many tags on a record.
pub const MAX_TAGS: usize = 20;
/// A tag is at most this long.
pub const MAX_TAG_LEN: usize = 40;

/// Tags as stored: trimmed, lower-case, letters, digits, `-`, `_`, `.`,
/// sorted and without repeats.
pub fn tags(input: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(input.len());
    for t in input {
        let t = t.trim().to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > MAX_TAG_LEN {
            return Err(format!("{t:?} is longer than {MAX_TAG_LEN} characters"));
        }
        if !t.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(format!("{t:?}: a tag has letters, digits, '-', '_' and '.' only"));
        }
        out.push(t);
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tags_are_canonical(input in prop::collection::vec("[ A-Za-z0-9_.-]{0,12}", 0..10)) {
            if let Ok(t) = tags(&input) {
                prop_assert!(t.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(t.iter().all(|x| !x.is_empty() && x == &x.to_lowercase() && !x.contains(' ')));
                prop_assert_eq!(tags(&t), Ok(t.clone()));
            }
        }
    }

    #[test]
    fn odd_tags_are_refused_and_repeats_merged() {
        assert!(tags(&["a b".into()]).is_err() && tags(&["<script>".into()]).is_err());
        assert_eq!(tags(&[" VPN ".into(), "vpn".into(), "".into()]), Ok(vec!["vpn".to_string()]));
    }
}
