//! Money and quantities: `rust_decimal` everywhere, never floats. Amounts
//! come in and go out as decimal strings; each currency has a minor unit
//! and a stated rounding rule, and an invoice line is rounded once, by it.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// How a currency's amounts are rounded to its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Half away from zero ("half up"): what invoices and accounting
    /// programs (QuickBooks, Xero) use.
    HalfUp,
    /// Half to even ("banker's rounding").
    HalfEven,
}

/// An ISO 4217 currency Steward bills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    /// Digits after the decimal point.
    pub minor: u32,
    pub rounding: Rounding,
}

use Rounding::HalfUp as UP;

/// The currencies offered, with their minor units (ISO 4217).
const CURRENCIES: &[(&str, u32, Rounding)] = &[
    ("AED", 2, UP),
    ("AUD", 2, UP),
    ("BHD", 3, UP),
    ("BRL", 2, UP),
    ("CAD", 2, UP),
    ("CHF", 2, UP),
    ("CLP", 0, UP),
    ("CNY", 2, UP),
    ("CZK", 2, UP),
    ("DKK", 2, UP),
    ("EUR", 2, UP),
    ("GBP", 2, UP),
    ("HKD", 2, UP),
    ("HUF", 2, UP),
    ("IDR", 2, UP),
    ("ILS", 2, UP),
    ("INR", 2, UP),
    ("ISK", 0, UP),
    ("JOD", 3, UP),
    ("JPY", 0, UP),
    ("KRW", 0, UP),
    ("KWD", 3, UP),
    ("MXN", 2, UP),
    ("MYR", 2, UP),
    ("NOK", 2, UP),
    ("NZD", 2, UP),
    ("OMR", 3, UP),
    ("PHP", 2, UP),
    ("PLN", 2, UP),
    ("RON", 2, UP),
    ("SAR", 2, UP),
    ("SEK", 2, UP),
    ("SGD", 2, UP),
    ("THB", 2, UP),
    ("TND", 3, UP),
    ("TRY", 2, UP),
    ("TWD", 2, UP),
    ("USD", 2, UP),
    ("VND", 0, UP),
    ("ZAR", 2, UP),
];

/// The currency of an ISO 4217 code Steward knows.
pub fn currency(code: &str) -> Result<Currency, String> {
    let code = code.trim().to_ascii_uppercase();
    CURRENCIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(code, minor, rounding)| Currency { code, minor: *minor, rounding: *rounding })
        .ok_or_else(|| format!("{code:?} is not a currency Steward bills in (an ISO 4217 code such as USD, EUR, GBP)"))
}

impl Currency {
    /// `d` rounded to the minor unit by the currency's rule, with exactly
    /// that many digits (`12.5` → `12.50`).
    pub fn round(&self, d: Decimal) -> Decimal {
        let strategy = match self.rounding {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        };
        let mut r = d.round_dp_with_strategy(self.minor, strategy);
        r.rescale(self.minor);
        r
    }
}

/// The most digits after the point a price or quantity may have.
pub const MAX_SCALE: u32 = 4;

/// A decimal as a person or program wrote it: `"12.50"` (a JSON number
/// is taken for quantities, never for money, whose binary float would
/// not be exact).
pub fn parse(s: &str, what: &str) -> Result<Decimal, String> {
    let t = s.trim();
    let d = Decimal::from_str_exact(t).map_err(|_| format!("{t:?} is not a decimal number like \"12.50\""))?;
    if d.scale() > MAX_SCALE {
        return Err(format!("{what} has at most {MAX_SCALE} digits after the point"));
    }
    if d.is_sign_negative() && !d.is_zero() {
        return Err(format!("{what} cannot be negative"));
    }
    if d > Decimal::from(1_000_000_000_000i64) {
        return Err(format!("{what} is too large"));
    }
    Ok(d.normalize())
}

/// A stored decimal (written by Steward, so well-formed; a damaged one reads as 0).
pub fn stored(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

/// A quantity as JSON gives it: a number or a decimal string.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum QuantityInput {
    Number(serde_json::Number),
    Text(String),
}

impl QuantityInput {
    pub fn parse(&self, what: &str) -> Result<Decimal, String> {
        match self {
            QuantityInput::Number(n) => parse(&n.to_string(), what),
            QuantityInput::Text(t) => parse(t, what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_follows_the_minor_unit_and_the_rule() {
        let usd = currency("usd").unwrap();
        assert_eq!(usd.round(Decimal::from_str("2.345").unwrap()).to_string(), "2.35");
        assert_eq!(usd.round(Decimal::from_str("12.5").unwrap()).to_string(), "12.50");
        assert_eq!(currency("JPY").unwrap().round(Decimal::from_str("100.5").unwrap()).to_string(), "101");
        assert_eq!(currency("BHD").unwrap().round(Decimal::from_str("1.23456").unwrap()).to_string(), "1.235");
        let even = Currency { rounding: Rounding::HalfEven, ..usd };
        assert_eq!(even.round(Decimal::from_str("2.345").unwrap()).to_string(), "2.34");
        assert!(currency("XXX").is_err());
    }

    #[test]
    fn parsing_refuses_what_is_not_exact_money() {
        assert_eq!(parse(" 12.50 ", "price").unwrap().to_string(), "12.5");
        assert!(parse("1e3", "price").is_err());
        assert!(parse("12.34567", "price").unwrap_err().contains("4 digits"));
        assert!(parse("-1", "price").unwrap_err().contains("negative"));
        assert!(parse("NaN", "price").is_err());
        assert!(parse("99999999999999", "price").unwrap_err().contains("too large"));
    }
}
