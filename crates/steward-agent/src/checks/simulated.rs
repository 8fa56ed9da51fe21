//! Check results of a simulated machine (`steward-agent simulate`): most
//! pass, a share fails steadily and a share flaps (fails and passes in
//! turns of a few minutes), each chosen from the machine's seed and the
//! check's key, so a simulated fleet keeps the same failing checks. The
//! shares are set once for the simulator process ([`set_shares`]).

use super::probe::Found;
use crate::report::simulated::Rng;
use std::sync::atomic::{AtomicU32, Ordering};
use steward_protocol::checks::{CheckKind, CheckSpec, Verdict};

/// Per mille of checks failing steadily, and flapping (none unless set:
/// tests count the alerts they cause).
static FAILING: AtomicU32 = AtomicU32::new(0);
static FLAPPING: AtomicU32 = AtomicU32::new(0);
/// How long a flapping check stays in each state.
const FLAP_SECS: i64 = 180;

/// Sets the shares of failing and flapping checks, in per cent.
pub fn set_shares(failing_percent: f64, flapping_percent: f64) {
    FAILING.store((failing_percent * 10.0).clamp(0.0, 1000.0) as u32, Ordering::Relaxed);
    FLAPPING.store((flapping_percent * 10.0).clamp(0.0, 1000.0) as u32, Ordering::Relaxed);
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// What a simulated machine's check finds at `now`.
pub fn result(seed: u64, hostname: &str, spec: &CheckSpec, now: i64) -> Found {
    let mut rng = Rng::new(seed ^ fnv(&spec.key));
    let draw = rng.next_u64() % 1000;
    let (failing, flapping) = (FAILING.load(Ordering::Relaxed) as u64, FLAPPING.load(Ordering::Relaxed) as u64);
    let phase_offset = (rng.next_u64() % FLAP_SECS as u64) as i64;
    let fails = draw < failing || (draw < failing + flapping && ((now + phase_offset) / FLAP_SECS) % 2 == 0);
    let what = spec.kind.type_name();
    if !fails {
        let value = match &spec.kind {
            CheckKind::DiskFree { .. } => Some(20.0 + rng.unit() * 60.0),
            CheckKind::TimeDrift { .. } => Some(now as f64),
            _ => None,
        };
        return (Verdict::Pass, format!("{hostname}: {what} ok"), value);
    }
    match &spec.kind {
        CheckKind::DiskFree { percent, .. } => {
            let free = percent.critical.unwrap_or(5.0) * 0.6;
            (percent.below(free).max(Verdict::Warning), format!("C: {free:.1} % free"), Some(free))
        }
        CheckKind::Service { name, .. } => (spec.severity, format!("{name} is stopped"), None),
        CheckKind::TimeDrift { .. } => (Verdict::Pass, String::new(), Some(now as f64 + 400.0)),
        _ => (spec.severity, format!("{hostname}: {what} failing"), None),
    }
}
