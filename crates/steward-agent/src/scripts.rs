//! Running a script the server sent (in a signed, checked command).
//!
//! The script goes to its interpreter on standard input where the
//! interpreter allows (bash, sh, python), or through a private temporary
//! file (PowerShell, cmd), never through a shell command line. Parameters
//! arrive as environment variables `STEWARD_PARAM_<NAME>`, so a value can
//! never change the script. Output is read concurrently and kept up to a
//! cap per stream (the rest is drained and the cut reported); past its
//! timeout the script and everything it started is killed.

use std::process::Stdio;
use std::time::{Duration, Instant};
use steward_protocol::command::RunScript;
use steward_protocol::messages::AgentMsg;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How the interpreter is started for a shell, and whether it reads the
/// script on standard input (else from a file with this extension).
fn interpreter(shell: &str) -> Option<(&'static str, &'static [&'static str], Option<&'static str>)> {
    Some(match shell {
        "bash" => ("bash", &["-s"], None),
        "sh" => ("sh", &["-s"], None),
        "python" if cfg!(windows) => ("python", &["-"], None),
        "python" => ("python3", &["-"], None),
        "powershell" if cfg!(windows) => {
            ("powershell", &["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File"], Some("ps1"))
        }
        "powershell" => ("pwsh", &["-NoProfile", "-NonInteractive", "-File"], Some("ps1")),
        "cmd" if cfg!(windows) => ("cmd", &["/D", "/C"], Some("cmd")),
        _ => return None,
    })
}

/// Reads a stream to its end, keeping the first `cap` bytes.
async fn capture(mut r: impl AsyncRead + Unpin, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    let mut cut = false;
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, cut),
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
}

fn failed(id: String, started: Instant, error: String) -> AgentMsg {
    AgentMsg::ScriptResult {
        id,
        exit_code: None,
        stdout: String::new(),
        stderr: String::new(),
        stdout_truncated: false,
        stderr_truncated: false,
        duration_ms: started.elapsed().as_millis() as u64,
        error: Some(error),
    }
}

/// A private directory for one run's script file (removed afterwards).
struct RunDir(std::path::PathBuf);
impl RunDir {
    fn new() -> std::io::Result<RunDir> {
        let mut b = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
        let p = std::env::temp_dir().join(format!("steward-run-{:016x}", u64::from_le_bytes(b)));
        #[cfg(unix)]
        let d = {
            let mut d = std::fs::DirBuilder::new();
            std::os::unix::fs::DirBuilderExt::mode(&mut d, 0o700);
            d
        };
        // On Windows the directory inherits the temp folder's ACL (SYSTEM's temp for the service).
        #[cfg(not(unix))]
        let d = std::fs::DirBuilder::new();
        d.create(&p)?;
        Ok(RunDir(p))
    }
}
impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the script; returns the `ScriptResult` to send.
pub async fn run(id: String, s: RunScript) -> AgentMsg {
    let started = Instant::now();
    let Some((program, args, file_ext)) = interpreter(&s.shell) else {
        return failed(id, started, format!("{} scripts do not run on this OS", s.shell));
    };
    let as_user = !(s.run_as.is_empty() || s.run_as == "system");
    let mut cmd = if as_user {
        if cfg!(windows) {
            return failed(id, started, "running as another user is not supported on Windows yet".into());
        }
        // runuser needs root, which an installed agent has.
        let mut c = tokio::process::Command::new("runuser");
        c.args(["-u", &s.run_as, "--", program]);
        c
    } else {
        tokio::process::Command::new(program)
    };
    cmd.args(args);
    let _dir;
    if let Some(ext) = file_ext {
        let dir = match RunDir::new() {
            Ok(d) => d,
            Err(e) => return failed(id, started, format!("cannot make a private directory for the script: {e}")),
        };
        let path = dir.0.join(format!("script.{ext}"));
        if let Err(e) = std::fs::write(&path, &s.script) {
            return failed(id, started, format!("cannot write the script: {e}"));
        }
        cmd.arg(&path);
        _dir = dir;
    }
    for (k, v) in &s.params {
        cmd.env(format!("STEWARD_PARAM_{}", k.to_uppercase()), v);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(id, started, format!("cannot start {program}: {e}")),
    };
    let mut stdin = child.stdin.take().expect("piped");
    let body = if file_ext.is_none() { s.script.clone() } else { String::new() };
    let feed = tokio::spawn(async move {
        let _ = stdin.write_all(body.as_bytes()).await;
        // Dropping stdin closes it: the interpreter sees the end of the script.
    });
    let cap = s.max_output_bytes as usize;
    let out = tokio::spawn(capture(child.stdout.take().expect("piped"), cap));
    let err = tokio::spawn(capture(child.stderr.take().expect("piped"), cap));
    let timeout = Duration::from_secs(s.timeout_secs.max(1) as u64);
    let (exit_code, error) = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => (status.code(), None),
        Ok(Err(e)) => (None, Some(format!("waiting for the script failed: {e}"))),
        Err(_) => {
            kill_tree(&mut child).await;
            (None, Some(format!("timed out after {} s; the script was stopped", s.timeout_secs)))
        }
    };
    let _ = feed.await;
    let (stdout, stdout_truncated) = out.await.unwrap_or_default();
    let (stderr, stderr_truncated) = err.await.unwrap_or_default();
    AgentMsg::ScriptResult {
        id,
        exit_code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        stdout_truncated,
        stderr_truncated,
        duration_ms: started.elapsed().as_millis() as u64,
        error,
    }
}

