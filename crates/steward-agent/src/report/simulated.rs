//! Believable made-up machines for `steward-agent simulate`: an OS,
//! hardware, disks, a network interface, software and services chosen from
//! the seed (so a simulated machine reports the same inventory every time),
//! metrics that wander like a working machine's (and the month before it
//! enrolled, for the demo), and what its scripts print ([`scripts`]).

pub mod scripts;

use std::collections::BTreeMap;
use steward_protocol::report::{Disk, Hardware, Interface, Inventory, OsInfo, Service, Software};

/// SplitMix64: small, fast and good enough to make up machines.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next_u64() % v.len() as u64) as usize]
    }
}

const WINDOWS: [(&str, &str); 4] = [
    ("Windows 11 Pro", "23H2"),
    ("Windows 10 Pro", "22H2"),
    ("Windows Server 2022 Standard", "21H2"),
    ("Windows Server 2019 Standard", "1809"),
];
const LINUX: [(&str, &str); 3] =
    [("Ubuntu 22.04.4 LTS", "22.04"), ("Debian GNU/Linux 12 (bookworm)", "12"), ("Rocky Linux 9.3 (Blue Onyx)", "9.3")];
const WIN_APPS: [(&str, &str, &str); 14] = [
    ("Google Chrome", "131.0.6778.86", "Google LLC"),
    ("Microsoft Edge", "131.0.2903.70", "Microsoft Corporation"),
    ("Microsoft 365 Apps for business - en-us", "16.0.18129.20116", "Microsoft Corporation"),
    ("Adobe Acrobat Reader (64-bit)", "24.004.20272", "Adobe"),
    ("7-Zip 24.08 (x64)", "24.08", "Igor Pavlov"),
    ("Zoom Workplace (64-bit)", "6.2.11", "Zoom Video Communications, Inc."),
    ("Microsoft Teams", "24295.605.3225.8804", "Microsoft Corporation"),
    ("Mozilla Firefox (x64 en-US)", "133.0", "Mozilla"),
    ("Notepad++ (64-bit x64)", "8.7.1", "Notepad++ Team"),
    ("Cisco Secure Client - AnyConnect VPN", "5.1.6.103", "Cisco Systems, Inc."),
    ("Veeam Agent for Microsoft Windows", "6.2.0.121", "Veeam Software Group GmbH"),
    ("QuickBooks Desktop Pro 2024", "34.0.4001.3404", "Intuit Inc."),
    ("Dell Command | Update", "5.4.0", "Dell Inc."),
    ("Microsoft Visual C++ 2015-2022 Redistributable (x64)", "14.40.33810.0", "Microsoft Corporation"),
];
const LINUX_PKGS: [(&str, &str); 12] = [
    ("openssh-server", "1:9.2p1-2+deb12u3"),
    ("openssl", "3.0.15-1~deb12u1"),
    ("nginx", "1.22.1-9"),
    ("postgresql-15", "15.8-0+deb12u1"),
    ("curl", "7.88.1-10+deb12u8"),
    ("sudo", "1.9.13p3-1+deb12u1"),
    ("systemd", "252.31-1~deb12u1"),
    ("rsync", "3.2.7-1"),
    ("docker-ce", "5:27.3.1-1~debian.12~bookworm"),
    ("fail2ban", "1.0.2-2"),
    ("unattended-upgrades", "2.9.1+nmu3"),
    ("zabbix-agent", "1:6.0.14+dfsg-1"),
];
const VENDORS: [(&str, &str); 4] =
    [("Dell Inc.", "OptiPlex 7010"), ("HP", "EliteBook 840 G9"), ("LENOVO", "ThinkPad T14 Gen 4"), ("Dell Inc.", "PowerEdge R650")];

fn is_windows(seed: u64) -> bool {
    seed % 10 < 7
}

