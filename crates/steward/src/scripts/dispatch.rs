//! Getting a running run to its devices: each online device gets the
//! script in a signed command now; an offline one gets it when it next
//! connects (the gateway calls [`device_connected`]). Results come back
//! through the gateway into [`result`].

use super::store::{self as runs, Outcome, Run};
use crate::http::App;
use steward_protocol::command::{CommandBody, RunScript};
use steward_protocol::messages::ServerMsg;

/// A script command stays acceptable this long after it is signed; the
/// device part stays pending (and is signed afresh) when the device is away.
const COMMAND_TTL_SECS: i64 = 3600;

fn body(run: &Run) -> CommandBody {
    CommandBody::RunScript(RunScript {
        shell: run.shell.clone(),
        script: run.body.clone(),
        params: serde_json::from_str(&run.params).unwrap_or_default(),
        timeout_secs: run.timeout_secs.clamp(1, u32::MAX as i64) as u32,
        run_as: run.run_as.clone(),
        max_output_bytes: super::model::MAX_OUTPUT_BYTES,
    })
}

/// Sends the run to one device if it is connected; true when sent.
async fn send_one(app: &App, run: &Run, device_id: i64) -> crate::store::Result<bool> {
    if !app.agents.is_online(device_id) {
        return Ok(false);
    }
    let (cmd, envelope) = crate::devices::commands::sign(app, device_id, body(run), COMMAND_TTL_SECS);
    if !runs::mark_sent(&mut app.store.clone(), run.id, device_id, &cmd.id).await? {
        return Ok(false);
    }
    if !app.agents.send(device_id, ServerMsg::Command { envelope }) {
        // Gone between the check and the send: it waits for the next connection.
        runs::unsend(&mut app.store.clone(), run.id, device_id).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Sends a running run to every connected device still pending.
pub async fn start(app: &App, run_id: i64) -> crate::store::Result<usize> {
    let mut db = app.store.clone();
    let Some(run) = runs::get_run(&mut db, run_id).await? else { return Ok(0) };
    if run.state != "running" {
        return Ok(0);
    }
    let mut sent = 0;
    for device in runs::pending_devices(&mut db, run_id).await? {
        sent += send_one(app, &run, device).await? as usize;
    }
    Ok(sent)
}

/// A device connected: send it whatever runs wait for it.
pub async fn device_connected(app: App, device_id: i64) {
    let app = &app;
    let mut db = app.store.clone();
    let pending = match runs::pending_for_device(&mut db, device_id).await {
        Ok(p) => p,
        Err(e) => return tracing::warn!(device_id, error = %e, "pending scripts not read"),
    };
    for run_id in pending {
        if let Ok(Some(run)) = runs::get_run(&mut db, run_id).await {
            if let Err(e) = send_one(app, &run, device_id).await {
                tracing::warn!(device_id, run_id, error = %e, "script not sent");
            }
        }
    }
}

/// A device reported how a script ended; output is capped again here
/// (the agent is not trusted to have done it).
pub async fn result(app: &App, device_id: i64, command_id: &str, mut o: Outcome) {
    let cap = super::model::MAX_OUTPUT_BYTES as usize;
    for (text, cut) in [(&mut o.stdout, &mut o.stdout_truncated), (&mut o.stderr, &mut o.stderr_truncated)] {
        if text.len() > cap {
            let mut end = cap;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            *cut = true;
        }
    }
    o.error = o.error.map(|e| e.chars().take(1000).collect());
    let mut db = app.store.clone();
    match runs::record_result(&mut db, device_id, command_id, o).await {
        Ok(Some(run_id)) => {
            if let Err(e) = runs::finish_if_complete(&mut db, run_id).await {
                tracing::warn!(run_id, error = %e, "run state not updated");
            }
        }
        Ok(None) => tracing::warn!(device_id, "a script result nobody was waiting for was ignored"),
        Err(e) => tracing::warn!(device_id, error = %e, "script result not stored"),
    }
}

/// Starts scheduled runs whose time has come (called by the jobs loop).
pub async fn start_due(app: &App) -> crate::store::Result<()> {
    let mut db = app.store.clone();
    for id in runs::due(&mut db, crate::store::now_us()).await? {
        if runs::transition(&mut db, id, "scheduled", "running", None).await? {
            start(app, id).await?;
        }
    }
    Ok(())
}
