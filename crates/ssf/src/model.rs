//! The rows of the transmitter's tables and their queries (functions that take the connection). Every query
//! of a stream names its owner key, so that one key never reaches another's stream.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use scimd_store::models::lease::{self, Leased};
use scimd_store::schema::{
    ssf_deliveries as d, ssf_pending as p, ssf_stream_subjects as s, ssf_streams as st,
};
use scimd_store::{DbConnection, StoreError};

pub const ENABLED: &str = "enabled";
pub const PAUSED: &str = "paused";
pub const DISABLED: &str = "disabled";

pub const PUSH: &str = "urn:ietf:rfc:8935";
pub const POLL: &str = "urn:ietf:rfc:8936";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = st, treat_none_as_null = true)]
pub struct Stream {
    pub id: String,
    pub org_id: Option<String>,
    pub api_key_id: String,
    /// JSON: a string or an array of strings.
    pub audience: String,
    pub delivery_method: String,
    pub endpoint_url: Option<String>,
    pub authorization_sealed: Option<Vec<u8>>,
    /// JSON array of event type URIs, as the receiver asked.
    pub events_requested: String,
    pub description: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The feed position turned into SETs through.
    pub cursor: i64,
    /// Failed push attempts at the oldest pending SET.
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub failing_since: Option<NaiveDateTime>,
    pub leased_until: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
}

impl Stream {
    pub fn requested(&self) -> Vec<String> {
        serde_json::from_str(&self.events_requested).unwrap_or_default()
    }

    pub fn delivered(&self) -> Vec<String> {
        crate::events::delivered(&self.requested())
    }

    pub fn org(&self) -> Option<scimd_store::OrgId> {
        self.org_id.clone().map(scimd_store::OrgId::new)
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = p)]
pub struct Pending {
    pub seq: i64,
    pub stream_id: String,
    pub jti: String,
    pub event_type: String,
    pub token: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = p)]
