//! `Store`: the connection pool and the two ways to run a unit of work on it, `read` and `write`.
//!
//! Every unit of work is one closure that gets a `&mut DbConnection` and fails with the caller's own error
//! type (any [`UnitError`]); the async variants run it on the blocking pool so that actix workers never wait on the database. `write` is one transaction, or on SQLite
//! one savepoint in a `BEGIN IMMEDIATE` transaction that writes queued at the same moment share
//! (`group_commit`): the gate is shared by every `Store` of the process that opens the same file, so writers
//! queue on it instead of failing with "database is locked", and across processes `busy_timeout` makes them
//! wait for each other. Either way a write returns only once it is committed.

use crate::availability::Availability;
use crate::connection::{self, Backend, ConnectFailures, ConnectionSettings, DatabaseUrl, DbConnection};
use crate::error::{Seen, StoreError};
use crate::group_commit::{Writer, WriterGate};
use diesel::connection::{AnsiTransactionManager, Connection, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

type DbPool = Pool<ConnectionManager<DbConnection>>;
type Pooled = PooledConnection<ConnectionManager<DbConnection>>;

/// Tuning of the pool; the defaults suit one scimd process.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// The longest a unit of work waits for a pooled connection (all busy, or one being opened). While the
    /// database is known to be unreachable there is no wait at all (`Availability`).
    pub connection_timeout: Duration,
    /// The longest one attempt to open a PostgreSQL connection takes (libpq's `connect_timeout`, per host).
    pub connect_timeout: Duration,
    /// PostgreSQL's `statement_timeout` on every connection (a cancelled statement is `Unavailable`).
    pub statement_timeout: Duration,
}

/// The default wait for a pooled connection: short enough that a request during an outage gets its 503 in
/// a couple of seconds, long enough for a burst that finds every connection busy.
pub const DEFAULT_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(2);
/// The default bound on one PostgreSQL connection attempt (libpq's least is 2 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How often a checkout looks whether a connection attempt failed meanwhile (then the database is away, and
/// waiting longer would not help).
const CHECKOUT_SLICE: Duration = Duration::from_millis(50);

/// The pool's own timeout, which only sets how often it retries opening connections while the database is
/// away (half of it) and how long a plain `Pool::get` waits (never called: `Checkout` says how long).
const POOL_RETRY_TIMEOUT: Duration = Duration::from_secs(1);

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connection_timeout: DEFAULT_CHECKOUT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: connection::DEFAULT_STATEMENT_TIMEOUT,
        }
    }
}

/// How a unit of work gets its connection: from the pool, waiting at most `timeout`, and not at all while
/// the database is known to be unreachable.
#[derive(Clone)]
struct Checkout {
    pool: DbPool,
    availability: Arc<Availability>,
    timeout: Duration,
}

impl Checkout {
    fn get(&self) -> Result<Pooled, StoreError> {
        let result = self.get_within(self.timeout, true);
        if result.is_err() {
            self.availability.count_refusal();
        }
        result
    }

    /// A connection within `timeout`; with `fail_fast`, none at all while the database is unreachable unless
    /// the pool holds one. Connect failures met meanwhile mark the database unreachable.
    fn get_within(&self, timeout: Duration, fail_fast: bool) -> Result<Pooled, StoreError> {
        if fail_fast && !self.availability.is_reachable() {
            // Fail fast: only a connection the pool already holds, tested on the way out. The pool keeps
            // opening connections in the background; the first one that works ends the outage.
            return match self.pool.try_get() {
                Some(conn) => {
                    self.availability.reachable();
                    Ok(conn)
                }
                None => Err(StoreError::Unreachable(
                    self.availability
                        .reason()
                        .unwrap_or_else(|| "no connection can be opened".into()),
                )),
            };
        }
        let started = Instant::now();
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            match self.pool.get_timeout(left.min(CHECKOUT_SLICE)) {
                Ok(conn) => {
                    self.availability.reachable();
                    return Ok(conn);
                }
                Err(err) => {
                    // A connect attempt failed while this checkout waited: the database is away.
                    if let Some(reason) = self
                        .availability
                        .connect_failure_since(started.checked_sub(CHECKOUT_SLICE).unwrap_or(started))
                    {
                        self.availability.unreachable(&reason);
                        return Err(StoreError::Unreachable(reason));
                    }
                    if started.elapsed() >= timeout {
                        if self.pool.state().connections == 0 {
                            let reason = format!("no connection could be opened within {timeout:?}");
                            self.availability.unreachable(&reason);
                            return Err(StoreError::Unreachable(reason));
                        }
                        return Err(StoreError::Pool(err));
                    }
                }
            }
        }
    }

    /// After a unit of work on `conn`: what it met says whether the database answers and takes writes.
    /// A lost connection, or one on a read-only server, is marked broken, so that the pool closes it instead
    /// of handing it out again (a new connection finds the primary, with `target_session_attrs=read-write`).
    fn settle(&self, conn: &mut DbConnection, ok: bool, wrote: bool) {
        match crate::error::take_seen() {
            Some(seen) if !ok => {
                if let DbConnection::Postgres(pg) = conn {
                    AnsiTransactionManager::transaction_manager_status_mut(pg).set_in_error();
                }
                self.availability.count_refusal();
                if let Seen::Unwritable(reason) = seen {
                    self.availability.unwritable(&reason);
                }
            }
            _ if ok && wrote => self.availability.writable(),
            _ => {}
        }
    }

    /// `settle` for a write through the SQLite writer gate, whose connection stays with the gate.
    fn settle_file(&self, ok: bool) {
        self.availability.settle_file(ok);
    }
}

