//! Commands from the server to an agent, and how the agent accepts them.
//!
//! A [`Command`] is serialised to JSON and wrapped in a signed
//! [`Envelope`]. [`accept`] is the agent's whole rule: the envelope must carry
//! enough trusted signatures, the command must be addressed to this device,
//! be inside its validity window, not live longer than [`MAX_TTL_SECS`]
//! (which bounds the replay memory), and its nonce must not have been seen.

use crate::envelope::{Envelope, EnvelopeError, TrustedKeys};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The longest validity a command may claim.
pub const MAX_TTL_SECS: i64 = 3600;
/// Clock skew tolerated between server and agent.
pub const SKEW_SECS: i64 = 120;

/// What the server asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandBody {
    /// Answer to measure the round trip.
    Ping,
    /// Run a script from the library; the agent answers with
    /// `AgentMsg::ScriptResult` carrying the command's id.
    RunScript(RunScript),
    /// Restart the machine after `delay_secs`, telling signed-in users
    /// why. The agent answers once the restart is scheduled. (Agents older
    /// than this command refuse it as malformed.)
    Reboot(Reboot),
    /// The checks to run from now on (replacing the set it ran). The agent
    /// answers with a `CommandResult`. Sent only to agents that said in
    /// `Hello` that they run checks.
    Checks(crate::checks::CheckSet),
}

/// A restart of the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reboot {
    /// Shown to signed-in users and written to the system log.
    pub reason: String,
    /// Seconds of warning before the restart (the OS rounds up to minutes
    /// on Linux).
    pub delay_secs: u32,
}

/// A script to run, exactly as the server's library holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunScript {
    /// `bash`, `sh`, `python`, `powershell` or `cmd`.
    pub shell: String,
    pub script: String,
    /// Handed to the script as environment variables `STEWARD_PARAM_<NAME>`
    /// (never spliced into its text, so a value cannot change the script).
    pub params: std::collections::BTreeMap<String, String>,
    pub timeout_secs: u32,
    /// `system` (the agent's own account: root or SYSTEM) or a user name.
    pub run_as: String,
    /// Output kept per stream; the rest is dropped and the cut is reported.
    pub max_output_bytes: u32,
}

/// A command as signed by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub id: String,
    /// Random, unique per command; the replay key.
    pub nonce: String,
    pub device_id: i64,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
    pub body: CommandBody,
}

/// Why an agent refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("signature: {0}")]
    Signature(#[from] EnvelopeError),
    #[error("malformed command")]
    Malformed,
    #[error("addressed to device {0}")]
    WrongDevice(i64),
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("validity window too long")]
    TooLongLived,
    #[error("replayed")]
    Replayed,
}

/// Remembers nonces until their command expires. Serialisable, so the
/// agent can keep it on disk and a restart does not reopen the window.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ReplayGuard {
    seen: HashMap<String, i64>,
}

impl ReplayGuard {
    /// Records `nonce` (valid until `expires_at`); false if already seen.
    pub fn check_and_record(&mut self, nonce: &str, expires_at: i64, now: i64) -> bool {
        if self.seen.len() > 1024 {
            self.seen.retain(|_, exp| *exp + SKEW_SECS >= now);
        }
        if self.seen.contains_key(nonce) {
            return false;
        }
        self.seen.insert(nonce.to_string(), expires_at);
        true
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// The agent's acceptance rule (see the module doc).
pub fn accept(
    env: &Envelope,
    trusted: &TrustedKeys,
    required: usize,
    device_id: i64,
    now: i64,
    guard: &mut ReplayGuard,
) -> Result<Command, Refusal> {
    let bytes = env.verify(trusted, required)?;
    let c: Command = serde_json::from_slice(&bytes).map_err(|_| Refusal::Malformed)?;
    if c.device_id != device_id {
        return Err(Refusal::WrongDevice(c.device_id));
    }
    if c.expires_at - c.issued_at > MAX_TTL_SECS || c.expires_at < c.issued_at {
        return Err(Refusal::TooLongLived);
    }
    if now > c.expires_at + SKEW_SECS {
        return Err(Refusal::Expired);
    }
    if now + SKEW_SECS < c.issued_at {
        return Err(Refusal::NotYetValid);
    }
    if !guard.check_and_record(&c.nonce, c.expires_at, now) {
        return Err(Refusal::Replayed);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use proptest::prelude::*;

    fn signed(c: &Command, key: &SigningKey) -> Envelope {
        Envelope::sign(&serde_json::to_vec(c).unwrap(), key)
    }

    fn cmd(nonce: &str, issued: i64, ttl: i64) -> Command {
        Command { id: "c1".into(), nonce: nonce.into(), device_id: 9, issued_at: issued, expires_at: issued + ttl, body: CommandBody::Ping }
    }

    proptest! {
        #[test]
        fn a_valid_command_is_accepted_once_only(now in 1_000_000i64..2_000_000, ttl in 1i64..MAX_TTL_SECS) {
            let k = SigningKey::from_bytes(&[3; 32]);
            let mut t = TrustedKeys::new();
            t.add(k.verifying_key());
            let mut g = ReplayGuard::default();
            let env = signed(&cmd("n1", now, ttl), &k);
            prop_assert!(accept(&env, &t, 1, 9, now, &mut g).is_ok());
            prop_assert_eq!(accept(&env, &t, 1, 9, now + 1, &mut g), Err(Refusal::Replayed));
        }

        #[test]
        fn expired_future_and_misaddressed_commands_are_refused(now in 1_000_000i64..2_000_000, off in (SKEW_SECS + 1)..100_000i64) {
            let k = SigningKey::from_bytes(&[3; 32]);
            let mut t = TrustedKeys::new();
            t.add(k.verifying_key());
            let mut g = ReplayGuard::default();
            prop_assert_eq!(accept(&signed(&cmd("a", now - off - 60, 60), &k), &t, 1, 9, now, &mut g), Err(Refusal::Expired));
            prop_assert_eq!(accept(&signed(&cmd("b", now + off, 60), &k), &t, 1, 9, now, &mut g), Err(Refusal::NotYetValid));
            prop_assert_eq!(accept(&signed(&cmd("c", now, 60), &k), &t, 1, 8, now, &mut g), Err(Refusal::WrongDevice(9)));
            prop_assert_eq!(accept(&signed(&cmd("d", now, MAX_TTL_SECS + off), &k), &t, 1, 9, now, &mut g), Err(Refusal::TooLongLived));
        }
    }

    #[test]
    fn unsigned_or_tampered_commands_are_refused() {
        let k = SigningKey::from_bytes(&[3; 32]);
        let mut t = TrustedKeys::new();
        t.add(k.verifying_key());
        let mut g = ReplayGuard::default();
        let stranger = SigningKey::from_bytes(&[4; 32]);
        let env = signed(&cmd("x", 100, 60), &stranger);
        assert!(matches!(accept(&env, &t, 1, 9, 100, &mut g), Err(Refusal::Signature(_))));
        let mut env = signed(&cmd("y", 100, 60), &k);
        env.signatures.clear();
        assert!(matches!(accept(&env, &t, 1, 9, 100, &mut g), Err(Refusal::Signature(_))));
        assert!(g.is_empty(), "refused commands leave no trace in the replay memory");
    }
}
