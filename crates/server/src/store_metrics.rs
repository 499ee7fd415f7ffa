//! The store's own figures on `/metrics`, read at scrape time: the writes and COMMITs of the SQLite group
//! commit (`writes / commits` is the mean batch; PostgreSQL commits each write on its own and shows neither),
//! and on both backends the database's availability: whether it answers now, how many times it went away,
//! and how many units of work were refused meanwhile.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntGauge, Opts};
use scimd_store::Store;
use std::sync::Mutex;

pub struct StoreMetrics {
    store: Store,
    /// The counters scraped; moved up to the store's figures at each scrape, under the lock so that two
    /// scrapes at once do not both add the same difference.
    counters: Mutex<Counters>,
    descs: Vec<Desc>,
}

struct Counters {
    writes: IntCounter,
    commits: IntCounter,
    outages: IntCounter,
    refused: IntCounter,
    up: IntGauge,
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace("scimd")
}

/// Moves a scraped counter up to the store's figure.
fn catch_up(counter: &IntCounter, figure: u64) {
    counter.inc_by(figure.saturating_sub(counter.get()));
}

impl StoreMetrics {
    pub fn new(store: Store) -> prometheus::Result<StoreMetrics> {
        let counters = Counters {
            writes: IntCounter::with_opts(opts(
                "sqlite_writes_total",
                "Units of work run on the SQLite file by this process",
            ))?,
            commits: IntCounter::with_opts(opts(
                "sqlite_commits_total",
                "COMMITs this process issued on the SQLite file (grouped writes share one)",
            ))?,
            outages: IntCounter::with_opts(opts(
                "database_outages_total",
                "Times the database became unreachable for this process",
            ))?,
            refused: IntCounter::with_opts(opts(
                "database_unavailable_total",
                "Units of work answered 503 because the database was unreachable or refused writes",
            ))?,
            up: IntGauge::with_opts(opts(
                "database_up",
                "1 while the database answers and takes writes, 0 while it does not",
            ))?,
        };
        let descs = [
            counters.writes.desc(),
            counters.commits.desc(),
            counters.outages.desc(),
            counters.refused.desc(),
            counters.up.desc(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        Ok(StoreMetrics {
            store,
            counters: Mutex::new(counters),
            descs,
        })
    }
}

impl Collector for StoreMetrics {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let c = self
            .counters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let availability = self.store.availability();
        catch_up(&c.outages, availability.outages());
        catch_up(&c.refused, availability.refused());
        c.up.set(i64::from(
            availability.is_reachable() && availability.is_writable(),
        ));
        let mut families: Vec<MetricFamily> = [c.outages.collect(), c.refused.collect(), c.up.collect()]
            .into_iter()
            .flatten()
            .collect();
        if let (Some(writes), Some(commits)) = (self.store.sqlite_writes(), self.store.sqlite_commits()) {
            catch_up(&c.writes, writes);
            catch_up(&c.commits, commits);
            families.extend(c.writes.collect());
            families.extend(c.commits.collect());
        }
        families
    }
}
