//! The messages of one agent connection (WebSocket text frames, JSON).
//!
//! ```text
//! server → Challenge{nonce}
//! agent  → Enroll{token, public_key, proof, …}   (first contact)
//!        | Hello{device_id, proof}               (every later connection)
//! server → Enrolled{device_id, command_keys} + Welcome | Welcome | Refused
//! agent  → Heartbeat …            server → Command(Envelope) …
//! ```
//!
//! `proof` is the agent's Ed25519 signature over [`proof_bytes`]: the fresh
//! nonce with a domain label and the device id, so a signature made for one
//! purpose, connection or device is worthless for any other. Unknown fields
//! are ignored (not rejected) here on purpose, and an unknown message type
//! reads as `Unknown`, which the receiver skips: an older peer must keep
//! working when a newer one adds fields or messages.

use serde::{Deserialize, Serialize};

/// Agent → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMsg {
    /// First contact: enrol with a site's token and our new public key.
    Enroll {
        protocol: u32,
        token: String,
        /// Base64 of the 32-byte Ed25519 public key.
        public_key: String,
        /// Signature over `proof_bytes(Purpose::Enroll, nonce, 0)`.
        proof: String,
        hostname: String,
        os: String,
        agent_version: String,
    },
    /// Every later connection: prove we hold the enrolled key.
    Hello {
        protocol: u32,
        device_id: i64,
        /// Signature over `proof_bytes(Purpose::Connect, nonce, device_id)`.
        proof: String,
        agent_version: String,
        /// The version of the check set it runs (`""`: none yet); absent
        /// from agents that run no checks, which are never sent a set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checks_version: Option<String>,
    },
    Heartbeat {
        seq: u64,
    },
    /// The outcome of a command the agent accepted.
    CommandResult {
        id: String,
        ok: bool,
        output: String,
    },
    /// A command the agent refused (unsigned, tampered, expired, replayed,
    /// misaddressed). Its id is not echoed: nothing in it can be trusted.
    CommandRefused {
        reason: String,
    },
    /// How a `RunScript` command ended.
    ScriptResult {
        /// The command's id.
        id: String,
        /// `None` when the script did not run to an exit (timeout, cannot start).
        exit_code: Option<i32>,
        stdout: String,
        stderr: String,
        #[serde(default)]
        stdout_truncated: bool,
        #[serde(default)]
        stderr_truncated: bool,
        duration_ms: u64,
        /// Why it did not run or did not finish, for people.
        #[serde(default)]
        error: Option<String>,
    },
    /// The machine's inventory: after every connection, and when it changes.
    Inventory {
        /// Unix seconds when it was read.
        collected_at: i64,
        /// Boxed: far larger than every other message.
        inventory: Box<crate::report::Inventory>,
    },
    /// Metric samples, oldest first; after an outage, the buffered ones.
    Metrics {
        samples: Vec<crate::report::Sample>,
        /// Samples the agent had to drop (its buffer was full) since it last
        /// reported a count.
        #[serde(default)]
        dropped: u64,
    },
    /// Check results, oldest first; after an outage, those kept meanwhile.
    CheckResults {
        /// The agent's clock when sending (Unix seconds): the server grades
        /// `time_drift` checks with it.
        sent_at: i64,
        results: Vec<crate::checks::CheckResult>,
        /// The version of the set the agent runs when sending (older
        /// agents leave it out): a server whose push went missing sees
        /// the difference and sends the set again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    /// A message type this build does not know (sent by a newer peer).
    #[serde(other)]
    Unknown,
}

