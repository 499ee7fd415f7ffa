//! Per-org rate and concurrency limits of the SCIM API: a token bucket per org (governor's GCRA) and a cap
//! on the org's requests in flight (a semaphore), so that one org's IdP, or a leaked token, cannot take the
//! database connections every org shares.
//!
//! [`OrgLimiter::admit`] runs after the bearer token is verified (the org is real, so the key set is bounded
//! by the orgs that exist and unauthenticated traffic spends no org's budget) and before any other database
//! work of the request. The [`Admission`] it returns holds an in-flight slot until dropped.
//!
//! An org's settings are its `org_limits` row over the process defaults, cached for [`SETTINGS_TTL`]: a
//! `scimd org limits` change applies within seconds, without a restart. Each process enforces the limits
//! on its own (see the README's "Limits"), like its own connection pool.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use scimd_store::models::org_limits::{self, OrgLimits};
use scimd_store::{OrgId, Store, StoreError};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// How long an org's settings are used before they are read again.
pub const SETTINGS_TTL: Duration = Duration::from_secs(10);
/// Sustained requests per second per org.
pub const DEFAULT_RATE: u32 = 50;
/// Requests an org may send at once above the sustained rate.
pub const DEFAULT_BURST: u32 = 200;
/// Requests of one org served at once.
pub const DEFAULT_IN_FLIGHT: u32 = 8;

/// One org's effective limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub rate: NonZeroU32,
    pub burst: NonZeroU32,
    pub in_flight: NonZeroU32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate: NonZeroU32::MIN.saturating_add(DEFAULT_RATE - 1),
            burst: NonZeroU32::MIN.saturating_add(DEFAULT_BURST - 1),
            in_flight: NonZeroU32::MIN.saturating_add(DEFAULT_IN_FLIGHT - 1),
        }
    }
}

impl Limits {
    /// The stored overrides over these defaults; a stored value below 1 (the table refuses it) keeps the
    /// default.
    pub fn over(self, row: Option<&OrgLimits>) -> Limits {
        let pick = |stored: Option<i32>, default: NonZeroU32| {
            stored
                .and_then(|v| u32::try_from(v).ok())
                .and_then(NonZeroU32::new)
                .unwrap_or(default)
        };
        match row {
            None => self,
            Some(r) => Limits {
                rate: pick(r.rate, self.rate),
                burst: pick(r.burst, self.burst),
                in_flight: pick(r.in_flight, self.in_flight),
            },
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The org's bucket is empty; a request succeeds again after `retry_after_secs`.
    Rate { retry_after_secs: u64 },
    /// The org already has `in_flight` requests being served.
    InFlight { in_flight: u32 },
}

/// What `admit` fails with.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    #[error("over the org's limit: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An admitted request: holds one of the org's in-flight slots until dropped.
#[derive(Debug)]
pub struct Admission {
    _slot: OwnedSemaphorePermit,
}

/// The credential-check slots: stripes chosen by a keyed hash of the URL's org id (the key is per process, so
/// nobody can aim at another org's stripe), each with the default in-flight limit's permits. Bounded memory
/// whatever org ids a flood makes up; two orgs share a stripe with a chance of 1 in [`CHECK_STRIPES`].
pub const CHECK_STRIPES: usize = 1024;
/// How long a request waits for a credential-check slot before it is refused with 429.
pub const CHECK_WAIT: Duration = Duration::from_secs(2);

/// A credential-check slot, held while the request's token is verified.
#[derive(Debug)]
pub struct CheckPass {
    _slot: OwnedSemaphorePermit,
}

/// One org's bucket and slots, with the settings they were built from.
struct Gate {
    limits: Limits,
    read_at: Instant,
    bucket: Arc<DefaultDirectRateLimiter>,
    slots: Arc<Semaphore>,
    /// Until when the bucket is known to be empty (set by a rate refusal): requests at the org's URL before
    /// then are refused without their token being checked, since the bucket would refuse them anyway.
    empty_until: Arc<Mutex<Option<Instant>>>,
}

impl Gate {
    fn new(limits: Limits, read_at: Instant) -> Gate {
        Gate {
            limits,
            read_at,
            bucket: Arc::new(RateLimiter::direct(
                Quota::per_second(limits.rate).allow_burst(limits.burst),
            )),
            slots: Arc::new(Semaphore::new(limits.in_flight.get() as usize)),
            empty_until: Arc::default(),
        }
    }
}

/// Whole seconds (RFC 9110), rounded up, never 0: an IdP that retries at once would be refused again.
fn retry_after(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The limiter of one process; cheap to clone (every clone shares the buckets).
#[derive(Clone)]
pub struct OrgLimiter {
    store: Store,
    defaults: Limits,
    gates: Arc<Mutex<HashMap<OrgId, Arc<Gate>>>>,
    clock: DefaultClock,
    checks: Arc<[Arc<Semaphore>]>,
    check_key: std::hash::RandomState,
}

impl std::fmt::Debug for OrgLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgLimiter")
            .field("defaults", &self.defaults)
            .finish_non_exhaustive()
    }
}

impl OrgLimiter {
    pub fn new(store: Store, defaults: Limits) -> OrgLimiter {
        let permits = defaults.in_flight.get() as usize;
        OrgLimiter {
            store,
            defaults,
            gates: Arc::default(),
            clock: DefaultClock::default(),
            checks: (0..CHECK_STRIPES)
                .map(|_| Arc::new(Semaphore::new(permits)))
                .collect(),
            check_key: std::hash::RandomState::new(),
        }
    }