#[derive(Clone)]
pub struct Store {
    checkout: Checkout,
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
        let target = match &url {
            DatabaseUrl::Postgres(raw) => connection::postgres_with_defaults(raw, options.connect_timeout),
            DatabaseUrl::Sqlite(_) => url.connection_string(),
        };
        let settings = ConnectionSettings::new(options.statement_timeout);
        let mut first = connection::establish(&url, &target)?;
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
        let availability = Arc::new(Availability::default());
        let manager = ConnectionManager::<DbConnection>::new(target);
        let pool = Pool::builder()
            // A SQLite connection is a file handle that cannot drop; testing it with a query on every checkout
            // only costs time. A PostgreSQL connection can, so it is tested before use: a connection the
            // server closed (a restart, a failover) is noticed at once and replaced.
            .test_on_check_out(url.backend() == Backend::Postgres)
            .max_size(options.max_connections)
            .min_idle(Some(1))
            .connection_timeout(POOL_RETRY_TIMEOUT)
            .error_handler(Box::new(ConnectFailures(availability.clone())))
            .connection_customizer(Box::new(settings))
            // The first connection was just opened above; the pool fills in the background.
            .build_unchecked(manager);
        let checkout = Checkout {
            pool,
            availability,
            timeout: options.connection_timeout,
        };
        let writer = match &writer_gate {
            Some(gate) => {
                let (checkout, availability) = (checkout.clone(), checkout.availability.clone());
                Some(Writer::start(gate.clone(), move || checkout.get(), availability)?)
            }
            None => None,
        };
        Ok(Store {
            checkout,
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

    fn conn(&self) -> Result<Pooled, StoreError> {
        crate::error::take_seen();
        self.checkout.get()
    }

    /// Whether the database answers and takes writes, as this store has seen it.
    pub fn availability(&self) -> &Availability {
        &self.checkout.availability
    }

    /// Checks that the database answers, waiting at most `patience` for a connection, and records the
    /// answer in [`Store::availability`] (the readiness probe, run in the background). While the database is
    /// unreachable, this is what notices its return when no request comes.
    pub fn probe(&self, patience: Duration) -> Result<(), StoreError> {
        let availability = &self.checkout.availability;
        availability.probe_started();
        // A PostgreSQL connection is tested on its way out of the pool; SQLite's needs no test. A busy pool
        // is no outage: only failed connects (or no connection at all) make the database unreachable.
        let result = self.checkout.get_within(patience, false).map(drop);
        availability.probe_ended();
        result
    }

    /// Runs a read-only unit of work on one connection (no transaction: one statement sees one snapshot).
    pub fn read<T, E: UnitError>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E> {
        let mut conn = self.conn()?;
        let result = f(&mut conn);
        self.checkout.settle(&mut conn, result.is_ok(), false);
        result
    }

    /// Runs a read-only unit of work in one transaction, for reads that must agree with each other
    /// (a page and its total count): on SQLite one snapshot. On PostgreSQL no transaction is opened: at its
    /// isolation level (READ COMMITTED) every statement of a transaction takes a snapshot of its own anyway,
    /// so `BEGIN` and `COMMIT` would be two round trips that change nothing a read sees.
    pub fn read_consistent<T, E: UnitError>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.backend() == Backend::Postgres {
            return self.read(f);
        }
        let mut pooled = self.conn()?;
        let conn: &mut DbConnection = &mut pooled;
        let result = conn
            .transaction(|conn| f(conn).map_err(TxError::Unit))
            .map_err(TxError::into_unit);
        self.checkout.settle(conn, result.is_ok(), false);
        result
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
        match &self.writer_gate {
            Some(gate) => {
                let result = gate
                    .run(|| self.conn(), unit, alone)
                    .map_err(TxError::into_unit)
                    .and_then(|committed| committed);
                // The batch's connection stays with the gate; a SQLite file has no connection to replace.
                self.checkout.settle_file(result.is_ok());
                result
            }
            None => {
                let mut pooled = self.conn()?;
                let conn: &mut DbConnection = &mut pooled;
                let result = conn
                    .transaction(unit)
                    .map_err(TxError::into_unit)
                    .and_then(|committed| committed);
                self.checkout.settle(conn, result.is_ok(), true);
                result
            }
        }
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

    /// Checks that the database answers, through the same checkout as any unit of work.
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
