//! A search request as the API and the page write it (`?q=vpn&client_id=3
//! &status=active&from=2026-01-01&to=2026-02-01&limit=20`), checked and
//! turned into the [`Ask`] every source answers, within the caller's scope.

use super::model::{query_text, QueryError, MAX_QUERY_CHARS};
use crate::app::search::{Ask, SearchHit};
use crate::app::App;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::tickets::model::Kind;
use serde::Deserialize;

/// Hits per source when the request does not say.
pub const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 50;

/// What one search asks.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words, `"a phrase"`, a ticket number (`#10234`); at most 200 characters.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only this client's records.
    pub client_id: Option<i64>,
    /// Ticket status kinds, comma-separated (`new,open,waiting,scheduled,
    /// resolved,closed`) or `active` (not resolved or closed).
    #[param(pattern = r"^ *(active|(new|open|waiting|scheduled|resolved|closed)( *, *(new|open|waiting|scheduled|resolved|closed))*)? *$")]
    pub status: Option<String>,
    /// Tickets opened on or after this day (`2026-01-31`) or instant (RFC
    /// 3339); anything else is refused (422).
    pub from: Option<String>,
    /// Tickets opened before this day or instant.
    pub to: Option<String>,
    /// Hits per kind of record, 1–50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u64>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A day (`YYYY-MM-DD`, UTC midnight) or an RFC 3339 instant, in µs.
fn instant(field: &str, s: &str) -> Result<i64, ApiError> {
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        if let Ok(z) = d.to_zoned(jiff::tz::TimeZone::UTC) {
            return Ok(z.timestamp().as_microsecond());
        }
    }
    crate::time::parse_rfc3339(s).map_err(|_| ApiError::refused(field, "must be a day (2026-01-31) or an RFC 3339 instant"))
}

impl SearchParams {
    /// The query text as given (for the page's search box), trimmed.
    pub fn text(&self) -> &str {
        self.q.as_deref().map(str::trim).unwrap_or_default()
    }

    /// Whether anything was asked at all.
    pub fn is_blank(&self) -> bool {
        self.text().is_empty()
    }

    /// The ask, within `p`'s clients; a client filter outside them is 404.
    pub fn ask(&self, p: &Principal) -> Result<Ask, ApiError> {
        let text = query_text(self.q.as_deref().unwrap_or_default()).map_err(|e| match e {
            // Blank, or only operators: the shape is right, there is just nothing to look for.
            QueryError::Empty => ApiError::refused("q", "say what to search for"),
            QueryError::TooLong => ApiError::invalid("q", format!("must be at most {MAX_QUERY_CHARS} characters")),
        })?;
        let scope = match self.client_id {
            Some(c) => Some(vec![p.client(c)?.id()]),
            None => p.clients.clone(),
        };
        let statuses = match blank(&self.status) {
            None => vec![],
            Some("active") => Kind::active().into_iter().map(|k| k.as_str().to_string()).collect(),
            Some(list) => list
                .split(',')
                .map(|k| {
                    Kind::parse(k.trim()).map(|k| k.as_str().to_string()).ok_or_else(|| {
                        ApiError::invalid(
                            "status",
                            format!("{:?} is not a status kind (new, open, waiting, scheduled, resolved, closed, active)", k.trim()),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let from = blank(&self.from).map(|s| instant("from", s)).transpose()?;
        let to = blank(&self.to).map(|s| instant("to", s)).transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if t <= f {
                return Err(ApiError::refused("to", "must be after from"));
            }
        }
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => return Err(ApiError::invalid("limit", format!("must be 1 to {MAX_LIMIT}"))),
        };
        Ok(Ask { text, scope, statuses, from, to, limit })
    }
}

/// Asks every registered source.
pub async fn run(app: &App, p: &Principal, ask: &Ask) -> Result<Vec<SearchHit>, ApiError> {
    let mut hits = vec![];
    for source in &app.registered().search {
        hits.extend((source.search)(app, p, ask).await?);
    }
    Ok(hits)
}