/// Server → agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Sent first on every connection.
    Challenge {
        protocol: u32,
        /// Base64 of 32 fresh random bytes.
        nonce: String,
    },
    /// Enrollment accepted: our id and the keys whose signatures commands carry.
    Enrolled {
        device_id: i64,
        /// Base64 Ed25519 public keys (see `envelope::key_id`).
        command_keys: Vec<String>,
    },
    /// Authenticated; the channel is open.
    Welcome {
        device_id: i64,
        heartbeat_secs: u32,
        command_keys: Vec<String>,
        /// Seconds between metric samples (absent from older servers: 60).
        #[serde(default = "default_metrics_secs")]
        metrics_secs: u32,
        /// [`crate::report::Inventory::sent_hash`] of the last inventory the
        /// server holds from this agent: if the agent's current one hashes
        /// the same it need not send it (a fleet reconnecting after a
        /// server restart would otherwise resend every inventory at once).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inventory_hash: Option<String>,
    },
    /// New reporting periods, sent when an MSP changes them while the agent
    /// is connected (the same values a `Welcome` carries). Not signed like
    /// a command: it changes only how often the agent reports, which the
    /// agent clamps to safe ranges, and arrives over the pinned channel.
    /// Older agents skip it and pick the values up at their next `Welcome`.
    Settings { heartbeat_secs: u32, metrics_secs: u32 },
    /// A signed [`crate::command::Command`].
    Command { envelope: crate::envelope::Envelope },
    /// Refused; the server closes the connection after this.
    Refused {
        /// `token_unknown`, `token_expired`, `token_revoked`, `token_used_up`,
        /// `not_accepted` (an unknown device or a proof that does not
        /// verify: one answer, so it tells a prober nothing), `device_revoked`
        /// (only to an agent that proved it is the device), `bad_proof` (an
        /// enrolment's), `protocol`, `bad_message`; `device_unknown` from
        /// older servers.
        code: String,
        message: String,
    },
    /// Metric samples up to and including `upto` (Unix seconds) are stored:
    /// the agent may forget them.
    MetricsStored { upto: i64 },
    /// A message type this build does not know (sent by a newer peer).
    #[serde(other)]
    Unknown,
}

fn default_metrics_secs() -> u32 {
    60
}

/// What a proof signature is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Enroll,
    Connect,
}

/// The bytes an agent signs to answer a challenge.
pub fn proof_bytes(purpose: Purpose, nonce: &[u8], device_id: i64) -> Vec<u8> {
    let label: &[u8] = match purpose {
        Purpose::Enroll => b"steward-agent-enroll-v1\0",
        Purpose::Connect => b"steward-agent-connect-v1\0",
    };
    let mut v = Vec::with_capacity(label.len() + nonce.len() + 8);
    v.extend_from_slice(label);
    v.extend_from_slice(&(nonce.len() as u32).to_be_bytes());
    v.extend_from_slice(nonce);
    v.extend_from_slice(&device_id.to_be_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_tolerate_unknown_fields() {
        let m = AgentMsg::Heartbeat { seq: 7 };
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(s, r#"{"type":"heartbeat","seq":7}"#);
        let newer: AgentMsg = serde_json::from_str(r#"{"type":"heartbeat","seq":7,"added_later":true}"#).unwrap();
        assert_eq!(newer, m);
        let w: ServerMsg = serde_json::from_str(r#"{"type":"welcome","device_id":3,"heartbeat_secs":30,"command_keys":[]}"#).unwrap();
        assert!(matches!(w, ServerMsg::Welcome { device_id: 3, .. }));
        // A message type from a newer peer is recognisably unknown, not an error.
        let later: AgentMsg = serde_json::from_str(r#"{"type":"added_in_v9","x":1}"#).unwrap();
        assert_eq!(later, AgentMsg::Unknown);
        let later: ServerMsg = serde_json::from_str(r#"{"type":"added_in_v9"}"#).unwrap();
        assert_eq!(later, ServerMsg::Unknown);
    }

    #[test]
    fn proofs_differ_by_purpose_device_and_nonce() {
        let n = [1u8; 32];
        assert_ne!(proof_bytes(Purpose::Enroll, &n, 0), proof_bytes(Purpose::Connect, &n, 0));
        assert_ne!(proof_bytes(Purpose::Connect, &n, 1), proof_bytes(Purpose::Connect, &n, 2));
        assert_ne!(proof_bytes(Purpose::Connect, &n, 1), proof_bytes(Purpose::Connect, &[2u8; 32], 1));
    }
}
