//! `webhook_endpoints` and `webhook_deliveries`: where the platform wants the event feed pushed, and every
//! attempt to push it.
//!
//! The outbox is the feed (`models::events`): an event is written in its change's transaction, and an
//! endpoint's `cursor` is the feed position it has been delivered through, moved only after the receiver
//! answered 2xx. A crash between commit and send therefore loses nothing (the event is resent: at least
//! once), and an endpoint's events go out in feed order, a later one waiting while an earlier one is retried.
//! A process [`claim`]s an endpoint with a lease (the claims of every process take turns, so that several
//! processes share the endpoints and never send one endpoint's events twice at once), delivers, and
//! [`finish`]es with the lease it holds; the lease, the per-org share and the give-up are `models::lease`'s,
//! which the Shared Signals push streams use too.

use super::lease::{self, Leased};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::{webhook_deliveries as d, webhook_endpoints as w};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = w)]
pub struct Endpoint {
    pub id: String,
    /// `None`: every org's events.
    pub org_id: Option<String>,
    pub url: String,
    /// Comma-separated event types; empty for every type.
    pub types: String,
    #[serde(skip)]
    pub secret_sealed: Vec<u8>,
    pub created_at: NaiveDateTime,
    /// The feed position delivered through.
    pub cursor: i64,
    /// Failed attempts at the event after `cursor`.
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    /// Since when every attempt failed (`None` while deliveries succeed).
    pub failing_since: Option<NaiveDateTime>,
    /// Set after failing for [`DISABLE_AFTER_DAYS`]: nothing is sent until a replay.
    pub disabled_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub leased_until: Option<NaiveDateTime>,
    #[serde(skip)]
    pub lease_owner: Option<String>,
}

impl Endpoint {
    /// The event types it wants (empty: all).
    pub fn type_list(&self) -> Vec<String> {
        self.types
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn org(&self) -> Option<OrgId> {
        self.org_id.clone().map(OrgId::new)
    }
}

/// An endpoint failing this long is disabled (retries go on until then: more than three days).
pub const DISABLE_AFTER_DAYS: i64 = lease::DISABLE_AFTER_DAYS;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = d)]
pub struct Delivery {
    #[serde(skip)]
    pub seq: i64,
    pub endpoint_id: String,
    pub org_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The event's feed cursor (`None` for a test event).
    pub position: Option<i64>,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub delivered: bool,
    pub attempted_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = d, treat_none_as_default_value = false)]
