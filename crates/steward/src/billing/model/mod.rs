//! Billing's pure rules, no I/O, property-tested: money and rounding,
//! billing cycles and proration by the day, an invoice's totals.

pub mod money;
pub mod period;
pub mod totals;
