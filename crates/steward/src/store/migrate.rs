//! Versioned migrations, one folder per engine (`migrations/sqlite`,
//! `migrations/postgres`), embedded at compile time and applied at start.
//! sqlx records each applied migration with its checksum and refuses to start
//! if a released migration was edited, which enforces "never edit, add".

use super::{Pool, Result, Store};
use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    pub(super) async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE.run(p).await?,
            Pool::Postgres(p) => POSTGRES.run(p).await?,
        }
        Ok(())
    }

    /// How many embedded migrations are not yet applied.
    pub async fn migrations_pending(&self) -> Result<usize> {
        let (migrator, applied): (&Migrator, Vec<i64>) = match &self.pool {
            Pool::Sqlite(p) => (&SQLITE, sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(p).await?),
            Pool::Postgres(p) => (&POSTGRES, sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(p).await?),
        };
        Ok(migrator.iter().filter(|m| !applied.contains(&m.version)).count())
    }

    /// Highest migration version embedded in this build.
    pub fn schema_version() -> i64 {
        SQLITE.iter().map(|m| m.version).max().unwrap_or(0)
    }
}