pub fn inventory(seed: u64, hostname: &str) -> Inventory {
    let mut r = Rng::new(seed);
    let win = is_windows(seed);
    let (name, version) = if win { *r.pick(&WINDOWS) } else { *r.pick(&LINUX) };
    let (vendor, model) = *r.pick(&VENDORS);
    let mem_gib = *r.pick(&[8u64, 16, 16, 32, 64]);
    let disk_gib = *r.pick(&[256u64, 512, 512, 1024]);
    let mac = format!("00:50:56:{:02x}:{:02x}:{:02x}", (seed >> 16) & 0xff, (seed >> 8) & 0xff, seed & 0xff);
    let addr = format!("10.{}.{}.{}/24", (seed >> 16) & 0xff, (seed >> 8) & 0xff, (seed & 0xff).max(2));
    let (software, services, disks) = if win {
        (
            WIN_APPS
                .iter()
                .filter(|_| r.unit() < 0.8)
                .map(|(n, v, p)| Software { name: n.to_string(), version: v.to_string(), publisher: p.to_string() })
                .collect(),
            ["Dhcp", "Dnscache", "EventLog", "LanmanWorkstation", "Spooler", "W32Time", "WinDefend", "wuauserv"]
                .iter()
                .map(|s| Service {
                    name: s.to_string(),
                    state: if *s == "wuauserv" && r.unit() < 0.3 { "stopped" } else { "running" }.into(),
                })
                .collect(),
            vec![Disk { mount: "C:".into(), fs: "NTFS".into(), total_bytes: disk_gib << 30 }],
        )
    } else {
        (
            LINUX_PKGS
                .iter()
                .filter(|_| r.unit() < 0.8)
                .map(|(n, v)| Software { name: n.to_string(), version: v.to_string(), publisher: String::new() })
                .collect(),
            ["cron", "ssh", "systemd-journald", "systemd-timesyncd", "rsyslog"]
                .iter()
                .map(|s| Service { name: s.to_string(), state: "running".into() })
                .collect(),
            vec![Disk { mount: "/".into(), fs: "ext4".into(), total_bytes: disk_gib << 30 }],
        )
    };
    Inventory {
        hostname: hostname.to_string(),
        os: OsInfo {
            family: if win { "windows" } else { "linux" }.into(),
            name: name.into(),
            version: version.into(),
            kernel: if win { "10.0.22631".into() } else { "6.1.0-27-amd64".into() },
            arch: "x86_64".into(),
        },
        hardware: Hardware {
            vendor: vendor.into(),
            model: model.into(),
            serial: format!("SIM{seed:07X}"),
            cpu_model: r
                .pick(&[
                    "Intel(R) Core(TM) i5-1345U",
                    "Intel(R) Core(TM) i7-13700",
                    "AMD Ryzen 7 PRO 7840U",
                    "Intel(R) Xeon(R) Silver 4314",
                ])
                .to_string(),
            cpu_cores: *r.pick(&[4u32, 8, 12, 16]),
            memory_bytes: mem_gib << 30,
        },
        disks,
        interfaces: vec![Interface { name: if win { "Ethernet" } else { "eth0" }.into(), mac, addresses: vec![addr] }],
        users: if win { vec![format!("user{}", seed % 50)] } else { vec![] },
        software,
        services,
        // Booted within the last week, fixed per machine.
        boot_time: 1_764_000_000 - (seed % 604_800) as i64,
    }
}

/// The fixed traits of a simulated machine's metrics, from its seed: where
/// its levels sit, how fast its disk fills, when its nightly backup runs.
/// Both the live [`Walk`] and the [`past`] share them, so the history a
/// demo writes carries on into what the agent then reports.
struct Profile {
    seed: u64,
    cpu_base: f64,
    mem: f64,
    /// Disk use (%) when the agent starts.
    disk: f64,
    /// Percentage points of disk a day.
    disk_per_day: f64,
    /// The UTC hour its nightly backup starts.
    backup_hour: i64,
    mount: &'static str,
}

impl Profile {
    fn new(seed: u64) -> Profile {
        let mut r = Rng::new(seed.wrapping_mul(31));
        let (cpu_base, mem, disk) = (3.0 + r.unit() * 20.0, 35.0 + r.unit() * 40.0, 20.0 + r.unit() * 65.0);
        let (disk_per_day, backup_hour) = (0.05 + r.unit() * 0.3, 1 + (r.next_u64() % 4) as i64);
        Profile { seed, cpu_base, mem, disk, disk_per_day, backup_hour, mount: if is_windows(seed) { "C:" } else { "/" } }
    }

