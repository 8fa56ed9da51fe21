//! Inventory and metrics of a Windows machine: the OS, hardware, disks and
//! network interfaces through `sysinfo` (safe calls into the Windows API;
//! CPU use comes from the performance counters, PDH), installed software
//! from the registry's Uninstall keys (read with `reg query`) and services
//! with `sc query` (parsed in `windows_text`), so the agent needs no Windows
//! bindings of its own. Wine (where CI runs the Windows build) does not
//! implement PDH, so the sampler is exercised on real Windows only.

use super::windows_text::{parse_services, parse_uninstall};
use std::collections::BTreeMap;
use std::time::Instant;
use steward_protocol::report::{Disk, Hardware, Interface, Inventory, OsInfo};
use sysinfo::{Disks, Networks, System};

/// Where installed programs register (64- and 32-bit).
const UNINSTALL: [&str; 2] =
    [r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall", r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"];

/// Every volume: its name, size and space free (bytes).
pub fn volumes() -> Vec<(String, u64, u64)> {
    Disks::new_with_refreshed_list()
        .map(|ds| ds.iter().filter(|d| d.total_space() > 0).map(|d| (disk_name(d), d.total_space(), d.available_space())).collect())
        .unwrap_or_default()
}

fn disk_name(d: &sysinfo::Disk) -> String {
    d.mount_point().display().to_string().trim_end_matches('\\').to_string()
}

pub fn inventory() -> Inventory {
    let mut sys = System::new().ok();
    if let Some(s) = sys.as_mut() {
        s.refresh_memory();
        s.refresh_cpu_all();
    }
    let software =
        UNINSTALL.iter().flat_map(|k| parse_uninstall(&super::command_output("reg", &["query", k, "/s"]).unwrap_or_default())).collect();
    let services = parse_services(&super::command_output("sc", &["query", "type=", "service", "state=", "all"]).unwrap_or_default());
    let interfaces = Networks::new_with_refreshed_list()
        .into_iter()
        .flat_map(|n| n.iter().map(|(k, v)| (k.clone(), v.mac_address(), v.ip_networks().to_vec())).collect::<Vec<_>>())
        .map(|(name, mac, ips)| Interface {
            name: name.to_string_lossy().into_owned(),
            mac: mac.to_string(),
            addresses: ips.iter().map(|ip| format!("{}/{}", ip.addr, ip.prefix)).collect(),
        })
        .collect();
    let disks = Disks::new_with_refreshed_list()
        .map(|ds| {
            ds.iter()
                .map(|d| Disk { mount: disk_name(d), fs: d.file_system().to_string_lossy().into_owned(), total_bytes: d.total_space() })
                .collect()
        })
        .unwrap_or_default();
    Inventory {
        hostname: System::host_name().unwrap_or_else(|_| crate::hostname()),
        os: OsInfo {
            family: "windows".into(),
            name: System::long_os_version().or_else(|_| System::name()).unwrap_or_else(|_| "Windows".into()),
            version: System::os_version().unwrap_or_default(),
            kernel: System::kernel_version().unwrap_or_default(),
            arch: std::env::consts::ARCH.into(),
        },
        hardware: Hardware {
            cpu_model: sys.as_ref().and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string())).unwrap_or_default(),
            cpu_cores: sys.as_ref().map(|s| s.cpus().len() as u32).unwrap_or(0),
            memory_bytes: sys.as_ref().map(System::total_memory).unwrap_or(0),
            ..Default::default()
        },
        disks,
        interfaces,
        // `query user` (quser) lists sessions; it exits non-zero when nobody
        // is signed in, which reads as none.
        users: super::user_names(super::command_output("query", &["user"]).unwrap_or_default().lines().skip(1)),
        software,
        services,
        boot_time: System::boot_time().map(|t| t as i64).unwrap_or(0),
    }
}

/// Keeps the previous readings, so CPU and network are measured between samples.
/// What could not be opened is left out of the samples.
pub struct Sampler {
    sys: Option<System>,
    disks: Option<Disks>,
    nets: Option<Networks>,
    at: Instant,
}

impl Sampler {
    pub fn new() -> Self {
        let mut sys = System::new().ok();
        if let Some(s) = sys.as_mut() {
            s.refresh_cpu_usage();
        }
        Sampler { sys, disks: Disks::new_with_refreshed_list().ok(), nets: Networks::new_with_refreshed_list().ok(), at: Instant::now() }
    }

    pub fn sample(&mut self) -> BTreeMap<String, f64> {
        let mut v = BTreeMap::new();
        if let Some(sys) = self.sys.as_mut() {
            sys.refresh_cpu_usage();
            v.insert("cpu".into(), (sys.global_cpu_usage() as f64).clamp(0.0, 100.0));
            sys.refresh_memory();
            let total = sys.total_memory();
            if total > 0 {
                v.insert("mem".into(), total.saturating_sub(sys.available_memory()) as f64 * 100.0 / total as f64);
            }
        }
        if let Some(disks) = self.disks.as_mut() {
            disks.refresh(true);
            for d in disks.iter().filter(|d| d.total_space() > 0) {
                let used = d.total_space().saturating_sub(d.available_space());
                v.insert(format!("disk:{}", disk_name(d)), used as f64 * 100.0 / d.total_space() as f64);
            }
        }
        let secs = self.at.elapsed().as_secs_f64().max(0.001);
        if let Some(nets) = self.nets.as_mut() {
            nets.refresh(true);
            let (rx, tx) = nets
                .iter()
                .filter(|(name, _)| !name.to_string_lossy().to_lowercase().contains("loopback"))
                .fold((0u64, 0u64), |(r, t), (_, n)| (r + n.received(), t + n.transmitted()));
            v.insert("net_rx".into(), rx as f64 / secs);
            v.insert("net_tx".into(), tx as f64 / secs);
        }
        self.at = Instant::now();
        v
    }
}
