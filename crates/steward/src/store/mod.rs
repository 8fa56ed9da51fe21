//! The one door to the database.
//!
//! Every query in Steward is a SeaQuery statement rendered for the engine in
//! use and executed by sqlx; nothing else opens a connection. [`Store`] wraps
//! the pool (SQLite or PostgreSQL), [`Tx`] a transaction, and both implement
//! [`Db`], so a query function is written once and runs inside or outside a
//! transaction on either engine.
//!
//! Engine settings: SQLite runs in WAL mode with `synchronous=FULL` (every
//! acknowledged commit is on disk before we answer), `foreign_keys=ON` and a
//! busy timeout so concurrent writers queue instead of failing.

pub mod backup;
pub mod batch;
pub mod lease;
mod migrate;
pub mod packed;

pub use backup::{backup_sqlite, restore_sqlite};

use sea_query::{PostgresQueryBuilder, QueryStatementWriter, SqliteQueryBuilder};
use sea_query_binder::{SqlxBinder, SqlxValues};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{FromRow, PgPool, SqlitePool};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// File name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "steward.db";

/// How long a writer waits for the embedded database before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Storage errors. Unique-key violations are singled out because the API turns
/// them into 409 Conflict.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a record with that value already exists")]
    Conflict,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict;
        }
    }
    StoreError::Db(e)
}

/// Which engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection pool to the system of record.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    sqlite_path: Option<PathBuf>,
    /// Embedded database only: every writer of this process (each
    /// transaction, each autocommit statement) queues here, first come
    /// first served, instead of in SQLite's busy handler, which sleeps and
    /// retries: a long job writing chunk after chunk (an invoice run) left
    /// the busy handler's sleepers waiting until their timeout.
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// The batched writers that touch many device rows (heartbeats,
    /// presence, inventories) take turns here, so that on PostgreSQL two
    /// batches never lock the same rows in different orders (a deadlock
    /// PostgreSQL resolves by aborting one, a second later).
    ingest: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The audit chain's key (derived from the master key; never stored).
    audit_key: std::sync::Arc<std::sync::OnceLock<[u8; 32]>>,
}

/// A row type readable from both engines.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// Anything a query can run on: the pool or an open transaction.
pub trait Db: Send {
    fn backend(&self) -> Backend;
    fn fetch_all<T: Row, S: SqlxBinder + Sync>(&mut self, stmt: &S) -> impl Future<Output = Result<Vec<T>>> + Send;
    fn fetch_optional<T: Row, S: SqlxBinder + Sync>(&mut self, stmt: &S) -> impl Future<Output = Result<Option<T>>> + Send;
    fn execute<S: SqlxBinder + Sync>(&mut self, stmt: &S) -> impl Future<Output = Result<u64>> + Send;

    fn fetch_one<T: Row, S: SqlxBinder + Sync>(&mut self, stmt: &S) -> impl Future<Output = Result<T>> + Send {
        async move { self.fetch_optional(stmt).await?.ok_or(StoreError::Db(sqlx::Error::RowNotFound)) }
    }
}

fn render<S: SqlxBinder>(backend: Backend, stmt: &S) -> (String, SqlxValues) {
    match backend {
        Backend::Sqlite => stmt.build_sqlx(SqliteQueryBuilder),
        Backend::Postgres => stmt.build_sqlx(PostgresQueryBuilder),
    }
}

/// Renders a statement as SQL text for the given engine (for diagnostics).
pub fn to_sql<S: QueryStatementWriter>(backend: Backend, stmt: &S) -> String {
    match backend {
        Backend::Sqlite => stmt.to_string(SqliteQueryBuilder),
        Backend::Postgres => stmt.to_string(PostgresQueryBuilder),
    }
}

