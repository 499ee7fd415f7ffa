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
    /// The database cannot be reached: no connection could be opened, or the connection was lost (a restart,
    /// a failover). Answer 503; the store fails fast until a connection works again.
    #[error("the database cannot be reached: {0}")]
    Unreachable(String),
    /// The database refuses writes: a read-only PostgreSQL server (SQLSTATE 25006, a standby after a
    /// failover), a full disk, or a read-only or failing SQLite file. Answer 503 and log the reason once.
    #[error("the database refuses writes: {0}")]
    Unwritable(String),
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
            // The connection is gone (the server restarted, failed over, or cut it): retryable on a new one.
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                let reason = info.message().trim().to_owned();
                seen(Seen::Closed);
                StoreError::Unreachable(reason)
            }
            // A read-only server (a standby after a failover): this connection must be replaced.
            DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, info) => {
                let reason = info.message().trim().to_owned();
                seen(Seen::Unwritable(reason.clone()));
                StoreError::Unwritable(reason)
            }
            DieselError::DatabaseError(_, info) if is_unwritable(info.message()) => {
                let reason = info.message().trim().to_owned();
                seen(Seen::Unwritable(reason.clone()));
                StoreError::Unwritable(reason)
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

/// SQLite's words for a file that cannot take writes: SQLITE_FULL, SQLITE_READONLY (and its extended codes),
/// SQLITE_IOERR.
fn is_unwritable(message: &str) -> bool {
    message.contains("database or disk is full")
        || message.contains("attempt to write a readonly database")
        || message.contains("disk I/O error")
}

/// What a unit of work met on this thread that says something about the database rather than the request,
/// noted where diesel's error becomes a `StoreError` (inside the caller's unit of work, whose own error type
/// the store cannot look into) and taken by the store once the unit of work ends on the same thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The connection was lost: the pool must not hand it out again.
    Closed,
    /// The database refused a write for a reason of its own (read-only server, full disk, read-only file).
    Unwritable(String),
}

thread_local! {
    static SEEN: std::cell::RefCell<Option<Seen>> = const { std::cell::RefCell::new(None) };
}

fn seen(what: Seen) {
    SEEN.with(|cell| *cell.borrow_mut() = Some(what));
}

/// What this thread's units of work met since the last `take_seen`, without forgetting it.
pub(crate) fn peek_seen() -> Option<Seen> {
    SEEN.with(|cell| cell.borrow().clone())
}

/// What this thread's units of work met since the last call (and forgets it).
pub(crate) fn take_seen() -> Option<Seen> {
    SEEN.with(|cell| cell.borrow_mut().take())
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database table is locked")
}

impl StoreError {
    /// True for the database being away or refusing writes, which the store logs once when it starts and
    /// once when it ends: the places that answer requests log these quietly, not once per request.
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Unreachable(_) | StoreError::Unwritable(_))
    }

    /// True for failures that say nothing about the request: the database is down or overloaded.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Pool(_)
                | StoreError::Connect(_)
                | StoreError::Unavailable(_)
                | StoreError::Unreachable(_)
                | StoreError::Unwritable(_)
        )
    }
}
