//! The delivery worker, one per process: it keeps up to [`WorkerSettings::parallel`] endpoints' rounds in
//! flight, and whenever a slot is free (or every [`WorkerSettings::poll`] while there is nothing to do) it
//! positions the feed's committed events (`events::catch_up`) and leases endpoints that are due and behind
//! (`webhooks::claim`), at most [`WorkerSettings::per_org`] of one org at once, so that one org's slow
//! receivers never hold every slot. Each round sends the events after the endpoint's cursor in feed order,
//! one at a time, stopping at the first failure, or after a success that took most of the timeout (the
//! endpoint is then due again only after a pause, like a first failure). The round's attempts and the endpoint's new cursor are written together when the round ends, so
//! a crash mid-round resends that round's events (at least once; the event id is the receiver's dedupe key).
//!
//! While the database is unavailable the worker pauses: a round that cannot start waits a second before the
//! next try, and an endpoint's round that has its lease waits for the database (for its page of events, and
//! to write its attempts and new cursor) instead of giving up, so that what it sent is recorded once the
//! database is back and nothing is sent twice or skipped.
//!
//! A failed event is retried with exponential back-off (5 s doubling, at most an hour) and jitter, while the
//! later events of the endpoint wait; an endpoint failing for `DISABLE_AFTER_DAYS` (5) is disabled and
//! shown so on the admin page, until a replay re-enables it.

use crate::client::{Attempt, DEFAULT_TIMEOUT, Sender};
use crate::error::WebhookError;
use crate::service::WebhookService;
use crate::signature::SigningSecret;
use chrono::{NaiveDateTime, TimeDelta};
use scimd_store::models::events::{self, Event};
use scimd_store::models::webhooks::{self, Endpoint, NewDelivery, Outcome};
use serde_json::json;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How often the worker looks for work when there was none.
    pub poll: Duration,
    /// The most events one endpoint's round sends.
    pub batch: i64,
    /// The most endpoints one process serves at once.
    pub parallel: i64,
    /// The most endpoints of one org (or of every org) served at once, across processes.
    pub per_org: i64,
    /// How long a lease lasts. A round starts no send after half of it, so it ends (one timeout later)
    /// within it; and an endpoint whose process died is taken over when it runs out.
    pub lease: Duration,
    /// Each attempt's timeout.
    pub timeout: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            poll: Duration::from_millis(200),
            batch: 100,
            parallel: 8,
            per_org: 2,
            lease: Duration::from_secs(60),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// How long the worker waits before it tries the database again while it is unavailable.
pub const UNAVAILABLE_PAUSE: Duration = Duration::from_millis(500);

/// The database is unavailable (the store logs the outage once): wait and try again, quietly.
fn unavailable(e: &WebhookError) -> bool {
    match e {
        WebhookError::Store(e) => e.is_unavailable(),
        WebhookError::Token(e) => e.is_unavailable(),
        _ => false,
    }
}

