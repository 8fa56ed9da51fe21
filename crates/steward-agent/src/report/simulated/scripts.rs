//! What a simulated machine answers to a script, without running anything
//! (a simulator must never execute what it is sent on the machine it lives
//! on): for the scripts of Steward's demo library, what the real script
//! would print on this made-up machine (its OS, host name, disk and users,
//! from the seed); for any other, a note that it was not executed. A
//! command carries a script's shell, body and parameters, not its name, so
//! a library script is known by a command its body runs.
//!
//! Pure: the same machine, script and time give the same answer.

use super::{inventory, is_windows, Profile, Rng};
use steward_protocol::command::RunScript;

/// How a simulated run ended, as the agent reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub duration_ms: u64,
    /// Why it did not run (the interpreter is not on this OS).
    pub error: Option<String>,
}

impl Answer {
    fn ok(stdout: String, duration_ms: u64) -> Answer {
        Answer { exit_code: Some(0), stdout, stderr: String::new(), stdout_truncated: false, duration_ms, error: None }
    }

    fn exit(self, code: i32) -> Answer {
        Answer { exit_code: Some(code), ..self }
    }

    fn with_stderr(self, stderr: String) -> Answer {
        Answer { stderr, ..self }
    }

    fn cannot_start(error: String) -> Answer {
        Answer {
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_truncated: false,
            duration_ms: 3,
            error: Some(error),
        }
    }
}

/// The demo library's scripts, each known by a command only it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    LinuxCleanUp,
    WindowsCleanUp,
    Spooler,
    LocalAdmins,
    Sudoers,
    BitLocker,
    FlushDns,
    CollectLogs,
    Ping,
}

const KNOWN: [(&str, Known); 9] = [
    ("journalctl --vacuum-time", Known::LinuxCleanUp),
    ("SoftwareDistribution", Known::WindowsCleanUp),
    ("Start-Service Spooler", Known::Spooler),
    ("Get-LocalGroupMember", Known::LocalAdmins),
    ("/etc/sudoers", Known::Sudoers),
    ("Get-BitLockerVolume", Known::BitLocker),
    ("ipconfig /flushdns", Known::FlushDns),
    ("journalctl --since", Known::CollectLogs),
    ("ping -c", Known::Ping),
];

/// Which library script `body` is, if any.
pub fn known(body: &str) -> Option<Known> {
    KNOWN.iter().find(|(marker, _)| body.contains(marker)).map(|(_, k)| *k)
}

/// What `hostname` (the simulated machine of `seed`) answers to `s` at
/// `now` (Unix seconds).
pub fn answer(seed: u64, hostname: &str, s: &RunScript, now: i64) -> Answer {
    if let Some(refused) = interpreter_missing(is_windows(seed), &s.shell) {
        return Answer::cannot_start(refused);
    }
    let m = Machine { seed, host: hostname };
    let param = |name: &str, default: &str| s.params.get(name).cloned().unwrap_or_else(|| default.to_string());
    let mut a = match known(&s.script) {
        Some(Known::LinuxCleanUp) => m.linux_clean_up(&param("days", "14")),
        Some(Known::WindowsCleanUp) => m.windows_clean_up(),
        Some(Known::Spooler) => m.spooler(),
        Some(Known::LocalAdmins) => m.local_admins(),
        Some(Known::Sudoers) => m.sudoers(),
        Some(Known::BitLocker) => m.bitlocker(),
        Some(Known::FlushDns) => m.flush_dns(),
        Some(Known::CollectLogs) => m.collect_logs(&param("hours", "24"), now),
        Some(Known::Ping) => m.ping(&param("host", "")),
        None => Answer::ok(format!("({hostname} is a simulated machine: this {} script was not executed)\n", s.shell), 5),
    };
    let cap = s.max_output_bytes as usize;
    if a.stdout.len() > cap {
        let mut cut = cap;
        while !a.stdout.is_char_boundary(cut) {
            cut -= 1;
        }
        a.stdout.truncate(cut);
        a.stdout_truncated = true;
    }
    a
}

