//! The worker that finishes mapping changes on large groups (`scimd_store::provisioning::roles`): a change
//! applies its first batch when it is saved; this runs the rest, a batch per transaction, and picks up after
//! a crash where the last committed batch left off. Every process runs it; on PostgreSQL a job's row lock
//! makes one runner at a time of each batch.

use scimd_store::provisioning::roles;
use scimd_store::{Clock, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often the worker looks for unfinished jobs.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Spawns the worker on the current actix/tokio runtime.
pub fn spawn(store: Store, clock: Arc<dyn Clock>) {
    actix_web::rt::spawn(async move {
        let mut every = tokio::time::interval(POLL_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let (store, clock) = (store.clone(), clock.clone());
            let ran = scimd_store::blocking(move || run_pending(&store, clock.as_ref())).await;
            if let Err(e) = ran
                && !e.is_unavailable()
            {
                tracing::warn!(error = %e, "role jobs: a batch failed; it runs again at the next turn");
            }
        }
    });
}

/// Runs every unfinished job to its end.
fn run_pending(store: &Store, clock: &dyn Clock) -> Result<(), StoreError> {
    for id in store.read(|c| roles::unfinished_jobs(c, 10))? {
        if let Some(job) = roles::run_job(store, &id, roles::JOB_BATCH, clock)? {
            tracing::info!(job = %job.id, role = %job.role, members = job.done, changed = job.changed, "role job finished");
        }
    }
    Ok(())
}