/// Runs one statement on an executor of either engine; the macro keeps the
/// three verbs (all/optional/execute) identical for pool and transaction.
macro_rules! run {
    (all, $exec:expr, $backend:expr, $stmt:expr) => {{
        let (sql, values) = render($backend, $stmt);
        match $exec {
            Exec::Sqlite(e) => sqlx::query_as_with(&sql, values).fetch_all(e).await,
            Exec::Postgres(e) => sqlx::query_as_with(&sql, values).fetch_all(e).await,
        }
        .map_err(map_err)
    }};
    (optional, $exec:expr, $backend:expr, $stmt:expr) => {{
        let (sql, values) = render($backend, $stmt);
        match $exec {
            Exec::Sqlite(e) => sqlx::query_as_with(&sql, values).fetch_optional(e).await,
            Exec::Postgres(e) => sqlx::query_as_with(&sql, values).fetch_optional(e).await,
        }
        .map_err(map_err)
    }};
    (execute, $exec:expr, $backend:expr, $stmt:expr) => {{
        let (sql, values) = render($backend, $stmt);
        match $exec {
            Exec::Sqlite(e) => sqlx::query_with(&sql, values).execute(e).await.map(|r| r.rows_affected()),
            Exec::Postgres(e) => sqlx::query_with(&sql, values).execute(e).await.map(|r| r.rows_affected()),
        }
        .map_err(map_err)
    }};
}

enum Exec<S, P> {
    Sqlite(S),
    Postgres(P),
}

