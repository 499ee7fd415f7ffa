//! Whether the database answers, as this process has seen it: reachable or not (connections cannot be opened),
//! writable or not (a read-only PostgreSQL server, a full disk or read-only SQLite file).
//!
//! Why: while the database is away, every request should get its 503 at once instead of each waiting out the
//! pool, and the log should say once that it went away and once that it came back, not once per request.
//! The store records here what its checkouts and units of work meet (`Store::conn` and the units' outcomes);
//! while the database is unreachable a checkout takes only a connection the pool already holds (fail fast),
//! and the pool keeps reconnecting in the background, so the first connection that works again ends the
//! outage. `Store::probe` (run in the background by the server, the cached answer of `/readyz`) does the same
//! when no request comes.

use crate::error::Seen;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shared by every clone of one `Store`.
#[derive(Debug, Default)]
pub struct Availability {
    state: Mutex<State>,
    /// Times the database went away (reachable -> unreachable).
    outages: AtomicU64,
    /// Units of work refused because the database was unreachable or refused writes.
    refused: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// Since when connections cannot be opened, and the driver's last word on it.
    unreachable: Option<(Instant, String)>,
    /// Since when writes are refused, and why.
    unwritable: Option<(Instant, String)>,
    /// The last failed attempt to open a connection (from the pool's error handler).
    last_connect_failure: Option<(Instant, String)>,
    /// A probe running since then.
    probing_since: Option<Instant>,
}

impl Availability {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// False while connections to the database cannot be opened.
    pub fn is_reachable(&self) -> bool {
        self.state().unreachable.is_none()
    }

    /// False while the database refuses writes (read-only server, full disk, read-only file).
    pub fn is_writable(&self) -> bool {
        self.state().unwritable.is_none()
    }

    /// Why the database is not available, when it is not.
    pub fn reason(&self) -> Option<String> {
        let state = self.state();
        state
            .unreachable
            .as_ref()
            .or(state.unwritable.as_ref())
            .map(|(_, reason)| reason.clone())
    }

    /// Ready to serve: reachable, and no probe has been waiting on the database for longer than `patience`
    /// (a server that stopped answering without closing its connections).
    pub fn is_ready(&self, patience: Duration) -> bool {
        let state = self.state();
        state.unreachable.is_none()
            && state
                .probing_since
                .is_none_or(|since| since.elapsed() <= patience)
    }

    /// How many times the database went away.
    pub fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// How many units of work were refused because the database was unavailable.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    pub(crate) fn count_refusal(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The database cannot be reached: said once, when it goes away.
    pub(crate) fn unreachable(&self, reason: &str) {
        let mut state = self.state();
        if state.unreachable.is_none() {
            state.unreachable = Some((Instant::now(), reason.to_owned()));
            self.outages.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                reason,
                "the database cannot be reached; requests get 503 with Retry-After until it answers"
            );
        }
    }

    /// A connection works: said once, when the database comes back.
    pub(crate) fn reachable(&self) {
        let mut state = self.state();
        if let Some((since, _)) = state.unreachable.take() {
            tracing::warn!(
                after_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX),
                "the database answers again"
            );
        }
    }

    /// Writes are refused (read-only server, full disk, read-only file): said once, with the reason.
    pub(crate) fn unwritable(&self, reason: &str) {
        let mut state = self.state();
        if state.unwritable.is_none() {
            state.unwritable = Some((Instant::now(), reason.to_owned()));
            tracing::error!(
                reason,
                "the database refuses writes; writes get 503 with Retry-After until it takes them again"
            );
        }
    }

    /// A write was committed: said once, when writes work again.
    pub(crate) fn writable(&self) {
        let mut state = self.state();
        if let Some((since, _)) = state.unwritable.take() {
            tracing::warn!(
                after_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX),
                "the database takes writes again"
            );
        }
    }

    /// The pool failed to open a connection (called by its error handler; not logged, the transition is).
    pub(crate) fn connect_failed(&self, reason: String) {
        self.state().last_connect_failure = Some((Instant::now(), reason));
    }

    /// The last connect failure, if it happened at or after `since`.
    pub(crate) fn connect_failure_since(&self, since: Instant) -> Option<String> {
        match &self.state().last_connect_failure {
            Some((at, reason)) if *at >= since => Some(reason.clone()),
            _ => None,
        }
    }

    pub(crate) fn probe_started(&self) {
        self.state().probing_since = Some(Instant::now());
    }

    pub(crate) fn probe_ended(&self) {
        self.state().probing_since = None;
    }
}

impl Availability {
    /// After a write to a SQLite file: a refusal of the file's own (full disk, read-only file, I/O error) is
    /// said once; a committed write says writes work again.
    pub(crate) fn settle_file(&self, ok: bool) {
        match crate::error::take_seen() {
            Some(Seen::Unwritable(reason)) if !ok => {
                self.count_refusal();
                self.unwritable(&reason);
            }
            _ if ok => self.writable(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_counted_once_and_ends_with_a_working_connection() {
        let a = Availability::default();
        assert!(a.is_reachable() && a.is_ready(Duration::from_secs(1)));
        a.unreachable("connection refused");
        a.unreachable("connection refused");
        assert!(!a.is_reachable());
        assert!(!a.is_ready(Duration::from_secs(1)));
        assert_eq!(a.outages(), 1);
        assert_eq!(a.reason().as_deref(), Some("connection refused"));
        a.reachable();
        assert!(a.is_reachable());
        assert_eq!(a.reason(), None);
        a.unreachable("again");
        assert_eq!(a.outages(), 2);
    }

    #[test]
    fn a_probe_that_hangs_makes_the_process_unready() {
        let a = Availability::default();
        a.probe_started();
        assert!(a.is_ready(Duration::from_secs(60)));
        assert!(!a.is_ready(Duration::ZERO));
        a.probe_ended();
        assert!(a.is_ready(Duration::ZERO));
    }

    #[test]
    fn writes_refused_are_their_own_state() {
        let a = Availability::default();
        a.unwritable("database or disk is full");
        assert!(a.is_reachable() && !a.is_writable());
        assert_eq!(a.reason().as_deref(), Some("database or disk is full"));
        a.writable();
        assert!(a.is_writable());
    }
}
