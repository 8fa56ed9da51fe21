//! Inventory and metrics of a Linux machine, from /proc, /sys and the
//! package manager (dpkg or rpm), systemd and iproute2 where present.

use std::collections::BTreeMap;
use std::time::Instant;
use steward_protocol::report::{Disk, Hardware, Interface, Inventory, OsInfo, Service, Software};

fn read(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}

fn os_release() -> BTreeMap<String, String> {
    std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

fn meminfo() -> BTreeMap<String, u64> {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.to_string(), v.split_whitespace().next()?.parse::<u64>().ok()? * 1024))
        })
        .collect()
}

/// Real file systems worth reporting (not proc, tmpfs, cgroup…); the root
/// of a container's overlay counts too.
fn mounts() -> Vec<(String, String)> {
    const REAL: [&str; 13] = ["ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "vfat", "exfat", "ntfs", "ntfs3", "f2fs", "jfs", "reiserfs"];
    let mut seen = std::collections::HashSet::new();
    std::fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (dev, mount, fs) = (*f.first()?, f.get(1)?.replace("\\040", " "), *f.get(2)?);
            let wanted = REAL.contains(&fs) || (fs == "overlay" && mount == "/");
            (wanted && seen.insert(dev.to_string())).then(|| (mount, fs.to_string()))
        })
        .collect()
}

/// (total bytes, % used as `df` reports it).
fn disk_use(mount: &str) -> Option<(u64, f64)> {
    let s = rustix::fs::statvfs(mount).ok()?;
    let total = s.f_blocks.saturating_mul(s.f_frsize);
    let used = s.f_blocks.saturating_sub(s.f_bfree);
    let usable = used + s.f_bavail;
    Some((total, if usable == 0 { 0.0 } else { used as f64 * 100.0 / usable as f64 }))
}

/// Every real volume: its mount, size and space free to users (bytes).
pub fn volumes() -> Vec<(String, u64, u64)> {
    mounts()
        .into_iter()
        .filter_map(|(mount, _)| {
            let s = rustix::fs::statvfs(mount.as_str()).ok()?;
            Some((mount, s.f_blocks.saturating_mul(s.f_frsize), s.f_bavail.saturating_mul(s.f_frsize)))
        })
        .collect()
}

fn interfaces() -> Vec<Interface> {
    let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
    for e in std::fs::read_dir("/sys/class/net").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let mac = read(&format!("/sys/class/net/{name}/address"));
        by_name.insert(name.clone(), Interface { name, mac, addresses: vec![] });
    }
    // `ip -o addr`: "2: eth0    inet 10.0.0.5/24 brd … scope global eth0".
    for line in super::command_output("ip", &["-o", "addr", "show"]).unwrap_or_default().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let (Some(name), Some(&("inet" | "inet6")), Some(addr)) = (f.get(1), f.get(2), f.get(3)) {
            if let Some(i) = by_name.get_mut(name.trim_end_matches(':')) {
                i.addresses.push(addr.to_string());
            }
        }
    }
    by_name.into_values().collect()
}

fn software() -> Vec<Software> {
    let parse = |text: String| {
        text.lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some(Software {
                    name: f.next()?.to_string(),
                    version: f.next().unwrap_or("").to_string(),
                    publisher: f.next().unwrap_or("").to_string(),
                })
            })
            .collect()
    };
    if let Some(t) = super::command_output("dpkg-query", &["-W", "-f=${Package}\t${Version}\n"]) {
        return parse(t);
    }
    super::command_output("rpm", &["-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{VENDOR}\n"]).map(parse).unwrap_or_default()
}

fn services() -> Vec<Service> {
    super::command_output("systemctl", &["list-units", "--type=service", "--all", "--no-legend", "--plain", "--no-pager"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some(Service { name: f.first()?.trim_end_matches(".service").to_string(), state: f.get(3)?.to_string() })
        })
        .collect()
}

fn users() -> Vec<String> {
    super::user_names(super::command_output("who", &[]).unwrap_or_default().lines())
}