    fn backing_up(&self, at: i64) -> bool {
        (0..1_800).contains(&(at.rem_euclid(86_400) - self.backup_hour * 3_600))
    }

    /// Memory's own slow swing (smooth, from the seed), on top of the
    /// working day's.
    fn wave(&self, at: i64) -> f64 {
        let phase = (self.seed % 1_000) as f64;
        let t = at as f64;
        3.0 * (t / 19_000.0 + phase).sin() + 2.0 * (t / 250_000.0 + phase * 0.7).sin()
    }

    /// One sample at `at`, its noise drawn from `r`, given memory and disk.
    fn values(&self, at: i64, r: &mut Rng, mem: f64, disk: f64) -> BTreeMap<String, f64> {
        let (work, backup) = (working(at), self.backing_up(at));
        let burst = if r.unit() < 0.08 { 40.0 + r.unit() * 50.0 } else { 0.0 };
        let nightly = if backup { 25.0 + r.unit() * 15.0 } else { 0.0 };
        let cpu = (self.cpu_base + work * (8.0 + self.cpu_base * 0.6) + (r.unit() - 0.5) * 8.0 + burst + nightly).clamp(0.0, 100.0);
        let burst = if r.unit() < 0.1 { r.unit() * 5e6 } else { 0.0 };
        let rx = r.unit() * 2e4 + work * r.unit() * 6e5 + burst;
        let tx = rx * (0.1 + r.unit() * 0.3) + if backup { 2e6 + r.unit() * 6e6 } else { 0.0 };
        BTreeMap::from([
            ("cpu".to_string(), cpu),
            ("mem".to_string(), mem.clamp(10.0, 97.0)),
            (format!("disk:{}", self.mount), disk.clamp(1.0, 99.0)),
            ("net_rx".to_string(), rx),
            ("net_tx".to_string(), tx),
        ])
    }
}

/// How busy the working day is at `at` (Unix seconds, UTC): 0 at night
/// and at weekends, 1 from 09:00 to 17:00 on weekdays, easing between.
pub fn working(at: i64) -> f64 {
    // 1970-01-01 was a Thursday: with this, 0 is Monday.
    let weekday = (at.div_euclid(86_400) + 3).rem_euclid(7);
    if weekday >= 5 {
        return 0.0;
    }
    let h = at.rem_euclid(86_400) as f64 / 3_600.0;
    let s = (h - 8.0).min(18.0 - h).clamp(0.0, 1.0);
    s * s * (3.0 - 2.0 * s)
}

/// Metrics that wander: a CPU that idles with bursts and follows the
/// working day, memory that drifts, a disk that fills slowly, network that
/// comes and goes, and a nightly backup.
pub struct Walk {
    rng: Rng,
    profile: Profile,
    /// How far memory has wandered from its profile.
    mem_drift: f64,
    disk: f64,
}

impl Walk {
    pub fn new(seed: u64) -> Walk {
        let profile = Profile::new(seed);
        Walk { rng: Rng::new(seed.wrapping_mul(37)), disk: profile.disk, profile, mem_drift: 0.0 }
    }

    /// A sample now.
    pub fn sample(&mut self) -> BTreeMap<String, f64> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.sample_at(now)
    }

    /// A sample at `at` (Unix seconds); one is taken a minute by default.
    pub fn sample_at(&mut self, at: i64) -> BTreeMap<String, f64> {
        let p = &self.profile;
        self.mem_drift = (self.mem_drift + (self.rng.unit() - 0.5) * 2.0).clamp(-10.0, 10.0);
        self.disk = (self.disk + self.rng.unit() * 2.0 * p.disk_per_day / 1_440.0).min(99.0);
        let mem = p.mem + 6.0 * working(at) + self.mem_drift;
        p.values(at, &mut self.rng, mem, self.disk)
    }
}

