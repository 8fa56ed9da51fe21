//! Waiting for a quiet machine before a timed part, and telling whether
//! something else ran while it was timed: no compiler or linker running
//! (another build on a 2-core machine doubles latencies) and little CPU
//! used by processes other than the benchmark's own (the bench and the
//! server it started), read from Linux's /proc.

use std::time::{Duration, Instant};

/// Processes whose presence means someone is building.
const BUILDERS: [&str; 7] = ["rustc", "clippy-driver", "cc1", "cc1plus", "ld", "rust-lld", "rustdoc"];

/// Most of the machine's CPU time other processes may use (kernel threads
/// and an idle desktop stay well under it).
const OTHERS_MAX: f64 = 0.10;

/// The names of running builder processes.
pub fn builders() -> Vec<String> {
    let mut found = vec![];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(comm) = std::fs::read_to_string(e.path().join("comm")) {
            let comm = comm.trim();
            if BUILDERS.contains(&comm) {
                found.push(format!("{comm} ({})", name.to_string_lossy()));
            }
        }
    }
    found
}

/// (idle, total) jiffies of all CPUs since boot.
fn cpu_jiffies() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = s.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (idle, v.iter().take(8).sum())
}

/// User plus system CPU time of a process, in clock ticks (the unit of
/// /proc/stat's jiffies).
fn ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// The machine's CPU time from a point on, and the benchmark's own
/// processes' part of it.
pub struct Watch {
    idle: u64,
    total: u64,
    ours: Vec<(u32, u64)>,
}

impl Watch {
    /// From now; `ours`: the benchmark's processes (this one is always in).
    pub fn start(ours: &[u32]) -> Watch {
        let mut pids = vec![std::process::id()];
        pids.extend(ours.iter().copied().filter(|p| *p != std::process::id()));
        let ours = pids.into_iter().map(|p| (p, ticks(p))).collect();
        let (idle, total) = cpu_jiffies();
        Watch { idle, total, ours }
    }

    /// (the share of the machine's CPU time other processes used since
    /// the start, the benchmark's own share).
    pub fn shares(&self) -> (f64, f64) {
        let (i, t) = cpu_jiffies();
        if t <= self.total {
            return (0.0, 0.0);
        }
        let all = (t - self.total) as f64;
        let busy = (t - self.total).saturating_sub(i - self.idle);
        let ours: u64 = self.ours.iter().map(|(p, before)| ticks(*p).saturating_sub(*before)).sum();
        (busy.saturating_sub(ours) as f64 / all, ours as f64 / all)
    }

    /// Whether something else ran meanwhile (a build now, or other
    /// processes above [`OTHERS_MAX`]); says so.
    pub fn disturbed(&self, what: &str) -> bool {
        let (others, _) = self.shares();
        let busy = builders();
        let bad = others > OTHERS_MAX || !busy.is_empty();
        if bad {
            println!(
                "  {what} was disturbed (other processes used {:.0} % of the CPUs, building: {busy:?}): timing it again",
                others * 100.0
            );
        }
        bad
    }
}

/// Waits (up to 45 minutes) until nothing builds and other processes
/// than `ours` use at most [`OTHERS_MAX`] of the CPUs over a second; says
/// what it waited for.
pub fn wait_quiet(before: &str, ours: &[u32]) {
    let started = Instant::now();
    let mut said = false;
    loop {
        let w = Watch::start(ours);
        std::thread::sleep(Duration::from_secs(1));
        let (others, _) = w.shares();
        let busy = builders();
        if busy.is_empty() && others <= OTHERS_MAX {
            if said {
                println!("  quiet after {:.0} s; timing {before}", started.elapsed().as_secs_f64());
            }
            return;
        }
        if !said {
            println!("  waiting for a quiet machine before {before}: others use {:.0} % of the CPUs, building: {busy:?}", others * 100.0);
            said = true;
        }
        if started.elapsed() > Duration::from_secs(45 * 60) {
            println!("  still busy after 45 minutes ({:.0} %, {busy:?}): timing {before} anyway", others * 100.0);
            return;
        }
        std::thread::sleep(Duration::from_secs(4));
    }
}
