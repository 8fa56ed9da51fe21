//! A connected agent's message budget, as a pure rule: a bucket of
//! [`BURST`] messages refilled at [`PER_SECOND`]. A message over budget is
//! dropped and counted; [`DISCONNECT_AFTER`] drops in a row (no message let
//! through in between) close the connection. A real agent sends a
//! heartbeat every few seconds and a metrics batch a minute, far below it;
//! the attack pass sent 60,000 heartbeats in 1.5 s.

/// Messages an agent may send at once.
pub const BURST: f32 = 60.0;
/// Messages a second, sustained.
pub const PER_SECOND: f32 = 5.0;
/// Drops in a row after which the connection is closed.
pub const DISCONNECT_AFTER: u32 = 600;

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Take,
    Drop,
    Disconnect,
}

/// One connection's budget (16 bytes: it is kept per connection).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    tokens: f32,
    /// When it was last refilled, in milliseconds since the connection began.
    at_ms: u64,
    dropped: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { tokens: BURST, at_ms: 0, dropped: 0 }
    }
}

impl Budget {
    /// Charges one message arriving at `now_ms` (since the connection began).
    pub fn take(&mut self, now_ms: u64) -> Verdict {
        let elapsed = now_ms.saturating_sub(self.at_ms) as f32 / 1000.0;
        self.tokens = (self.tokens + elapsed * PER_SECOND).min(BURST);
        self.at_ms = now_ms.max(self.at_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.dropped = 0;
            return Verdict::Take;
        }
        self.dropped += 1;
        if self.dropped >= DISCONNECT_AFTER {
            Verdict::Disconnect
        } else {
            Verdict::Drop
        }
    }

    /// Messages dropped in a row so far.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_real_agent_is_never_held_back_and_a_flood_is_cut_off() {
        let mut b = Budget::default();
        // A heartbeat every 5 s and a metrics batch a minute, for a day.
        for s in 0..86_400u64 {
            if s % 5 == 0 || s % 60 == 0 {
                assert_eq!(b.take(s * 1000), Verdict::Take);
            }
        }
        // 60,000 heartbeats in 1.5 s: the burst goes through, then drops, then the door.
        let mut b = Budget::default();
        let verdicts: Vec<Verdict> = (0..60_000u64).map(|i| b.take(i / 40)).collect();
        assert!(verdicts.iter().filter(|v| **v == Verdict::Take).count() < 80);
        assert!(verdicts.contains(&Verdict::Disconnect), "cut off long before the flood ends");
    }

    proptest! {
        /// Over any stretch of time, no more get through than the burst
        /// and what the rate refills.
        #[test]
        fn never_more_than_burst_plus_refill(gaps in prop::collection::vec(0u64..400, 1..3000)) {
            let mut b = Budget::default();
            let (mut t, mut taken) = (0u64, 0u32);
            for g in &gaps {
                t += g;
                if b.take(t) == Verdict::Take {
                    taken += 1;
                }
            }
            prop_assert!(taken as f32 <= BURST + t as f32 / 1000.0 * PER_SECOND + 1.0);
        }
    }
}