/// The real agent's refusal when the shell's interpreter is not on the
/// machine's OS (see `crate::scripts`), as its error would read.
fn interpreter_missing(win: bool, shell: &str) -> Option<String> {
    match (win, shell) {
        (true, "bash" | "sh" | "python") => Some(format!("cannot start {shell}: program not found")),
        (false, "powershell") => Some("cannot start pwsh: No such file or directory (os error 2)".into()),
        (false, "cmd") => Some("cmd scripts do not run on this OS".into()),
        _ => None,
    }
}

/// Windows' console writes CRLF.
fn crlf(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

/// PowerShell's `Format-Table -AutoSize`: a blank line, the headers, their
/// underlines, the rows, two blank lines; columns as wide as their widest
/// cell, numbers right-aligned, the last column not padded.
fn format_table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let widths: Vec<usize> =
        headers.iter().enumerate().map(|(i, h)| rows.iter().map(|r| r[i].len()).chain([h.len()]).max().unwrap_or(0)).collect();
    let line = |cells: Vec<String>| -> String {
        let n = cells.len();
        let padded: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| match (right[i], i + 1 == n) {
                (true, _) => format!("{c:>w$}", w = widths[i]),
                (false, false) => format!("{c:<w$}", w = widths[i]),
                (false, true) => c,
            })
            .collect();
        padded.join(" ")
    };
    let mut out = vec![String::new(), line(headers.iter().map(|h| h.to_string()).collect())];
    out.push(line(headers.iter().map(|h| "-".repeat(h.len())).collect()));
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.extend([String::new(), String::new()]);
    crlf(&out)
}

/// Thousands separated by commas, as PowerShell's `N0` in en-US.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Year, month (1–12) and day of a day counted from 1970-01-01 (the
/// proleptic Gregorian calendar; Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// A journal time stamp: `Dec 02 05:01:13`.
fn journal_time(at: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (_, month, day) = civil(at.div_euclid(86_400));
    let s = at.rem_euclid(86_400);
    format!("{} {day:02} {:02}:{:02}:{:02}", MONTHS[month as usize - 1], s / 3_600, s / 60 % 60, s % 60)
}

fn hex(r: &mut Rng, len: usize) -> String {
    (0..len).map(|_| char::from_digit((r.next_u64() % 16) as u32, 16).expect("a hex digit")).collect()
}

/// The machine a script runs on.
struct Machine<'a> {
    seed: u64,
    host: &'a str,
}

