//! The demo's script library: what an MSP runs every week, for Linux and
//! Windows, with parameters where they help. The simulated agents answer
//! runs without executing anything.

use crate::app::App;
use crate::auth::principal::Principal;
use crate::scripts::model::ParamSpec;
use crate::scripts::ops::{create_for, ScriptRequest};

type Param = (&'static str, &'static str, &'static str, bool);

const LIBRARY: &[(&str, &str, &str, &str, &[Param])] = &[
    (
        "Disk clean-up (Linux)",
        "Removes package caches and journal entries older than the given days; prints the space freed.",
        "bash",
        "set -eu\nbefore=$(df --output=avail / | tail -1)\napt-get clean 2>/dev/null || dnf clean all 2>/dev/null || true\njournalctl --vacuum-time=\"${STEWARD_PARAM_DAYS}d\"\nafter=$(df --output=avail / | tail -1)\necho \"freed $(( (after - before) / 1024 )) MiB on /\"\n",
        &[("days", "Keep journal entries of the last N days", "14", false)],
    ),
    (
        "Disk clean-up (Windows)",
        "Empties the temp folders and the Windows Update download cache.",
        "powershell",
        "$before = (Get-PSDrive C).Free\nRemove-Item \"$env:TEMP\\*\",\"$env:windir\\Temp\\*\" -Recurse -Force -ErrorAction SilentlyContinue\nStop-Service wuauserv -Force\nRemove-Item \"$env:windir\\SoftwareDistribution\\Download\\*\" -Recurse -Force -ErrorAction SilentlyContinue\nStart-Service wuauserv\n\"freed {0:N0} MiB on C:\" -f (((Get-PSDrive C).Free - $before) / 1MB)\n",
        &[],
    ),
    (
        "Restart the print spooler",
        "Stops the spooler, clears stuck jobs, starts it again.",
        "powershell",
        "Stop-Service Spooler -Force\nRemove-Item \"$env:windir\\System32\\spool\\PRINTERS\\*\" -Force -ErrorAction SilentlyContinue\nStart-Service Spooler\nGet-Service Spooler | Format-List Name,Status\n",
        &[],
    ),
    (
        "List local administrators",
        "Who can administer this machine (local accounts and domain groups).",
        "powershell",
        "Get-LocalGroupMember -Group Administrators | Select-Object Name,ObjectClass,PrincipalSource | Format-Table -AutoSize\n",
        &[],
    ),
    (
        "List sudoers",
        "Users who can become root on this machine.",
        "bash",
        "getent group sudo wheel 2>/dev/null\ngrep -hv '^#' /etc/sudoers /etc/sudoers.d/* 2>/dev/null | grep -v '^$'\n",
        &[],
    ),
    (
        "Check BitLocker",
        "Encryption state of every volume; exits 1 when the system drive is not protected.",
        "powershell",
        "$v = Get-BitLockerVolume\n$v | Format-Table MountPoint,VolumeStatus,ProtectionStatus,EncryptionPercentage -AutoSize\nif (($v | Where-Object MountPoint -eq $env:SystemDrive).ProtectionStatus -ne 'On') { exit 1 }\n",
        &[],
    ),
    (
        "Flush DNS",
        "Clears the resolver cache (after a DNS change the machine has not picked up).",
        "cmd",
        "ipconfig /flushdns\n",
        &[],
    ),
    (
        "Collect logs",
        "The last hours of the system journal, the kernel messages and the disk state, for a ticket.",
        "bash",
        "journalctl --since \"-${STEWARD_PARAM_HOURS}h\" --no-pager | tail -n 2000\ndmesg | tail -n 200\ndf -h\n",
        &[("hours", "Hours of journal", "24", false)],
    ),
    (
        "Ping a host",
        "From this machine to another: is it reachable, and how fast.",
        "bash",
        "ping -c 4 -W 2 \"$STEWARD_PARAM_HOST\"\n",
        &[("host", "Host name or address", "", true)],
    ),
];

pub async fn seed(app: &App, p: &Principal) -> anyhow::Result<()> {
    for (name, description, shell, body, params) in LIBRARY {
        let parameters = params
            .iter()
            .map(|(n, label, default, required)| ParamSpec {
                name: (*n).into(),
                label: (*label).into(),
                default: (*default).into(),
                required: *required,
            })
            .collect();
        let r = ScriptRequest {
            name: (*name).into(),
            description: (*description).into(),
            shell: (*shell).into(),
            body: (*body).into(),
            parameters,
            timeout_secs: Some(600),
            run_as: None,
            archived: false,
        };
        create_for(app, p, r).await.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    Ok(())
}
