//! The event feed's upkeep. On PostgreSQL, committed events get their feed positions when the feed is read
//! (`scimd_store::models::events::catch_up`): a reader positions what has committed, under an
//! advisory lock that lets one process at a time do it, then reads. Positioning is a second write of each
//! event, so a deployment nobody reads the feed of does not pay for it. On SQLite an event's position is its
//! row's `seq` and nothing needs doing. On both backends, the retention purge (events, and the webhooks'
//! delivery log) runs at start and then hourly, and with it the purge of SSO sign-in state past its time
//! (pending sign-ins, assertion replay records, the OpenID Provider's codes and access tokens).

use scimd_store::models::{events, oauth, sso_signin, webhooks};
use scimd_store::{Clock, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often old events are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Spawns the retention purge on the current actix/tokio runtime.
pub fn spawn(store: Store, clock: Arc<dyn Clock>, retention: chrono::Duration) {
    actix_web::rt::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            every.tick().await;
            let (store, now) = (store.clone(), clock.now_naive());
            let before = now - retention;
            // A batch per write, so that the purge never holds the writer (SQLite) for long.
            let purged = scimd_store::blocking(move || {
                let mut total = 0;
                loop {
                    let n = store.write(|conn| {
                        Ok::<_, StoreError>(
                            events::purge(conn, before)? + webhooks::purge_deliveries(conn, before)?,
                        )
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
            match purged {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    purged = n,
                    "retention: events and sign-in state past their time deleted"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "event feed: the retention purge failed; it runs again in an hour")
                }
            }
        }
    });
}