impl Store {
    /// Opens (creating if needed) the database: PostgreSQL when `database_url`
    /// is given, otherwise `DATA_DIR/steward.db`. Applies pending migrations.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Store> {
        let store = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let opts = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect_with(opts).await?;
                Store {
                    pool: Pool::Postgres(pool),
                    sqlite_path: None,
                    writer: None,
                    ingest: Default::default(),
                    audit_key: Default::default(),
                }
            }
            Some(url) => {
                return Err(StoreError::Other(format!(
                    "unsupported database URL {url:?}: use postgres://… or leave it out for the embedded SQLite database"
                )))
            }
            None => {
                private_dir(data_dir).map_err(|e| StoreError::Other(format!("cannot create data dir {}: {e}", data_dir.display())))?;
                let path = data_dir.join(SQLITE_FILE);
                let pool = SqlitePoolOptions::new().max_connections(8).connect_with(sqlite_options(&path, true)).await?;
                private_files(data_dir).map_err(|e| StoreError::Other(format!("cannot restrict {}: {e}", data_dir.display())))?;
                Store {
                    pool: Pool::Sqlite(pool),
                    sqlite_path: Some(path),
                    writer: Some(Default::default()),
                    ingest: Default::default(),
                    audit_key: Default::default(),
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Hands the store the audit chain's key (once, right after opening).
    pub fn set_audit_key(&self, key: [u8; 32]) {
        let _ = self.audit_key.set(key);
    }

    /// The audit chain's key, once set.
    pub fn audit_key(&self) -> Option<[u8; 32]> {
        self.audit_key.get().copied()
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Waits for this process's turn to write, on the embedded database
    /// (`None` on PostgreSQL, where row locks do the queueing). As long as
    /// SQLite's own busy timeout at most: a writer that waits longer gets
    /// the same "busy" error it would have had from SQLite.
    async fn write_turn(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>> {
        match &self.writer {
            Some(m) => match tokio::time::timeout(BUSY_TIMEOUT, m.clone().lock_owned()).await {
                Ok(turn) => Ok(Some(turn)),
                Err(_) => Err(StoreError::Other(format!("the database stayed busy for {} s", BUSY_TIMEOUT.as_secs()))),
            },
            None => Ok(None),
        }
    }

    /// Waits for a batched writer's turn (heartbeats, presence,
    /// inventories), taken before the write itself (which then waits for
    /// the write turn like any other).
    pub async fn ingest_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.ingest.clone().lock_owned().await
    }

    /// Path of the embedded database file, when the store is SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }

    /// Starts a transaction. On SQLite it is `BEGIN IMMEDIATE`: it takes the
    /// write lock at once (waiting up to the busy timeout), because a
    /// deferred transaction that reads first and then writes fails at once
    /// with SQLITE_BUSY_SNAPSHOT when any other connection wrote meanwhile
    /// (heartbeats do, every second).
    pub async fn begin(&self) -> Result<Tx<'static>> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                let turn = self.write_turn().await?;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A read-only view of one moment, for a page and its total: both
    /// statements see the same rows however many writes land in between.
    /// A deferred transaction on SQLite (its first read fixes its WAL
    /// snapshot; it takes no write lock), `REPEATABLE READ, READ ONLY` on
    /// PostgreSQL. Dropping it ends it; it never writes.
    pub async fn snapshot(&self) -> Result<Tx<'static>> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN DEFERRED").await?, None),
            Pool::Postgres(p) => Tx::Postgres(p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?),
        })
    }

    /// True when the database answers and every migration is applied.
    pub async fn ready(&self) -> bool {
        self.migrations_pending().await.map(|n| n == 0).unwrap_or(false)
    }

    /// Closes every connection and, on SQLite, leaves no WAL behind.
    ///
    /// SQLite checkpoints and removes the WAL only when the connection that
    /// closes last sees no other open: the pool's connections close side by
    /// side on their own threads, so each may see another and skip it. One
    /// fresh connection, alone after the pool, checkpoints for certain.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => {
                p.close().await;
                if let Some(path) = &self.sqlite_path {
                    if let Err(e) = checkpoint_alone(path).await {
                        tracing::warn!(error = %e, "WAL not checkpointed at close; the next open replays it");
                    }
                }
            }
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// Creates the data directory owner-only (0700), and makes an existing one so.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes the database and its WAL and shared-memory files owner-only (0600):
/// a copy of them is every client's data.
fn private_files(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    for name in [SQLITE_FILE.to_string(), format!("{SQLITE_FILE}-wal"), format!("{SQLITE_FILE}-shm")] {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Folds the WAL into the database file and closes, as the only connection.
async fn checkpoint_alone(path: &Path) -> Result<()> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlite_options(path, false).connect().await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Connection options for the embedded database.
pub(crate) fn sqlite_options(path: &Path, create: bool) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Statement journals (a multi-row UPDATE inside a transaction keeps
        // one, to undo just that statement) in memory, not in temporary
        // files: an invoice run spent a sixth of its time writing them.
        .pragma("temp_store", "MEMORY")
        // Reads straight from the OS page cache, shared by the connections,
        // instead of each copying pages into its own small cache.
        .pragma("mmap_size", "268435456")
        // A page cache of up to 32 MiB a connection (SQLite's default is
        // 2 MiB, grown only as pages are read): a transaction that changes
        // thousands of rows (an invoice run's chunk) otherwise spills
        // changed pages to the WAL before its commit and reads them back.
        .pragma("cache_size", "-32768")
        .busy_timeout(BUSY_TIMEOUT)
}

impl Store {
    /// Runs a query on the pool and returns every row.
    pub async fn fetch_all<T: Row, S: SqlxBinder + Sync>(&self, stmt: &S) -> Result<Vec<T>> {
        let exec = match &self.pool {
            Pool::Sqlite(p) => Exec::Sqlite(p),
            Pool::Postgres(p) => Exec::Postgres(p),
        };
        run!(all, exec, self.backend(), stmt)
    }
    /// Runs a query on the pool and returns the first row, if any.
    pub async fn fetch_optional<T: Row, S: SqlxBinder + Sync>(&self, stmt: &S) -> Result<Option<T>> {
        let exec = match &self.pool {
            Pool::Sqlite(p) => Exec::Sqlite(p),
            Pool::Postgres(p) => Exec::Postgres(p),
        };
        run!(optional, exec, self.backend(), stmt)
    }
    /// Runs a query that must return a row.
    pub async fn fetch_one<T: Row, S: SqlxBinder + Sync>(&self, stmt: &S) -> Result<T> {
        self.fetch_optional(stmt).await?.ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }
    /// Runs a statement on the pool (autocommit) and returns rows affected.
    pub async fn execute<S: SqlxBinder + Sync>(&self, stmt: &S) -> Result<u64> {
        let _turn = self.write_turn().await?;
        let exec = match &self.pool {
            Pool::Sqlite(p) => Exec::Sqlite(p),
            Pool::Postgres(p) => Exec::Postgres(p),
        };
        run!(execute, exec, self.backend(), stmt)
    }
}

impl Db for Store {
    fn backend(&self) -> Backend {
        Store::backend(self)
    }
    async fn fetch_all<T: Row, S: SqlxBinder + Sync>(&mut self, stmt: &S) -> Result<Vec<T>> {
        Store::fetch_all(self, stmt).await
    }
    async fn fetch_optional<T: Row, S: SqlxBinder + Sync>(&mut self, stmt: &S) -> Result<Option<T>> {
        Store::fetch_optional(self, stmt).await
    }
    async fn execute<S: SqlxBinder + Sync>(&mut self, stmt: &S) -> Result<u64> {
        Store::execute(self, stmt).await
    }
}

/// An open transaction on either engine. Dropped without [`Tx::commit`], it
/// rolls back. A writing transaction on the embedded database holds this
/// process's write turn until it ends (fields drop in order: the
/// transaction first, then the turn).
pub enum Tx<'c> {
    Sqlite(sqlx::Transaction<'c, sqlx::Sqlite>, Option<tokio::sync::OwnedMutexGuard<()>>),
    Postgres(sqlx::Transaction<'c, sqlx::Postgres>),
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _turn) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Db for Tx<'_> {
    fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(..) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
    async fn fetch_all<T: Row, S: SqlxBinder + Sync>(&mut self, stmt: &S) -> Result<Vec<T>> {
        let b = Db::backend(self);
        let exec = match self {
            Tx::Sqlite(t, _) => Exec::Sqlite(&mut **t),
            Tx::Postgres(t) => Exec::Postgres(&mut **t),
        };
        run!(all, exec, b, stmt)
    }
    async fn fetch_optional<T: Row, S: SqlxBinder + Sync>(&mut self, stmt: &S) -> Result<Option<T>> {
        let b = Db::backend(self);
        let exec = match self {
            Tx::Sqlite(t, _) => Exec::Sqlite(&mut **t),
            Tx::Postgres(t) => Exec::Postgres(&mut **t),
        };
        run!(optional, exec, b, stmt)
    }
    async fn execute<S: SqlxBinder + Sync>(&mut self, stmt: &S) -> Result<u64> {
        let b = Db::backend(self);
        let exec = match self {
            Tx::Sqlite(t, _) => Exec::Sqlite(&mut **t),
            Tx::Postgres(t) => Exec::Postgres(&mut **t),
        };
        run!(execute, exec, b, stmt)
    }
}

/// A `RETURNING id` result.
#[derive(Debug, sqlx::FromRow)]
pub struct IdRow {
    pub id: i64,
}

/// A `COUNT(..) AS n` result.
#[derive(Debug, sqlx::FromRow)]
pub struct Count {
    pub n: i64,
}

/// How many rows match, counted up to a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub n: i64,
    /// The count stopped at `n`: at least that many match.
    pub capped: bool,
}

/// "1234", or "10000+" when capped.
impl std::fmt::Display for Total {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.n, if self.capped { "+" } else { "" })
    }
}