pub struct NewDelivery {
    pub endpoint_id: String,
    pub org_id: String,
    pub event_id: String,
    pub event_type: String,
    pub position: Option<i64>,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub delivered: bool,
    pub attempted_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, endpoint: &Endpoint) -> Result<(), StoreError> {
    diesel::insert_into(w::table).values(endpoint).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<Endpoint>, StoreError> {
    Ok(w::table
        .filter(w::id.eq(id))
        .select(Endpoint::as_select())
        .first(conn)
        .optional()?)
}

/// The endpoints of one org (`Some`), or every endpoint (`None`), oldest first.
pub fn list(conn: &mut DbConnection, org: Option<&OrgId>) -> Result<Vec<Endpoint>, StoreError> {
    let mut q = w::table
        .select(Endpoint::as_select())
        .order((w::created_at.asc(), w::id.asc()))
        .into_boxed();
    if let Some(org) = org {
        q = q.filter(w::org_id.eq(org.as_str()));
    }
    Ok(q.load(conn)?)
}

/// Deletes an endpoint and its deliveries; false when there is none with this id.
pub fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    diesel::delete(d::table.filter(d::endpoint_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(w::table.filter(w::id.eq(id))).execute(conn)? > 0)
}

/// Sends the endpoint the events after `cursor` again, from now, and re-enables it; false when there is
/// none with this id.
pub fn replay(
    conn: &mut DbConnection,
    id: &str,
    cursor: i64,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(w::table.filter(w::id.eq(id)))
        .set((
            w::cursor.eq(cursor),
            w::attempts.eq(0),
            w::next_attempt_at.eq(now),
            w::failing_since.eq(None::<NaiveDateTime>),
            w::disabled_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?
        > 0)
}

/// Whether any enabled endpoint is due and not leased (the worker's cheap first look of every poll).
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<bool, StoreError> {
    let due: Option<String> = w::table
        .filter(w::disabled_at.is_null())
        .filter(w::next_attempt_at.le(now))
        .filter(w::leased_until.is_null().or(w::leased_until.lt(now)))
        .select(w::id)
        .first(conn)
        .optional()?;
    Ok(due.is_some())
}

/// Leases up to `limit` enabled endpoints that are due and behind the feed's newest position `latest`, for
/// `owner` until `lease_until`; returns them. An endpoint leased by a live process is skipped, and so is one
/// whose org (or the every-org group) already has `per_org` endpoints leased by live processes: one org's
/// slow receivers then hold at most `per_org` of every process's delivery slots, and the others stay free
/// for the other orgs.
///
/// On PostgreSQL the claims of every process take turns (a transaction-scoped advisory lock, taken before
/// the first read, so each claim sees the leases of the one before it): no endpoint is leased twice, and an
/// org never has more than `per_org` leases at once across processes.
pub fn claim(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    latest: i64,
    limit: i64,
    per_org: i64,
) -> Result<Vec<Endpoint>, StoreError> {
    // Each org's `per_org` most overdue endpoints, most overdue first: at most `per_org` rows an org.
    let (candidates, rank) = match conn {
        DbConnection::Sqlite(_) => (
            "SELECT id, org_id, next_attempt_at FROM webhook_endpoints \
             WHERE disabled_at IS NULL AND next_attempt_at <= ? AND cursor < ? \
             AND (leased_until IS NULL OR leased_until < ?)",
            "?",
        ),
        DbConnection::Postgres(_) => (
            "SELECT id, org_id, next_attempt_at FROM webhook_endpoints \
             WHERE disabled_at IS NULL AND next_attempt_at <= $1 AND cursor < $2 \
             AND (leased_until IS NULL OR leased_until < $3)",
            "$4",
        ),
    };
    lease::take_turns(conn, Leased::WebhookEndpoints)?;
    let due: Vec<lease::Due> = diesel::sql_query(lease::per_org_sql(candidates, rank))
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(latest)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(per_org)
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // What each org has in flight now, in any process.
    let leased: Vec<Option<String>> = w::table
        .filter(w::leased_until.ge(now))
        .select(w::org_id)
        .load(conn)?;
    let ids = lease::share(due, leased, limit, per_org);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(w::table.filter(w::id.eq_any(&ids)))
        .set((
            w::leased_until.eq(Some(lease_until)),
            w::lease_owner.eq(Some(owner)),
        ))
        .execute(conn)?;
    Ok(w::table
        .filter(w::id.eq_any(&ids))
        .select(Endpoint::as_select())
        .order(w::next_attempt_at.asc())
        .load(conn)?)
}

/// How a leased round of deliveries ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Everything up to `cursor` is delivered (or was not for this endpoint).
    Delivered { cursor: i64 },
    /// Delivered up to `cursor`, but the receiver took most of the timeout: it is not due again before
    /// `due_at`, so that a slow receiver does not hold a delivery slot all the time.
    Slow { cursor: i64, due_at: NaiveDateTime },
    /// Delivered up to `cursor`; the next event failed for the `failures`th time and is retried at
    /// `retry_at`, unless the endpoint has failed since `failing_since` for [`DISABLE_AFTER_DAYS`] (then it is
    /// disabled).
    Failed {
        cursor: i64,
        failures: i32,
        retry_at: NaiveDateTime,
        failing_since: NaiveDateTime,
    },
}

/// Records the round's attempts and its outcome, and releases the lease, if `owner` still holds it (a
/// process whose lease ran out leaves the endpoint to the one that took it over); returns whether it did.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    attempts: &[NewDelivery],
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    record(conn, attempts)?;
    let held = w::table.filter(w::id.eq(id)).filter(w::lease_owner.eq(owner));
    let released = (
        w::leased_until.eq(None::<NaiveDateTime>),
        w::lease_owner.eq(None::<String>),
    );
    let n = match outcome {
        Outcome::Delivered { cursor } => diesel::update(held)
            .set((
                w::cursor.eq(*cursor),
                w::attempts.eq(0),
                w::next_attempt_at.eq(now),
                w::failing_since.eq(None::<NaiveDateTime>),
                released,
            ))
            .execute(conn)?,
        Outcome::Slow { cursor, due_at } => diesel::update(held)
            .set((
                w::cursor.eq(*cursor),
                w::attempts.eq(0),
                w::next_attempt_at.eq(*due_at),
                w::failing_since.eq(None::<NaiveDateTime>),
                released,
            ))
            .execute(conn)?,
        Outcome::Failed {
            cursor,
            failures,
            retry_at,
            failing_since,
        } => {
            let disabled = lease::gives_up(*failing_since, now).then_some(now);
            diesel::update(held)
                .set((
                    w::cursor.eq(*cursor),
                    w::attempts.eq(*failures),
                    w::next_attempt_at.eq(*retry_at),
                    w::failing_since.eq(Some(*failing_since)),
                    w::disabled_at.eq(disabled),
                    released,
                ))
                .execute(conn)?
        }
    };
    Ok(n > 0)
}

