//! Installing the agent as the OS's service, and removing it: a systemd
//! unit on Linux, a Windows service (registered with `sc.exe`, entered
//! through the Service Control Manager) on Windows. Both restart the agent
//! if it stops, and start it at boot.

use std::path::Path;
use std::process::Command;

pub const NAME: &str = "steward-agent";

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

#[cfg(target_os = "linux")]
const UNIT: &str = "/etc/systemd/system/steward-agent.service";

/// The systemd unit: restarts forever, opens enough files, starts at boot.
#[cfg(target_os = "linux")]
pub fn unit(exe: &Path, dir: &Path) -> String {
    format!(
        "[Unit]\nDescription=Steward agent\nAfter=network-online.target\nWants=network-online.target\n\n\
         [Service]\nExecStart={} run --config-dir {}\nRestart=always\nRestartSec=5\nLimitNOFILE=65536\n\n[Install]\nWantedBy=multi-user.target\n",
        exe.display(),
        dir.display()
    )
}

#[cfg(target_os = "linux")]
pub fn install(dir: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    std::fs::write(UNIT, unit(&exe, dir)).map_err(|e| format!("cannot write the systemd unit: {e} (run as root, or use --no-service)"))?;
    run("systemctl", &["daemon-reload"])?;
    run("systemctl", &["enable", "--now", "steward-agent.service"])?;
    println!("installed and started the steward-agent systemd service");
    Ok(())
}

#[cfg(target_os = "linux")]
pub fn uninstall() -> Result<(), String> {
    if Path::new(UNIT).exists() {
        // Stopping may fail if it already stopped; removing is what matters.
        let _ = run("systemctl", &["disable", "--now", "steward-agent.service"]);
        std::fs::remove_file(UNIT).map_err(|e| format!("cannot remove {UNIT}: {e} (run as root)"))?;
        let _ = run("systemctl", &["daemon-reload"]);
        println!("stopped and removed the steward-agent systemd service");
    }
    Ok(())
}

#[cfg(windows)]
pub fn install(dir: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // Only SYSTEM and Administrators may read the key (by SID: names differ by language).
    run("icacls", &[&dir.display().to_string(), "/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"])?;
    let bin_path = format!("\"{}\" service --config-dir \"{}\"", exe.display(), dir.display());
    run("sc.exe", &["create", NAME, "binPath=", &bin_path, "start=", "auto", "DisplayName=", "Steward agent"])?;
    let _ = run("sc.exe", &["description", NAME, "Steward RMM agent: reports to and takes signed commands from the MSP's Steward server"]);
    run("sc.exe", &["failure", NAME, "reset=", "86400", "actions=", "restart/5000/restart/5000/restart/60000"])?;
    run("sc.exe", &["start", NAME])?;
    println!("installed and started the steward-agent Windows service");
    Ok(())
}

#[cfg(windows)]
pub fn uninstall() -> Result<(), String> {
    let _ = run("sc.exe", &["stop", NAME]);
    if run("sc.exe", &["query", NAME]).is_ok() {
        run("sc.exe", &["delete", NAME])?;
        println!("stopped and removed the steward-agent Windows service");
    }
    Ok(())
}

/// The Windows service entry (`steward-agent service`, started by the
/// Service Control Manager): runs the agent until the service is stopped.
#[cfg(windows)]
pub fn serve(dir: std::path::PathBuf) -> Result<(), String> {
    windows_services::Service::new()
        .can_stop()
        .run(move |_, command| {
            if command == windows_services::Command::Start {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                    if let Err(e) = rt.block_on(crate::run_installed(&dir)) {
                        eprintln!("steward-agent: {e}");
                    }
                });
            }
            // Stop: the dispatcher returns once the service is stopped, and the process ends.
        })
        .map_err(|e| format!("{e} (the service entry is for the Service Control Manager; use `steward-agent run` by hand)"))
}

#[cfg(not(any(target_os = "linux", windows)))]
pub fn install(_dir: &Path) -> Result<(), String> {
    Err("installing the service is not supported on this OS yet: run `steward-agent run` under your service manager, or pass --no-service"
        .into())
}

#[cfg(not(any(target_os = "linux", windows)))]
pub fn uninstall() -> Result<(), String> {
    Ok(())
}

/// Removes the service, then this agent's configuration, key, buffers and
/// replay memory.
pub fn remove_all(dir: &Path) -> Result<(), String> {
    uninstall()?;
    for f in [crate::config::FILE, crate::report::spool::FILE, crate::link::REPLAY_FILE] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| format!("cannot remove {}: {e}", p.display()))?;
        }
    }
    // The directory goes too if nothing else is in it.
    let _ = std::fs::remove_dir(dir);
    println!("removed the agent's configuration and key from {}", dir.display());
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_unit_restarts_forever_and_raises_the_file_limit() {
        let u = super::unit(Path::new("/usr/local/bin/steward-agent"), Path::new("/etc/steward-agent"));
        assert!(u.contains("ExecStart=/usr/local/bin/steward-agent run --config-dir /etc/steward-agent"));
        assert!(u.contains("Restart=always") && u.contains("LimitNOFILE=65536") && u.contains("WantedBy=multi-user.target"));
    }
    use std::path::Path;
}
