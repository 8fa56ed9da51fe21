//! An invoice's totals, pure. Lines are rounded once each (by the
//! currency's rule) before they get here; taxes are computed per rate on
//! the sum of that rate's lines and rounded once per rate. With prices
//! exclusive of tax the total is the lines plus the taxes; with prices
//! inclusive the lines are the total and each rate's tax is the part of
//! its lines that is tax.

use super::money::Currency;
use rust_decimal::Decimal;

/// One line as the totals see it.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// Rounded to the currency's minor unit.
    pub amount: Decimal,
    /// Percent, e.g. `8.25`.
    pub tax_rate: Decimal,
}

/// The tax at one rate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TaxPart {
    #[schema(value_type = String, example = "8.25")]
    pub rate: Decimal,
    /// What the rate applies to (without the tax).
    #[schema(value_type = String)]
    pub base: Decimal,
    #[schema(value_type = String)]
    pub tax: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Without tax.
    pub subtotal: Decimal,
    pub taxes: Vec<TaxPart>,
    pub tax: Decimal,
    pub total: Decimal,
}

pub fn totals(lines: &[Line], inclusive: bool, cur: &Currency) -> Totals {
    let mut rates: Vec<Decimal> = lines.iter().map(|l| l.tax_rate.normalize()).collect();
    rates.sort();
    rates.dedup();
    let hundred = Decimal::ONE_HUNDRED;
    let mut taxes = vec![];
    for rate in rates {
        let sum: Decimal = lines.iter().filter(|l| l.tax_rate.normalize() == rate).map(|l| l.amount).sum();
        let (base, tax) = if inclusive {
            let tax = cur.round(sum * rate / (hundred + rate));
            (sum - tax, tax)
        } else {
            (sum, cur.round(sum * rate / hundred))
        };
        taxes.push(TaxPart { rate, base: cur.round(base), tax });
    }
    let lines_sum: Decimal = cur.round(lines.iter().map(|l| l.amount).sum());
    let tax = cur.round(taxes.iter().map(|t| t.tax).sum());
    let (subtotal, total) = if inclusive { (lines_sum - tax, lines_sum) } else { (lines_sum, lines_sum + tax) };
    Totals { subtotal: cur.round(subtotal), taxes, tax, total: cur.round(total) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::model::money::currency;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn exclusive_and_inclusive_taxes() {
        let usd = currency("USD").unwrap();
        let lines = [Line { amount: dec("100.00"), tax_rate: dec("8.25") }, Line { amount: dec("33.33"), tax_rate: dec("0") }];
        let t = totals(&lines, false, &usd);
        assert_eq!((t.subtotal.to_string(), t.tax.to_string(), t.total.to_string()), ("133.33".into(), "8.25".into(), "141.58".into()));
        let gross = [Line { amount: dec("120.00"), tax_rate: dec("20") }];
        let t = totals(&gross, true, &currency("GBP").unwrap());
        assert_eq!((t.subtotal.to_string(), t.tax.to_string(), t.total.to_string()), ("100.00".into(), "20.00".into(), "120.00".into()));
    }

    proptest! {
        /// The total is always the sum of the rounded lines plus the
        /// rounded taxes per rate (exclusive), or the sum of the lines
        /// with the taxes inside it (inclusive).
        #[test]
        fn the_total_is_the_lines_plus_the_taxes(
            amounts in prop::collection::vec((0i64..10_000_000, prop::sample::select(vec!["0", "5", "8.25", "20", "21", "7.7"])), 0..40),
            inclusive: bool,
            code in prop::sample::select(vec!["USD", "JPY", "KWD"]),
        ) {
            let cur = currency(code).unwrap();
            let lines: Vec<Line> = amounts.iter().map(|(c, r)| Line { amount: cur.round(Decimal::new(*c, 2)), tax_rate: dec(r) }).collect();
            let t = totals(&lines, inclusive, &cur);
            let sum: Decimal = lines.iter().map(|l| l.amount).sum();
            let taxes: Decimal = t.taxes.iter().map(|p| p.tax).sum();
            prop_assert_eq!(t.tax, taxes);
            if inclusive {
                prop_assert_eq!(t.total, sum);
            } else {
                prop_assert_eq!(t.total, sum + taxes);
            }
            prop_assert_eq!(t.subtotal + t.tax, t.total);
            prop_assert!(t.tax >= Decimal::ZERO && t.tax <= t.total);
            prop_assert_eq!(t.total.scale(), cur.minor);
        }
    }
}
