//! Parsing what Windows tools print (`reg query`, `sc query`): pure, and
//! compiled everywhere so its tests run on the Linux CI too.
#![cfg_attr(not(windows), allow(dead_code))]

use std::collections::BTreeMap;
use steward_protocol::report::{Service, Software};

/// Parses `reg query KEY /s` output into (DisplayName, DisplayVersion, Publisher).
pub fn parse_uninstall(text: &str) -> Vec<Software> {
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

/// Parses `sc query type= service state= all`: SERVICE_NAME and its STATE.
pub fn parse_services(text: &str) -> Vec<Service> {
    let mut out: Vec<Service> = vec![];
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("SERVICE_NAME:") {
            out.push(Service { name: name.trim().to_string(), state: String::new() });
        } else if let (Some(state), Some(last)) = (line.strip_prefix("STATE"), out.last_mut()) {
            // "STATE              : 4  RUNNING"
            last.state = state.split_whitespace().last().unwrap_or("").to_lowercase();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sc_and_reg_output_parse() {
        let sc = "SERVICE_NAME: Spooler\r\nDISPLAY_NAME: Print Spooler\r\n        TYPE               : 110  WIN32_OWN_PROCESS\r\n        STATE              : 4  RUNNING\r\n\r\nSERVICE_NAME: wuauserv\r\n        STATE              : 1  STOPPED\r\n";
        let s = super::parse_services(sc);
        assert_eq!(
            s.iter().map(|x| (x.name.as_str(), x.state.as_str())).collect::<Vec<_>>(),
            [("Spooler", "running"), ("wuauserv", "stopped")]
        );
        let reg = "HKEY_LOCAL_MACHINE\\...\\7-Zip\r\n    DisplayName    REG_SZ    7-Zip 24.08 (x64)\r\n    DisplayVersion    REG_SZ    24.08\r\n    Publisher    REG_SZ    Igor Pavlov\r\n";
        let sw = super::parse_uninstall(reg);
        assert_eq!((sw[0].name.as_str(), sw[0].version.as_str(), sw[0].publisher.as_str()), ("7-Zip 24.08 (x64)", "24.08", "Igor Pavlov"));
    }
}
