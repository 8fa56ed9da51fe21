//! Many small rows read as one: integer columns packed into a text
//! aggregate per group (`group_concat` on SQLite, `string_agg` on
//! PostgreSQL), in a given order, and unpacked here.
//!
//! Why: sqlx hands the embedded database's rows from its worker thread to
//! the caller one at a time, a thread wake-up each. An invoice run that
//! read its 500,000 time entries and 100,000 devices as rows spent most of
//! its time in those hand-overs (a profile showed the process 70 % idle,
//! waiting on them); read as one row per client they cost almost nothing.
//! Only for reads of whole groups that are then used in full.

use super::Backend;
use sea_query::{Alias, Expr, SimpleExpr};

/// Between a row's values.
const FIELD: char = ':';
/// Between rows.
const ROW: char = ',';

/// The aggregate of the integer SQL expressions `fields` (each already
/// non-null, e.g. wrapped in `COALESCE`), one packed row per input row, in
/// `order` (an SQL `ORDER BY` list), selected `AS alias`.
pub fn aggregate(backend: Backend, fields: &[&str], order: &str) -> SimpleExpr {
    let sql = match backend {
        Backend::Sqlite => {
            let row = fields.join(&format!(" || '{FIELD}' || "));
            format!("group_concat({row}, '{ROW}' ORDER BY {order})")
        }
        Backend::Postgres => {
            let row = fields.iter().map(|f| format!("({f})::text")).collect::<Vec<_>>().join(&format!(" || '{FIELD}' || "));
            format!("string_agg({row}, '{ROW}' ORDER BY {order})")
        }
    };
    Expr::cust(sql)
}

/// The alias the packed column is selected as, for `sqlx::FromRow`.
pub fn alias() -> Alias {
    Alias::new("packed")
}

/// The rows of a packed aggregate, each with exactly `N` integers; a row
/// that does not parse is skipped (it cannot happen with integer fields).
pub fn unpack<const N: usize>(packed: &str) -> impl Iterator<Item = [i64; N]> + '_ {
    packed.split(ROW).filter(|r| !r.is_empty()).filter_map(|r| {
        let mut out = [0i64; N];
        let mut parts = r.split(FIELD);
        for slot in out.iter_mut() {
            *slot = parts.next()?.trim().parse().ok()?;
        }
        parts.next().is_none().then_some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn what_is_packed_unpacks_unchanged(rows in proptest::collection::vec(any::<[i64; 3]>(), 0..200)) {
            let packed = rows
                .iter()
                .map(|r| r.iter().map(i64::to_string).collect::<Vec<_>>().join(&FIELD.to_string()))
                .collect::<Vec<_>>()
                .join(&ROW.to_string());
            let back: Vec<[i64; 3]> = unpack::<3>(&packed).collect();
            prop_assert_eq!(back, rows);
        }
    }

    #[test]
    fn rows_of_the_wrong_width_are_skipped() {
        assert_eq!(unpack::<2>("1:2,3,4:5:6,7:8").collect::<Vec<_>>(), vec![[1, 2], [7, 8]]);
    }
}
