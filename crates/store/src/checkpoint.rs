//! The WAL checkpointer of a SQLite `Store`: a thread that copies committed WAL frames back into the database
//! file, off the write path.
//!
//! Why: SQLite's default automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, on the
//! writer (the one thread every write of the file waits for), and it writes and fsyncs the database file
//! there; in the create benchmark that was a tenth of the writer's time. Every connection turns automatic
//! checkpoints off (`connection::SQLITE_CONNECTION_PRAGMAS`) and this thread runs PASSIVE checkpoints, which
//! never block readers or writers. A process that does not run one (the CLI) leaves the WAL to the next
//! checkpoint, or to SQLite's checkpoint when the last connection to the file closes.

use crate::connection::DbConnection;
use crate::error::StoreError;
use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sql_types::Integer;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often the WAL is checkpointed: at the create benchmark's rate the WAL grows by a few MB in this time.
const EVERY: Duration = Duration::from_millis(100);

#[derive(QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = Integer)]
    busy: i32,
    #[diesel(sql_type = Integer)]
    log: i32,
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

/// The running checkpointer; it stops when the last clone of its `Store` is dropped.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    _stop: mpsc::Sender<()>,
    frames: Arc<AtomicU64>,
}

impl Checkpointer {
    pub(crate) fn start(pool: Pool<ConnectionManager<DbConnection>>) -> Result<Checkpointer, StoreError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let frames = Arc::new(AtomicU64::new(0));
        let counted = frames.clone();
        std::thread::Builder::new()
            .name("scimd-sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    match checkpoint(&pool) {
                        Ok(n) => {
                            counted.fetch_add(n, Ordering::SeqCst);
                        }
                        // Busy or failing: the next round tries again; the WAL only grows meanwhile.
                        Err(err) => tracing::debug!(error = %err, "WAL checkpoint did not run"),
                    }
                }
            })
            .map_err(|err| StoreError::Blocking(format!("cannot start the WAL checkpointer: {err}")))?;
        Ok(Checkpointer { _stop: stop, frames })
    }

    /// WAL frames this checkpointer has copied into the database file so far.
    pub(crate) fn frames(&self) -> u64 {
        self.frames.load(Ordering::SeqCst)
    }
}

/// One PASSIVE checkpoint; returns the frames it copied.
fn checkpoint(pool: &Pool<ConnectionManager<DbConnection>>) -> Result<u64, StoreError> {
    let mut conn = pool.get()?;
    let rows: Vec<CheckpointResult> = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").load(&mut *conn)?;
    Ok(rows
        .first()
        .filter(|r| r.busy == 0 && r.log > 0)
        .map_or(0, |r| u64::try_from(r.checkpointed).unwrap_or(0)))
}
