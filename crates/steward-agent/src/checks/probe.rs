//! One run of one check on the real machine (or on a simulated one): what
//! it finds, graded against the check's levels. Anything that runs a
//! program or reads files runs off the async threads.

use super::{http, simulated, system};
use crate::report::{Machine, Sampler};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use steward_protocol::checks::{CheckKind, CheckSpec, Levels, Verdict};

/// What one run found: the verdict, words for people, the figure.
pub type Found = (Verdict, String, Option<f64>);

/// Shared by every check of the set.
pub struct Context {
    machine: Machine,
    /// CPU and memory readings, for the averaged checks.
    load: Mutex<(Sampler, VecDeque<Reading>)>,
}

/// When (Unix seconds), CPU % and memory %.
type Reading = (i64, f64, f64);

/// The longest averaging window kept.
const LOAD_KEPT_SECS: i64 = 3600;

impl Context {
    pub fn new(machine: &Machine) -> Context {
        Context { machine: machine.clone(), load: Mutex::new((machine.sampler(), VecDeque::new())) }
    }

    /// The average CPU and memory use over the last `window` seconds,
    /// reading the machine again when the last reading is older than 5 s.
    fn load(&self, window: u32) -> Option<(f64, f64, usize)> {
        let now = crate::link::now();
        let mut l = self.load.lock().expect("load lock");
        let (sampler, kept) = &mut *l;
        if kept.back().is_none_or(|(at, ..)| now - at >= 5) {
            if let Some(s) = sampler.sample(now) {
                if let (Some(c), Some(m)) = (s.values.get("cpu"), s.values.get("mem")) {
                    kept.push_back((now, *c, *m));
                }
            }
        }
        while kept.front().is_some_and(|(at, ..)| now - at > LOAD_KEPT_SECS) {
            kept.pop_front();
        }
        let recent: Vec<_> = kept.iter().filter(|(at, ..)| now - at <= window as i64).collect();
        let n = recent.len();
        (n > 0).then(|| (recent.iter().map(|r| r.1).sum::<f64>() / n as f64, recent.iter().map(|r| r.2).sum::<f64>() / n as f64, n))
    }
}

/// What a check remembers between its runs.
#[derive(Default)]
pub struct Memory {
    /// A service this check restarted and has not seen running since.
    pub restarted: bool,
    /// When the event log was last read (Unix seconds).
    pub log_since: Option<i64>,
}

/// A yes/no check's verdict.
fn yes_no(ok: bool, severity: Verdict, output: String) -> Found {
    (if ok { Verdict::Pass } else { severity }, output, None)
}

/// Runs a blocking probe off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

