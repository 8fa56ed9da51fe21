//! Getting a running run to its devices: each online device gets the
//! script in a signed command now; an offline one gets it when it next
//! connects ([`LISTENER`] hears it on the event bus). Results come back
//! from the gateway over the bus into [`result`].

use super::store::{self as runs, Outcome, Run};
use crate::app::domain::{BoxFut, Listener};
use crate::app::App;
use crate::devices::presence::model::Presence;
use crate::events::Event;
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

/// Starts scheduled runs whose time has come (called by the jobs loop, and
/// at once for a run due now). A recurring run's next occurrence is
/// scheduled as this one starts; an occurrence finds its devices when it
/// starts, within the clients the run was first requested for.
pub async fn start_due(app: &App) -> crate::store::Result<()> {
    let mut db = app.store.clone();
    for id in runs::due(&mut db, crate::time::now_us()).await? {
        let Some(run) = runs::get_run(&mut db, id).await? else { continue };
        let mut tx = app.store.begin_audited().await?;
        if !runs::transition(tx.tx(), id, "scheduled", "running", None).await? {
            continue;
        }
        if run.repeat_every.is_some() && runs::count_results(tx.tx(), id).await? == 0 {
            let targets = resolve(tx.tx(), &run).await?;
            runs::add_results(tx.tx(), id, &targets).await?;
            runs::set_device_count(tx.tx(), id, targets.len() as i64).await?;
        }
        let next = schedule_next(tx.tx(), &run).await?;
        let actor = crate::audit::store::Actor { user_id: None, label: "scheduler".into(), ip: String::new() };
        let event = crate::audit::store::Event::new("script.run_scheduled", "script_run", id).details(serde_json::json!({
            "script_id": run.script_id, "script_hash": run.script_hash, "requested_by": run.requested_by,
            "approved_by": run.approved_by, "repeat": run.repeat_every, "next_run": next,
        }));
        tx.commit(&actor, event).await?;
        start(app, id).await?;
        runs::finish_if_complete(&mut db, id).await?;
    }
    Ok(())
}

/// The devices a recurring run reaches now, within its original clients.
async fn resolve(db: &mut impl crate::store::Db, run: &Run) -> crate::store::Result<Vec<(i64, i64)>> {
    let target: super::model::Target = serde_json::from_str(&run.target).unwrap_or_default();
    let clients: Vec<i64> = serde_json::from_str(&run.client_ids).unwrap_or_default();
    if let Some(ids) = target.device_ids {
        let mut out = vec![];
        for id in ids {
            if let Some(d) =
                crate::devices::store::by_id(db, id).await?.filter(|d| d.revoked_at.is_none() && clients.contains(&d.client_id))
            {
                out.push((d.id, d.client_id));
            }
        }
        return Ok(out);
    }
    let f = crate::devices::store::query::DeviceFilter { client_id: target.client_id, site_id: target.site_id, ..Default::default() };
    let (rows, _) = crate::devices::store::query::search(db, Some(&clients), &f, super::model::MAX_TARGETS as u64, 0).await?;
    Ok(rows.into_iter().filter(|r| r.device.revoked_at.is_none()).map(|r| (r.device.id, r.device.client_id)).collect())
}

/// Schedules the occurrence after `run` (a recurring one); returns its id.
async fn schedule_next(db: &mut impl crate::store::Db, run: &Run) -> crate::store::Result<Option<i64>> {
    let Some(period) = run.repeat_every.as_deref().and_then(super::model::period_secs) else { return Ok(None) };
    let now = crate::time::now_us();
    let first = run.scheduled_for.unwrap_or(now);
    let next = Run {
        id: 0,
        state: "scheduled".into(),
        requested_at: now,
        scheduled_for: Some(super::model::next_occurrence(first, period * 1_000_000, now)),
        device_count: 0,
        ..run.clone()
    };
    // Its devices are found when it starts.
    Ok(Some(runs::insert_run(db, &next, &[]).await?))
}

/// Hears devices coming online (to send what waits for them) and the
/// script results their agents report.
pub const LISTENER: Listener = Listener { name: "script dispatch", run: listen };

fn listen(app: App, mut rx: tokio::sync::mpsc::Receiver<Event>) -> BoxFut<'static, ()> {
    Box::pin(async move {
        while let Some(e) = rx.recv().await {
            match e {
                Event::DevicePresence { device, state: Presence::Online, .. } => {
                    tokio::spawn(device_connected(app.clone(), device));
                }
                Event::ScriptFinished { device, command_id, outcome } => {
                    let app = app.clone();
                    tokio::spawn(async move { result(&app, device, &command_id, *outcome).await });
                }
                _ => {}
            }
        }
    })
}
