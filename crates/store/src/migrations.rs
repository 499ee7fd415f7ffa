//! The migrations of both backends, embedded in the binary and run at start and by `scimd migrate`.

use crate::connection::DbConnection;
use crate::error::StoreError;
use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Runs inside the caller's transaction (the store's write path), so a failed migration leaves nothing behind.
pub(crate) fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => {
            // A migration (or waiting for another process's) may take longer than the pool's statement_timeout.
            diesel::sql_query("SET LOCAL statement_timeout = 0").execute(c)?;
            // Several processes may start together: one migrates, the others wait and then find nothing to do.
            diesel::sql_query("SELECT pg_advisory_xact_lock(7304351986)").execute(c)?;
            c.run_pending_migrations(POSTGRES_MIGRATIONS)
        }
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}
