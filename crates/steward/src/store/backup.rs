//! Online backup and restore of the embedded SQLite database.
//!
//! Backup uses `VACUUM INTO`, which reads one consistent snapshot (WAL mode
//! lets the server keep writing meanwhile) and writes a compact, self-contained
//! database file. The copy is then checked with `PRAGMA integrity_check`.
//! Restore refuses while a server holds the data directory's lock, checks the
//! backup's integrity first, and swaps the file in with a rename so a crash
//! mid-restore leaves either the old or the new database, never half of one.

use super::{sqlite_options, StoreError, SQLITE_FILE};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

type Result<T> = std::result::Result<T, StoreError>;

/// Name of the lock file a running server holds in its data directory.
pub const LOCK_FILE: &str = "steward.lock";

/// Writes a consistent copy of `DATA_DIR/steward.db` to `to`.
pub async fn backup_sqlite(data_dir: &Path, to: &Path) -> Result<()> {
    let db = data_dir.join(SQLITE_FILE);
    if !db.exists() {
        return Err(StoreError::Other(format!("no database at {}", db.display())));
    }
    if to.exists() {
        return Err(StoreError::Other(format!("{} already exists; refusing to overwrite it", to.display())));
    }
    let target = to.to_str().ok_or_else(|| StoreError::Other("backup path must be valid UTF-8".into()))?.to_owned();
    let mut conn = sqlite_options(&db, false).connect().await?;
    sqlx::query("VACUUM INTO ?").bind(&target).execute(&mut conn).await?;
    conn.close().await?;
    integrity_check(to).await
}

/// Runs `PRAGMA integrity_check` on a database file.
pub async fn integrity_check(path: &Path) -> Result<()> {
    let mut conn = SqliteConnectOptions::new().filename(path).read_only(true).connect().await?;
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await?;
    conn.close().await?;
    if rows == ["ok"] {
        Ok(())
    } else {
        Err(StoreError::Other(format!("integrity check failed: {}", rows.join("; "))))
    }
}

/// Replaces `DATA_DIR/steward.db` with the backup at `from`.
pub async fn restore_sqlite(data_dir: &Path, from: &Path) -> Result<()> {
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(data_dir.join(LOCK_FILE)).map_err(io)?;
    if lock.try_lock().is_err() {
        return Err(StoreError::Other("a steward server is running on this data directory; stop it before restoring".into()));
    }
    integrity_check(from).await?;
    let db = data_dir.join(SQLITE_FILE);
    let tmp = data_dir.join(format!("{SQLITE_FILE}.restoring"));
    std::fs::copy(from, &tmp).map_err(io)?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        let p = data_dir.join(format!("{SQLITE_FILE}{suffix}"));
        if p.exists() {
            std::fs::remove_file(&p).map_err(io)?;
        }
    }
    std::fs::rename(&tmp, &db).map_err(io)?;
    std::fs::File::open(data_dir).and_then(|d| d.sync_all()).map_err(io)?;
    drop(lock);
    Ok(())
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Other(e.to_string())
}
