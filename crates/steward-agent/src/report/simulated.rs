//! Believable made-up machines for `steward-agent simulate`: an OS,
//! hardware, disks, a network interface, software and services chosen from
//! the seed (so a simulated machine reports the same inventory every time),
//! and metrics that wander like a working machine's.

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

/// Metrics that wander: a CPU that idles with bursts, memory that drifts,
/// a disk that fills slowly, network that comes and goes.
pub struct Walk {
    rng: Rng,
    cpu_base: f64,
    mem: f64,
    disk: f64,
    mount: &'static str,
}

impl Walk {
    pub fn new(seed: u64) -> Walk {
        let mut rng = Rng::new(seed.wrapping_mul(31));
        let (cpu_base, mem, disk) = (3.0 + rng.unit() * 20.0, 35.0 + rng.unit() * 40.0, 20.0 + rng.unit() * 65.0);
        Walk { rng, cpu_base, mem, disk, mount: if is_windows(seed) { "C:" } else { "/" } }
    }

    pub fn sample(&mut self) -> BTreeMap<String, f64> {
        let r = &mut self.rng;
        let burst = if r.unit() < 0.08 { 40.0 + r.unit() * 50.0 } else { 0.0 };
        let cpu = (self.cpu_base + (r.unit() - 0.5) * 8.0 + burst).clamp(0.0, 100.0);
        self.mem = (self.mem + (r.unit() - 0.5) * 2.0).clamp(10.0, 97.0);
        self.disk = (self.disk + r.unit() * 0.01).min(99.0);
        let net = if r.unit() < 0.2 { r.unit() * 5e6 } else { r.unit() * 2e4 };
        BTreeMap::from([
            ("cpu".to_string(), cpu),
            ("mem".to_string(), self.mem),
            (format!("disk:{}", self.mount), self.disk),
            ("net_rx".to_string(), net),
            ("net_tx".to_string(), net * (0.1 + r.unit() * 0.3)),
        ])
    }
}

/// What a simulated machine answers to a script: it is not run (a
/// simulator must never execute anything on its host), and says so.
pub fn script_result(id: String, s: &steward_protocol::command::RunScript) -> steward_protocol::messages::AgentMsg {
    steward_protocol::messages::AgentMsg::ScriptResult {
        id,
        exit_code: Some(0),
        stdout: format!("(simulated machine: this {} script was not executed)\n", s.shell),
        stderr: String::new(),
        stdout_truncated: false,
        stderr_truncated: false,
        duration_ms: 5,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simulated_machine_is_stable_and_its_metrics_stay_in_range() {
        assert_eq!(inventory(7, "sim-7"), inventory(7, "sim-7"));
        assert_ne!(inventory(7, "sim-7").hardware.serial, inventory(8, "sim-8").hardware.serial);
        let mut w = Walk::new(3);
        for _ in 0..1000 {
            let s = w.sample();
            assert!(["cpu", "mem"].iter().all(|k| (0.0..=100.0).contains(&s[*k])), "{s:?}");
            assert!(s.keys().any(|k| k.starts_with("disk:")) && s["net_rx"] >= 0.0);
        }
    }
}
