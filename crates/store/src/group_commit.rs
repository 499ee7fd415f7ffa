//! Group commit of SQLite writes: one writer per database file in the process, and the units of work that
//! queue up behind a running one share its transaction and its one COMMIT.
//!
//! Why: with `synchronous=FULL` every COMMIT appends to the WAL and waits for the disk, and SQLite has one
//! writer at a time; one commit per request held durable creates to about 1,500/s on a disk that takes 9,000
//! commits/s. Each unit of work runs inside its own SAVEPOINT (a failing one is rolled back alone, as if it
//! had its own transaction), and its caller hears back only after the COMMIT that holds it: an acknowledged
//! write is on disk, as before. A unit of work that finds nobody queued behind it commits at once, so a lone
//! write waits for nobody.
//!
//! Two ways in, one gate ([`WriterGate`], shared by every `Store` of the process on the file):
//! - `Store::write` runs the unit of work on the caller's thread; a caller that finishes while others queue
//!   leaves the transaction open for the next one and waits for the COMMIT;
//! - `Store::write_owned` (the SCIM API's writes, which own what they use) sends it to the store's writer
//!   thread ([`Writer`]), which runs whatever arrived while it was busy back to back, with no hand-over
//!   between threads per write.

use crate::connection::DbConnection;
use crate::error::StoreError;
use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use diesel::r2d2::{ConnectionManager, PooledConnection};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, mpsc};

pub(crate) type Pooled = PooledConnection<ConnectionManager<DbConnection>>;

/// Most units of work in one transaction: bounds how long a batch holds the file's write lock (other
/// processes wait on `busy_timeout` meanwhile) and how long its first caller waits for the COMMIT.
const MAX_BATCH: usize = 64;

/// Why a batch was lost, as its units of work are told.
const LOST_TO_PANIC: &str = "a write in the same batch failed; nothing of the batch was saved";
const LOST_TO_ROLLBACK: &str = "the write transaction was rolled back by the database";

/// How a unit of work lost its batch: it panicked (the payload, to resume), or SQLite rolled the transaction
/// back under it (its result, when it got one).
enum Lost<R> {
    Panicked(Box<dyn std::any::Any + Send>),
    RolledBack(Option<R>),
}

/// What a unit of work that passed its transaction on learns about the COMMIT.
type Outcome = Arc<OnceLock<Result<(), String>>>;

/// A unit of work sent to the writer thread: run on the batch's connection (or told why the batch could not
/// start), it returns what tells its caller the result once the COMMIT's outcome is known.
type Job = Box<dyn FnOnce(Result<&mut DbConnection, StoreError>) -> Deliver + Send>;
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The writer thread of one `Store` on a SQLite file: it takes units of work that own what they use
/// ([`Writer::write`]) and runs them in batches under the file's [`WriterGate`], so that they and the
/// callers of the gate directly exclude each other.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Units of work sent and not started yet (for tests and diagnostics).
    pending: Arc<AtomicUsize>,
}

impl Writer {
    /// Starts the thread; it ends when the last `Writer` clone (the last clone of its `Store`) is dropped.
    pub(crate) fn start(
        gate: Arc<WriterGate>,
        checkout: impl Fn() -> Result<Pooled, StoreError> + Send + 'static,
        availability: Arc<crate::availability::Availability>,
    ) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("scimd-sqlite-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    crate::error::take_seen();
                    gate.run_jobs(
                        &checkout,
                        first,
                        || queue.try_recv().ok(),
                        |committed| availability.settle_file(committed),
                    );
                }
            })
            .map_err(|err| {
                StoreError::Unavailable(format!("cannot start the SQLite writer thread: {err}"))
            })?;
        Ok(Writer {
            jobs,
            pending: Arc::default(),
        })
    }

    /// Units of work sent to the thread that have not started yet.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Runs `f` in its own savepoint of the writer's current batch and returns once that batch is committed.
    pub(crate) fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel::<Result<T, E>>(1);
        let pending = self.pending.clone();
        let job: Job = Box::new(move |conn| {
            pending.fetch_sub(1, Ordering::SeqCst);
            let result = match conn {
                Ok(conn) => {
                    let result = conn.transaction(f);
                    // SQLite rolled the whole transaction back under the unit of work (a full disk, an I/O
                    // error): its own error is then diesel's about a savepoint that is gone; say why instead.
                    if transaction_intact(conn) {
                        result
                    } else {
                        Err(lost().into())
                    }
                }
                Err(err) => Err(err.into()),
            };
            Box::new(move |committed| {
                let answer = match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(message)) => Err(StoreError::Unavailable(message).into()),
                    (Err(err), _) => Err(err),
                };
                // The caller only goes away by panicking; nobody is left to tell.
                let _ = reply.send(answer);
            })
        });
        self.pending.fetch_add(1, Ordering::SeqCst);
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the SQLite writer thread has stopped".into()))?;
        answer.recv().map_err(|_| {
            StoreError::Unavailable("the write failed inside its batch; nothing was saved".into())
        })?
    }
}