/// What a simulated machine's agent would have sampled at `at`, before it
/// started at `until` (Unix seconds): the same levels, rhythm and noise as
/// [`Walk`], a disk that filled up to where the walk starts, memory that
/// meets the walk's first value. Pure: the same seed and times give the
/// same sample, whenever it is asked for (a demo writes a month of them).
pub fn past(seed: u64, at: i64, until: i64) -> BTreeMap<String, f64> {
    let p = Profile::new(seed);
    let mut r = Rng::new(seed ^ (at as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mem = p.mem + 6.0 * working(at) + p.wave(at) - p.wave(until);
    let disk = p.disk - p.disk_per_day * (until - at) as f64 / 86_400.0;
    p.values(at, &mut r, mem, disk)
}

/// What the simulated machine `seed` called `hostname` answers to a
/// script (see [`scripts`]): it is never run.
pub fn script_result(
    seed: u64,
    hostname: &str,
    id: String,
    s: &steward_protocol::command::RunScript,
) -> steward_protocol::messages::AgentMsg {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let a = scripts::answer(seed, hostname, s, now);
    steward_protocol::messages::AgentMsg::ScriptResult {
        id,
        exit_code: a.exit_code,
        stdout: a.stdout,
        stderr: a.stderr,
        stdout_truncated: a.stdout_truncated,
        stderr_truncated: false,
        duration_ms: a.duration_ms,
        error: a.error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_simulated_machine_is_stable_and_its_metrics_stay_in_range() {
        assert_eq!(inventory(7, "sim-7"), inventory(7, "sim-7"));
        assert_ne!(inventory(7, "sim-7").hardware.serial, inventory(8, "sim-8").hardware.serial);
        let mut w = Walk::new(3);
        for i in 0..1000 {
            let s = if i % 2 == 0 { w.sample() } else { w.sample_at(1_764_000_000 + i * 60) };
            assert!(["cpu", "mem"].iter().all(|k| (0.0..=100.0).contains(&s[*k])), "{s:?}");
            assert!(s.keys().any(|k| k.starts_with("disk:")) && s["net_rx"] >= 0.0);
        }
    }

    /// Monday 2025-11-24, 00:00 UTC.
    const MONDAY: i64 = 1_763_942_400;

    #[test]
    fn the_working_day_is_busier_than_the_night_and_the_weekend() {
        assert_eq!((working(MONDAY + 3 * 3_600), working(MONDAY + 12 * 3_600)), (0.0, 1.0));
        assert_eq!(working(MONDAY + 5 * 86_400 + 12 * 3_600), 0.0, "Saturday");
        let cpu = |from: i64| (0..60).map(|m| past(11, from + m * 60, MONDAY + 7 * 86_400)["cpu"]).sum::<f64>();
        assert!(cpu(MONDAY + 11 * 3_600) > cpu(MONDAY + 22 * 3_600), "midday busier than late evening");
    }

    proptest! {
        /// The past is in range, the same whenever asked, has the series
        /// the live walk sends, a disk that only fills, and meets the walk
        /// where it starts.
        #[test]
        fn the_past_is_stable_in_range_and_leads_into_the_walk(seed in any::<u64>(), until in 1_700_000_000i64..1_900_000_000, back in 60i64..40 * 86_400) {
            let at = until - back;
            let s = past(seed, at, until);
            prop_assert_eq!(&s, &past(seed, at, until));
            let live = Walk::new(seed).sample_at(until);
            prop_assert_eq!(s.keys().collect::<Vec<_>>(), live.keys().collect::<Vec<_>>());
            for (k, v) in &s {
                let hi = if k.starts_with("net") { 1e12 } else { 100.0 };
                prop_assert!(v.is_finite() && (0.0..=hi).contains(v), "{} = {}", k, v);
            }
            let disk = |m: &BTreeMap<String, f64>| m.iter().find(|(k, _)| k.starts_with("disk:")).map(|(_, v)| *v).unwrap();
            prop_assert!(disk(&s) <= disk(&past(seed, at + 60, until)));
            let end = past(seed, until, until);
            prop_assert!((disk(&end) - disk(&live)).abs() < 0.01 && (end["mem"] - live["mem"]).abs() <= 1.0);
        }
    }
}
