//! `StoreError`: every way a unit of work can fail, with the unique-violation case split out as `Conflict`
//! so that callers answer 409 without ever checking before inserting.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (for example a second member with the same userName).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row the caller named does not exist (in the caller's org).
    #[error("not found")]
    NotFound,
    /// A referenced row does not exist (for example a group member from another org).
    #[error("reference to a missing row: {0}")]
    MissingReference(String),
    /// The write was refused by a rule of the store (for example an append-only table).
    #[error("refused: {0}")]
    Refused(String),
    #[error("database URL is not valid: {0}")]
    InvalidUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database error: {0}")]
    Database(DieselError),
    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("stored document is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The database cannot take the work now (a writer thread or batch lost, a COMMIT failed, SQLite's
    /// `busy_timeout` ran out, PostgreSQL's `statement_timeout` cancelled a statement): answer 503, try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.constraint_name().unwrap_or(info.message()).to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                StoreError::MissingReference(info.constraint_name().unwrap_or(info.message()).to_owned())
            }
            // SQLite's busy_timeout ran out (another process holds the write lock), or PostgreSQL cancelled a
            // statement at `statement_timeout`: retryable, not a bug.
            DieselError::DatabaseError(_, info)
                if is_busy(info.message()) || is_timed_out(info.message()) =>
            {
                StoreError::Unavailable(info.message().to_owned())
            }
            other => StoreError::Database(other),
        }
    }
}

fn is_timed_out(message: &str) -> bool {
    message.contains("canceling statement due to statement timeout")
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database table is locked")
}

impl StoreError {
    /// True for failures that say nothing about the request: the database is down or overloaded.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Pool(_) | StoreError::Connect(_) | StoreError::Unavailable(_)
        )
    }
}