#[derive(Default)]
pub(crate) struct WriterGate {
    batch: Mutex<Batch>,
    committed: Condvar,
    /// Callers blocked on `batch`: while there are any, a finished unit of work leaves the transaction open.
    queued: AtomicUsize,
    commits: AtomicU64,
    /// Units of work run (committed or not): `writes / commits` is the mean batch.
    writes: AtomicU64,
}

#[derive(Default)]
struct Batch {
    /// The connection of the open transaction, while one is open.
    conn: Option<Pooled>,
    /// Units of work run in the open transaction.
    jobs: usize,
    /// Units of work that succeeded in the open transaction and wait for its COMMIT.
    waiting: Vec<Outcome>,
}

impl WriterGate {
    /// Runs `f` in the open transaction (opening one with a connection from `checkout` when none is), and
    /// returns once that transaction is committed. `alone` commits right after `f` (migrations).
    pub(crate) fn run<T, E>(
        &self,
        checkout: impl FnOnce() -> Result<Pooled, StoreError>,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
        alone: bool,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut batch = self.enter(checkout)?;
        let result = match self.step(&mut batch, |conn| conn.transaction(f)) {
            Ok(result) => result,
            // The gate stays usable (it is not poisoned); the panic goes on to this caller.
            Err(Lost::Panicked(panic)) => {
                drop(batch);
                std::panic::resume_unwind(panic);
            }
            // SQLite rolled the whole transaction back (a full disk, an I/O error): the unit of work's own
            // error is then diesel's about a savepoint that is gone, so the caller hears why instead.
            Err(Lost::RolledBack(_)) => return Err(lost().into()),
        };
        let pass_on = !alone && batch.jobs < MAX_BATCH && self.queued.load(Ordering::SeqCst) > 0;
        match result {
            Ok(value) if pass_on => {
                // The next unit of work in line continues this transaction; the last one commits it.
                let outcome = Outcome::default();
                batch.waiting.push(outcome.clone());
                while outcome.get().is_none() {
                    batch = self
                        .committed
                        .wait(batch)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                match outcome.get() {
                    Some(Ok(())) => Ok(value),
                    Some(Err(message)) => Err(StoreError::Unavailable(message.clone()).into()),
                    None => {
                        Err(StoreError::Unavailable("the write batch ended without an outcome".into()).into())
                    }
                }
            }
            // Rolled back to its savepoint: nothing of it is in the transaction, nothing to wait for.
            Err(err) if pass_on => Err(err),
            result => {
                self.commit(&mut batch)?;
                result
            }
        }
    }

    /// The writer thread's side: runs `first` and then whatever `next` yields, up to the batch limit, in one
    /// transaction, commits it, and only then hands each job its outcome. Jobs that arrive while a batch runs
    /// join it, so there is no hand-over between threads per write. `settle` learns whether the batch was
    /// committed before any caller does, so that a caller who sees its write succeed also sees the store's
    /// availability say so (it ran after the replies before, and a test reading it at once lost that race).
    fn run_jobs(
        &self,
        checkout: impl FnOnce() -> Result<Pooled, StoreError>,
        first: Job,
        mut next: impl FnMut() -> Option<Job>,
        settle: impl FnOnce(bool),
    ) {
        let mut batch = match self.enter(checkout) {
            Ok(batch) => batch,
            Err(err) => {
                // Nothing ran: the job's caller gets the error.
                let message = err.to_string();
                settle(false);
                first(Err(err))(Err(message));
                return;
            }
        };
        let mut delivers: Vec<Deliver> = Vec::new();
        let mut job = Some(first);
        while let Some(run) = job.take() {
            match self.step(&mut batch, |conn| run(Ok(conn))) {
                Ok(deliver) => delivers.push(deliver),
                Err(lost) => {
                    // A panicking job's caller sees its reply channel close; everyone else is told here.
                    let message = match lost {
                        Lost::Panicked(_) => LOST_TO_PANIC,
                        Lost::RolledBack(deliver) => {
                            delivers.extend(deliver);
                            LOST_TO_ROLLBACK
                        }
                    };
                    drop(batch);
                    settle(false);
                    for deliver in delivers {
                        deliver(Err(message.to_owned()));
                    }
                    return;
                }
            }
            if batch.jobs < MAX_BATCH {
                job = next();
            }
        }
        let outcome = self.commit(&mut batch).map_err(|err| err.to_string());
        drop(batch);
        settle(outcome.is_ok());
        for deliver in delivers {
            deliver(outcome.clone());
        }
    }

    /// Waits for the gate and makes sure a transaction is open.
    fn enter(
        &self,
        checkout: impl FnOnce() -> Result<Pooled, StoreError>,
    ) -> Result<MutexGuard<'_, Batch>, StoreError> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut batch = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if batch.conn.is_none() {
            let mut conn = checkout()?;
            begin_immediate(&mut conn)?;
            batch.jobs = 0;
            batch.conn = Some(conn);
        }
        Ok(batch)
    }

    /// Runs one unit of work in the open transaction. When the batch is lost instead (the unit panicked, or
    /// SQLite rolled the whole transaction back under it: I/O error, disk full), the batch is already aborted
    /// and every unit waiting on it told.
    fn step<R>(&self, batch: &mut Batch, run: impl FnOnce(&mut DbConnection) -> R) -> Result<R, Lost<R>> {
        let Some(conn) = batch.conn.as_mut() else {
            return Err(Lost::RolledBack(None));
        };
        let conn: &mut DbConnection = conn;
        let result = match std::panic::catch_unwind(AssertUnwindSafe(|| run(conn))) {
            Ok(result) => result,
            Err(panic) => {
                self.abort(batch, LOST_TO_PANIC);
                return Err(Lost::Panicked(panic));
            }
        };
        batch.jobs += 1;
        self.writes.fetch_add(1, Ordering::SeqCst);
        if !batch.conn.as_mut().is_some_and(|conn| transaction_intact(conn)) {
            self.abort(batch, LOST_TO_ROLLBACK);
            return Err(Lost::RolledBack(Some(result)));
        }
        Ok(result)
    }

    /// Callers waiting for the writer right now (for tests and diagnostics).
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// COMMITs issued so far (for tests and diagnostics): fewer than writes when writes were grouped.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// Units of work run so far.
    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, Batch> {
        match self.batch.lock() {
            Ok(batch) => batch,
            Err(poisoned) => {
                // A unit of work panicked inside the transaction: its state is unknown, so the batch is lost.
                let mut batch = poisoned.into_inner();
                self.abort(&mut batch, LOST_TO_PANIC);
                self.batch.clear_poison();
                batch
            }
        }
    }

    fn commit(&self, batch: &mut Batch) -> Result<(), StoreError> {
        let Some(mut conn) = batch.conn.take() else {
            return Ok(());
        };
        let result = match &mut *conn {
            DbConnection::Sqlite(sqlite) => match AnsiTransactionManager::commit_transaction(sqlite) {
                Ok(()) => Ok(()),
                Err(err) => {
                    // A failed COMMIT leaves the transaction open on SQLite: roll it back before the
                    // connection returns to the pool.
                    let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                    Err(StoreError::from(err))
                }
            },
            DbConnection::Postgres(_) => {
                Err(StoreError::Unavailable("group commit is for SQLite only".into()))
            }
        };
        self.commits.fetch_add(1, Ordering::SeqCst);
        let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        for waiting in batch.waiting.drain(..) {
            let _ = waiting.set(outcome.clone());
        }
        batch.jobs = 0;
        self.committed.notify_all();
        result
    }

    /// Gives up the open transaction: its connection is dropped while still in a transaction, which the pool
    /// discards (closing a SQLite connection rolls back), and every unit of work waiting on it fails.
    fn abort(&self, batch: &mut Batch, message: &str) {
        if let Some(mut conn) = batch.conn.take()
            && let DbConnection::Sqlite(sqlite) = &mut *conn
        {
            // Out of every savepoint and the transaction; should a rollback fail, the pool sees a connection
            // still in a transaction as broken and closes it, which rolls back too.
            for _ in 0..8 {
                let status = AnsiTransactionManager::transaction_manager_status_mut(sqlite);
                if !matches!(status.transaction_depth(), Ok(Some(_)))
                    || AnsiTransactionManager::rollback_transaction(sqlite).is_err()
                {
                    break;
                }
            }
        }
        batch.jobs = 0;
        for waiting in batch.waiting.drain(..) {
            let _ = waiting.set(Err(message.to_owned()));
        }
        self.committed.notify_all();
    }
}

