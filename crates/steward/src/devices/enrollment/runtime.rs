//! The agent binaries this server hands out at `/agent/download/{platform}`,
//! so a site's install command can fetch the very agent it enrols (over TLS
//! pinned to this server's key, then checked against its SHA-256).
//!
//! Looked for in `--agent-dir` when it is set, else beside the server's own
//! executable: where a release puts `steward-agent-linux-x86_64` and
//! `steward-agent-windows-x86_64.exe`, and where `cargo build` leaves a
//! developer's (`steward-agent` for this machine's platform, the cross-builds
//! under `target/<triple>/<profile>/`). Not there: the page says how to get
//! the agent instead of showing a command that cannot work.
//!
//! The binaries are public, like the agent's source: nothing in them is a
//! secret, and a machine being installed has no session.

use crate::error::ApiError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A platform the agent is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// In the download path: `linux-x86_64`.
    pub id: &'static str,
    /// The file name a release ships it under (and a download is named).
    pub file: &'static str,
    /// The Rust target a cross-build of it lands under.
    triple: &'static str,
    os: &'static str,
    arch: &'static str,
}

pub const LINUX_X86_64: Platform =
    Platform { id: "linux-x86_64", file: "steward-agent-linux-x86_64", triple: "x86_64-unknown-linux-musl", os: "linux", arch: "x86_64" };
pub const LINUX_AARCH64: Platform = Platform {
    id: "linux-aarch64",
    file: "steward-agent-linux-aarch64",
    triple: "aarch64-unknown-linux-musl",
    os: "linux",
    arch: "aarch64",
};
pub const WINDOWS_X86_64: Platform = Platform {
    id: "windows-x86_64",
    file: "steward-agent-windows-x86_64.exe",
    triple: "x86_64-pc-windows-gnu",
    os: "windows",
    arch: "x86_64",
};
pub const PLATFORMS: [Platform; 3] = [LINUX_X86_64, LINUX_AARCH64, WINDOWS_X86_64];

/// Where a platform's binary may be, best first.
pub fn candidates(p: &Platform, agent_dir: Option<&Path>, exe_dir: &Path) -> Vec<PathBuf> {
    if let Some(dir) = agent_dir {
        return vec![dir.join(p.file)];
    }
    let mut out = vec![exe_dir.join(p.file)];
    // A cargo build: target/<profile>/steward beside target/<triple>/<profile>/.
    if let (Some(profile), Some(target)) = (exe_dir.file_name(), exe_dir.parent()) {
        let exe = if p.os == "windows" { "steward-agent.exe" } else { "steward-agent" };
        out.push(target.join(p.triple).join(profile).join(exe));
    }
    if p.os == std::env::consts::OS && p.arch == std::env::consts::ARCH {
        out.push(exe_dir.join(if p.os == "windows" { "steward-agent.exe" } else { "steward-agent" }));
    }
    out
}

/// One binary found.
#[derive(Debug)]
pub struct Binary {
    pub platform: Platform,
    pub path: PathBuf,
    /// The SHA-256 (hex) worked out on first use (a debug build's agent is
    /// 50 MB), for the file's size and time then: a binary replaced while
    /// the server runs is hashed again.
    sha256: Mutex<Option<(u64, SystemTime, String)>>,
}

impl Binary {
    /// The file's size now.
    pub fn size(&self) -> Result<u64, ApiError> {
        Ok(std::fs::metadata(&self.path).map_err(ApiError::internal)?.len())
    }

    /// The file's SHA-256 (hex). Blocking: reads the file when it changed.
    pub fn sha256(&self) -> Result<String, ApiError> {
        let meta = std::fs::metadata(&self.path).map_err(ApiError::internal)?;
        let stamp = (meta.len(), meta.modified().map_err(ApiError::internal)?);
        let mut cached = self.sha256.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((len, at, h)) = cached.as_ref() {
            if (*len, *at) == stamp {
                return Ok(h.clone());
            }
        }
        let mut f = std::fs::File::open(&self.path).map_err(ApiError::internal)?;
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        std::io::copy(&mut f, &mut hasher).map_err(ApiError::internal)?;
        let h = hex::encode(sha2::Digest::finalize(hasher));
        *cached = Some((stamp.0, stamp.1, h.clone()));
        Ok(h)
    }
}

/// The binaries this server has, found once at start.
#[derive(Debug, Default)]
pub struct Binaries(Vec<Binary>);

impl Binaries {
    pub fn discover(agent_dir: Option<&Path>) -> Binaries {
        let exe_dir = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)).unwrap_or_default();
        let found = PLATFORMS
            .iter()
            .filter_map(|p| {
                candidates(p, agent_dir, &exe_dir).into_iter().find_map(|path| {
                    std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
                    Some(Binary { platform: *p, path, sha256: Mutex::new(None) })
                })
            })
            .collect();
        Binaries(found)
    }

    pub fn get(&self, platform: &str) -> Option<&Binary> {
        self.0.iter().find(|b| b.platform.id == platform)
    }

    pub fn all(&self) -> &[Binary] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_agent_dir_is_the_only_place_looked() {
        let c = candidates(&WINDOWS_X86_64, Some(Path::new("/opt/agents")), Path::new("/usr/bin"));
        assert_eq!(c, vec![PathBuf::from("/opt/agents/steward-agent-windows-x86_64.exe")]);
    }

    #[test]
    fn a_cargo_build_finds_its_cross_builds_and_its_own_agent() {
        let c = candidates(&WINDOWS_X86_64, None, Path::new("/src/target/release"));
        assert_eq!(
            c[..2],
            [
                PathBuf::from("/src/target/release/steward-agent-windows-x86_64.exe"),
                PathBuf::from("/src/target/x86_64-pc-windows-gnu/release/steward-agent.exe")
            ]
        );
        let host = PLATFORMS.iter().find(|p| p.os == std::env::consts::OS && p.arch == std::env::consts::ARCH);
        if let Some(host) = host {
            let c = candidates(host, None, Path::new("/src/target/debug"));
            assert!(c.last().unwrap().ends_with("target/debug/steward-agent") || c.last().unwrap().ends_with("steward-agent.exe"), "{c:?}");
        }
    }
}
