//! What this agent reports: the machine's inventory and metric samples,
//! read from the real machine ([`linux`], [`windows`]) or made up for a
//! simulated one ([`simulated`]).

#[cfg(target_os = "linux")]
mod linux;
pub mod simulated;
pub mod spool;
#[cfg(windows)]
mod windows;
mod windows_text;

use steward_protocol::report::{Inventory, Sample};

/// Which machine the reports describe.
#[derive(Clone)]
pub enum Machine {
    /// The one this agent runs on.
    Real,
    /// A made-up one (`steward-agent simulate`), stable for its seed.
    Simulated { seed: u64, hostname: String },
}

impl Machine {
    /// Reads the inventory (may run commands: call it off the async threads).
    pub fn inventory(&self) -> Inventory {
        match self {
            Machine::Simulated { seed, hostname } => simulated::inventory(*seed, hostname),
            Machine::Real => real_inventory(),
        }
    }

    pub fn sampler(&self) -> Sampler {
        match self {
            Machine::Simulated { seed, .. } => Sampler::Simulated(simulated::Walk::new(*seed)),
            Machine::Real => Sampler::Real(Box::new(RealSampler::new())),
        }
    }
}

/// Takes one sample at a time; rates and CPU use are measured between samples.
pub enum Sampler {
    /// Boxed: Windows' sampler (sysinfo's state) is large, and one exists
    /// per agent, while the simulator holds thousands of the other kind.
    Real(Box<RealSampler>),
    Simulated(simulated::Walk),
}

impl Sampler {
    /// A sample at `now` (Unix seconds); `None` when nothing could be read.
    pub fn sample(&mut self, now: i64) -> Option<Sample> {
        let values = match self {
            Sampler::Real(r) => r.sample(),
            Sampler::Simulated(w) => w.sample(),
        };
        (!values.is_empty()).then_some(Sample { at: now, values })
    }
}

#[cfg(target_os = "linux")]
type RealSampler = linux::Sampler;
#[cfg(windows)]
type RealSampler = windows::Sampler;
#[cfg(not(any(target_os = "linux", windows)))]
type RealSampler = NoSampler;

#[cfg(target_os = "linux")]
fn real_inventory() -> Inventory {
    linux::inventory()
}
#[cfg(windows)]
fn real_inventory() -> Inventory {
    windows::inventory()
}
#[cfg(not(any(target_os = "linux", windows)))]
fn real_inventory() -> Inventory {
    Inventory { hostname: crate::hostname(), ..Default::default() }
}

#[cfg(not(any(target_os = "linux", windows)))]
pub struct NoSampler;
#[cfg(not(any(target_os = "linux", windows)))]
impl NoSampler {
    fn new() -> Self {
        NoSampler
    }
    fn sample(&mut self) -> std::collections::BTreeMap<String, f64> {
        Default::default()
    }
}

/// Every volume of this machine: mount (or drive), size and free bytes.
pub fn volumes() -> Vec<(String, u64, u64)> {
    #[cfg(target_os = "linux")]
    return linux::volumes();
    #[cfg(windows)]
    return windows::volumes();
    #[cfg(not(any(target_os = "linux", windows)))]
    vec![]
}

/// Runs a command and returns its standard output, or `None` if it is
/// missing or fails (a minimal container has no systemctl, say).
#[allow(dead_code)]
pub(crate) fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).stderr(std::process::Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Signed-in user names from `who` (Linux) or `query user` (Windows, after
/// its header line): the first word of each line, less the `>` that marks
/// `query user`'s own session; sorted, each once.
pub(crate) fn user_names<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut u: Vec<String> =
        lines.filter_map(|l| l.trim_start().trim_start_matches('>').split_whitespace().next().map(str::to_string)).collect();
    u.sort();
    u.dedup();
    u
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_names_from_who_and_query_user() {
        let who = "alice    pts/0        2026-12-02 05:01 (10.0.0.5)\nbob      tty1         2026-12-01 09:00\nalice    pts/1        2026-12-02 06:10 (10.0.0.5)\n";
        assert_eq!(super::user_names(who.lines()), ["alice", "bob"]);
        let quser = " USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME\r\n>administrator         console             1  Active      none   12/2/2026 9:15 AM\r\n jdoe                                      2  Disc          1:05  12/2/2026 8:00 AM\r\n";
        assert_eq!(super::user_names(quser.lines().skip(1)), ["administrator", "jdoe"]);
        assert!(super::user_names("".lines().skip(1)).is_empty());
    }
}
