//! The store's own figures on `/metrics`, read at scrape time: the writes and COMMITs of the SQLite group
//! commit (`writes / commits` is the mean batch). PostgreSQL commits each write on its own and shows neither.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, Opts};
use scimd_store::Store;
use std::sync::Mutex;

pub struct StoreMetrics {
    store: Store,
    /// The counters scraped; moved up to the store's figures at each scrape, under the lock so that two
    /// scrapes at once do not both add the same difference.
    counters: Mutex<(IntCounter, IntCounter)>,
    descs: Vec<Desc>,
}

impl StoreMetrics {
    pub fn new(store: Store) -> prometheus::Result<StoreMetrics> {
        let writes = IntCounter::with_opts(
            Opts::new(
                "sqlite_writes_total",
                "Units of work run on the SQLite file by this process",
            )
            .namespace("scimd"),
        )?;
        let commits = IntCounter::with_opts(
            Opts::new(
                "sqlite_commits_total",
                "COMMITs this process issued on the SQLite file (grouped writes share one)",
            )
            .namespace("scimd"),
        )?;
        let descs = writes.desc().into_iter().chain(commits.desc()).cloned().collect();
        Ok(StoreMetrics {
            store,
            counters: Mutex::new((writes, commits)),
            descs,
        })
    }
}

impl Collector for StoreMetrics {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (Some(writes), Some(commits)) = (self.store.sqlite_writes(), self.store.sqlite_commits()) else {
            return Vec::new();
        };
        let counters = self
            .counters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (w, c) = &*counters;
        w.inc_by(writes.saturating_sub(w.get()));
        c.inc_by(commits.saturating_sub(c.get()));
        w.collect().into_iter().chain(c.collect()).collect()
    }
}
