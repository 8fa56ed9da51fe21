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
            Machine::Real => Sampler::Real(RealSampler::new()),
        }
    }
}

/// Takes one sample at a time; rates and CPU use are measured between samples.
pub enum Sampler {
    Real(RealSampler),
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

/// Runs a command and returns its standard output, or `None` if it is
/// missing or fails (a minimal container has no systemctl, say).
#[allow(dead_code)]
pub(crate) fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).stderr(std::process::Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