impl Machine<'_> {
    /// Random numbers for one script on this machine: the same each time.
    fn rng(&self, script: u64) -> Rng {
        Rng::new(self.seed ^ script.wrapping_mul(0xA24B_AED4_963E_E407))
    }

    /// The NetBIOS domain: the letters the host name starts with (the demo
    /// names hosts after their client's initials).
    fn domain(&self) -> String {
        let d: String = self.host.chars().take_while(char::is_ascii_alphabetic).collect::<String>().to_uppercase();
        if d.is_empty() {
            "CORP".into()
        } else {
            d
        }
    }

    fn rocky(&self) -> bool {
        inventory(self.seed, self.host).os.name.starts_with("Rocky")
    }

    /// The root disk's size in GiB and use in %.
    fn disk(&self) -> (u64, f64) {
        let inv = inventory(self.seed, self.host);
        (inv.disks.first().map_or(256, |d| d.total_bytes >> 30), Profile::new(self.seed).disk)
    }

    fn linux_clean_up(&self, days: &str) -> Answer {
        let Ok(days) = days.trim().parse::<u32>() else {
            return Answer::ok(String::new(), 40).with_stderr(format!("Failed to parse vacuum time: {days}d\n")).exit(1);
        };
        let mut r = self.rng(1);
        let machine_id = hex(&mut r, 32);
        let dir = format!("/var/log/journal/{machine_id}");
        let mut err = vec!["Vacuuming done, freed 0B of archived journals from /var/log/journal.".to_string()];
        let mut freed_journal = 0.0;
        for i in 0..(90u32.saturating_sub(days) / 20) {
            let size = 8.0 * (1 + r.next_u64() % 16) as f64;
            freed_journal += size;
            let unit = if i % 3 == 2 { "user-1000" } else { "system" };
            err.push(format!(
                "Deleted archived journal {dir}/{unit}@{}-{:016x}-{:016x}.journal ({size:.1}M).",
                hex(&mut r, 32),
                r.next_u64() >> 20,
                r.next_u64() >> 12
            ));
        }
        err.push(format!("Vacuuming done, freed {freed_journal:.1}M of archived journals from {dir}."));
        err.push("Vacuuming done, freed 0B of archived journals from /run/log/journal.".into());
        let cache = 50 + r.next_u64() % 1_400;
        let mut out = vec![];
        if self.rocky() {
            out.push(format!("{} files removed", 20 + r.next_u64() % 200));
        }
        out.push(format!("freed {} MiB on /", cache + freed_journal as u64));
        let text = |l: Vec<String>| l.into_iter().map(|l| l + "\n").collect::<String>();
        Answer::ok(text(out), 2_000 + r.next_u64() % 9_000).with_stderr(text(err))
    }

    fn windows_clean_up(&self) -> Answer {
        let mut r = self.rng(2);
        let freed = 150 + r.next_u64() % 4_800;
        Answer::ok(crlf(&[format!("freed {} MiB on C:", thousands(freed))]), 6_000 + r.next_u64() % 30_000)
    }

    fn spooler(&self) -> Answer {
        let lines = ["", "Name   : Spooler", "Status : Running", "", ""].map(String::from);
        Answer::ok(crlf(&lines), 2_500 + self.rng(3).next_u64() % 2_000)
    }

    fn local_admins(&self) -> Answer {
        let mut r = self.rng(4);
        let (host, domain) = (self.host.to_uppercase(), self.domain());
        let row = |name: String, class: &str, source: &str| vec![name, class.to_string(), source.to_string()];
        let mut rows = vec![
            row(format!("{host}\\Administrator"), "User", "Local"),
            row(format!("{domain}\\Domain Admins"), "Group", "ActiveDirectory"),
            row(format!("{host}\\msp-admin"), "User", "Local"),
        ];
        // The finding that makes the script worth running: a user who
        // should not administer the machine.
        if r.unit() < 0.35 {
            rows.push(row(format!("{domain}\\user{}", self.seed % 50), "User", "ActiveDirectory"));
        }
        let table = format_table(&["Name", "ObjectClass", "PrincipalSource"], &rows, &[false, false, false]);
        Answer::ok(table, 900 + r.next_u64() % 600)
    }

    fn sudoers(&self) -> Answer {
        let mut r = self.rng(5);
        let mut members = vec!["ops"];
        if r.unit() < 0.4 {
            members.push(*r.pick(&["deploy", "jbauer", "backup"]));
        }
        let rocky = self.rocky();
        let mut out = vec![format!("{}:{}", if rocky { "wheel:x:10" } else { "sudo:x:27" }, members.join(","))];
        let defaults: &[&str] = if rocky {
            &[
                "Defaults   !visiblepw",
                "Defaults    always_set_home",
                "Defaults    match_group_by_gid",
                "Defaults    always_query_group_plugin",
                "Defaults    env_reset",
                "Defaults    secure_path = /sbin:/bin:/usr/sbin:/usr/bin",
                "root\tALL=(ALL) \tALL",
                "%wheel\tALL=(ALL)\tALL",
                "@includedir /etc/sudoers.d",
            ]
        } else {
            &[
                "Defaults\tenv_reset",
                "Defaults\tmail_badpass",
                "Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"",
                "Defaults\tuse_pty",
                "root\tALL=(ALL:ALL) ALL",
                "%sudo\tALL=(ALL:ALL) ALL",
                "@includedir /etc/sudoers.d",
            ]
        };
        out.extend(defaults.iter().map(|l| l.to_string()));
        out.push("ops ALL=(ALL) NOPASSWD: ALL".into());
        if members.contains(&"deploy") {
            out.push("deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx, /usr/bin/systemctl reload nginx".into());
        }
        Answer::ok(out.into_iter().map(|l| l + "\n").collect(), 20 + r.next_u64() % 30)
    }

    fn bitlocker(&self) -> Answer {
        let mut r = self.rng(6);
        let roll = r.unit();
        let (status, protection, percent) = if roll < 0.75 {
            ("FullyEncrypted", "On", 100)
        } else if roll < 0.82 {
            // Protection suspended (a BIOS update) and never resumed.
            ("FullyEncrypted", "Off", 100)
        } else {
            ("FullyDecrypted", "Off", 0)
        };
        let rows = [vec!["C:".to_string(), status.to_string(), protection.to_string(), percent.to_string()]];
        let table =
            format_table(&["MountPoint", "VolumeStatus", "ProtectionStatus", "EncryptionPercentage"], &rows, &[false, false, false, true]);
        let a = Answer::ok(table, 1_200 + r.next_u64() % 800);
        if protection == "On" {
            a
        } else {
            a.exit(1)
        }
    }

    fn flush_dns(&self) -> Answer {
        let lines = ["", "Windows IP Configuration", "", "Successfully flushed the DNS Resolver Cache."].map(String::from);
        Answer::ok(crlf(&lines), 120 + self.rng(7).next_u64() % 200)
    }

    fn collect_logs(&self, hours: &str, now: i64) -> Answer {
        let Ok(hours) = hours.trim().parse::<u32>() else {
            return Answer::ok(String::new(), 30).with_stderr(format!("Failed to parse timestamp: -{hours}h\n")).exit(1);
        };
        // Seeded by the hour too: a later run reads a later journal.
        let mut r = self.rng(8 ^ (now / 3_600) as u64);
        let (host, rocky) = (self.host, self.rocky());
        let lan = format!("10.{}.{}", (self.seed >> 16) & 0xff, (self.seed >> 8) & 0xff);
        let span = i64::from(hours.clamp(1, 24 * 30)) * 3_600;
        let mut times: Vec<i64> = (0..40).map(|_| now - (r.unit() * span as f64) as i64).collect();
        times.sort_unstable();
        let mut out = vec![];
        for at in times {
            let pid = 1_000 + r.next_u64() % 60_000;
            let line = match r.next_u64() % 9 {
                0 => format!("CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
                1 => format!("CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"),
                2 => format!(
                    "sshd[{pid}]: Accepted publickey for ops from {lan}.{} port {} ssh2: ED25519 SHA256:{}",
                    2 + r.next_u64() % 250,
                    40_000 + r.next_u64() % 20_000,
                    hex(&mut r, 12)
                ),
                3 => format!("sshd[{pid}]: pam_unix(sshd:session): session closed for user ops"),
                4 if rocky => "systemd[1]: Starting dnf-makecache.service - dnf makecache...".into(),
                4 => "systemd[1]: Starting apt-daily.service - Daily apt download activities...".into(),
                5 if rocky => "systemd[1]: Finished dnf-makecache.service - dnf makecache.".into(),
                5 => "systemd[1]: Finished apt-daily.service - Daily apt download activities.".into(),
                6 => "systemd[1]: Started logrotate.service - Rotate log files.".into(),
                7 => format!("systemd-timesyncd[{}]: Contacted time server 185.125.190.56:123 (ntp.ubuntu.com).", 400 + self.seed % 200),
                _ => format!(
                    "kernel: [UFW BLOCK] IN=eth0 OUT= SRC={lan}.{} DST={lan}.255 PROTO=UDP SPT=137 DPT=137 LEN=78",
                    2 + r.next_u64() % 250
                ),
            };
            out.push(format!("{} {host} {line}", journal_time(at)));
        }
        let up = (now - (1_764_000_000 - (self.seed % 604_800) as i64)).max(60) as f64;
        let mut dmesg = vec![
            (0.0, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)".to_string()),
            (1.912_408, "EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.".into()),
            (3.204_117, "e1000e 0000:00:1f.6 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx".into()),
            (up * 0.4, format!("[UFW BLOCK] IN=eth0 OUT= SRC={lan}.{} DST=224.0.0.251 PROTO=UDP SPT=5353 DPT=5353 LEN=40", 2 + self.seed % 250)),
        ];
        if r.unit() < 0.3 {
            dmesg.push((up * 0.7, "EXT4-fs warning (device sda1): ext4_dx_add_entry:2516: Directory index full!".into()));
        }
        out.extend(dmesg.into_iter().map(|(t, l)| format!("[{t:12.6}] {l}")));
        let (size, used_pct) = self.disk();
        let used = size as f64 * used_pct / 100.0;
        let half_mem = (inventory(self.seed, host).hardware.memory_bytes >> 30) as f64 * 0.49;
        let df = |fs: &str, size: String, used: String, avail: String, pct: f64, mount: &str| {
            format!("{fs:<15} {size:>4} {used:>5} {avail:>5} {:>4} {mount}", format!("{}%", pct.ceil()))
        };
        out.push("Filesystem      Size  Used Avail Use% Mounted on".into());
        out.push(df("udev", df_size(half_mem), "0".into(), df_size(half_mem), 0.0, "/dev"));
        out.push(df("tmpfs", df_size(half_mem / 5.0), "1.3M".into(), df_size(half_mem / 5.0), 1.0, "/run"));
        out.push(df("/dev/sda1", df_size(size as f64), df_size(used), df_size(size as f64 - used), used_pct, "/"));
        out.push(df("tmpfs", df_size(half_mem), "0".into(), df_size(half_mem), 0.0, "/dev/shm"));
        Answer::ok(out.into_iter().map(|l| l + "\n").collect(), 700 + r.next_u64() % 1_500)
    }

    fn ping(&self, host: &str) -> Answer {
        let valid = !host.is_empty() && host.len() <= 253 && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
        if !valid {
            return Answer::ok(String::new(), 15).with_stderr(format!("ping: {host}: Name or service not known\n")).exit(2);
        }
        let h = host.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        let mut r = Rng::new(self.seed ^ h);
        let ip: Option<std::net::Ipv4Addr> = host.parse().ok();
        let local = ip.map_or(!host.contains('.') || host.ends_with(".lan") || host.ends_with(".local"), |a| a.is_private());
        let addr = ip.map(|a| a.to_string()).unwrap_or_else(|| {
            if local {
                format!("10.{}.{}.{}", (self.seed >> 16) & 0xff, (self.seed >> 8) & 0xff, 2 + h % 250)
            } else {
                format!("{}.{}.{}.{}", 23 + h % 170, (h >> 8) % 256, (h >> 16) % 256, 1 + (h >> 24) % 254)
            }
        });
        let (base, ttl) =
            if local { (0.25 + r.unit(), if r.unit() < 0.6 { 128 } else { 64 }) } else { (8.0 + r.unit() * 30.0, 52 + h % 60) };
        let rtts: Vec<f64> = (0..4).map(|_| base * (0.85 + r.unit() * 0.3)).collect();
        let mut out = vec![format!("PING {host} ({addr}) 56(84) bytes of data.")];
        for (i, t) in rtts.iter().enumerate() {
            out.push(format!("64 bytes from {addr}: icmp_seq={} ttl={ttl} time={}", i + 1, rtt(*t)));
        }
        let (min, max) = rtts.iter().fold((f64::MAX, 0.0f64), |(lo, hi), t| (lo.min(*t), hi.max(*t)));
        let avg = rtts.iter().sum::<f64>() / 4.0;
        let mdev = (rtts.iter().map(|t| (t - avg) * (t - avg)).sum::<f64>() / 4.0).sqrt();
        out.extend([
            String::new(),
            format!("--- {host} ping statistics ---"),
            format!("4 packets transmitted, 4 received, 0% packet loss, time {}ms", 3_003 + r.next_u64() % 5),
            format!("rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms"),
        ]);
        Answer::ok(out.into_iter().map(|l| l + "\n").collect(), 3_010 + (avg * 4.0) as u64)
    }
}

