//! `Store`: the connection pool and the two ways to run a unit of work on it, `read` and `write`.
//!
//! Every unit of work is one closure that gets a `&mut DbConnection` and fails with the caller's own error
//! type (any [`UnitError`]); the async variants run it on the blocking pool so that actix workers never wait on the database. `write` is one transaction, or on SQLite
//! one savepoint in a `BEGIN IMMEDIATE` transaction that writes queued at the same moment share
//! (`group_commit`): the gate is shared by every `Store` of the process that opens the same file, so writers
//! queue on it instead of failing with "database is locked", and across processes `busy_timeout` makes them
//! wait for each other. Either way a write returns only once it is committed.

use crate::connection::{self, Backend, ConnectionSettings, DatabaseUrl, DbConnection};
use crate::error::StoreError;
use crate::group_commit::{Writer, WriterGate};
use diesel::connection::{Connection, SimpleConnection};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

type DbPool = Pool<ConnectionManager<DbConnection>>;

/// Tuning of the pool; the defaults suit one scimd process.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub connection_timeout: Duration,
    /// PostgreSQL's `statement_timeout` on every connection (a cancelled statement is `Unavailable`).
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connection_timeout: Duration::from_secs(10),
            statement_timeout: connection::DEFAULT_STATEMENT_TIMEOUT,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: DbPool,
    url: DatabaseUrl,
    writer_gate: Option<Arc<WriterGate>>,
    /// This store's SQLite writer thread (`write_owned`); `None` on PostgreSQL.
    writer: Option<Writer>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url.redacted())
            .finish_non_exhaustive()
    }
}

/// One gate per SQLite file in this process, however many `Store`s open it.
static WRITER_GATES: LazyLock<Mutex<HashMap<PathBuf, Arc<WriterGate>>>> = LazyLock::new(Default::default);

fn writer_gate_for(path: &std::path::Path) -> Arc<WriterGate> {
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut gates = WRITER_GATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    gates.entry(key).or_default().clone()
}

impl Store {
    /// Connects (failing fast with the driver's message when the URL is wrong) and runs pending migrations.
    pub fn open(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let store = Store::connect(url, options)?;
        store.migrate()?;
        Ok(store)
    }

    /// Connects without migrating.
    pub fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let url = DatabaseUrl::parse(url)?;
        let settings = ConnectionSettings::new(options.statement_timeout);
        let mut first = connection::establish(&url)?;
        settings.apply(&mut first)?;
        let writer_gate = match (&url, &mut first) {
            (DatabaseUrl::Sqlite(path), DbConnection::Sqlite(conn)) => {
                // WAL is a property of the file: set once here, kept by every later connection.
                conn.batch_execute("PRAGMA journal_mode = WAL")?;
                Some(writer_gate_for(path))
            }
            _ => None,
        };
        drop(first);
        let manager = ConnectionManager::<DbConnection>::new(url.connection_string());
        let pool = Pool::builder()
            // A SQLite connection is a file handle that cannot drop; testing it with a query on every checkout
            // only costs time. A PostgreSQL connection can, so it is tested before use.
            .test_on_check_out(url.backend() == Backend::Postgres)
            .max_size(options.max_connections)
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            .connection_customizer(Box::new(settings))
            .build(manager)?;
        let writer = match &writer_gate {
            Some(gate) => {
                let pool = pool.clone();
                Some(Writer::start(gate.clone(), move || Ok(pool.get()?))?)
            }
            None => None,
        };
        Ok(Store {
            pool,
            url,
            writer_gate,
            writer,
        })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The database URL with any password hidden.
    pub fn redacted_url(&self) -> String {
        self.url.redacted()
    }

