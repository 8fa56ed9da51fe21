//! An SLA report as the API and the page ask for it (`?from=2026-01-01
//! &to=2026-07-01&group=client&client_id=3&timezone=Europe/Berlin`),
//! checked and turned into the period it counts, within the caller's
//! clients.

use super::model::Group;
use super::store::Period;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{ToSpan, Zoned};
use serde::Deserialize;

/// The longest period one report counts.
pub const MAX_DAYS: i32 = 3 * 366;

/// What one report asks.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlaReportParams {
    /// The first day counted (`2026-01-01`), in `timezone`; default: the
    /// first day of the month five months ago (six months with this one).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// The day after the last one counted; default: tomorrow. At most
    /// three years after `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// How rows are grouped (default `month`).
    pub group: Option<Group>,
    /// Only this client's tickets.
    pub client_id: Option<i64>,
    /// The zone days and months are read in (default `UTC`).
    #[param(value_type = Option<crate::validate::TimeZone>)]
    pub timezone: Option<String>,
}

/// A checked report request.
#[derive(Debug, Clone)]
pub struct Ask {
    pub period: Period,
    pub group: Group,
    pub tz: TimeZone,
    pub timezone: String,
    /// The days as asked, `to` exclusive.
    pub from_day: Date,
    pub to_day: Date,
}

/// A value given, as given (an empty one is malformed; the page leaves its
/// blank fields out: `http::extract::PageQuery`).
fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref()
}

fn day(field: &str, s: &str) -> Result<Date, ApiError> {
    s.parse::<Date>().ok().filter(|_| s.len() == 10).ok_or_else(|| ApiError::invalid(field, "a day such as 2026-01-31"))
}

fn start_of(field: &str, d: Date, tz: &TimeZone) -> Result<i64, ApiError> {
    d.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_microsecond())
        .map_err(|_| ApiError::refused(field, "this day cannot be placed in the time zone"))
}

impl SlaReportParams {
    /// The request, within `p`'s clients (another client's id is 404),
    /// as of `now` (for the defaults).
    pub fn ask(&self, p: &Principal, now: &Zoned) -> Result<Ask, ApiError> {
        let timezone = match blank(&self.timezone) {
            None => "UTC".to_string(),
            Some(z) => crate::validate::TimeZone::parse(z).map_err(|m| ApiError::invalid("timezone", m))?.into_string(),
        };
        let tz = TimeZone::get(&timezone)
            .map_err(|_| ApiError::refused("timezone", format!("{timezone:?} is not a time zone this server knows")))?;
        let today = now.with_time_zone(tz.clone()).date();
        let from_day = match blank(&self.from) {
            Some(s) => day("from", s)?,
            None => today.first_of_month().checked_sub(5.months()).map_err(ApiError::internal)?,
        };
        let to_day = match blank(&self.to) {
            Some(s) => day("to", s)?,
            None => today.tomorrow().map_err(ApiError::internal)?,
        };
        if to_day <= from_day {
            return Err(ApiError::refused("to", "must be after from"));
        }
        if (to_day - from_day).get_days() > MAX_DAYS {
            return Err(ApiError::refused("to", "a report spans at most three years"));
        }
        let client_id = self.client_id.map(|c| p.client(c).map(|s| s.id())).transpose()?;
        let period =
            Period { scope: p.clients.clone(), client_id, from: start_of("from", from_day, &tz)?, to: start_of("to", to_day, &tz)? };
        Ok(Ask { period, group: self.group.unwrap_or_default(), tz, timezone, from_day, to_day })
    }
}

impl Ask {
    /// The query string that asks for this report again, grouped by `group`.
    pub fn query(&self, group: Group) -> String {
        let mut pairs = vec![
            ("from", self.from_day.to_string()),
            ("to", self.to_day.to_string()),
            ("group", group.as_str().to_string()),
            ("timezone", self.timezone.clone()),
        ];
        if let Some(c) = self.period.client_id {
            pairs.push(("client_id", c.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}
