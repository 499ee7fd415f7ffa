//! Counting the statements a store sends (issue #27: round trips per SCIM request path), for tests.
//!
//! diesel's default instrumentation is process-wide and is given to every connection as it is established;
//! the one installed here counts only on connections whose URL contains the URL of a live
//! [`StatementCounter`], so that the other tests of a binary, on their own SQLite files and PostgreSQL
//! schemas, count nothing and are not disturbed. Counting by connection rather than by thread also covers
//! the SQLite writer thread, where `write_owned` runs its units of work.
//!
//! Every statement diesel sends counts once, `BEGIN`, `COMMIT`, `SAVEPOINT` and the pool's check-out test
//! (`SELECT 1` on PostgreSQL) included: each is a round trip to a PostgreSQL server. A `batch_execute` of
//! several statements counts once (it is one round trip).

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};

/// The statements of the watched connections: how many, and their SQL (for a failing test to print); and the
/// SQL of every statement diesel kept prepared on them (its cache's insertions).
#[derive(Debug, Default)]
struct Tally {
    count: AtomicU64,
    sql: Mutex<Vec<String>>,
    prepared: Mutex<HashSet<String>>,
}

/// The live counters, by the URL their connections contain.
static WATCHED: Mutex<Vec<(String, Arc<Tally>)>> = Mutex::new(Vec::new());

static INSTALL: Once = Once::new();

/// Counts the statements of every connection established from now on whose URL contains `url` (a
/// `sqlite://` prefix aside): open the store to count after creating the counter.
#[derive(Debug)]
pub struct StatementCounter {
    needle: String,
    tally: Arc<Tally>,
}

impl StatementCounter {
    #[expect(
        clippy::expect_used,
        reason = "test support: a poisoned diesel lock must fail the test"
    )]
    pub fn watching(url: &str) -> StatementCounter {
        INSTALL.call_once(|| {
            set_default_instrumentation(counting_instrumentation).expect("install the statement counter");
        });
        let needle = url.strip_prefix("sqlite://").unwrap_or(url).to_owned();
        let tally = Arc::new(Tally::default());
        WATCHED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((needle.clone(), tally.clone()));
        StatementCounter { needle, tally }
    }

    /// The statements counted since the last `take`, and their SQL; starts counting afresh.
    pub fn take(&self) -> (u64, Vec<String>) {
        let mut sql = self.tally.sql.lock().unwrap_or_else(PoisonError::into_inner);
        let count = self.tally.count.swap(0, Ordering::SeqCst);
        (count, std::mem::take(&mut *sql))
    }

    /// Of `statements` (as [`take`](Self::take) gives them), the queries that no watched connection keeps
    /// prepared: each of them is parsed and planned again every time it runs. Transaction control (`BEGIN`,
    /// `COMMIT`, savepoints) and the pool's check-out test are left out: they are sent as text.
    pub fn not_prepared(&self, statements: &[String]) -> Vec<String> {
        let prepared = self.tally.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        statements
            .iter()
            .map(|s| s.split(" -- binds: ").next().unwrap_or(s))
            .filter(|sql| {
                let head = sql.trim_start().to_ascii_uppercase();
                let control = ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SELECT 1"]
                    .iter()
                    .any(|c| head.starts_with(c));
                !control && !prepared.contains(*sql)
            })
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for StatementCounter {
    fn drop(&mut self) {
        WATCHED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(needle, tally)| !(needle == &self.needle && Arc::ptr_eq(tally, &self.tally)));
    }
}

/// One per connection: learns its URL when it is established, then counts if a counter watches that URL.
struct Counting(Option<Arc<Tally>>);

impl Instrumentation for Counting {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                self.0 = WATCHED
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .find(|(needle, _)| url.contains(needle.as_str()))
                    .map(|(_, tally)| tally.clone());
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                if let Some(tally) = &self.0 {
                    tally
                        .prepared
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(sql.to_owned());
                }
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                if let Some(tally) = &self.0 {
                    tally.count.fetch_add(1, Ordering::SeqCst);
                    tally
                        .sql
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(query.to_string());
                }
            }
            _ => {}
        }
    }
}

fn counting_instrumentation() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(Counting(None)))
}
