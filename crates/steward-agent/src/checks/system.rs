//! The checks that ask the operating system: services, processes, ping,
//! the system log, a pending restart and the security posture (antivirus,
//! firewall, disk encryption). Programs are started with their arguments
//! as a list, never through a shell, and a name from the server that could
//! pass for an option is refused. Parsing of the programs' output is pure
//! and tested on every OS.

use std::process::{Command, Stdio};

/// Runs a program; its exit status and standard output (`None`: missing).
fn run(program: &str, args: &[&str]) -> Option<(bool, String)> {
    let out = Command::new(program).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    Some((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// A name safe to hand a program as an argument: letters, digits and
/// `@ . _ : -`, not starting with `-`.
pub fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && !s.starts_with('-')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | ':' | '-' | ' ' | '$'))
}

/// Whether a service runs; when stopped and `restart`, starts it once.
/// Returns (running, what was found, whether it was restarted now).
pub fn service(name: &str, restart: bool) -> (bool, String, bool) {
    if !safe_name(name) {
        return (false, format!("{name:?} is not a service name"), false);
    }
    let state = service_state(name);
    if state.as_deref() == Some("running") {
        return (true, format!("{name} is running"), false);
    }
    let was = state.unwrap_or_else(|| "not found".into());
    if !restart {
        return (false, format!("{name} is {was}"), false);
    }
    start_service(name);
    std::thread::sleep(std::time::Duration::from_secs(2));
    match service_state(name).as_deref() {
        Some("running") => (true, format!("{name} was {was}; the agent started it"), true),
        now => (false, format!("{name} was {was}; the agent tried to start it and it is {}", now.unwrap_or("not found")), true),
    }
}

#[cfg(not(windows))]
fn service_state(name: &str) -> Option<String> {
    let (_, out) = run("systemctl", &["is-active", name])?;
    let s = out.trim();
    Some(if s == "active" { "running".into() } else { s.to_string() }).filter(|s| !s.is_empty())
}

#[cfg(windows)]
fn service_state(name: &str) -> Option<String> {
    let (_, out) = run("sc", &["query", name])?;
    sc_state(&out)
}

#[cfg(not(windows))]
fn start_service(name: &str) {
    let _ = run("systemctl", &["start", name]);
}

#[cfg(windows)]
fn start_service(name: &str) {
    let _ = run("sc", &["start", name]);
}

/// `sc query`'s state ("running", "stopped"…), `None` when not found.
#[cfg_attr(not(windows), allow(dead_code))] // Windows' output, parsed and tested everywhere
pub fn sc_state(out: &str) -> Option<String> {
    out.lines().find_map(|l| l.trim().strip_prefix("STATE").map(|s| s.split_whitespace().last().unwrap_or("").to_lowercase()))
}

/// Whether a process of this name runs.
pub fn process(name: &str) -> (bool, String) {
    if !safe_name(name) {
        return (false, format!("{name:?} is not a process name"));
    }
    let n = count_processes(name);
    if n > 0 {
        (true, format!("{n} {name} running"))
    } else {
        (false, format!("no {name} running"))
    }
}

#[cfg(not(windows))]
fn count_processes(name: &str) -> usize {
    // `comm` is cut at 15 bytes; the program's own path is not.
    let short: String = name.chars().take(15).collect();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter(|e| {
            let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            let argv0 = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let argv0 = String::from_utf8_lossy(argv0.split(|b| *b == 0).next().unwrap_or_default()).into_owned();
            comm.trim() == short || argv0.rsplit('/').next() == Some(name)
        })
        .count()
}

#[cfg(windows)]
fn count_processes(name: &str) -> usize {
    let image = if name.to_lowercase().ends_with(".exe") { name.to_string() } else { format!("{name}.exe") };
    let filter = format!("IMAGENAME eq {image}");
    run("tasklist", &["/FI", &filter, "/NH", "/FO", "CSV"]).map(|(_, out)| tasklist_count(&out, &image)).unwrap_or(0)
}

