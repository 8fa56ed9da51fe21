//! What an agent reports besides heartbeats: its inventory (sent at
//! connection and whenever it changes) and metric samples (one a minute by
//! default, buffered on the agent's disk while it is offline).
//!
//! Every field is optional or defaulted, so an agent that cannot read
//! something (a serial number without root, services on an OS it does not
//! know) still reports the rest, and newer agents may add fields. The server
//! treats all of it as untrusted input and cleans it (`steward::devices::inventory`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A machine's inventory at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    pub hostname: String,
    pub os: OsInfo,
    pub hardware: Hardware,
    pub disks: Vec<Disk>,
    pub interfaces: Vec<Interface>,
    /// Users with a session now.
    pub users: Vec<String>,
    pub software: Vec<Software>,
    pub services: Vec<Service>,
    /// Last boot, Unix seconds (uptime follows from it; it is not sent so
    /// that an unchanged machine sends an unchanged inventory).
    pub boot_time: i64,
}

impl Inventory {
    /// Hex SHA-256 of this inventory as sent (its JSON). The server keeps
    /// the hash of the last inventory an agent sent and tells it in
    /// `Welcome`; an agent whose inventory hashes the same has nothing new
    /// to send.
    pub fn sent_hash(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(serde_json::to_vec(self).expect("inventory serialises"));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OsInfo {
    /// "linux", "windows", …
    pub family: String,
    /// "Debian GNU/Linux 12 (bookworm)", "Windows 11 Pro".
    pub name: String,
    pub version: String,
    pub kernel: String,
    pub arch: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hardware {
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub cpu_model: String,
    pub cpu_cores: u32,
    pub memory_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Disk {
    pub mount: String,
    pub fs: String,
    pub total_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Interface {
    pub name: String,
    pub mac: String,
    /// Addresses with prefix length, "192.0.2.10/24", "2001:db8::5/64".
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Software {
    pub name: String,
    pub version: String,
    pub publisher: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Service {
    pub name: String,
    /// "running", "stopped", "failed", …
    pub state: String,
}

/// One metric sample: values by series name at one moment.
///
/// Series the agent sends: `cpu` (% busy), `mem` (% used), `disk:<mount>`
/// (% used), `net_rx` and `net_tx` (bytes per second, all interfaces but
/// loopback).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sample {
    /// Unix seconds.
    pub at: i64,
    pub values: BTreeMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_inventory_from_an_older_or_limited_agent_reads() {
        let inv: Inventory = serde_json::from_str(r#"{"os":{"name":"Alpine"},"future_field":1}"#).unwrap();
        assert_eq!(inv.os.name, "Alpine");
        assert!(inv.software.is_empty() && inv.hardware.memory_bytes == 0);
    }
}