pub async fn run(spec: &CheckSpec, ctx: &Context, mem: &mut Memory) -> Found {
    if let Machine::Simulated { seed, hostname } = &ctx.machine {
        return simulated::result(*seed, hostname, spec, crate::link::now());
    }
    let severity = spec.severity;
    match &spec.kind {
        CheckKind::DiskFree { mount, percent, bytes } => {
            let (mount, percent, bytes) = (mount.clone(), *percent, *bytes);
            blocking(move || disk_free(crate::report::volumes(), mount.as_deref(), percent, bytes)).await.unwrap_or((
                Verdict::Critical,
                "the disks could not be read".into(),
                None,
            ))
        }
        CheckKind::Cpu { levels, window_secs } | CheckKind::Memory { levels, window_secs } => {
            let cpu = matches!(spec.kind, CheckKind::Cpu { .. });
            match ctx.load(*window_secs) {
                Some((c, m, n)) => {
                    let v = if cpu { c } else { m };
                    let what = if cpu { "CPU" } else { "memory" };
                    (levels.above(v), format!("{what} {v:.0} % on average over {} min ({n} readings)", window_secs / 60), Some(v))
                }
                None => (Verdict::Pass, "measuring".into(), None),
            }
        }
        CheckKind::Service { name, restart } => {
            let (name, restart, restarted_before) = (name.clone(), *restart, mem.restarted);
            let (ok, out, restarted) = blocking(move || system::service(&name, restart && !restarted_before)).await.unwrap_or((
                false,
                "the service could not be queried".into(),
                false,
            ));
            // One restart per stop: a service that dies again stays failed.
            mem.restarted = if ok && !restarted { false } else { mem.restarted || restarted };
            yes_no(ok, severity, out)
        }
        CheckKind::Process { name } => {
            let name = name.clone();
            let (ok, out) = blocking(move || system::process(&name)).await.unwrap_or((false, "processes could not be listed".into()));
            yes_no(ok, severity, out)
        }
        CheckKind::Ping { host, timeout_ms, latency_ms } => {
            let (host, timeout) = (host.clone(), *timeout_ms);
            match blocking(move || system::ping(&host, timeout)).await.flatten() {
                Some(ms) => graded_latency(ms, latency_ms, "answered"),
                None => (severity, format!("no answer within {timeout_ms} ms"), None),
            }
        }
        CheckKind::TcpPort { host, port, timeout_ms } => {
            let started = std::time::Instant::now();
            let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
            match tokio::time::timeout(Duration::from_millis((*timeout_ms).into()), connect).await {
                Ok(Ok(_)) => {
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    (Verdict::Pass, format!("{host}:{port} open ({ms:.0} ms)"), Some(ms))
                }
                Ok(Err(e)) => (severity, format!("{host}:{port}: {e}"), None),
                Err(_) => (severity, format!("{host}:{port}: no connection within {timeout_ms} ms"), None),
            }
        }
        CheckKind::Http { .. } => http::check(spec).await,
        CheckKind::EventLog { source, event_id, level, text } => {
            let now = crate::link::now();
            let since = mem.log_since.unwrap_or(now - spec.interval_secs.max(super::MIN_INTERVAL_SECS) as i64);
            mem.log_since = Some(now);
            let q = system::LogQuery { source: source.clone(), event_id: *event_id, level: level.clone(), text: text.clone(), since };
            match blocking(move || system::event_log(&q)).await.flatten() {
                Some(found) if found.is_empty() => (Verdict::Pass, "no matching entries".into(), Some(0.0)),
                Some(found) => {
                    let n = found.len();
                    (
                        severity,
                        format!("{n} matching entries, the last: {}", found.last().map(String::as_str).unwrap_or("")),
                        Some(n as f64),
                    )
                }
                None => (Verdict::Warning, "the system log could not be read".into(), None),
            }
        }
        CheckKind::Script { shell, script, params, timeout_secs } => {
            let run = steward_protocol::command::RunScript {
                shell: shell.clone(),
                script: script.clone(),
                params: params.clone(),
                timeout_secs: *timeout_secs,
                run_as: "system".into(),
                max_output_bytes: super::MAX_OUTPUT as u32,
            };
            script_verdict(crate::scripts::run(String::new(), run).await)
        }
        CheckKind::PendingReboot => {
            let (pending, out) = blocking(system::pending_reboot).await.unwrap_or((false, "unknown".into()));
            yes_no(!pending, severity, out)
        }
        // The server compares the batch's clock with its own.
        CheckKind::TimeDrift { .. } => (Verdict::Pass, String::new(), Some(crate::link::now() as f64)),
        CheckKind::Antivirus { units } => {
            let units = units.clone();
            let (ok, out) = blocking(move || system::antivirus(&units)).await.unwrap_or((false, "unknown".into()));
            yes_no(ok, severity, out)
        }
        CheckKind::Firewall => {
            let (ok, out) = blocking(system::firewall).await.unwrap_or((false, "unknown".into()));
            yes_no(ok, severity, out)
        }
        CheckKind::DiskEncryption => {
            let (ok, out) = blocking(system::disk_encryption).await.unwrap_or((false, "unknown".into()));
            yes_no(ok, severity, out)
        }
    }
}

