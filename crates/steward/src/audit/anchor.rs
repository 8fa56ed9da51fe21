//! Anchors: the chain head copied outside the server.
//!
//! A hash chain proves that nobody edited the middle of the log, but an
//! attacker with the database could rewrite the whole chain. Anchors close
//! that gap: the current (seq, hash) is appended to a file (ideally on other
//! storage, or a write-once mount) and/or POSTed to a webhook. `steward audit
//! verify --anchors FILE` then checks that each anchored entry still has the
//! anchored hash.

use super::{
    chain::Entry,
    store::{head, AuditLog},
};
use crate::store::Store;
use crate::time::{now_us, rfc3339};
use sea_query::{Expr, Query};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// One anchor line (JSON lines in the anchor file; the webhook body).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Anchor {
    pub at: String,
    pub seq: i64,
    pub hash: String,
}

/// Takes the current head and writes it to the configured places.
pub async fn write(store: &Store, file: Option<&Path>, webhook: Option<&str>) -> anyhow::Result<Anchor> {
    let (seq, hash) = head(store).await?;
    write_head(seq, hash, file, webhook).await
}

/// Writes an anchor only when the head moved since the last one this
/// process wrote (the scheduled job: a quiet night adds no lines).
pub async fn write_if_moved(store: &Store, file: Option<&Path>, webhook: Option<&str>) -> anyhow::Result<Option<Anchor>> {
    static LAST: std::sync::Mutex<Option<i64>> = std::sync::Mutex::new(None);
    let (seq, hash) = head(store).await?;
    if *LAST.lock().expect("anchor lock") == Some(seq) {
        return Ok(None);
    }
    let a = write_head(seq, hash, file, webhook).await?;
    *LAST.lock().expect("anchor lock") = Some(seq);
    Ok(Some(a))
}

async fn write_head(seq: i64, hash: String, file: Option<&Path>, webhook: Option<&str>) -> anyhow::Result<Anchor> {
    let a = Anchor { at: rfc3339(now_us()), seq, hash };
    if let Some(path) = file {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(f, "{}", serde_json::to_string(&a)?)?;
        f.sync_all()?;
    }
    if let Some(url) = webhook {
        let resp = reqwest::Client::builder().timeout(std::time::Duration::from_secs(15)).build()?.post(url).json(&a).send().await?;
        anyhow::ensure!(resp.status().is_success(), "anchor webhook answered {}", resp.status());
    }
    Ok(a)
}

/// Checks every anchor in `file` against the log. Returns the number checked,
/// or the first anchor whose entry is missing or has another hash.
pub async fn check_file(store: &Store, file: &Path) -> anyhow::Result<Result<usize, String>> {
    let text = std::fs::read_to_string(file)?;
    let (head_seq, _) = head(store).await?;
    let mut n = 0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let a: Anchor = serde_json::from_str(line).map_err(|e| anyhow::anyhow!("{}:{}: {e}", file.display(), i + 1))?;
        if a.seq == 0 {
            n += 1;
            continue;
        }
        if a.seq > head_seq {
            return Ok(Err(format!("anchor at line {} names entry {} but the log ends at {head_seq}", i + 1, a.seq)));
        }
        let e: Option<Entry> = store
            .fetch_optional(Query::select().column(sea_query::Asterisk).from(AuditLog::Table).and_where(Expr::col(AuditLog::Seq).eq(a.seq)))
            .await?;
        match e {
            Some(e) if e.hash == a.hash => n += 1,
            Some(_) => return Ok(Err(format!("entry {} no longer has the hash anchored at {} (line {})", a.seq, a.at, i + 1))),
            None => return Ok(Err(format!("entry {} anchored at {} is missing (line {})", a.seq, a.at, i + 1))),
        }
    }
    Ok(Ok(n))
}
