//! The event feed's upkeep. On PostgreSQL, committed events get their feed positions when the feed is read
//! (`scimd_store::models::events::catch_up`): a reader positions what has committed, under an
//! advisory lock that lets one process at a time do it, then reads. Positioning is a second write of each
//! event, so a deployment nobody reads the feed of does not pay for it. On SQLite an event's position is its
//! row's `seq` and nothing needs doing. On both backends, the retention purge (events, and the webhooks' and
//! Shared Signals streams' delivery logs) runs at start and then hourly; the purge of sign-in state past its time (pending sign-ins,
//! assertion replay records, the OpenID Provider's codes and access tokens) every [`SIGNIN_PURGE_EVERY`],
//! so that a flood of started sign-ins leaves at most a minute of expired rows behind. A purge that meets
//! the database away tries again every [`PURGE_RETRY`] until it is back, instead of at its next turn.

use scimd_store::models::{events, oauth, sso_signin, webhooks};
use scimd_store::{Clock, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often old events are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How often sign-in state past its time is purged.
pub const SIGNIN_PURGE_EVERY: Duration = Duration::from_secs(60);
/// How soon a purge the database's absence interrupted tries again.
pub const PURGE_RETRY: Duration = Duration::from_secs(10);

/// Spawns the retention purges on the current actix/tokio runtime.
pub fn spawn(store: Store, clock: Arc<dyn Clock>, retention: chrono::Duration) {
    let (signin_store, signin_clock) = (store.clone(), clock.clone());
    actix_web::rt::spawn(async move {
        run_every(PURGE_EVERY, "events", || {
            purge_events(&store, clock.as_ref(), retention)
        })
        .await;
    });
    actix_web::rt::spawn(async move {
        run_every(SIGNIN_PURGE_EVERY, "sign-in state", || {
            purge_signin(&signin_store, signin_clock.as_ref())
        })
        .await;
    });
}

/// Runs `purge` at start and then every `period`, waiting out an outage of the database.
async fn run_every<F, Fut>(period: Duration, what: &'static str, purge: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let mut every = tokio::time::interval(period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        while let Err(e) = purge().await {
            if !e.is_unavailable() {
                tracing::warn!(error = %e, what, "retention: the purge failed; it runs again at its next turn");
                break;
            }
            // The store logs the outage once; the purge resumes when the database is back.
            tracing::debug!(error = %e, what, "retention: the purge waits for the database");
            tokio::time::sleep(PURGE_RETRY).await;
        }
    }
}

/// One purge of the events and deliveries past the retention, in batches; logs what it deleted.
async fn purge_events(
    store: &Store,
    clock: &dyn Clock,
    retention: chrono::Duration,
) -> Result<(), StoreError> {
    let (store, now) = (store.clone(), clock.now_naive());
    let before = now - retention;
    // A batch per write, so that the purge never holds the writer (SQLite) for long.
    let purged = scimd_store::blocking(move || {
        let mut total = 0;
        loop {
            let n = store.write(|conn| {
                Ok::<_, StoreError>(
                    events::purge(conn, before)?
                        + webhooks::purge_deliveries(conn, before)?
                        + scimd_ssf::model::purge_deliveries(conn, before)?,
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
            "retention: events and deliveries past their time deleted"
        );
    }
    Ok(())
}

/// One purge of the sign-in state past its time, in batches.
async fn purge_signin(store: &Store, clock: &dyn Clock) -> Result<(), StoreError> {
    let (store, now) = (store.clone(), clock.now_naive());
    let purged = scimd_store::blocking(move || {
        let mut total = 0;
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
        tracing::debug!(purged = n, "retention: sign-in state past its time deleted");
    }
    Ok(())
}
