//! The wire contract between the Steward server and `steward-agent`.
//!
//! Both binaries depend on this crate and nothing else of each other, so the
//! protocol is defined in exactly one place. It holds:
//! - [`PROTOCOL_VERSION`] and the version negotiation rule ([`negotiate`]);
//! - [`envelope`]: the signature envelope every server→agent command travels
//!   in. An envelope names the key behind each signature and may carry several
//!   signatures, so that a later step (technician-held keys, an offline root,
//!   two signatures for fleet-wide actions) needs no protocol break.
//!
//! - [`messages`]: the connection handshake (challenge, enroll/hello with a
//!   proof signature) and heartbeats;
//! - [`command`]: signed commands with id, expiry and nonce, and the replay
//!   guard the agent applies to them;
//! - [`report`]: what an agent reports (inventory, metric samples);
//! - [`checks`]: the checks an agent runs for its monitoring policy, and
//!   their results;
//! - [`spki`]: the certificate pin, computed the same way on both sides;
//! - [`fragment`]: long messages go as WebSocket fragments, which keeps the
//!   server's per-connection read buffer small.

pub mod checks;
pub mod command;
pub mod envelope;
pub mod fragment;
pub mod messages;
pub mod report;
pub mod spki;

pub use fragment::FRAGMENT;

/// The newest protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The oldest protocol version this build still accepts from a peer.
pub const MIN_SUPPORTED_VERSION: u32 = 1;

/// Picks the version both sides speak: the lower of the two newest versions,
/// or `None` when the peer is older than this build still supports.
pub fn negotiate(peer_newest: u32) -> Option<u32> {
    let v = peer_newest.min(PROTOCOL_VERSION);
    (v >= MIN_SUPPORTED_VERSION).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_the_common_version() {
        assert_eq!(negotiate(PROTOCOL_VERSION + 5), Some(PROTOCOL_VERSION));
        assert_eq!(negotiate(PROTOCOL_VERSION), Some(PROTOCOL_VERSION));
        assert_eq!(negotiate(0), None);
    }
}