/// Runs `unit` on the blocking pool; while the database is unavailable, again every [`UNAVAILABLE_PAUSE`]
/// until `deadline`.
async fn patiently<T, F>(deadline: Instant, unit: F) -> Result<T, WebhookError>
where
    T: Send + 'static,
    F: Fn() -> Result<T, WebhookError> + Send + Sync + 'static,
{
    let unit = Arc::new(unit);
    loop {
        let run = unit.clone();
        match scimd_store::blocking(move || run()).await {
            Err(e) if unavailable(&e) && Instant::now() + UNAVAILABLE_PAUSE < deadline => {
                actix_rt::time::sleep(UNAVAILABLE_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// The first retry's delay; each further one doubles, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(5);
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The delay before attempt `failures + 1` of an event that failed `failures` times: exponential, capped,
/// with "equal jitter" (between half and all of it), so that endpoints failing together do not retry in step.
pub fn backoff(failures: i32, jitter: f64) -> Duration {
    let exp = u32::try_from(failures.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let full = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_BACKOFF);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn jitter() -> f64 {
    match scimd_tokens::random::bytes::<8>() {
        Ok(b) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 1.0,
    }
}

/// The body of a delivery: the event as the feed shows it (`{"id", "type", "org_id", "occurred_at", "cursor",
/// "data"}`, so a user is at `data.user` in both) with the Standard Webhooks `timestamp` beside `type` and
/// `data`.
pub fn body(event: &Event) -> Result<Vec<u8>, WebhookError> {
    let mut payload = events::to_json(event)?;
    payload["timestamp"] = json!(events::rfc3339(event.occurred_at));
    Ok(serde_json::to_vec(&payload)?)
}

#[derive(Clone)]
pub struct Worker {
    service: WebhookService,
    settings: WorkerSettings,
    /// This process's name on the leases it holds.
    owner: String,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

fn td(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

impl Worker {
    pub fn new(service: WebhookService, settings: WorkerSettings) -> Worker {
        Worker {
            service,
            settings,
            owner: format!("scimd-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        }
    }

    /// Runs the worker on the current actix runtime until the process ends: a slot that frees up is
    /// refilled at once, without waiting for the other rounds in flight.
    pub fn spawn(self) {
        actix_rt::spawn(async move {
            let sender = match Sender::new(self.service.policy(), self.settings.timeout) {
                Ok(s) => Rc::new(s),
                Err(e) => {
                    tracing::error!(error = %e, "webhooks: the delivery client cannot start; no webhooks are sent");
                    return;
                }
            };
            let mut running: JoinSet<usize> = JoinSet::new();
            loop {
                let free = self.settings.parallel - i64::try_from(running.len()).unwrap_or(i64::MAX);
                let pause = if free > 0 {
                    match self.claim(free).await {
                        Ok((_, claimed)) if claimed.is_empty() => Some(self.settings.poll),
                        Ok((latest, claimed)) => {
                            for endpoint in claimed {
                                running.spawn_local(self.clone().serve_logged(
                                    sender.clone(),
                                    endpoint,
                                    latest,
                                ));
                            }
                            None
                        }
                        Err(e) if unavailable(&e) => {
                            tracing::debug!(error = %e, "webhooks: the database is unavailable; pausing");
                            Some(self.settings.poll.max(UNAVAILABLE_PAUSE * 2))
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "webhooks: a claim failed; trying again");
                            Some(self.settings.poll)
                        }
                    }
                } else {
                    // Every slot is busy: the next claim waits for one to free up.
                    let _ = running.join_next().await;
                    None
                };
                if let Some(pause) = pause {
                    if running.is_empty() {
                        actix_rt::time::sleep(pause).await;
                    } else {
                        // A round that ends before the pause frees its slot for the next claim at once.
                        let _ = actix_rt::time::timeout(pause, running.join_next()).await;
                    }
                }
            }
        });
    }

    /// Positions the feed and leases up to `slots` due endpoints (within each org's share); returns the
    /// newest position with them. A deployment without endpoints pays one read per poll; the writes
    /// (positions, the claim) happen only when an endpoint is due and behind.
    async fn claim(&self, slots: i64) -> Result<(i64, Vec<Endpoint>), WebhookError> {
        let (store, clock) = (self.service.store().clone(), self.service.clock().clone());
        let (owner, lease, per_org) = (self.owner.clone(), self.settings.lease, self.settings.per_org);
        scimd_store::blocking(move || {
            let now = clock.now_naive();
            if !store.read(|conn| webhooks::any_due(conn, now))? {
                return Ok((0, Vec::new()));
            }
            events::catch_up(&store)?;
            let latest = store.read(events::latest)?;
            let claimed = store
                .write(|conn| webhooks::claim(conn, &owner, now, now + td(lease), latest, slots, per_org))?;
            Ok::<_, WebhookError>((latest, claimed))
        })
        .await
    }

    /// One endpoint's round, its error logged; returns how many attempts it made.
    async fn serve_logged(self, sender: Rc<Sender>, endpoint: Endpoint, latest: i64) -> usize {
        let id = endpoint.id.clone();
        match self.serve(&sender, endpoint, latest).await {
            Ok(attempts) => attempts,
            Err(e) => {
                tracing::warn!(endpoint = %id, error = %e, "webhooks: an endpoint's round failed");
                0
            }
        }
    }

    /// One round, all at once: leases the due endpoints and serves them concurrently until every one is
    /// done; returns how many attempts it made (tests drive the worker with it, step by step).
    pub async fn round(&self, sender: &Rc<Sender>) -> Result<usize, WebhookError> {
        let (latest, claimed) = self.claim(self.settings.parallel).await?;
        let mut running: JoinSet<usize> = JoinSet::new();
        for endpoint in claimed {
            running.spawn_local(self.clone().serve_logged(sender.clone(), endpoint, latest));
        }
        let mut attempts = 0;
        while let Some(made) = running.join_next().await {
            attempts += made.unwrap_or(0);
        }
        Ok(attempts)
    }

    /// Sends one leased endpoint the events after its cursor (positions up to `latest` are all known);
    /// returns how many attempts it made.
    async fn serve(&self, sender: &Sender, endpoint: Endpoint, latest: i64) -> Result<usize, WebhookError> {
        let (service, ep, batch) = (self.service.clone(), endpoint.clone(), self.settings.batch);
        let started = Instant::now();
        // The lease is this round's: while the database is away, wait for it within the lease.
        let (page, secret) = patiently(started + self.settings.lease / 2, move || {
            service.store().read(|conn| {
                let page = events::after(conn, ep.cursor, batch, ep.org().as_ref(), &ep.type_list())?;
                let secret = service.signing_secret(conn, &ep)?;
                Ok::<_, WebhookError>((page, secret))
            })
        })
        .await?;
        let mut cursor = endpoint.cursor;
        let mut attempts = Vec::with_capacity(page.len());
        let mut failure = None;
        let mut cut_short = false;
        let mut slow = false;
        for (i, event) in page.iter().enumerate() {
            let Some(position) = event.position else { break };
            if started.elapsed() > self.settings.lease / 2 {
                cut_short = true;
                break;
            }
            let attempt_no = if i == 0 { endpoint.attempts + 1 } else { 1 };
            let attempt = self.send(sender, &endpoint, &secret, event).await?;
            let now = self.service.clock().now_naive();
            attempts.push(delivery(&endpoint, event, attempt_no, &attempt, now));
            if attempt.delivered() {
                cursor = position;
                // A receiver that answers near the timeout would hold its slot all the time: it waits.
                if self.slow(&attempt) {
                    slow = true;
                    break;
                }
            } else {
                failure = Some(attempt_no);
                break;
            }
        }
        let now = self.service.clock().now_naive();
        let outcome = match failure {
            Some(failures) => Outcome::Failed {
                cursor,
                failures,
                retry_at: now + td(backoff(failures, jitter())),
                // A round that delivered something before failing starts a new failing streak.
                failing_since: match (endpoint.failing_since, cursor == endpoint.cursor) {
                    (Some(since), true) => since,
                    _ => now,
                },
            },
            None if slow => Outcome::Slow {
                cursor,
                due_at: now + td(backoff(1, jitter())),
            },
            // A short page holds every event up to `latest` this endpoint wants: it is caught up to there.
            None if !cut_short && i64::try_from(page.len()).unwrap_or(i64::MAX) < batch => {
                Outcome::Delivered {
                    cursor: cursor.max(latest),
                }
            }
            None => Outcome::Delivered { cursor },
        };
        if let Outcome::Failed { failures, .. } = &outcome {
            tracing::info!(endpoint = %endpoint.id, failures, "webhooks: a delivery failed; it will be retried");
        }
        let (service, owner, id) = (self.service.clone(), self.owner.clone(), endpoint.id.clone());
        let made = attempts.len();
        // What was sent must be recorded, or it is sent again: wait for the database (within the lease, after
        // which another process may take the endpoint over and send the round again).
        patiently(started + self.settings.lease, move || {
            service
                .store()
                .write(|conn| webhooks::finish(conn, &id, &owner, &attempts, &outcome, now))
                .map_err(WebhookError::from)
        })
        .await?;
        Ok(made)
    }

    /// A success that took more than half of the timeout counts against the endpoint.
    fn slow(&self, attempt: &Attempt) -> bool {
        u128::try_from(attempt.latency_ms).unwrap_or(0) * 2 > self.settings.timeout.as_millis()
    }

    async fn send(
        &self,
        sender: &Sender,
        endpoint: &Endpoint,
        secret: &SigningSecret,
        event: &Event,
    ) -> Result<Attempt, WebhookError> {
        let body = body(event)?;
        let timestamp = self.service.clock().now_naive().and_utc().timestamp();
        let signature = secret.sign(&event.id, timestamp, &body)?;
        let headers = [
            ("webhook-id", event.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        Ok(sender.post(&endpoint.url, &headers, body).await)
    }
}

fn delivery(
    endpoint: &Endpoint,
    event: &Event,
    attempt: i32,
    a: &Attempt,
    now: NaiveDateTime,
) -> NewDelivery {
    NewDelivery {
        endpoint_id: endpoint.id.clone(),
        org_id: event.org_id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        position: event.position,
        attempt,
        status_code: a.status.map(i32::from),
        error: a.error.clone(),
        latency_ms: a.latency_ms,
        delivered: a.delivered(),
        attempted_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_five_seconds_to_an_hour_with_jitter() {
        assert_eq!(backoff(1, 1.0), Duration::from_secs(5));
        assert_eq!(backoff(2, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(4, 1.0), Duration::from_secs(40));
        assert_eq!(backoff(30, 1.0), MAX_BACKOFF);
        assert_eq!(backoff(1, 0.0), Duration::from_millis(2500));
        assert!(backoff(3, jitter()) >= Duration::from_secs(10));
        assert!(backoff(3, jitter()) <= Duration::from_secs(20));
    }

    #[test]
    fn retries_go_on_for_more_than_three_days_before_the_endpoint_is_disabled() {
        // The longest the schedule waits is an hour: five days of failures are over a hundred attempts.
        let mut waited = Duration::ZERO;
        let mut failures = 0;
        while waited < Duration::from_secs(3 * 24 * 3600) {
            failures += 1;
            waited += backoff(failures, 1.0);
        }
        assert!(failures > 60, "{failures}");
        const { assert!(webhooks::DISABLE_AFTER_DAYS > 3) };
    }
}
