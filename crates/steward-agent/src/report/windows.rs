//! Inventory of a Windows machine: the OS, and installed software from the
//! registry's Uninstall keys (64- and 32-bit), read with `reg query` so the
//! agent needs no Windows API bindings. Metrics on Windows come later; the
//! sampler reports nothing yet, and the server shows no charts for it.

use std::collections::BTreeMap;
use steward_protocol::report::{Hardware, Inventory, OsInfo, Software};

const UNINSTALL: [&str; 2] =
    [r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall", r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"];

/// Parses `reg query KEY /s` output into (DisplayName, DisplayVersion, Publisher).
fn parse_uninstall(text: &str) -> Vec<Software> {
    let mut out = vec![];
    let mut cur: BTreeMap<&str, String> = BTreeMap::new();
    let mut flush = |cur: &mut BTreeMap<&str, String>| {
        if let Some(name) = cur.remove("DisplayName") {
            out.push(Software {
                name,
                version: cur.remove("DisplayVersion").unwrap_or_default(),
                publisher: cur.remove("Publisher").unwrap_or_default(),
            });
        }
        cur.clear();
    };
    for line in text.lines() {
        if line.starts_with("HKEY_") {
            flush(&mut cur);
            continue;
        }
        let f: Vec<&str> = line.trim().splitn(3, "    ").collect();
        if let [name @ ("DisplayName" | "DisplayVersion" | "Publisher"), _kind, value] = f[..] {
            cur.insert(name, value.trim().to_string());
        }
    }
    flush(&mut cur);
    out
}

pub fn inventory() -> Inventory {
    let ver = super::command_output("cmd", &["/c", "ver"]).unwrap_or_default();
    let software =
        UNINSTALL.iter().flat_map(|k| parse_uninstall(&super::command_output("reg", &["query", k, "/s"]).unwrap_or_default())).collect();
    Inventory {
        hostname: crate::hostname(),
        os: OsInfo { family: "windows".into(), name: ver.trim().to_string(), arch: std::env::consts::ARCH.into(), ..Default::default() },
        hardware: Hardware {
            cpu_cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(0),
            cpu_model: std::env::var("PROCESSOR_IDENTIFIER").unwrap_or_default(),
            ..Default::default()
        },
        software,
        ..Default::default()
    }
}

pub struct Sampler;

impl Sampler {
    pub fn new() -> Self {
        Sampler
    }
    pub fn sample(&mut self) -> BTreeMap<String, f64> {
        BTreeMap::new()
    }
}
