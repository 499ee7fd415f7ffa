//! The event feed's sequencer on PostgreSQL (`scimd_store::models::events::sequence`): every process runs
//! one, a tick apart; the advisory lock lets one of them work at a time and the others skip their tick. On
//! SQLite an event's position is its row's `seq`, and nothing runs.

use scimd_store::models::events;
use scimd_store::{Backend, Store};
use std::time::Duration;

/// How often committed events get their feed positions: the most a consumer waits for one beyond its commit.
pub const TICK: Duration = Duration::from_millis(100);

/// Spawns the sequencer on the current actix/tokio runtime (PostgreSQL only).
pub fn spawn(store: Store) {
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
