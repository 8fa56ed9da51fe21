//! The `webhooks.deliver` job (one node at a time, under its lease):
//! POSTs each due delivery with its signature, to an address checked after
//! DNS and pinned for the connection (so a name that changes its answer
//! between the check and the request cannot reach this network), and
//! records the outcome: delivered on a 2xx, tried again with backoff, or
//! given up after `MAX_ATTEMPTS`. A delivery is marked only after its
//! attempt, so a crash sends it again (receivers deduplicate on
//! `X-Steward-Delivery`) rather than never.

use super::model::{self, Range};
use super::store::{self, DeliveryRow};
use crate::app::App;
use crate::time::now_us;
use std::net::SocketAddr;
use std::time::Duration;

/// Deliveries sent per round.
const BATCH: u64 = 100;

pub async fn run(app: &App) -> anyhow::Result<()> {
    {
        // Storms' held events go as digests first.
        let mut tx = app.store.begin().await?;
        let made = super::ops::digest(&mut tx, now_us(), app.cfg.webhook_digest_secs as i64 * 1_000_000).await?;
        tx.commit().await?;
        if made > 0 {
            tracing::info!(digests = made, "webhook digests queued for alert storms");
        }
    }
    let allowed: Vec<Range> = app.cfg.webhook_allow_private.iter().filter_map(|r| Range::parse(r)).collect();
    let due = store::due(&mut app.store.clone(), now_us(), BATCH).await?;
    for d in due {
        let outcome = match store::get(&mut app.store.clone(), d.webhook_id).await? {
            Some(w) => match app.master.open(&super::ops::secret_context(w.id), &w.secret_sealed) {
                Ok(secret) => send(&w.url, &secret, &d, &allowed).await,
                Err(_) => Err((None, "the secret could not be opened".to_string())),
            },
            None => Err((None, "the webhook was deleted".to_string())),
        };
        let now = now_us();
        let mut db = app.store.clone();
        match outcome {
            Ok(status) => store::attempted(&mut db, d.id, "delivered", Some(status), "", now, now).await?,
            Err((status, error)) => {
                let attempt = d.attempts + 1;
                let (state, next) = if attempt >= model::MAX_ATTEMPTS {
                    ("failed", now)
                } else {
                    ("pending", now + model::backoff_secs(attempt) * 1_000_000)
                };
                tracing::warn!(delivery = d.id, webhook = d.webhook_id, attempt, error = %error, "webhook delivery failed");
                store::attempted(&mut db, d.id, state, status, &error, next, now).await?;
            }
        }
    }
    Ok(())
}

/// One attempt: the receiver's status when 2xx, else the status (if any)
/// and why.
async fn send(url: &str, secret: &[u8], d: &DeliveryRow, allowed: &[Range]) -> Result<i64, (Option<i64>, String)> {
    let u = model::check_url(url).map_err(|e| (None, e))?;
    let host = u.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = u.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host.as_str(), port)).await.map_err(|e| (None, format!("cannot resolve {host}: {e}")))?.collect();
    // Every answer must be allowed: a name with one public and one private
    // answer could otherwise be steered to the private one.
    if let Some(bad) = addrs.iter().find(|a| !model::may_reach(a.ip(), allowed)) {
        return Err((None, format!("{host} resolves to {}, which deliveries may not reach", bad.ip())));
    }
    let first = *addrs.first().ok_or((None, format!("{host} has no address")))?;
    let ips: Vec<std::net::IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
    if u.scheme() == "http" && !model::may_use_plain_http(&ips, allowed) {
        return Err((None, "plain http only to an allowed private range: use https".to_string()));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, first)
        .build()
        .map_err(|e| (None, e.to_string()))?;
    let timestamp = now_us() / 1_000_000;
    let resp = client
        .post(u)
        .header("content-type", "application/json")
        .header("x-steward-event", &d.event)
        .header("x-steward-delivery", d.id.to_string())
        .header("x-steward-timestamp", timestamp.to_string())
        .header("x-steward-signature", model::signature(secret, timestamp, d.payload.as_bytes()))
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| (None, format!("{e}")))?;
    let status = i64::from(resp.status().as_u16());
    if resp.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("the receiver answered {status}")))
    }
}
