//! The agent settings form shared by the client, site and device pages:
//! two fields of seconds, where an empty field inherits.

use crate::error::ApiError;
use serde::Deserialize;

/// The agent settings form of a client, site or device: empty fields
/// inherit.
#[derive(Deserialize)]
pub struct AgentSettingsForm {
    #[serde(default)]
    pub agent_heartbeat_secs: String,
    #[serde(default)]
    pub agent_metrics_secs: String,
}

impl AgentSettingsForm {
    pub fn parse(&self) -> Result<(Option<i64>, Option<i64>), ApiError> {
        Ok((
            seconds_field("agent_heartbeat_secs", &self.agent_heartbeat_secs)?,
            seconds_field("agent_metrics_secs", &self.agent_metrics_secs)?,
        ))
    }
}

/// A number-of-seconds field; empty means "inherit".
fn seconds_field(field: &str, v: &str) -> Result<Option<i64>, ApiError> {
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| ApiError::invalid(field, "must be a whole number of seconds"))
}