/// A size in GiB as `df -h` prints it: two figures below 10, whole above.
fn df_size(gib: f64) -> String {
    if gib < 10.0 {
        format!("{gib:.1}G")
    } else {
        format!("{gib:.0}G")
    }
}

/// One round trip as ping prints it: three significant figures.
fn rtt(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn run(shell: &str, script: &str, params: &[(&str, &str)]) -> RunScript {
        RunScript {
            shell: shell.into(),
            script: script.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            timeout_secs: 600,
            run_as: "system".into(),
            max_output_bytes: 64 * 1024,
        }
    }

    /// Seeds of a Windows and a Linux machine.
    fn seeds() -> (u64, u64) {
        ((1..).find(|s| is_windows(*s)).unwrap(), (1..).find(|s| !is_windows(*s)).unwrap())
    }

    const NOW: i64 = 1_764_100_000;

    #[test]
    fn library_scripts_print_what_the_real_ones_would_on_this_machine() {
        let (win, linux) = seeds();
        let a = answer(win, "HDG1-00003", &run("cmd", "ipconfig /flushdns\n", &[]), NOW);
        assert_eq!(a.stdout, "\r\nWindows IP Configuration\r\n\r\nSuccessfully flushed the DNS Resolver Cache.\r\n");
        assert_eq!(a.exit_code, Some(0));
        let a = answer(win, "HDG1-00003", &run("powershell", "Get-LocalGroupMember -Group Administrators | Format-Table\n", &[]), NOW);
        assert!(a.stdout.contains("HDG1-00003\\Administrator") && a.stdout.contains("HDG\\Domain Admins"), "{}", a.stdout);
        // Columns as wide as their widest cell, as -AutoSize makes them.
        let lines: Vec<&str> = a.stdout.split("\r\n").collect();
        assert_eq!(lines[1], format!("Name{}ObjectClass PrincipalSource", " ".repeat(21)));
        assert_eq!(lines[3], "HDG1-00003\\Administrator User        Local");
        let a = answer(
            linux,
            "NL2-00001",
            &run("bash", "set -eu\njournalctl --vacuum-time=\"${STEWARD_PARAM_DAYS}d\"\n", &[("days", "14")]),
            NOW,
        );
        assert!(a.stdout.ends_with(" MiB on /\n") && a.stderr.contains("Vacuuming done"), "{a:?}");
        let a = answer(linux, "NL2-00001", &run("bash", "ping -c 4 -W 2 \"$STEWARD_PARAM_HOST\"\n", &[("host", "fs01")]), NOW);
        assert!(a.stdout.starts_with("PING fs01 (10.") && a.stdout.contains("4 packets transmitted, 4 received"), "{}", a.stdout);
        let a = answer(linux, "NL2-00001", &run("bash", "ping -c 4 -W 2 \"$STEWARD_PARAM_HOST\"\n", &[("host", "$(reboot)")]), NOW);
        assert_eq!((a.exit_code, a.stdout.as_str()), (Some(2), ""), "{a:?}");
        let a = answer(
            linux,
            "NL2-00001",
            &run("bash", "journalctl --since \"-${STEWARD_PARAM_HOURS}h\"\ndmesg\ndf -h\n", &[("hours", "6")]),
            NOW,
        );
        assert!(a.stdout.contains(" NL2-00001 ") && a.stdout.contains("Mounted on\n") && a.stdout.contains("% /\n"), "{}", a.stdout);
    }

    #[test]
    fn bitlocker_exits_1_exactly_when_the_system_drive_is_unprotected() {
        let script = run("powershell", "$v = Get-BitLockerVolume\n", &[]);
        let mut seen = std::collections::BTreeSet::new();
        for seed in (0..400).filter(|s| is_windows(*s)) {
            let a = answer(seed, "KVR1-00000", &script, NOW);
            let on = a.stdout.lines().nth(3).unwrap().split_whitespace().nth(2) == Some("On");
            assert_eq!(a.exit_code, Some(if on { 0 } else { 1 }), "{}", a.stdout);
            seen.insert(on);
        }
        assert_eq!(seen.len(), 2, "some machines protected, some not");
    }

    #[test]
    fn a_shell_the_os_lacks_fails_as_on_a_real_agent_and_unknown_scripts_say_so() {
        let (win, linux) = seeds();
        let a = answer(win, "w", &run("bash", "ping -c 4 x", &[]), NOW);
        assert_eq!((a.exit_code, a.error.as_deref()), (None, Some("cannot start bash: program not found")));
        assert!(answer(linux, "l", &run("powershell", "Get-BitLockerVolume", &[]), NOW).error.unwrap().contains("pwsh"));
        assert!(answer(linux, "l", &run("cmd", "ipconfig /flushdns", &[]), NOW).error.is_some());
        let a = answer(linux, "l", &run("sh", "uptime", &[]), NOW);
        assert_eq!((a.exit_code, a.stdout.as_str()), (Some(0), "(l is a simulated machine: this sh script was not executed)\n"));
    }

    #[test]
    fn dates_are_the_calendar_s() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(journal_time(1_764_100_000), "Nov 25 19:46:40");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    fn library() -> Vec<RunScript> {
        vec![
            run("bash", "journalctl --vacuum-time=\"${STEWARD_PARAM_DAYS}d\"", &[("days", "14")]),
            run("powershell", "Remove-Item \"$env:windir\\SoftwareDistribution\\Download\\*\"", &[]),
            run("powershell", "Stop-Service Spooler -Force\nStart-Service Spooler\n", &[]),
            run("powershell", "Get-LocalGroupMember -Group Administrators", &[]),
            run("bash", "grep -hv '^#' /etc/sudoers /etc/sudoers.d/*", &[]),
            run("powershell", "Get-BitLockerVolume", &[]),
            run("cmd", "ipconfig /flushdns", &[]),
            run("bash", "journalctl --since \"-${STEWARD_PARAM_HOURS}h\"", &[("hours", "24")]),
            run("bash", "ping -c 4 -W 2 \"$STEWARD_PARAM_HOST\"", &[("host", "example.com")]),
            run("python", "print(1)", &[]),
        ]
    }

    proptest! {
        /// The same machine and script answer the same; the answer fits its
        /// cap; a run either started (an exit code) or says why not.
        #[test]
        fn answers_are_stable_capped_and_complete(seed in any::<u64>(), which in 0usize..10, cap in 0u32..4_096, host in "[A-Z]{2,3}[1-3]-[0-9]{5}") {
            let mut s = library().swap_remove(which);
            s.max_output_bytes = cap;
            let a = answer(seed, &host, &s, NOW);
            prop_assert_eq!(&a, &answer(seed, &host, &s, NOW));
            prop_assert!(a.stdout.len() <= cap as usize);
            prop_assert_eq!(a.exit_code.is_none(), a.error.is_some());
            let whole = answer(seed, &host, &RunScript { max_output_bytes: u32::MAX, ..s.clone() }, NOW).stdout;
            prop_assert_eq!(a.stdout_truncated, whole.len() > cap as usize);
            prop_assert!(whole.starts_with(&a.stdout));
        }
    }
}