/// Rows of `tasklist /FO CSV /NH` naming `image`.
#[cfg_attr(not(windows), allow(dead_code))] // Windows' output, parsed and tested everywhere
pub fn tasklist_count(out: &str, image: &str) -> usize {
    out.lines().filter(|l| l.trim_start_matches('"').to_lowercase().starts_with(&format!("{}\"", image.to_lowercase()))).count()
}

/// The round trip of one echo in ms, `None` without an answer.
pub fn ping(host: &str, timeout_ms: u32) -> Option<f64> {
    if !safe_name(host) || host.contains(' ') {
        return None;
    }
    #[cfg(windows)]
    let out = run("ping", &["-n", "1", "-w", &timeout_ms.to_string(), host])?;
    #[cfg(not(windows))]
    let out = run("ping", &["-n", "-c", "1", "-W", &timeout_ms.div_ceil(1000).max(1).to_string(), host])?;
    out.0.then(|| ping_ms(&out.1)).flatten()
}

/// The time of a ping's answer: `time=12.3 ms` (Linux), `time=12ms` or
/// `time<1ms` (Windows).
pub fn ping_ms(out: &str) -> Option<f64> {
    let at = out.find("time=").map(|i| i + 5).or_else(|| out.find("time<").map(|i| i + 5))?;
    let digits: String = out[at..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    digits.parse().ok()
}

/// What an event-log check looks for.
pub struct LogQuery {
    pub source: Option<String>,
    #[cfg_attr(not(windows), allow(dead_code))]
    pub event_id: Option<u32>,
    pub level: Option<String>,
    pub text: Option<String>,
    /// Unix seconds.
    pub since: i64,
}

/// Matching entries since `q.since` (`None`: the log could not be read).
#[cfg(not(windows))]
pub fn event_log(q: &LogQuery) -> Option<Vec<String>> {
    let since = format!("--since=@{}", q.since);
    let mut args = vec!["--no-pager", "-q", "-o", "short-iso", since.as_str()];
    let source;
    if let Some(s) = q.source.as_deref() {
        if !safe_name(s) {
            return None;
        }
        source = s.to_string();
        args.push(if source.ends_with(".service") { "-u" } else { "-t" });
        args.push(source.as_str());
    }
    let priority = q.level.as_deref().map(journal_priority);
    if let Some(p) = priority {
        args.extend(["-p", p]);
    }
    let (ok, out) = run("journalctl", &args)?;
    ok.then(|| matching(&out, q.text.as_deref()))
}

/// journald's priority for a level name ("that level or worse").
#[cfg_attr(windows, allow(dead_code))]
pub fn journal_priority(level: &str) -> &'static str {
    match level {
        "error" => "err",
        "warning" => "warning",
        _ => "info",
    }
}

#[cfg(windows)]
pub fn event_log(q: &LogQuery) -> Option<Vec<String>> {
    let query = windows_event_query(q, crate::link::now())?;
    let mut found = vec![];
    for log in ["System", "Application"] {
        let (ok, out) = run("wevtutil", &["qe", log, &format!("/q:{query}"), "/f:text", "/c:50", "/rd:true"])?;
        if ok {
            found.extend(matching(&wevtutil_messages(&out).join("\n"), q.text.as_deref()));
        }
    }
    Some(found)
}

/// The XPath `wevtutil qe /q:` takes for a query (`None`: a source that
/// could break out of it).
#[cfg_attr(not(windows), allow(dead_code))] // Windows' output, parsed and tested everywhere
pub fn windows_event_query(q: &LogQuery, now: i64) -> Option<String> {
    let mut parts = vec![];
    if let Some(s) = q.source.as_deref() {
        if !safe_name(s) {
            return None;
        }
        parts.push(format!("Provider[@Name='{s}']"));
    }
    if let Some(id) = q.event_id {
        parts.push(format!("(EventID={id})"));
    }
    if let Some(l) = q.level.as_deref() {
        // 1 critical, 2 error, 3 warning, 4 information.
        let max = match l {
            "error" => 2,
            "warning" => 3,
            _ => 4,
        };
        parts.push(format!("(Level>=1 and Level<={max})"));
    }
    parts.push(format!("TimeCreated[timediff(@SystemTime) <= {}]", (now - q.since).max(1) * 1000));
    Some(format!("*[System[{}]]", parts.join(" and ")))
}