pub fn inventory() -> Inventory {
    let rel = os_release();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()));
    let boot_time = std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0);
    Inventory {
        hostname: crate::hostname(),
        os: OsInfo {
            family: "linux".into(),
            name: rel.get("PRETTY_NAME").or(rel.get("NAME")).cloned().unwrap_or_else(|| "Linux".into()),
            version: rel.get("VERSION_ID").cloned().unwrap_or_default(),
            kernel: read("/proc/sys/kernel/osrelease"),
            arch: std::env::consts::ARCH.into(),
        },
        hardware: Hardware {
            vendor: read("/sys/class/dmi/id/sys_vendor"),
            model: read("/sys/class/dmi/id/product_name"),
            // Readable by root only; empty otherwise.
            serial: read("/sys/class/dmi/id/product_serial"),
            cpu_model: cpu_model.unwrap_or_default(),
            cpu_cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(0),
            memory_bytes: meminfo().get("MemTotal").copied().unwrap_or(0),
        },
        disks: mounts().into_iter().filter_map(|(mount, fs)| Some(Disk { total_bytes: disk_use(&mount)?.0, mount, fs })).collect(),
        interfaces: interfaces(),
        users: users(),
        software: software(),
        services: services(),
        boot_time,
    }
}

/// (busy, total) CPU jiffies since boot.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// (received, sent) bytes on every interface but loopback.
fn net_bytes() -> (u64, u64) {
    std::fs::read_to_string("/proc/net/dev")
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            if name.trim() == "lo" {
                return None;
            }
            let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            Some((*f.first()?, *f.get(8)?))
        })
        .fold((0, 0), |(r, t), (a, b)| (r + a, t + b))
}

/// Remembers the previous reading, so CPU and network are measured between samples.
pub struct Sampler {
    cpu: Option<(u64, u64)>,
    net: (u64, u64),
    at: Instant,
}

impl Sampler {
    pub fn new() -> Self {
        Sampler { cpu: cpu_jiffies(), net: net_bytes(), at: Instant::now() }
    }

    pub fn sample(&mut self) -> BTreeMap<String, f64> {
        let mut v = BTreeMap::new();
        let cpu = cpu_jiffies();
        if let (Some((b0, t0)), Some((b1, t1))) = (self.cpu, cpu) {
            if t1 > t0 {
                v.insert("cpu".into(), ((b1 - b0) as f64 * 100.0 / (t1 - t0) as f64).clamp(0.0, 100.0));
            }
        }
        self.cpu = cpu;
        let m = meminfo();
        if let (Some(&total), Some(&avail)) = (m.get("MemTotal"), m.get("MemAvailable")) {
            if total > 0 {
                v.insert("mem".into(), (total.saturating_sub(avail)) as f64 * 100.0 / total as f64);
            }
        }
        for (mount, _) in mounts() {
            if let Some((_, pct)) = disk_use(&mount) {
                v.insert(format!("disk:{mount}"), pct.clamp(0.0, 100.0));
            }
        }
        let net = net_bytes();
        let secs = self.at.elapsed().as_secs_f64();
        if secs > 0.0 {
            v.insert("net_rx".into(), net.0.saturating_sub(self.net.0) as f64 / secs);
            v.insert("net_tx".into(), net.1.saturating_sub(self.net.1) as f64 / secs);
        }
        self.net = net;
        self.at = Instant::now();
        v
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_machine_reports_an_os_memory_and_a_sample() {
        let inv = super::inventory();
        assert_eq!(inv.os.family, "linux");
        assert!(!inv.os.kernel.is_empty() && inv.hardware.memory_bytes > 0 && inv.boot_time > 0, "{inv:?}");
        let mut s = super::Sampler::new();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let v = s.sample();
        assert!(v.get("mem").is_some_and(|m| (0.0..=100.0).contains(m)), "{v:?}");
        assert!(v.get("cpu").is_some_and(|c| (0.0..=100.0).contains(c)), "{v:?}");
    }
}
