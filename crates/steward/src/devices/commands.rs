//! Sending signed commands to connected agents and waiting for their
//! results. Every command is audited before it is sent.

use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use std::time::{Duration, Instant};
use steward_protocol::command::{Command, CommandBody};
use steward_protocol::envelope::Envelope;
use steward_protocol::messages::ServerMsg;

/// How long a command stays valid.
const TTL_SECS: i64 = 60;

/// A command for `device_id`, valid `ttl_secs` from now, signed with the
/// server's command key: its id and the envelope to send.
pub fn sign(app: &App, device_id: i64, body: CommandBody, ttl_secs: i64) -> (Command, Envelope) {
    let now = chrono::Utc::now().timestamp();
    let cmd = Command {
        id: crate::crypto::random_token()[..22].to_string(),
        nonce: crate::crypto::random_token(),
        device_id,
        issued_at: now,
        expires_at: now + ttl_secs,
        body,
    };
    let envelope = Envelope::sign(&serde_json::to_vec(&cmd).expect("commands serialise"), &app.command_key);
    (cmd, envelope)
}

/// Signs `body` for `device`, audits it, sends it, and waits for the result.
/// Returns (ok, output, round trip).
pub async fn run(
    app: &App,
    p: &Principal,
    client_id: i64,
    device_id: i64,
    body: CommandBody,
    wait: Duration,
) -> Result<(bool, String, Duration), ApiError> {
    let (cmd, envelope) = sign(app, device_id, body, TTL_SECS);
    crate::audit::store::record(
        &app.store,
        &p.actor(),
        Event::new("device.command", "device", device_id)
            .client(client_id)
            .details(serde_json::json!({"command_id": cmd.id, "body": cmd.body})),
    )
    .await?;
    let rx = app.agents.expect_result(device_id, &cmd.id);
    let start = Instant::now();
    if !app.agents.send(device_id, ServerMsg::Command { envelope }) {
        app.agents.forget(&cmd.id);
        return Err(ApiError::Conflict("the device is offline".into()));
    }
    match tokio::time::timeout(wait, rx).await {
        Ok(Ok((ok, output))) => Ok((ok, output, start.elapsed())),
        _ => {
            app.agents.forget(&cmd.id);
            Err(ApiError::Conflict("the device did not answer in time".into()))
        }
    }
}