/// The `Description:` texts of `wevtutil /f:text` output, one per event.
#[cfg_attr(not(windows), allow(dead_code))] // Windows' output, parsed and tested everywhere
pub fn wevtutil_messages(out: &str) -> Vec<String> {
    let mut found = vec![];
    let mut lines = out.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "Description:" {
            found.push(lines.next().unwrap_or("").trim().to_string());
        }
    }
    found
}

/// Lines containing `text` (case-insensitive; every line when absent).
pub fn matching(out: &str, text: Option<&str>) -> Vec<String> {
    let want = text.map(str::to_lowercase);
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| want.as_ref().is_none_or(|w| l.to_lowercase().contains(w)))
        .map(str::to_string)
        .collect()
}

/// Whether the OS waits for a restart, and why.
#[cfg(not(windows))]
pub fn pending_reboot() -> (bool, String) {
    if std::path::Path::new("/var/run/reboot-required").exists() {
        let pkgs = std::fs::read_to_string("/var/run/reboot-required.pkgs").unwrap_or_default();
        let list: Vec<&str> = pkgs.lines().take(10).collect();
        return (
            true,
            format!("a restart is required{}", if list.is_empty() { String::new() } else { format!(" by {}", list.join(", ")) }),
        );
    }
    // RHEL and friends: exit code 1 means a restart is needed.
    if let Ok(s) = Command::new("needs-restarting").arg("-r").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        if s.code() == Some(1) {
            return (true, "needs-restarting says a restart is required".into());
        }
    }
    (false, "no restart pending".into())
}

#[cfg(windows)]
pub fn pending_reboot() -> (bool, String) {
    const KEYS: [&str; 2] = [
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired",
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending",
    ];
    for k in KEYS {
        if run("reg", &["query", k]).is_some_and(|(ok, _)| ok) {
            return (true, format!("a restart is required ({})", k.rsplit('\\').next().unwrap_or(k)));
        }
    }
    (false, "no restart pending".into())
}

/// Linux antivirus and EDR services looked for when a check names none.
#[cfg_attr(windows, allow(dead_code))]
const KNOWN_AV: [&str; 9] =
    ["clamav-daemon", "clamd", "falcon-sensor", "mdatp", "sentinelone", "cbagentd", "sophos-spl", "ds_agent", "wdavdaemon"];

/// Whether antivirus/EDR runs (and on Windows is up to date).
#[cfg(not(windows))]
pub fn antivirus(units: &[String]) -> (bool, String) {
    let running = |u: &str| safe_name(u) && service_state(u).as_deref() == Some("running");
    if units.is_empty() {
        return match KNOWN_AV.iter().find(|u| running(u)) {
            Some(u) => (true, format!("{u} is running")),
            None => (false, "no known antivirus or EDR service is running".into()),
        };
    }
    let stopped: Vec<&str> = units.iter().map(String::as_str).filter(|u| !running(u)).collect();
    if stopped.is_empty() {
        (true, format!("{} running", units.join(", ")))
    } else {
        (false, format!("not running: {}", stopped.join(", ")))
    }
}

#[cfg(windows)]
pub fn antivirus(_units: &[String]) -> (bool, String) {
    let script = "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntivirusProduct | ForEach-Object { \"$($_.displayName)|$($_.productState)\" }";
    match run("powershell", &["-NoProfile", "-NonInteractive", "-Command", script]) {
        Some((true, out)) => security_center(&out),
        _ => (false, "Windows Security Center could not be asked".into()),
    }
}