    /// Applies pending migrations; returns the versions applied (empty when the schema is current).
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        self.write_raw(crate::migrations::run_pending, true)
    }

    fn conn(&self) -> Result<PooledConnection<ConnectionManager<DbConnection>>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs a read-only unit of work on one connection (no transaction: one statement sees one snapshot).
    pub fn read<T, E: UnitError>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Runs a read-only unit of work in one transaction, for reads that must agree with each other
    /// (a page and its total count).
    pub fn read_consistent<T, E: UnitError>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut pooled = self.conn()?;
        let conn: &mut DbConnection = &mut pooled;
        conn.transaction(|conn| f(conn).map_err(TxError::Unit))
            .map_err(TxError::into_unit)
    }

    /// Runs a unit of work as one write transaction: all of it is committed, or none (except an error that
    /// [`UnitError::commits`]: the transaction is committed and then the error returned).
    pub fn write<T, E: UnitError>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E> {
        self.write_raw(f, false)
    }

    fn write_raw<T, E: UnitError>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
        alone: bool,
    ) -> Result<T, E> {
        let unit = committing(f);
        let result = match &self.writer_gate {
            Some(gate) => gate.run(|| self.conn(), unit, alone),
            None => {
                let mut pooled = self.conn()?;
                let conn: &mut DbConnection = &mut pooled;
                conn.transaction(unit)
            }
        };
        result.map_err(TxError::into_unit).and_then(|committed| committed)
    }

    /// `write` for a unit of work that owns what it uses (the hot path of the SCIM API): on SQLite it runs on
    /// this store's writer thread, which runs the units of work that arrive while one runs in the same
    /// transaction without handing the writer from thread to thread. It returns once committed, like `write`.
    pub fn write_owned<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: UnitError + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer
                .write(committing(f))
                .map_err(TxError::into_unit)
                .and_then(|committed| committed),
            None => self.write(f),
        }
    }

    /// Callers queued for this SQLite file's writer right now; 0 on PostgreSQL. For tests and diagnostics.
    pub fn writers_queued(&self) -> usize {
        self.writer_gate.as_ref().map_or(0, |gate| gate.queued())
    }

    /// Units of work sent to this store's SQLite writer thread (`write_owned`) that have not started yet; 0 on
    /// PostgreSQL. For tests and diagnostics.
    pub fn owned_writes_pending(&self) -> usize {
        self.writer.as_ref().map_or(0, Writer::pending)
    }

    /// Units of work this process has run on this SQLite file (`None` on PostgreSQL); with `sqlite_commits`,
    /// the mean batch of the group commit. For diagnostics (`/metrics`).
    pub fn sqlite_writes(&self) -> Option<u64> {
        self.writer_gate.as_ref().map(|gate| gate.writes())
    }

    /// COMMITs this process has issued on this SQLite file (`None` on PostgreSQL): fewer than the writes
    /// when concurrent writes were grouped. For tests and diagnostics.
    pub fn sqlite_commits(&self) -> Option<u64> {
        self.writer_gate.as_ref().map(|gate| gate.commits())
    }

    /// `read` on the blocking pool.
    pub async fn read_async<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: UnitError + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        blocking(move || store.read(f)).await
    }

    /// `write` on the blocking pool.
    pub async fn write_async<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: UnitError + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        blocking(move || store.write(f)).await
    }

    /// Checks that the database answers (readiness probe).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok::<_, StoreError>(conn.batch_execute("SELECT 1")?))
    }
}

/// Runs blocking work (a unit of work, or several) on tokio's blocking pool, so that actix workers never wait
/// on the database. The one place scimd leaves the async world for the database.
pub async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| E::from(StoreError::Unavailable(format!("the blocking task failed: {e}"))))?
}

/// An error a unit of work can end with: any caller's error type that a store failure converts into.
///
/// diesel's own `Connection::transaction` is generic the same way; a unit of work fails with the caller's
/// domain error directly, and the transaction is rolled back.
pub trait UnitError: From<StoreError> {
    /// True for an error that must still commit what the unit of work wrote before it (the safety valve's
    /// hold records the trip, then answers 503). Almost every error rolls back: the default.
    fn commits(&self) -> bool {
        false
    }
}

impl UnitError for StoreError {}

/// A unit of work's failure inside diesel's transaction: the caller's own error, or diesel's (BEGIN, COMMIT,
/// a savepoint), which reaches the caller as a `StoreError`.
pub(crate) enum TxError<E> {
    Unit(E),
    Diesel(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(err: diesel::result::Error) -> Self {
        TxError::Diesel(err)
    }
}

impl<E: From<StoreError>> From<StoreError> for TxError<E> {
    fn from(err: StoreError) -> Self {
        TxError::Unit(E::from(err))
    }
}

impl<E: From<StoreError>> TxError<E> {
    fn into_unit(self) -> E {
        match self {
            TxError::Unit(err) => err,
            TxError::Diesel(err) => E::from(StoreError::from(err)),
        }
    }
}

/// The unit of work as a transaction body: an error that [`UnitError::commits`] leaves the transaction as a
/// success, and comes back out as the inner `Err` once committed.
fn committing<T, E: UnitError>(
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> impl FnOnce(&mut DbConnection) -> Result<Result<T, E>, TxError<E>> {
    move |conn| match f(conn) {
        Ok(value) => Ok(Ok(value)),
        Err(err) if err.commits() => Ok(Err(err)),
        Err(err) => Err(TxError::Unit(err)),
    }
}