/// Why a transaction was rolled back under its units of work: the file's refusal when one was met on this
/// thread (a full disk, a read-only file), else that it was rolled back.
fn lost() -> StoreError {
    match crate::error::peek_seen() {
        Some(crate::error::Seen::Unwritable(reason)) => StoreError::Unwritable(reason),
        _ => StoreError::Unavailable(LOST_TO_ROLLBACK.into()),
    }
}

// diesel's MultiConnection only knows plain BEGIN; take the SQLite write lock up front so that a transaction
// never fails half-way when it upgrades from reading to writing.
fn begin_immediate(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Sqlite(sqlite) => Ok(AnsiTransactionManager::begin_transaction_sql(
            sqlite,
            "BEGIN IMMEDIATE",
        )?),
        DbConnection::Postgres(_) => Err(StoreError::Unavailable("group commit is for SQLite only".into())),
    }
}

/// The batch's transaction is still open at its top level (each unit of work's savepoint was released or
/// rolled back, and SQLite did not roll the whole transaction back under it).
fn transaction_intact(conn: &mut DbConnection) -> bool {
    let DbConnection::Sqlite(sqlite) = conn else {
        return false;
    };
    let status = AnsiTransactionManager::transaction_manager_status_mut(sqlite);
    matches!(status.transaction_depth(), Ok(Some(depth)) if depth.get() == 1)
}
