//! The Windows build of the agent, run under Wine against the real server:
//! it enrols with a token and pin, connects, answers a signed command and
//! reports a Windows inventory. It needs Wine and the cross-built
//! `steward-agent.exe` named by `STEWARD_TEST_WINDOWS_AGENT` (`.ci/run`
//! builds it: `cargo build -p steward-agent --target
//! x86_64-pc-windows-gnu`). Without them it says so loudly and passes;
//! under `STEWARD_TEST_REQUIRE_ALL=1` (CI) it fails instead.

use crate::common::agents::*;
use crate::common::require_all;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The agent and a working `wine`, or why not.
fn windows_agent() -> Result<PathBuf, String> {
    let exe = std::env::var("STEWARD_TEST_WINDOWS_AGENT").map_err(|_| "STEWARD_TEST_WINDOWS_AGENT is not set".to_string())?;
    let exe = PathBuf::from(exe);
    if !exe.is_file() {
        return Err(format!("{} does not exist", exe.display()));
    }
    match Command::new("wine").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(exe),
        _ => Err("wine is not installed".into()),
    }
}

/// A Unix path as Wine's Z: drive sees it.
fn z_drive(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

fn wine(exe: &Path) -> Command {
    let mut c = Command::new("wine");
    c.arg(exe).env("WINEDEBUG", "-all");
    c
}

#[tokio::test]
async fn the_windows_agent_enrols_connects_and_answers_under_wine() {
    let exe = match windows_agent() {
        Ok(e) => e,
        Err(why) => {
            let msg = format!("the Windows agent end-to-end test did NOT run: {why}");
            assert!(!require_all(), "{msg}");
            eprintln!("{msg}");
            return;
        }
    };
    let _down = WineDown;
    let (s, a, client, site) = setup().await;
    let tok = token(&a, client, site, json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = z_drive(dir.path());

    let out = wine(&exe)
        .args(["install", "--server", &s.base, "--token", &tok, "--pin", &s.spki, "--config-dir", &cfg, "--no-service"])
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "install under Wine failed: {said}");
    let (_, list) = a.get(&format!("/api/v1/clients/{client}/devices")).await;
    assert_eq!(list["total"], 1, "{list}");
    let device = list["items"][0]["id"].as_i64().unwrap();

    let mut run = KillOnDrop(wine(&exe).args(["run", "--config-dir", &cfg]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let base = format!("/api/v1/clients/{client}/devices/{device}");
    wait_for(&a, &base, "the Windows agent online", |v| v["online"] == true).await;
    // A signed command through the Windows build's verification.
    let (st, pong) = a.post(&format!("{base}/ping"), json!({})).await;
    assert_eq!((st, pong["output"].as_str()), (200, Some("pong")), "{pong}");
    // Its inventory says Windows (Wine answers as a Windows version).
    let inv = wait_for(&a, &format!("{base}/inventory"), "the Windows inventory", |v| !v["inventory"].is_null()).await;
    let os = inv["inventory"]["os"]["name"].as_str().unwrap_or_default();
    assert!(os.contains("Windows"), "{inv}");
    run.0.kill().unwrap();
}

/// Stops every Wine process of the prefix when the test ends, passed or
/// not: killing the `wine` launcher leaves the Windows process running
/// under `wineserver`.
struct WineDown;

impl Drop for WineDown {
    fn drop(&mut self) {
        let _ = Command::new("wineserver").arg("-k").status();
    }
}