/// Kills the script and whatever it started (its process group on Unix).
async fn kill_tree(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id().and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill().await;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn script(shell: &str, body: &str) -> RunScript {
        RunScript {
            shell: shell.into(),
            script: body.into(),
            params: [("name".to_string(), "world; rm -rf /".to_string())].into(),
            timeout_secs: 5,
            run_as: "system".into(),
            max_output_bytes: 1024,
        }
    }

    fn parts(m: AgentMsg) -> (Option<i32>, String, String, bool, Option<String>) {
        match m {
            AgentMsg::ScriptResult { exit_code, stdout, stderr, stdout_truncated, error, .. } => {
                (exit_code, stdout, stderr, stdout_truncated, error)
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn output_exit_code_and_parameters_as_data() {
        let (code, out, err, cut, error) =
            parts(run("1".into(), script("bash", "echo \"hello $STEWARD_PARAM_NAME\"; echo oops >&2; exit 3")).await);
        assert_eq!((code, out.as_str(), err.as_str(), cut, error), (Some(3), "hello world; rm -rf /\n", "oops\n", false, None));
    }

    #[tokio::test]
    async fn long_output_is_capped_and_the_cut_reported() {
        let (code, out, _, cut, _) =
            parts(run("2".into(), script("sh", "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done")).await);
        assert_eq!((code, out.len(), cut), (Some(0), 1024, true));
    }

    #[tokio::test]
    async fn a_script_past_its_timeout_is_stopped_with_its_children() {
        let mut s = script("sh", "sleep 30 & sleep 30; echo never");
        s.timeout_secs = 1;
        let t = Instant::now();
        let (code, out, _, _, error) = parts(run("3".into(), s).await);
        assert!(t.elapsed() < Duration::from_secs(10), "returned after the timeout, not after the sleeps");
        assert_eq!((code, out.as_str()), (None, ""));
        assert!(error.unwrap().contains("timed out after 1 s"));
    }

    #[tokio::test]
    async fn an_unknown_shell_is_refused_clearly() {
        let (code, _, _, _, error) = parts(run("4".into(), script("cmd", "dir")).await);
        assert_eq!(code, None);
        assert!(error.unwrap().contains("do not run on this OS"));
    }
}