/// When the endpoint's newest test event was sent, if it ever was (the test-event throttle).
pub fn last_test(conn: &mut DbConnection, endpoint_id: &str) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(d::table
        .filter(d::endpoint_id.eq(endpoint_id))
        .filter(d::position.is_null())
        .select(diesel::dsl::max(d::attempted_at))
        .first(conn)?)
}

/// How many endpoints an org has (the cap on endpoints per org).
pub fn count_for_org(conn: &mut DbConnection, org: &OrgId) -> Result<i64, StoreError> {
    Ok(w::table
        .filter(w::org_id.eq(org.as_str()))
        .count()
        .get_result(conn)?)
}

/// Records attempts (a leased round's, or a test event's).
pub fn record(conn: &mut DbConnection, attempts: &[NewDelivery]) -> Result<(), StoreError> {
    // A row at a time: diesel's batch insert of nullable columns does not build for both backends at once,
    // and a round records at most a batch of events.
    for attempt in attempts {
        diesel::insert_into(d::table).values(attempt).execute(conn)?;
    }
    Ok(())
}

/// The newest `limit` attempts at one endpoint, newest first.
pub fn deliveries(
    conn: &mut DbConnection,
    endpoint_id: &str,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    Ok(d::table
        .filter(d::endpoint_id.eq(endpoint_id))
        .order(d::seq.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)?)
}

/// The newest `limit` attempts of the org's own endpoints, newest first (the org's admin page). Attempts of
/// the operator's endpoints (`org_id` NULL) carry the org's events too, but their receiver's status, latency
/// and errors are the operator's, not the org's to see.
pub fn org_deliveries(conn: &mut DbConnection, org: &OrgId, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    Ok(d::table
        .inner_join(w::table)
        .filter(d::org_id.eq(org.as_str()))
        .filter(w::org_id.eq(org.as_str()))
        .order(d::seq.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)?)
}

/// Retention of the attempts: deletes up to a batch of those made before `before`; returns how many (call
/// again while it deletes a full batch).
pub fn purge_deliveries(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StoreError> {
    let old: Vec<i64> = d::table
        .filter(d::attempted_at.lt(before))
        .order(d::attempted_at.asc())
        .select(d::seq)
        .limit(super::events::PURGE_BATCH)
        .load(conn)?;
    let mut deleted = 0;
    for chunk in old.chunks(super::IN_CHUNK) {
        deleted += diesel::delete(d::table.filter(d::seq.eq_any(chunk))).execute(conn)?;
    }
    Ok(deleted)
}