/// Reads `name|productState` lines from Security Center: a product is on
/// when bits 12–15 say 1, up to date when bits 4–7 say 0.
#[cfg_attr(not(windows), allow(dead_code))] // Windows' output, parsed and tested everywhere
pub fn security_center(out: &str) -> (bool, String) {
    let products: Vec<(String, bool, bool)> = out
        .lines()
        .filter_map(|l| {
            let (name, state) = l.trim().rsplit_once('|')?;
            let state: u32 = state.trim().parse().ok()?;
            Some((name.to_string(), (state >> 12) & 0xF == 1, (state >> 4) & 0xF == 0))
        })
        .collect();
    match products.iter().find(|p| p.1 && p.2) {
        Some(p) => (true, format!("{} is on and up to date", p.0)),
        None if products.iter().any(|p| p.1) => (false, format!("{} is on but out of date", products.iter().find(|p| p.1).expect("one").0)),
        None if !products.is_empty() => (false, format!("{} is off", products[0].0)),
        None => (false, "no antivirus registered with Windows Security Center".into()),
    }
}

/// Whether a host firewall is on.
#[cfg(not(windows))]
pub fn firewall() -> (bool, String) {
    if let Some((true, out)) = run("ufw", &["status"]) {
        if out.contains("Status: active") {
            return (true, "ufw is active".into());
        }
    }
    if let Some((true, out)) = run("firewall-cmd", &["--state"]) {
        if out.trim() == "running" {
            return (true, "firewalld is running".into());
        }
    }
    if let Some((true, out)) = run("nft", &["list", "ruleset"]) {
        if nft_filters(&out) {
            return (true, "nftables has input filtering rules".into());
        }
    }
    (false, "no firewall found on (ufw, firewalld, nftables)".into())
}

/// Whether an nftables ruleset filters incoming traffic.
#[cfg_attr(windows, allow(dead_code))]
pub fn nft_filters(ruleset: &str) -> bool {
    ruleset.lines().any(|l| l.contains("hook input"))
}

#[cfg(windows)]
pub fn firewall() -> (bool, String) {
    match run("netsh", &["advfirewall", "show", "allprofiles", "state"]) {
        Some((true, out)) => netsh_profiles(&out),
        _ => (false, "Windows Firewall could not be asked".into()),
    }
}

/// Every profile's `State ON` in `netsh advfirewall show allprofiles state`.
#[cfg_attr(not(windows), allow(dead_code))] // Windows' output, parsed and tested everywhere
pub fn netsh_profiles(out: &str) -> (bool, String) {
    let mut profile = String::new();
    let mut off = vec![];
    let mut seen = 0;
    for l in out.lines().map(str::trim) {
        if let Some(p) = l.strip_suffix("Settings:") {
            profile = p.trim().to_string();
        } else if let Some(s) = l.strip_prefix("State") {
            seen += 1;
            if !s.trim().eq_ignore_ascii_case("on") {
                off.push(profile.clone());
            }
        }
    }
    match (seen, off.is_empty()) {
        (0, _) => (false, "no firewall profile found".into()),
        (_, true) => (true, format!("all {seen} firewall profiles are on")),
        _ => (false, format!("off: {}", off.join(", "))),
    }
}

/// Whether the system volume is encrypted.
#[cfg(not(windows))]
pub fn disk_encryption() -> (bool, String) {
    let Some((true, source)) = run("findmnt", &["-n", "-o", "SOURCE", "/"]) else {
        return (false, "the root volume could not be found".into());
    };
    let source = source.trim().to_string();
    if !source.starts_with('/') {
        return (false, format!("the root volume is {source}, not a block device"));
    }
    match run("lsblk", &["-s", "-n", "-o", "TYPE", &source]) {
        Some((true, types)) if types.lines().any(|t| t.trim() == "crypt") => (true, format!("{source} is on LUKS")),
        Some((true, _)) => (false, format!("{source} is not encrypted")),
        _ => (false, format!("{source} could not be inspected")),
    }
}