/// Counts the rows of `matching` (a select of anything, filtered) up to
/// `cap`: `SELECT COUNT(*) FROM (… LIMIT cap + 1)`, so a huge match costs
/// no more than `cap` rows read.
pub async fn count_capped(db: &mut impl Db, mut matching: sea_query::SelectStatement, cap: u64) -> Result<Total> {
    // The engines take a signed 64-bit LIMIT (a page asked for at offset
    // 2^63 once reached the binder and panicked).
    let cap = cap.min(i64::MAX as u64 - 1);
    matching.limit(cap + 1);
    let q = sea_query::Query::select()
        .expr_as(sea_query::Expr::cust("COUNT(*)"), n())
        .from_subquery(matching, sea_query::Alias::new("matching"))
        .to_owned();
    let c: Count = db.fetch_one(&q).await?;
    Ok(if c.n as u64 > cap { Total { n: cap as i64, capped: true } } else { Total { n: c.n, capped: false } })
}

/// The alias `n` for [`Count`] queries.
pub fn n() -> sea_query::Alias {
    sea_query::Alias::new("n")
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// `LIKE 'text%'` with the user's text matched literally (both engines).
pub fn like_prefix(s: &str) -> sea_query::LikeExpr {
    sea_query::LikeExpr::new(format!("{}%", like_escape(s))).escape('\\')
}

/// `LIKE '%text%'` with the user's text matched literally (both engines).
pub fn like_contains(s: &str) -> sea_query::LikeExpr {
    sea_query::LikeExpr::new(format!("%{}%", like_escape(s))).escape('\\')
}
