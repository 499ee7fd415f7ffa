//! The push worker (RFC 8935), one per process. It keeps up to [`PushSettings::parallel`] streams' rounds in
//! flight, and whenever a slot is free (or every [`PushSettings::poll`] while there is nothing to do) it
//! leases push streams that have work (`model::claim`: SETs waiting, or new feed events), at most
//! [`PushSettings::per_org`] of one org at once across processes (the webhooks' lease, `models::lease`), so
//! that one org's slow receiver never holds every slot nor delays another org's stream: a round that ends
//! frees its slot at once, without waiting for the others. Each round makes its stream's SETs from the feed and POSTs
//! each waiting SET in order (`Content-Type: application/secevent+jwt`, the receiver's registered
//! `authorization_header`), stopping at the first failure: a later SET waits while an earlier one is retried
//! (the webhooks' back-off, 5 s doubling to an hour, with jitter). A SET leaves the queue only once the
//! receiver accepted it (2xx; RFC 8935 §2.2 names 202), in the write that ends the round, so a crash
//! resends it with the same `jti` (at least once). A SET the receiver refuses as RFC 8935 §2.3 says (400 with
//! a JSON `err`) failed its validation and would fail again: it is logged and dropped, not retried. A paused
//! or disabled stream is never claimed; one failing for `DISABLE_AFTER_DAYS` is disabled with a reason its
//! receiver reads in its status, and one `stream-updated` SET saying so (SSF §8.1.5) in place of what waited:
//! the disabled stream is claimed for that SET alone, one attempt (`SsfService::finish_round_blocking`).
//!
//! The outbound client and address policy are the webhooks' (`scimd_webhooks::client::Sender`,
//! `SCIMD_WEBHOOK_ALLOW_PRIVATE`): the same timeouts, no redirects, no private addresses unless allowed.

use crate::error::SsfError;
use crate::model::{self, NewDelivery, Outcome, Stream};
use crate::service::SsfService;
use crate::set::MEDIA_TYPE;
use chrono::TimeDelta;
use scimd_store::models::events as feed;
use scimd_webhooks::client::{DEFAULT_TIMEOUT, Sender};
use scimd_webhooks::worker::backoff;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

