//! Restarting the machine on a signed `Reboot` command: the OS's own
//! `shutdown` with a delay and the reason shown to signed-in users, or the
//! program the configuration names (`reboot_command`). Arguments are passed
//! as a list, never through a shell, so a reason cannot become a command.

use std::process::Stdio;

/// The longest reason passed on (Windows' `/c` takes 512 characters).
const MAX_REASON: usize = 200;

/// The program and arguments that restart this machine in `delay_secs`.
pub fn command(custom: &[String], windows: bool, reason: &str, delay_secs: u32) -> (String, Vec<String>) {
    let reason: String = reason.chars().filter(|c| !c.is_control()).take(MAX_REASON).collect();
    let reason = format!("Steward: {}", reason.trim());
    if let Some((program, args)) = custom.split_first() {
        let mut args = args.to_vec();
        args.extend([delay_secs.to_string(), reason]);
        return (program.clone(), args);
    }
    if windows {
        ("shutdown".into(), vec!["/r".into(), "/t".into(), delay_secs.min(315_360_000).to_string(), "/c".into(), reason])
    } else {
        // `shutdown -r +M` counts minutes; `now` restarts at once.
        let when = if delay_secs == 0 { "now".to_string() } else { format!("+{}", delay_secs.div_ceil(60)) };
        ("shutdown".into(), vec!["-r".into(), when, reason])
    }
}

/// Schedules the restart; `(ok, what happened)` for the command's answer.
pub async fn schedule(custom: &[String], reason: &str, delay_secs: u32) -> (bool, String) {
    let (program, args) = command(custom, cfg!(windows), reason, delay_secs);
    let out = tokio::process::Command::new(&program).args(&args).stdin(Stdio::null()).output().await;
    match out {
        Ok(o) if o.status.success() => (true, format!("restart scheduled in {delay_secs} s")),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr).chars().take(500).collect::<String>();
            (false, format!("{program} failed ({}): {}", o.status, err.trim()))
        }
        Err(e) => (false, format!("could not run {program}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_os_gets_its_own_shutdown() {
        let (p, a) = command(&[], false, "patches", 90);
        assert_eq!((p.as_str(), a), ("shutdown", vec!["-r".to_string(), "+2".into(), "Steward: patches".into()]));
        let (p, a) = command(&[], true, "patches", 90);
        assert_eq!((p.as_str(), a[..3].to_vec()), ("shutdown", vec!["/r".to_string(), "/t".into(), "90".into()]));
        let (p, a) = command(&["/usr/local/bin/restart".into(), "--soft".into()], false, "x", 0);
        assert_eq!((p.as_str(), a), ("/usr/local/bin/restart", vec!["--soft".to_string(), "0".into(), "Steward: x".into()]));
    }

    proptest! {
        #[test]
        fn a_reason_is_one_argument_without_control_characters(reason in any::<String>(), delay in 0u32..100_000, win in any::<bool>()) {
            let (_, args) = command(&[], win, &reason, delay);
            let last = args.last().unwrap();
            prop_assert!(last.starts_with("Steward: "));
            prop_assert!(!last.chars().any(char::is_control));
            prop_assert!(last.chars().count() <= MAX_REASON + 9);
        }
    }
}
