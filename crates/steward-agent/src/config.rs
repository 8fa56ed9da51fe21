//! The agent's configuration file: where the server is, its pin, our device
//! id and our private key. Written once by `install`, readable by root only.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentConfig {
    pub server: String,
    pub pin: String,
    pub device_id: i64,
    /// Base64 of the 32-byte Ed25519 secret key.
    pub private_key: String,
    /// Base64 Ed25519 keys whose signatures commands must carry (from enrolment).
    #[serde(default)]
    pub command_keys: Vec<String>,
    /// The program (and its first arguments) run for a reboot instead of
    /// the OS's `shutdown`; the delay in seconds and the reason follow as
    /// two more arguments. For a site's own restart tooling (and tests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reboot_command: Vec<String>,
}

pub const FILE: &str = "agent.json";

/// The default configuration directory for this OS.
pub fn default_dir() -> PathBuf {
    if cfg!(windows) {
        PathBuf::from(r"C:\ProgramData\Steward")
    } else {
        PathBuf::from("/etc/steward-agent")
    }
}

pub fn load(dir: &Path) -> Result<AgentConfig, String> {
    let path = dir.join(FILE);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e} (run `steward-agent install` first)", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is damaged: {e}", path.display()))
}

/// Writes the file atomically, readable and writable by its owner only.
pub fn save(dir: &Path, c: &AgentConfig) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    use std::io::Write;
    let mut f = opts.open(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(serde_json::to_string_pretty(c).expect("config serialises").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, dir.join(FILE)).map_err(|e| e.to_string())
}