#[derive(Debug, Clone)]
pub struct PushSettings {
    /// How often the worker looks for work.
    pub poll: Duration,
    /// The most SETs one stream's round sends.
    pub batch: i64,
    /// The most streams one process serves at once.
    pub parallel: i64,
    /// The most streams of one org (or of the unbound keys) served at once, across processes.
    pub per_org: i64,
    /// How long a lease lasts; a round starts no send after half of it.
    pub lease: Duration,
    /// Each attempt's timeout.
    pub timeout: Duration,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            poll: Duration::from_millis(200),
            batch: 100,
            parallel: 8,
            per_org: 2,
            lease: Duration::from_secs(60),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

fn td(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn jitter() -> f64 {
    match scimd_tokens::random::bytes::<8>() {
        Ok(b) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 1.0,
    }
}

/// RFC 8935 §2.3: a 400 whose JSON body names an `err` (`invalid_audience`, `invalid_key`, ...) is the
/// receiver refusing that SET after validating it; resending the same SET would get the same answer. Returns
/// what the delivery log says of it. Any other failure (a bare 400 among them) is retried.
fn refusal(attempt: &scimd_webhooks::client::Attempt) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Refusal {
        err: String,
        #[serde(default)]
        description: Option<String>,
    }
    if attempt.status != Some(400) {
        return None;
    }
    let r: Refusal = serde_json::from_slice(attempt.body.as_deref()?).ok()?;
    let text = match r.description {
        Some(d) => format!("refused ({}): {d}", r.err),
        None => format!("refused ({})", r.err),
    };
    Some(text.chars().take(MAX_REFUSAL_LEN).collect())
}

/// The most of a refusal kept in the delivery log.
const MAX_REFUSAL_LEN: usize = 200;

#[derive(Clone)]
pub struct PushWorker {
    service: SsfService,
    settings: PushSettings,
    owner: String,
}

impl std::fmt::Debug for PushWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushWorker")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl PushWorker {
    pub fn new(service: SsfService, settings: PushSettings) -> PushWorker {
        PushWorker {
            service,
            settings,
            owner: format!(
                "scimd-ssf-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
        }
    }

    /// Runs the worker on the current actix runtime until the process ends: a slot that frees up is refilled
    /// at once, without waiting for the other rounds in flight.
    pub fn spawn(self) {
        actix_rt::spawn(async move {
            let sender = match Sender::new(self.service.policy(), self.settings.timeout) {
                Ok(s) => Rc::new(s),
                Err(e) => {
                    tracing::error!(error = %e, "ssf: the push client cannot start; no SETs are pushed");
                    return;
                }
            };
            let mut running: JoinSet<()> = JoinSet::new();
            loop {
                let free = self.settings.parallel - i64::try_from(running.len()).unwrap_or(i64::MAX);
                let pause = if free > 0 {
                    match self.claim(free).await {
                        Ok(claimed) if claimed.is_empty() => Some(self.settings.poll),
                        Ok(claimed) => {
                            for stream in claimed {
                                running.spawn_local(self.clone().serve_logged(sender.clone(), stream));
                            }
                            None
                        }
                        Err(e) if e.is_unavailable() => Some(self.settings.poll),
                        Err(e) => {
                            tracing::warn!(error = %e, "ssf: a claim failed; trying again");
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

    /// Leases up to `slots` push streams that have work, within each org's share.
    async fn claim(&self, slots: i64) -> Result<Vec<Stream>, SsfError> {
        let (service, owner, settings) = (self.service.clone(), self.owner.clone(), self.settings.clone());
        scimd_store::blocking(move || {
            feed::catch_up(service.store())?;
            let now = service.clock().now_naive();
            let latest = service.store().read(feed::latest)?;
            if !service.store().read(|conn| model::any_due(conn, now, latest))? {
                return Ok(Vec::new());
            }
            let until = now + td(settings.lease);
            Ok::<_, SsfError>(
                service
                    .store()
                    .write(|conn| model::claim(conn, &owner, now, until, latest, slots, settings.per_org))?,
            )
        })
        .await
    }

    /// One stream's round, its error logged.
    async fn serve_logged(self, sender: Rc<Sender>, stream: Stream) {
        let id = stream.id.clone();
        if let Err(e) = self.serve(&sender, stream).await {
            tracing::warn!(stream = %id, error = %e, "ssf: a stream's push round failed");
        }
    }

    /// One round, all at once: leases the streams that have work and serves them concurrently until every
    /// one is done; returns how many it leased (tests drive the worker with it, step by step).
    pub async fn round(&self, sender: &Rc<Sender>) -> Result<usize, SsfError> {
        let claimed = self.claim(self.settings.parallel).await?;
        let n = claimed.len();
        let mut running: JoinSet<()> = JoinSet::new();
        for stream in claimed {
            running.spawn_local(self.clone().serve_logged(sender.clone(), stream));
        }
        while running.join_next().await.is_some() {}
        Ok(n)
    }

    /// One leased stream's round: its SETs made, then sent in order until one fails.
    async fn serve(&self, sender: &Sender, stream: Stream) -> Result<(), SsfError> {
        let started = Instant::now();
        let (service, id, batch) = (self.service.clone(), stream.id.clone(), self.settings.batch);
        let row = stream.clone();
        let (pending, authorization) = scimd_store::blocking(move || {
            match service.make_sets_blocking(&id) {
                Ok(_) | Err(SsfError::Conflict) => {}
                Err(e) => return Err(e),
            }
            service.store().read(|conn| {
                let pending = model::pending(conn, &id, batch)?;
                let authorization = service.authorization(conn, &row)?;
                Ok::<_, SsfError>((pending, authorization))
            })
        })
        .await?;
        let url = stream.endpoint_url.clone().unwrap_or_default();
        // The SETs that leave the queue: accepted, or refused for good.
        let mut accepted = Vec::new();
        let mut attempts = Vec::new();
        let mut failure = None;
        for (i, set) in pending.iter().enumerate() {
            if started.elapsed() > self.settings.lease / 2 {
                break;
            }
            let mut headers = vec![
                ("content-type", MEDIA_TYPE.to_owned()),
                ("accept", "application/json".to_owned()),
            ];
            if let Some(auth) = &authorization {
                headers.push(("authorization", auth.clone()));
            }
            let attempt = sender.post(&url, &headers, set.token.clone().into_bytes()).await;
            let number = if i == 0 { stream.attempts + 1 } else { 1 };
            let refused = refusal(&attempt);
            attempts.push(NewDelivery {
                stream_id: stream.id.clone(),
                org_id: stream.org_id.clone(),
                jti: set.jti.clone(),
                event_type: set.event_type.clone(),
                attempt: number,
                status_code: attempt.status.map(i32::from),
                error: refused.clone().or_else(|| attempt.error.clone()),
                latency_ms: attempt.latency_ms,
                delivered: attempt.delivered(),
                attempted_at: self.service.clock().now_naive(),
            });
            if attempt.delivered() || refused.is_some() {
                accepted.push(set.jti.clone());
            } else {
                failure = Some(number);
                break;
            }
        }
        let now = self.service.clock().now_naive();
        let outcome = match failure {
            Some(failures) => Outcome::Failed {
                failures,
                retry_at: now + td(backoff(failures, jitter())),
                failing_since: match (stream.failing_since, accepted.is_empty()) {
                    (Some(since), true) => since,
                    _ => now,
                },
            },
            None => Outcome::Delivered { due_at: now },
        };
        if let Outcome::Failed { failures, .. } = &outcome {
            tracing::info!(stream = %stream.id, failures, "ssf: a push failed; it will be retried");
        }
        let (service, owner) = (self.service.clone(), self.owner.clone());
        scimd_store::blocking(move || {
            service.finish_round_blocking(&stream, &owner, &accepted, &attempts, &outcome, now)
        })
        .await?;
        Ok(())
    }
}
