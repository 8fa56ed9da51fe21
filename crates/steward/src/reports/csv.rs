//! Reports as CSV downloads that are safe to open in a spreadsheet: every
//! text cell quoted, and a cell that a spreadsheet would read as a formula
//! (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return: a client
//! named `=HYPERLINK(…)`) kept as text by a leading `'`. UTF-8 with a byte
//! order mark, which Excel needs to read anything but ASCII right.

use crate::error::ApiError;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

/// A cell as written: a would-be formula gets a leading `'`.
pub fn cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The document: a header row, then the rows, each cell through [`cell`].
pub fn document<R: AsRef<[String]>>(header: &[&str], rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::NonNumeric).from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(header.iter().map(|h| cell(h).into_owned())).map_err(ApiError::internal)?;
    for r in rows {
        w.write_record(r.as_ref().iter().map(|c| cell(c).into_owned())).map_err(ApiError::internal)?;
    }
    w.into_inner().map_err(ApiError::internal)
}

/// A download of `bytes` as `file_name` (made of letters, digits, `-`,
/// `_` and `.` by the caller).
pub fn download(file_name: &str, bytes: Vec<u8>) -> Result<Response, ApiError> {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")).map_err(ApiError::internal)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(bytes: &[u8]) -> Vec<Vec<String>> {
        let text = std::str::from_utf8(bytes).unwrap().strip_prefix('\u{feff}').unwrap();
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn formulas_stay_text_and_text_is_quoted() {
        let rows = vec![
            vec!["=HYPERLINK(\"http://x\",\"y\")".to_string(), "12".into(), "66.7".into()],
            vec!["Contoso, Ltd".into(), "".into(), "@SUM(A1)".into()],
        ];
        let doc = document(&["group", "tickets", "attainment"], &rows).unwrap();
        let text = std::str::from_utf8(&doc).unwrap();
        assert!(text.starts_with("\u{feff}\"group\",\"tickets\",\"attainment\"\n"), "{text}");
        assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",12,66.7\n"), "{text}");
        assert!(text.contains("\"Contoso, Ltd\",\"\",\"'@SUM(A1)\"\n"), "{text}");
        for bad in ["+1+1", "-2+3", "\tcmd", "\rcmd"] {
            assert_eq!(cell(bad), format!("'{bad}"));
        }
        assert_eq!(cell("Plain"), "Plain");
    }

    proptest! {
        #[test]
        fn every_cell_reads_back_and_none_starts_a_formula(rows in proptest::collection::vec(proptest::collection::vec(any::<String>(), 3), 0..20)) {
            let doc = document(&["a", "b", "c"], &rows).unwrap();
            let back = read(&doc);
            prop_assert_eq!(back.len(), rows.len() + 1);
            for (got, sent) in back[1..].iter().zip(&rows) {
                for (g, s) in got.iter().zip(sent) {
                    prop_assert!(!g.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", g);
                    prop_assert_eq!(g.strip_prefix('\'').filter(|_| s.starts_with(['=', '+', '-', '@', '\t', '\r'])).unwrap_or(g), s.as_str());
                }
            }
        }
    }
}
