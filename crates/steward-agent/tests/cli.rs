//! The agent's command line as an installer sees it: the version, usage on
//! bad arguments, and clear messages (never a panic) for a missing or
//! damaged configuration and a malformed pin. These run the real binary;
//! having them here also makes `cargo test --workspace` build
//! `steward-agent`, which the server's end-to-end tests start.

use std::process::Command;

fn agent(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_steward-agent")).args(args).output().expect("the agent runs");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn version_names_the_agent_and_its_protocol() {
    let (code, out) = agent(&["--version"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with(&format!("steward-agent {} (protocol ", env!("CARGO_PKG_VERSION"))), "{out}");
}

#[test]
fn bad_arguments_print_usage_and_exit_2() {
    for args in [&[][..], &["frobnicate"], &["install", "--server"], &["install", "--server", "https://x:1"], &["run", "stray"]] {
        let (code, out) = agent(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.contains("usage:") && out.contains("steward-agent install --server"), "{args:?}: {out}");
    }
}

#[test]
fn run_without_an_enrolment_says_to_install_first() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = agent(&["run", "--config-dir", &dir.path().display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("run `steward-agent install` first"), "{out}");
}

#[test]
fn a_damaged_configuration_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("agent.json"), "{not json").unwrap();
    let (code, out) = agent(&["run", "--config-dir", &dir.path().display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("agent.json is damaged"), "{out}");
}

#[test]
fn a_malformed_pin_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 on loopback: nothing answers, so only the pin check can explain the message.
    let (code, out) = agent(&[
        "install",
        "--server",
        "https://127.0.0.1:9",
        "--token",
        "ste_x",
        "--pin",
        "abc",
        "--config-dir",
        &dir.path().display().to_string(),
        "--no-service",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--pin must be the 64 hex digits"), "{out}");
    assert!(!dir.path().join("agent.json").exists(), "nothing written");
}

#[test]
fn uninstall_removes_the_configuration_key_and_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("steward");
    std::fs::create_dir(&cfg).unwrap();
    for f in ["agent.json", "metrics.spool", "replay.json"] {
        std::fs::write(cfg.join(f), "{}").unwrap();
    }
    let (code, out) = agent(&["uninstall", "--config-dir", &cfg.display().to_string()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("removed the agent's configuration and key"), "{out}");
    assert!(!cfg.exists(), "the emptied directory is gone too");
    // Nothing left to remove: still fine.
    let (code, out) = agent(&["uninstall", "--config-dir", &cfg.display().to_string()]);
    assert_eq!(code, 0, "{out}");
}
