//! The event feed's background work: the sequencer on PostgreSQL (`scimd_store::models::events::sequence`):
//! every process runs one, a tick apart, and the advisory lock lets one of them work at a time (on SQLite an
//! event's position is its row's `seq`, and nothing needs doing); and, on both backends, the retention purge
//! at start and then hourly.

use scimd_store::models::events;
use scimd_store::{Backend, Clock, Store};
use std::sync::Arc;
use std::time::Duration;

/// How often committed events get their feed positions: the most a consumer waits for one beyond its commit.
pub const TICK: Duration = Duration::from_millis(100);

/// How often old events are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Spawns the feed's background work on the current actix/tokio runtime.
pub fn spawn(store: Store, clock: Arc<dyn Clock>, retention: chrono::Duration) {
    let purging = store.clone();
    actix_web::rt::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            every.tick().await;
            let (store, before) = (purging.clone(), clock.now_naive() - retention);
            match scimd_store::blocking(move || store.write(|conn| events::purge(conn, before))).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "event feed: events past their retention deleted"),
                Err(e) => {
                    tracing::warn!(error = %e, "event feed: the retention purge failed; it runs again in an hour")
                }
            }
        }
    });
    if store.backend() != Backend::Postgres {
        return;
    }
    actix_web::rt::spawn(async move {
        // Failures in a row: the first is logged, then one a minute while they go on.
        let mut failing: u32 = 0;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let store = store.clone();
            // A full batch means more may wait: position them before the next tick.
            let step = scimd_store::blocking(move || {
                loop {
                    match store.write(events::sequence) {
                        Ok(Some(n)) if n >= events::SEQUENCE_BATCH => continue,
                        other => return other.map(|_| ()),
                    }
                }
            })
            .await;
            match step {
                Ok(()) => failing = 0,
                Err(e) => {
                    if failing.is_multiple_of(600) {
                        tracing::warn!(error = %e, failing, "the event feed's sequencer failed; it retries every tick");
                    }
                    failing = failing.saturating_add(1);
                }
            }
        }
    });
}
