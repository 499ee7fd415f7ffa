//! The event feed's upkeep. On PostgreSQL, committed events get their feed positions when the feed is read
//! (`scimd_store::models::events::catch_up`): a reader positions what has committed, under an
//! advisory lock that lets one process at a time do it, then reads. Positioning is a second write of each
//! event, so a deployment nobody reads the feed of does not pay for it. On SQLite an event's position is its
//! row's `seq` and nothing needs doing. On both backends, the retention purge (events, and the webhooks'
//! delivery log) runs at start and then hourly, and with it the purge of SSO sign-in state past its time
//! (pending sign-ins, assertion replay records, the OpenID Provider's codes and access tokens). A purge that
//! meets the database away tries again every [`PURGE_RETRY`] until it is back, instead of an hour later.

use scimd_store::models::{events, oauth, sso_signin, webhooks};
use scimd_store::{Clock, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often old events are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How soon a purge the database's absence interrupted tries again.
pub const PURGE_RETRY: Duration = Duration::from_secs(10);

/// Spawns the retention purge on the current actix/tokio runtime.
pub fn spawn(store: Store, clock: Arc<dyn Clock>, retention: chrono::Duration) {
    actix_web::rt::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            every.tick().await;
            while let Err(e) = purge(&store, clock.as_ref(), retention).await {
                if !e.is_unavailable() {
                    tracing::warn!(error = %e, "event feed: the retention purge failed; it runs again in an hour");
                    break;
                }
                // The store logs the outage once; the purge resumes when the database is back.
                tracing::debug!(error = %e, "event feed: the retention purge waits for the database");
                tokio::time::sleep(PURGE_RETRY).await;
            }
        }
    });
}

/// One purge of everything past its time, in batches; logs what it deleted.
async fn purge(store: &Store, clock: &dyn Clock, retention: chrono::Duration) -> Result<(), StoreError> {
    let (store, now) = (store.clone(), clock.now_naive());
    let before = now - retention;
    // A batch per write, so that the purge never holds the writer (SQLite) for long.
    let purged = scimd_store::blocking(move || {
        let mut total = 0;
        loop {
            let n = store.write(|conn| {
                Ok::<_, StoreError>(events::purge(conn, before)? + webhooks::purge_deliveries(conn, before)?)
            })?;
            total += n;
            if i64::try_from(n).unwrap_or(0) < events::PURGE_BATCH {
                break;
            }
        }
        loop {
            let n = store.write(|conn| {
                Ok::<_, StoreError>(
                    sso_signin::purge_expired(conn, now, events::PURGE_BATCH)?
                        + oauth::purge_expired(conn, now, events::PURGE_BATCH)?,
                )
            })?;
            total += n;
            if i64::try_from(n).unwrap_or(0) < events::PURGE_BATCH {
                return Ok::<_, StoreError>(total);
            }
        }
    })
    .await;
    let n = purged?;
    if n > 0 {
        tracing::info!(
            purged = n,
            "retention: events and sign-in state past their time deleted"
        );
    }
    Ok(())
}