#[cfg(windows)]
pub fn disk_encryption() -> (bool, String) {
    let drive = std::env::var("SystemDrive").unwrap_or_else(|_| "C:".into());
    match run("manage-bde", &["-status", &drive]) {
        Some((_, out)) => bitlocker(&out, &drive),
        None => (false, "BitLocker could not be asked".into()),
    }
}

/// `manage-bde -status`'s protection status.
#[cfg_attr(not(windows), allow(dead_code))] // Windows' output, parsed and tested everywhere
pub fn bitlocker(out: &str, drive: &str) -> (bool, String) {
    match out.lines().find_map(|l| l.trim().strip_prefix("Protection Status:")) {
        Some(s) if s.trim().eq_ignore_ascii_case("Protection On") => (true, format!("{drive} is protected by BitLocker")),
        Some(s) => (false, format!("{drive}: {}", s.trim())),
        None => (false, format!("{drive} has no BitLocker status")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_pass_for_options_are_refused() {
        assert!(safe_name("nginx.service") && safe_name("MSSQL$SQLEXPRESS") && safe_name("getty@tty1"));
        assert!(!safe_name("-rf") && !safe_name("a;b") && !safe_name("") && !safe_name("x'y"));
    }

    #[test]
    fn programs_output_reads() {
        assert_eq!(ping_ms("64 bytes from 1.1.1.1: icmp_seq=1 ttl=57 time=12.3 ms"), Some(12.3));
        assert_eq!(ping_ms("Reply from 10.0.0.1: bytes=32 time<1ms TTL=128"), Some(1.0));
        assert_eq!(ping_ms("Request timed out."), None);
        assert_eq!(sc_state("SERVICE_NAME: Spooler\r\n        STATE              : 1  STOPPED\r\n").as_deref(), Some("stopped"));
        assert_eq!(tasklist_count("\"sqlservr.exe\",\"4242\",\"Services\",\"0\",\"120,000 K\"\r\n", "sqlservr.exe"), 1);
        assert_eq!(tasklist_count("INFO: No tasks are running which match the specified criteria.", "sqlservr.exe"), 0);
        let netsh = "Domain Profile Settings:\r\n----\r\nState                                 ON\r\n\r\nPrivate Profile Settings:\r\nState   OFF\r\nPublic Profile Settings:\r\nState ON\r\nOk.\r\n";
        assert_eq!(netsh_profiles(netsh), (false, "off: Private Profile".into()));
        assert!(netsh_profiles(&netsh.replace("OFF", "ON")).0);
        assert!(bitlocker("    Protection Status:    Protection On\r\n", "C:").0);
        assert!(!bitlocker("    Protection Status:    Protection Off\r\n", "C:").0);
        // 397568 = 0x61100: on, up to date; 397584 = 0x61110: on, out of date.
        assert!(security_center("Windows Defender|397568\r\n").0);
        assert_eq!(security_center("Windows Defender|397584").1, "Windows Defender is on but out of date");
        assert!(nft_filters("table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}"));
        assert_eq!(matching("a OOM kill\nfine\n", Some("oom")), vec!["a OOM kill".to_string()]);
    }

    #[test]
    fn the_windows_event_query_is_built_from_safe_parts_only() {
        let q = LogQuery { source: Some("MSSQLSERVER".into()), event_id: Some(17890), level: Some("error".into()), text: None, since: 940 };
        assert_eq!(
            windows_event_query(&q, 1000).unwrap(),
            "*[System[Provider[@Name='MSSQLSERVER'] and (EventID=17890) and (Level>=1 and Level<=2) and TimeCreated[timediff(@SystemTime) <= 60000]]]"
        );
        let evil = LogQuery { source: Some("x'] or 1=1 or ['".into()), event_id: None, level: None, text: None, since: 0 };
        assert_eq!(windows_event_query(&evil, 10), None);
        let text = "Event[0]:\r\n  Log Name: System\r\nDescription:\r\nThe disk has a bad block.\r\n";
        assert_eq!(wevtutil_messages(text), vec!["The disk has a bad block.".to_string()]);
    }
}