    /// Waits up to [`CHECK_WAIT`] for a credential-check slot of the URL's org; then 429 (`InFlight`).
    /// An org whose bucket is known to be empty is refused here, before its token is checked (an org
    /// nobody was admitted for yet has no gate, and this creates none).
    pub async fn check_pass(&self, url_org: &OrgId) -> Result<CheckPass, AdmitError> {
        let empty_until = self
            .lock()
            .get(url_org)
            .and_then(|gate| *gate.empty_until.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(until) = empty_until {
            let now = Instant::now();
            if now < until {
                return Err(AdmitError::Refused(Refusal::Rate {
                    retry_after_secs: retry_after(until - now),
                }));
            }
        }
        let stripe = self.stripe(url_org);
        let refused = || {
            AdmitError::Refused(Refusal::InFlight {
                in_flight: self.defaults.in_flight.get(),
            })
        };
        let semaphore = self.checks.get(stripe).ok_or_else(refused)?.clone();
        match tokio::time::timeout(CHECK_WAIT, semaphore.acquire_owned()).await {
            Ok(Ok(slot)) => Ok(CheckPass { _slot: slot }),
            _ => Err(refused()),
        }
    }

    fn stripe(&self, org: &OrgId) -> usize {
        use std::hash::BuildHasher;
        (self.check_key.hash_one(org.as_str()) as usize) % CHECK_STRIPES
    }

    /// Admits one request of `org`, or says why not. Blocking (it may read the org's settings): call it on
    /// the blocking pool, as the token check is.
    pub fn admit(&self, org: &OrgId) -> Result<Admission, AdmitError> {
        let gate = self.gate(org)?;
        // The slot first: a request refused for concurrency does not also spend a token.
        let slot = match gate.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                return Err(AdmitError::Refused(Refusal::InFlight {
                    in_flight: gate.limits.in_flight.get(),
                }));
            }
        };
        if let Err(not_until) = gate.bucket.check() {
            let wait = not_until.wait_time_from(self.clock.now());
            *gate.empty_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + wait);
            return Err(AdmitError::Refused(Refusal::Rate {
                retry_after_secs: retry_after(wait),
            }));
        }
        Ok(Admission { _slot: slot })
    }

    /// The org's gate, its settings read again once they are older than [`SETTINGS_TTL`]. A gate whose
    /// settings did not change is kept (its bucket's state with it); a changed one starts afresh, and
    /// requests admitted by the old one finish on its slots.
    fn gate(&self, org: &OrgId) -> Result<Arc<Gate>, StoreError> {
        let now = Instant::now();
        let cached = self.lock().get(org).cloned();
        if let Some(gate) = &cached
            && now.saturating_duration_since(gate.read_at) < SETTINGS_TTL
        {
            return Ok(gate.clone());
        }
        // Read outside the lock: other orgs' requests never wait on this org's database read.
        let row = self.store.read(|conn| org_limits::get(conn, org))?;
        let limits = self.defaults.over(row.as_ref());
        let gate = Arc::new(match cached {
            Some(old) if old.limits == limits => Gate {
                limits,
                read_at: now,
                bucket: old.bucket.clone(),
                slots: old.slots.clone(),
                empty_until: old.empty_until.clone(),
            },
            _ => Gate::new(limits, now),
        });
        let mut gates = self.lock();
        // Another request of the org may have refreshed it meanwhile: keep one gate per org.
        let kept = match gates.get(org) {
            Some(current)
                if current.limits == limits
                    && Instant::now().saturating_duration_since(current.read_at) < SETTINGS_TTL =>
            {
                current.clone()
            }
            _ => {
                gates.insert(org.clone(), gate.clone());
                gate
            }
        };
        Ok(kept)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Arc<Gate>>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.gates.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimd_store::testing::TestDb;

    fn limits(rate: u32, burst: u32, in_flight: u32) -> Limits {
        let n = |v| NonZeroU32::new(v).unwrap();
        Limits {
            rate: n(rate),
            burst: n(burst),
            in_flight: n(in_flight),
        }
    }

    #[test]
    fn an_org_at_its_in_flight_cap_is_refused_until_a_request_ends_and_others_are_not() {
        let db = TestDb::sqlite();
        let limiter = OrgLimiter::new(db.store.clone(), limits(1000, 1000, 2));
        let (a, b) = (OrgId::new("org-a"), OrgId::new("org-b"));
        let first = limiter.admit(&a).unwrap();
        let _second = limiter.admit(&a).unwrap();
        for _ in 0..5 {
            assert!(matches!(
                limiter.admit(&a),
                Err(AdmitError::Refused(Refusal::InFlight { in_flight: 2 }))
            ));
        }
        let _b = limiter.admit(&b).unwrap();
        let _b2 = limiter.admit(&b).unwrap();
        drop(first);
        assert!(limiter.admit(&a).is_ok(), "a slot came back when a request ended");
    }

    #[test]
    fn a_refusal_for_concurrency_spends_no_token_and_an_empty_bucket_says_when_to_retry() {
        let db = TestDb::sqlite();
        // A bucket of 2 that refills one a second, one request at a time.
        let limiter = OrgLimiter::new(db.store.clone(), limits(1, 2, 1));
        let a = OrgId::new("org-a");
        let held = limiter.admit(&a).unwrap();
        for _ in 0..10 {
            assert!(matches!(
                limiter.admit(&a),
                Err(AdmitError::Refused(Refusal::InFlight { .. }))
            ));
        }
        drop(held);
        // The ten refusals left the second token in the bucket.
        drop(limiter.admit(&a).unwrap());
        match limiter.admit(&a) {
            Err(AdmitError::Refused(Refusal::Rate { retry_after_secs })) => assert!(retry_after_secs >= 1),
            other => panic!("expected a rate refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_flood_at_one_orgs_url_waits_for_its_own_credential_checks_only() {
        let db = TestDb::sqlite();
        let limiter = OrgLimiter::new(db.store.clone(), limits(1000, 1000, 2));
        let a = OrgId::new("org-a");
        // Another org on another stripe (two orgs share one with a chance of 1 in 1,024).
        let b = (0..)
            .map(|i| OrgId::new(format!("org-b{i}")))
            .find(|b| limiter.stripe(b) != limiter.stripe(&a))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let _first = limiter.check_pass(&a).await.unwrap();
            let second = limiter.check_pass(&a).await.unwrap();
            assert!(
                limiter.check_pass(&b).await.is_ok(),
                "B's checks do not wait for A's"
            );
            // A's third waits for a slot, and is refused when none comes back in time.
            assert!(matches!(
                limiter.check_pass(&a).await,
                Err(AdmitError::Refused(Refusal::InFlight { .. }))
            ));
            drop(second);
            assert!(limiter.check_pass(&a).await.is_ok(), "a slot given back is taken");
        });
    }

    #[test]
    fn an_org_whose_bucket_is_empty_is_refused_before_its_token_is_checked() {
        let db = TestDb::sqlite();
        // One token a second, a burst of one.
        let limiter = OrgLimiter::new(db.store.clone(), limits(1, 1, 8));
        let a = OrgId::new("org-a");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            // Nobody was admitted for A yet: no gate, so the pass is given (and no gate is made).
            drop(limiter.check_pass(&a).await.unwrap());
            drop(limiter.admit(&a).unwrap());
            assert!(matches!(
                limiter.admit(&a),
                Err(AdmitError::Refused(Refusal::Rate { .. }))
            ));
            // The bucket is now known to be empty: the next request is refused before any token check.
            match limiter.check_pass(&a).await {
                Err(AdmitError::Refused(Refusal::Rate { retry_after_secs })) => {
                    assert_eq!(retry_after_secs, 1)
                }
                other => panic!("expected a rate refusal before the check, got {other:?}"),
            }
            assert!(
                limiter.check_pass(&OrgId::new("org-b")).await.is_ok(),
                "another org is not refused"
            );
        });
    }

    #[test]
    fn an_orgs_own_limits_override_the_defaults() {
        let db = TestDb::sqlite();
        let now = chrono::Utc::now().naive_utc();
        let (org, _) = db
            .store
            .write(|c| scimd_store::models::organizations::create_with_owner(c, "A", None, now))
            .unwrap();
        let a = org.org_id();
        let change = org_limits::LimitsChange {
            in_flight: Some(1),
            ..Default::default()
        };
        db.store.write(|c| org_limits::set(c, &a, change, now)).unwrap();
        let limiter = OrgLimiter::new(db.store.clone(), limits(1000, 1000, 8));
        let _held = limiter.admit(&a).unwrap();
        assert!(matches!(
            limiter.admit(&a),
            Err(AdmitError::Refused(Refusal::InFlight { in_flight: 1 }))
        ));
        assert!(
            limiter.admit(&OrgId::new("org-b")).is_ok(),
            "another org keeps the defaults"
        );
    }
}
