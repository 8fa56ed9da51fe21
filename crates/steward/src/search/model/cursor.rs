//! Where the index stands in the search outbox: pure rules, no I/O.
//!
//! Outbox ids are taken at insert and become visible at commit, so on
//! PostgreSQL a row with a smaller id can appear after one with a larger
//! id (on SQLite, one writer at a time, they appear in order). The cursor
//! therefore keeps, beside the highest id it has applied, the *gaps* below
//! it: ids it has not seen, with when it first missed them. Each pass
//! reads only the rows above `high` and the rows inside the gaps, so a
//! busy outbox costs a pass what is new, not the last minute over again
//! (that re-reading took most of the indexer's time under a mail burst:
//! bench/RESULTS.md). A gap missed for longer than [`SETTLE_US`] is taken
//! as a transaction that rolled back, and the cursor moves past it.

use std::collections::BTreeMap;

/// How long a transaction may stay open and still have its outbox row
/// found: an id is given up once it has been missing this long.
pub const SETTLE_US: i64 = 60_000_000;

/// Gap ranges read per query (each an `id BETWEEN a AND b`).
pub const GAPS_PER_QUERY: usize = 50;

/// Ids not seen yet: `start..=end`, first missed at `since` (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub end: i64,
    pub since: i64,
}

/// The index's place in the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Every row up to here is applied (or given up as never committed);
    /// the one number kept in the index's commit, so a restart reads on
    /// from here.
    pub through: i64,
    /// The highest id read so far; rows above it are new.
    pub high: i64,
    /// Unseen ids between `through` and `high`, keyed by their start.
    pub gaps: BTreeMap<i64, Gap>,
}

impl Cursor {
    /// A cursor with nothing missing: every id up to `through` applied.
    pub fn at(through: i64) -> Cursor {
        Cursor { through, high: through, gaps: BTreeMap::new() }
    }

    /// Whether a pass must read the row `id`.
    pub fn wants(&self, id: i64) -> bool {
        id > self.high || self.gaps.range(..=id).next_back().is_some_and(|(_, g)| id <= g.end)
    }

    /// The gaps as `(start, end)` ranges, oldest ids first.
    pub fn gap_ranges(&self) -> Vec<(i64, i64)> {
        self.gaps.iter().map(|(s, g)| (*s, g.end)).collect()
    }
}

/// After a pass read the rows `read` (ids it wanted, in any order; those
/// above `high` must be a prefix of what is visible above it, as a query
/// ordered by id with a limit gives): the cursor that follows, at `now`.
pub fn advance(c: &Cursor, read: &[i64], now: i64) -> Cursor {
    let mut next = c.clone();
    let mut ids: Vec<i64> = read.iter().copied().filter(|id| c.wants(*id)).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        if id > next.high {
            if id > next.high + 1 {
                next.gaps.insert(next.high + 1, Gap { end: id - 1, since: now });
            }
            next.high = id;
        } else {
            fill(&mut next.gaps, id);
        }
    }
    next.gaps.retain(|_, g| g.since >= now - SETTLE_US);
    next.through = next.gaps.keys().next().map_or(next.high, |start| start - 1).max(c.through);
    next
}

/// Takes `id` out of the gap holding it, splitting it when in the middle.
fn fill(gaps: &mut BTreeMap<i64, Gap>, id: i64) {
    let Some((&start, &gap)) = gaps.range(..=id).next_back() else { return };
    if id > gap.end {
        return;
    }
    gaps.remove(&start);
    if start < id {
        gaps.insert(start, Gap { end: id - 1, since: gap.since });
    }
    if id < gap.end {
        gaps.insert(id + 1, Gap { end: gap.end, since: gap.since });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_late_commit_below_the_cursor_is_not_skipped() {
        let now = 1_000 * SETTLE_US;
        // Row 2 is still in an open transaction; 1 and 3 are visible.
        let c = advance(&Cursor::default(), &[1, 3], now);
        assert_eq!((c.through, c.high), (1, 3), "the cursor waits below row 2");
        assert!(c.wants(2) && !c.wants(3) && c.wants(4));
        // Row 2 commits and is read: nothing is missing any more.
        let c = advance(&c, &[2], now + 5);
        assert_eq!(c, Cursor::at(3));
    }

    #[test]
    fn a_gap_that_never_fills_is_passed_after_the_settle_time() {
        let now = 1_000 * SETTLE_US;
        let c = advance(&Cursor::at(10), &[11, 15], now);
        assert_eq!(c.through, 11);
        assert_eq!(c.gap_ranges(), vec![(12, 14)]);
        let c = advance(&c, &[13], now + 1);
        assert_eq!(c.gap_ranges(), vec![(12, 12), (14, 14)], "a row in the middle splits its gap");
        let c = advance(&c, &[], now + SETTLE_US + 2);
        assert_eq!(c, Cursor::at(15));
    }

    proptest! {
        /// The outbox as it happens: ids inserted in order, each committed
        /// after a delay shorter than the settle time or rolled back; a
        /// pass now and then reads what it wants of the visible rows (the
        /// new ones a page at a time). Every committed row is applied once,
        /// nothing else is, the cursor never moves back nor past a row it
        /// has not applied, and in the end it is through everything.
        #[test]
        fn every_committed_row_is_applied_exactly_once(
            rows in proptest::collection::vec((0i64..SETTLE_US / 2, any::<bool>()), 1..80),
            passes in proptest::collection::vec(0i64..SETTLE_US, 1..30),
            page in 1usize..10,
        ) {
            // Row i+1 is inserted at i·1000 µs and commits `delay` later.
            let commits: Vec<Option<i64>> = rows.iter().enumerate()
                .map(|(i, (delay, rolled_back))| (!rolled_back).then_some(i as i64 * 1_000 + delay)).collect();
            let mut times = passes.clone();
            times.sort_unstable();
            times.push(3 * SETTLE_US);
            times.push(5 * SETTLE_US);
            let (mut c, mut applied) = (Cursor::default(), Vec::new());
            for now in times {
                loop {
                    let visible = commits.iter().enumerate()
                        .filter(|(_, t)| t.is_some_and(|t| t <= now)).map(|(i, _)| i as i64 + 1);
                    let gaps: Vec<i64> = visible.clone().filter(|id| *id <= c.high && c.wants(*id)).collect();
                    let new: Vec<i64> = visible.filter(|id| *id > c.high).take(page).collect();
                    let full = new.len() == page;
                    let read: Vec<i64> = gaps.into_iter().chain(new).collect();
                    applied.extend(&read);
                    let next = advance(&c, &read, now);
                    prop_assert!(next.through >= c.through && next.high >= c.high);
                    for id in c.through + 1..=next.through {
                        let committed = commits[id as usize - 1];
                        prop_assert!(committed.is_none() || applied.contains(&id), "passed {} unapplied", id);
                    }
                    c = next;
                    if !full { break }
                }
            }
            let committed: BTreeSet<i64> = commits.iter().enumerate().filter(|(_, t)| t.is_some()).map(|(i, _)| i as i64 + 1).collect();
            let last = committed.last().copied().unwrap_or(0);
            let mut sorted = applied.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, committed.into_iter().collect::<Vec<_>>(), "each committed row once");
            // Rolled-back ids after the last commit are never seen at all.
            prop_assert_eq!(c, Cursor::at(last));
        }
    }
}
