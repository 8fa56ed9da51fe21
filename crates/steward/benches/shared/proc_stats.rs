//! What the benchmarks read about a process from Linux's /proc.

/// A `/proc/PID/status` field in KiB (`VmRSS:`, `VmHWM:`); 0 when unreadable.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// User plus system CPU time of a process, in clock ticks (100 per second).
pub fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// [`cpu_ticks`] plus what the children it waited for used (the programs
/// an agent's checks run: `systemctl`, `ping`, `journalctl`…).
pub fn cpu_ticks_with_children(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    (11..=14).map(|i| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)).sum()
}

/// Where a process's resident memory is (KiB), read from
/// `/proc/PID/smaps` by the shape of each mapping: mimalloc reserves its
/// arenas as anonymous mappings of 1 GiB (or more); glibc's malloc gives
/// each thread that allocates an arena, an anonymous mapping aligned to
/// 64 MiB (SQLite allocates there, one connection per thread); `[heap]` is
/// glibc's main arena; files are the binary and its libraries.
#[derive(Default, Clone, Copy)]
pub struct Resident {
    pub mimalloc: u64,
    pub glibc: u64,
    pub files: u64,
    pub other: u64,
}

impl Resident {
    pub fn of(pid: u32) -> Resident {
        let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
        let mut r = Resident::default();
        let mut bucket: Option<&mut u64> = None;
        for line in smaps.lines() {
            if let Some(kib) = line.strip_prefix("Rss:") {
                if let Some(b) = bucket.take() {
                    *b += kib.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                }
                continue;
            }
            let mut fields = line.split_whitespace();
            let Some((start, end)) = fields.next().and_then(|range| range.split_once('-')) else { continue };
            let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16)) else { continue };
            let name = fields.nth(4).unwrap_or("");
            bucket = Some(if name == "[heap]" {
                &mut r.glibc
            } else if name.starts_with('/') {
                &mut r.files
            } else if !name.is_empty() {
                &mut r.other
            } else if end - start >= 1 << 30 {
                &mut r.mimalloc
            } else if start % (64 << 20) == 0 {
                &mut r.glibc
            } else {
                &mut r.other
            });
        }
        r
    }
}