pub struct NewPending {
    pub stream_id: String,
    pub jti: String,
    pub event_type: String,
    pub token: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct Delivery {
    pub seq: i64,
    pub stream_id: String,
    pub org_id: Option<String>,
    pub jti: String,
    pub event_type: String,
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
    pub stream_id: String,
    pub org_id: Option<String>,
    pub jti: String,
    pub event_type: String,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub delivered: bool,
    pub attempted_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, stream: &Stream) -> Result<(), StoreError> {
    diesel::insert_into(st::table).values(stream).execute(conn)?;
    Ok(())
}

/// The stream `id` if `key` owns it.
pub fn owned(conn: &mut DbConnection, key: &str, id: &str) -> Result<Option<Stream>, StoreError> {
    Ok(st::table
        .filter(st::id.eq(id))
        .filter(st::api_key_id.eq(key))
        .select(Stream::as_select())
        .first(conn)
        .optional()?)
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<Stream>, StoreError> {
    Ok(st::table
        .filter(st::id.eq(id))
        .select(Stream::as_select())
        .first(conn)
        .optional()?)
}

/// The streams `key` owns, oldest first (a key has at most `MAX_STREAMS_PER_KEY`).
pub fn list_owned(conn: &mut DbConnection, key: &str) -> Result<Vec<Stream>, StoreError> {
    Ok(st::table
        .filter(st::api_key_id.eq(key))
        .order((st::created_at.asc(), st::id.asc()))
        .select(Stream::as_select())
        .load(conn)?)
}

/// The streams of one org, oldest first (the admin page).
pub fn list_for_org(conn: &mut DbConnection, org: &str, limit: i64) -> Result<Vec<Stream>, StoreError> {
    Ok(st::table
        .filter(st::org_id.eq(org))
        .order((st::created_at.asc(), st::id.asc()))
        .limit(limit)
        .select(Stream::as_select())
        .load(conn)?)
}

pub fn count_owned(conn: &mut DbConnection, key: &str) -> Result<i64, StoreError> {
    Ok(st::table
        .filter(st::api_key_id.eq(key))
        .count()
        .get_result(conn)?)
}

/// Writes every column of `stream` (its owner and id unchanged); false when it is gone.
pub fn update(conn: &mut DbConnection, stream: &Stream) -> Result<bool, StoreError> {
    Ok(diesel::update(
        st::table
            .filter(st::id.eq(&stream.id))
            .filter(st::api_key_id.eq(&stream.api_key_id)),
    )
    .set(stream)
    .execute(conn)?
        > 0)
}

/// Moves the stream's cursor from `from` to `to`; false when another unit of work moved it first (the
/// caller's SETs must then not be kept: it rolls back).
pub fn advance(conn: &mut DbConnection, id: &str, from: i64, to: i64) -> Result<bool, StoreError> {
    Ok(
        diesel::update(st::table.filter(st::id.eq(id)).filter(st::cursor.eq(from)))
            .set(st::cursor.eq(to))
            .execute(conn)?
            > 0,
    )
}

pub fn delete(conn: &mut DbConnection, key: &str, id: &str) -> Result<bool, StoreError> {
    if owned(conn, key, id)?.is_none() {
        return Ok(false);
    }
    // Children first: the deletion should not depend on SQLite's foreign-key pragma to cascade.
    diesel::delete(p::table.filter(p::stream_id.eq(id))).execute(conn)?;
    diesel::delete(s::table.filter(s::stream_id.eq(id))).execute(conn)?;
    diesel::delete(d::table.filter(d::stream_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(st::table.filter(st::id.eq(id)).filter(st::api_key_id.eq(key))).execute(conn)? > 0)
}

/// Records whether `member` is in the stream (an added subject undoes a removal).
pub fn set_subject(
    conn: &mut DbConnection,
    stream: &str,
    member: &str,
    included: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::delete(
        s::table
            .filter(s::stream_id.eq(stream))
            .filter(s::member_id.eq(member)),
    )
    .execute(conn)?;
    diesel::insert_into(s::table)
        .values((
            s::stream_id.eq(stream),
            s::member_id.eq(member),
            s::included.eq(included),
            s::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether the receiver removed `member` from the stream.
pub fn excluded(conn: &mut DbConnection, stream: &str, member: &str) -> Result<bool, StoreError> {
    let row: Option<bool> = s::table
        .filter(s::stream_id.eq(stream))
        .filter(s::member_id.eq(member))
        .select(s::included)
        .first(conn)
        .optional()?;
    Ok(row == Some(false))
}

pub fn push_pending(conn: &mut DbConnection, rows: &[NewPending]) -> Result<(), StoreError> {
    // A row at a time, as `webhooks::record` does: a batch is at most a page of the feed.
    for row in rows {
        diesel::insert_into(p::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn pending_count(conn: &mut DbConnection, stream: &str) -> Result<i64, StoreError> {
    Ok(p::table
        .filter(p::stream_id.eq(stream))
        .count()
        .get_result(conn)?)
}

/// The oldest `limit` SETs waiting in the stream, in order.
pub fn pending(conn: &mut DbConnection, stream: &str, limit: i64) -> Result<Vec<Pending>, StoreError> {
    Ok(p::table
        .filter(p::stream_id.eq(stream))
        .order(p::seq.asc())
        .limit(limit)
        .select(Pending::as_select())
        .load(conn)?)
}

/// Removes the stream's SETs with these `jti`s; returns those that were there, with their event types.
pub fn remove_pending(
    conn: &mut DbConnection,
    stream: &str,
    jtis: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut found = Vec::new();
    for chunk in jtis.chunks(500) {
        let rows: Vec<(String, String)> = p::table
            .filter(p::stream_id.eq(stream))
            .filter(p::jti.eq_any(chunk))
            .select((p::jti, p::event_type))
            .load(conn)?;
        diesel::delete(
            p::table
                .filter(p::stream_id.eq(stream))
                .filter(p::jti.eq_any(chunk)),
        )
        .execute(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

pub fn clear_pending(conn: &mut DbConnection, stream: &str) -> Result<(), StoreError> {
    diesel::delete(p::table.filter(p::stream_id.eq(stream))).execute(conn)?;
    Ok(())
}

pub fn record(conn: &mut DbConnection, attempts: &[NewDelivery]) -> Result<(), StoreError> {
    for a in attempts {
        diesel::insert_into(d::table).values(a).execute(conn)?;
    }
    Ok(())
}

/// The newest `limit` deliveries of a stream, newest first.
pub fn deliveries(conn: &mut DbConnection, stream: &str, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    Ok(d::table
        .filter(d::stream_id.eq(stream))
        .order(d::seq.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)?)
}

/// Retention of the delivery log: up to a batch older than `before`; returns how many.
pub fn purge_deliveries(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StoreError> {
    let old: Vec<i64> = d::table
        .filter(d::attempted_at.lt(before))
        .order(d::attempted_at.asc())
        .select(d::seq)
        .limit(1_000)
        .load(conn)?;
    let mut n = 0;
    for chunk in old.chunks(500) {
        n += diesel::delete(d::table.filter(d::seq.eq_any(chunk))).execute(conn)?;
    }
    Ok(n)
}

/// The push streams that have work now, as `id, org_id, next_attempt_at` (binds: `now`, the feed's newest
/// position): enabled, due, not leased, with SETs waiting or a cursor behind the feed; or disabled by the
/// transmitter with its `stream-updated` SET waiting (its one attempt, see [`queue_disabled_notice`]). A
/// stream whose API key was revoked is pushed no more (its receiver can no longer manage it either).
///
/// Each branch reads an index of its own rows only (migration `ssf_due_index`): the enabled push streams by
/// `next_attempt_at` (`ssf_streams_push_due`; poll, paused and disabled streams are not in it), and the
/// disabled ones from their waiting notice (`ssf_pending_notices`, one row per stream the transmitter
/// disabled and has not told yet). The literals are the index predicates', so that both planners use them.
pub fn candidates_sql(conn: &DbConnection) -> String {
    let sql = "SELECT id, org_id, next_attempt_at FROM ssf_streams \
         WHERE delivery_method = 'urn:ietf:rfc:8935' AND status = 'enabled' \
         AND next_attempt_at <= #1 AND (leased_until IS NULL OR leased_until < #1) \
         AND (cursor < #2 OR EXISTS (SELECT 1 FROM ssf_pending p WHERE p.stream_id = ssf_streams.id)) \
         AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = ssf_streams.api_key_id AND k.revoked_at IS NULL) \
         UNION ALL \
         SELECT s.id, s.org_id, s.next_attempt_at FROM ssf_pending n JOIN ssf_streams s ON s.id = n.stream_id \
         WHERE n.event_type = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated' \
         AND s.delivery_method = 'urn:ietf:rfc:8935' AND s.status = 'disabled' \
         AND s.next_attempt_at <= #1 AND (s.leased_until IS NULL OR s.leased_until < #1) \
         AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = s.api_key_id AND k.revoked_at IS NULL)";
    // Numbered binds, each used twice: `?N` on SQLite, `$N` on PostgreSQL.
    let mark = match conn {
        DbConnection::Sqlite(_) => "?",
        DbConnection::Postgres(_) => "$",
    };
    sql.replace('#', mark)
}

/// Whether any push stream has work now (the worker's look of every poll: a read, so that a deployment whose
/// streams are caught up writes nothing).
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime, latest: i64) -> Result<bool, StoreError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let sql = format!("SELECT id FROM ({}) AS due LIMIT 1", candidates_sql(conn));
    let found: Vec<Found> = diesel::sql_query(sql)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(latest)
        .load(conn)?;
    Ok(found.iter().any(|f| !f.id.is_empty()))
}

/// Leases up to `limit` push streams that have work (see [`any_due`]) for `owner` until `lease_until`, at
/// most `per_org` of one org (or of the unbound keys' streams) at once across processes, so that one org's
/// slow receiver never holds every slot (`models::lease`, as for webhooks). The claims of every process take
/// turns, so that no stream is leased twice: its SETs go out once and in order.
pub fn claim(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    latest: i64,
    limit: i64,
    per_org: i64,
) -> Result<Vec<Stream>, StoreError> {
    lease::take_turns(conn, Leased::SsfStreams)?;
    let rank = match conn {
        DbConnection::Sqlite(_) => "?3",
        DbConnection::Postgres(_) => "$3",
    };
    let due: Vec<lease::Due> = diesel::sql_query(lease::per_org_sql(&candidates_sql(conn), rank))
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(latest)
        .bind::<BigInt, _>(per_org)
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // What each org has in flight now, in any process (`ssf_streams_leased`: the leased rows only).
    let leased: Vec<Option<String>> = st::table
        .filter(st::leased_until.ge(now))
        .select(st::org_id)
        .load(conn)?;
    let ids = lease::share(due, leased, limit, per_org);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(st::table.filter(st::id.eq_any(&ids)))
        .set((
            st::leased_until.eq(Some(lease_until)),
            st::lease_owner.eq(Some(owner)),
        ))
        .execute(conn)?;
    Ok(st::table
        .filter(st::id.eq_any(&ids))
        .order(st::next_attempt_at.asc())
        .select(Stream::as_select())
        .load(conn)?)
}

/// How a leased push round ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every SET sent was accepted; due again at `due_at`.
    Delivered { due_at: NaiveDateTime },
    /// The oldest pending SET failed for the `failures`th time; retried at `retry_at`.
    Failed {
        failures: i32,
        retry_at: NaiveDateTime,
        failing_since: NaiveDateTime,
    },
}

/// A stream failing this long is disabled, with a reason the receiver reads in its status.
pub use scimd_store::models::lease::{DISABLE_AFTER_DAYS, gives_up};

/// The `reason` of a stream the transmitter disabled.
pub fn disabled_reason() -> String {
    format!(
        "disabled by the transmitter: every push failed for {DISABLE_AFTER_DAYS} days; \
         set the status to enabled to start again from new events"
    )
}

/// Records a round (its attempts, the SETs accepted removed) and releases the lease, if `owner` still holds
/// it; returns whether it did.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    accepted: &[String],
    attempts: &[NewDelivery],
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let held = || st::table.filter(st::id.eq(id)).filter(st::lease_owner.eq(owner));
    if held().select(st::id).first::<String>(conn).optional()?.is_none() {
        return Ok(false);
    }
    remove_pending(conn, id, accepted)?;
    record(conn, attempts)?;
    let released = (
        st::leased_until.eq(None::<NaiveDateTime>),
        st::lease_owner.eq(None::<String>),
    );
    match outcome {
        Outcome::Delivered { due_at } => diesel::update(held())
            .set((
                st::attempts.eq(0),
                st::next_attempt_at.eq(*due_at),
                st::failing_since.eq(None::<NaiveDateTime>),
                released,
            ))
            .execute(conn)?,
        Outcome::Failed {
            failures,
            retry_at,
            failing_since,
        } => {
            let give_up = gives_up(*failing_since, now);
            diesel::update(held())
                .set((
                    st::attempts.eq(*failures),
                    st::next_attempt_at.eq(*retry_at),
                    st::failing_since.eq(Some(*failing_since)),
                    released,
                ))
                .execute(conn)?;
            if give_up {
                let reason = disabled_reason();
                diesel::update(st::table.filter(st::id.eq(id)))
                    .set((
                        st::status.eq(DISABLED),
                        st::reason.eq(Some(reason)),
                        st::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                clear_pending(conn, id)?;
            }
            1
        }
    };
    Ok(true)
}

/// Queues `notice`, the `stream-updated` SET saying the transmitter disabled the stream (SSF §8.1.5), as the
/// only SET of the stream, due now. It gets one attempt: a disabled stream's failed round drops what waits
/// (`finish`), so a receiver gone for days is not retried for ever.
pub fn queue_disabled_notice(
    conn: &mut DbConnection,
    notice: &NewPending,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    clear_pending(conn, &notice.stream_id)?;
    push_pending(conn, std::slice::from_ref(notice))?;
    diesel::update(st::table.filter(st::id.eq(&notice.stream_id)))
        .set((st::attempts.eq(0), st::next_attempt_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Makes `stream` due now (a SET was queued for it).
pub fn due_now(conn: &mut DbConnection, stream: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(st::table.filter(st::id.eq(stream)).filter(st::attempts.eq(0)))
        .set(st::next_attempt_at.eq(now))
        .execute(conn)?;
    Ok(())
}