/// Latency graded by its levels (higher is worse).
pub fn graded_latency(ms: f64, levels: &Levels, what: &str) -> Found {
    (levels.above(ms), format!("{what} in {ms:.0} ms"), Some(ms))
}

/// Free space against the levels (lower is worse), the worst volume first;
/// `mount` picks one volume.
pub fn disk_free(volumes: Vec<(String, u64, u64)>, mount: Option<&str>, percent: Levels, bytes: Levels) -> Found {
    let chosen: Vec<_> = volumes.into_iter().filter(|(m, total, _)| *total > 0 && mount.is_none_or(|want| m == want)).collect();
    if chosen.is_empty() {
        return (Verdict::Critical, format!("no volume {}", mount.unwrap_or("found")), None);
    }
    let graded = chosen.iter().map(|(m, total, free)| {
        let pct = *free as f64 * 100.0 / *total as f64;
        let v = percent.below(pct).max(bytes.below(*free as f64));
        (v, pct, m, *free)
    });
    let (v, pct, m, free) = graded.max_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1))).expect("not empty");
    (v, format!("{m}: {pct:.1} % free ({:.1} GiB)", free as f64 / (1u64 << 30) as f64), Some(pct))
}

/// A script check's verdict from how the script ended.
pub fn script_verdict(m: steward_protocol::messages::AgentMsg) -> Found {
    let steward_protocol::messages::AgentMsg::ScriptResult { exit_code, stdout, stderr, error, .. } = m else {
        return (Verdict::Critical, "the script did not run".into(), None);
    };
    let mut output = stdout.trim_end().to_string();
    if !stderr.trim().is_empty() {
        output = format!("{output}\n{}", stderr.trim_end()).trim_start().to_string();
    }
    match (exit_code, error) {
        (Some(0), _) => (Verdict::Pass, output, Some(0.0)),
        (Some(1), _) => (Verdict::Warning, output, Some(1.0)),
        (Some(c), _) => (Verdict::Critical, output, Some(c as f64)),
        (None, e) => (Verdict::Critical, e.unwrap_or_else(|| "the script did not finish".into()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fullest_volume_decides_and_a_named_one_is_found() {
        let vols = vec![("/".to_string(), 100 << 30, 50 << 30), ("/data".to_string(), 100 << 30, 3 << 30)];
        let pct = Levels { warning: Some(10.0), critical: Some(5.0) };
        let (v, out, value) = disk_free(vols.clone(), None, pct, Levels::default());
        assert_eq!((v, value.map(|x| x.round())), (Verdict::Critical, Some(3.0)));
        assert!(out.starts_with("/data: 3.0 % free"), "{out}");
        assert_eq!(disk_free(vols.clone(), Some("/"), pct, Levels::default()).0, Verdict::Pass);
        // 50 GiB free is under a 60 GiB warning level.
        let gib = Levels { warning: Some((60u64 << 30) as f64), critical: None };
        assert_eq!(disk_free(vols.clone(), Some("/"), Levels::default(), gib).0, Verdict::Warning);
        assert_eq!(disk_free(vols, Some("/nope"), pct, Levels::default()).0, Verdict::Critical);
    }

    #[test]
    fn a_script_exit_code_is_its_verdict() {
        let ended = |code: Option<i32>| steward_protocol::messages::AgentMsg::ScriptResult {
            id: String::new(),
            exit_code: code,
            stdout: "out\n".into(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            duration_ms: 1,
            error: code.is_none().then(|| "timed out".into()),
        };
        assert_eq!(script_verdict(ended(Some(0))).0, Verdict::Pass);
        assert_eq!(script_verdict(ended(Some(1))).0, Verdict::Warning);
        assert_eq!(script_verdict(ended(Some(2))).0, Verdict::Critical);
        assert_eq!(script_verdict(ended(None)), (Verdict::Critical, "timed out".into(), None));
    }
}
