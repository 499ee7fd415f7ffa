//! `events`: the platform's feed of changes to an org's directory (issue #13). Each change appends its event
//! in its own transaction ([`append`]): no change without its event, no event without its change.
//!
//! The feed's order is `position`. On SQLite it is the row's `seq` (one writer: rows commit in `seq` order).
//! On PostgreSQL a transaction that took `seq` 7 can commit after the one that took 8, so a reader of
//! `seq > cursor` could skip 7 for good; instead [`sequence`] gives positions to committed rows only, one
//! batch at a time under an advisory lock, continuing from the largest position: positions are gapless, only
//! grow, and become visible all at once. A reader of [`after`] a cursor therefore sees every event exactly
//! once. Two changes of one resource are in commit order (the second writes its event after the first
//! committed: it waited for the row's lock); changes of different resources that commit within one batch are
//! in the order they were written.

use crate::connection::{DbConnection, on_own_connection};
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::events;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;

/// The event types, as the feed names them.
pub mod types {
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DEACTIVATED: &str = "user.deactivated";
    pub const USER_REACTIVATED: &str = "user.reactivated";
    pub const USER_DELETED: &str = "user.deleted";
    pub const GROUP_CREATED: &str = "group.created";
    pub const GROUP_UPDATED: &str = "group.updated";
    pub const GROUP_DELETED: &str = "group.deleted";
    pub const GROUP_MEMBERSHIP_CHANGED: &str = "group.membership_changed";
    pub const SSO_CONNECTION_SET: &str = "sso.connection_set";
    pub const SSO_CONNECTION_REMOVED: &str = "sso.connection_removed";
    pub const SCIM_TOKEN_GENERATED: &str = "scim_token.generated";
    pub const SCIM_TOKEN_REVOKED: &str = "scim_token.revoked";
    pub const SAFETY_VALVE_TRIPPED: &str = "safety_valve.tripped";
    pub const SAFETY_VALVE_RELEASED: &str = "safety_valve.released";
    /// Admin sessions that ended: a logout, a replacing sign-in, or every session of a deprovisioned member.
    pub const SESSION_REVOKED: &str = "session.revoked";
    /// A member's effective roles changed (a group it joined or left, a mapping, its `roles`): `added` and
    /// `removed` say how.
    pub const USER_ROLES_CHANGED: &str = "user.roles_changed";

    /// Every type, as the feed's `types` filter accepts them.
    pub const ALL: [&str; 17] = [
        USER_CREATED,
        USER_UPDATED,
        USER_DEACTIVATED,
        USER_REACTIVATED,
        USER_DELETED,
        GROUP_CREATED,
        GROUP_UPDATED,
        GROUP_DELETED,
        GROUP_MEMBERSHIP_CHANGED,
        SSO_CONNECTION_SET,
        SSO_CONNECTION_REMOVED,
        SCIM_TOKEN_GENERATED,
        SCIM_TOKEN_REVOKED,
        SAFETY_VALVE_TRIPPED,
        SAFETY_VALVE_RELEASED,
        SESSION_REVOKED,
        USER_ROLES_CHANGED,
    ];
}

/// The most member ids one `group.membership_changed` event lists; a larger change is several events.
pub const MEMBERSHIP_CHUNK: usize = 1_000;

/// The most rows one [`sequence`] call positions.
pub const SEQUENCE_BATCH: usize = 1_000;

/// The advisory lock class that makes one sequencer at a time of all processes on the database; the second
/// key is the schema's, so that deployments in separate schemas of one database do not wait for each other.
const SEQUENCER_LOCK_CLASS: i32 = 0x5c1d_e7e7;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = events)]
pub struct Event {
    #[serde(skip)]
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: NaiveDateTime,
    /// JSON text.
    #[serde(skip)]
    pub data: String,
    /// The feed cursor of the event (None until sequenced, on PostgreSQL).
    pub position: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
struct EventInsert {
    id: String,
    // Owned, so that an INSERT of a fixed number of rows has a query id (which is `'static`) and stays
    // prepared.
    org_id: String,
    event_type: String,
    occurred_at: NaiveDateTime,
    data: String,
}

/// Appends an event of `org`; call it inside the transaction of the change it stands for.
pub fn append(
    conn: &mut DbConnection,
    org: &OrgId,
    event_type: &str,
    occurred_at: NaiveDateTime,
    data: &serde_json::Value,
) -> Result<(), StoreError> {
    let row = EventInsert {
        // Time-ordered: the unique index of ids grows at its right edge instead of taking a random page
        // per insert.
        id: uuid::Uuid::now_v7().to_string(),
        org_id: org.as_str().to_owned(),
        event_type: event_type.to_owned(),
        occurred_at,
        data: serde_json::to_string(data)?,
    };
    diesel::insert_into(events::table).values(&row).execute(conn)?;
    Ok(())
}

/// Appends events of one type, in order (see [`append_each`]).
pub fn append_all(
    conn: &mut DbConnection,
    org: &OrgId,
    event_type: &str,
    occurred_at: NaiveDateTime,
    data: &[serde_json::Value],
) -> Result<(), StoreError> {
    let each: Vec<(&str, &serde_json::Value)> = data.iter().map(|d| (event_type, d)).collect();
    append_each(conn, org, occurred_at, &each)
}

/// Appends events (type, data) of `org`, in order, in one statement per [`APPEND_CHUNK`]: one change that
/// writes several (a group's update and the roles it changed, a mapping's batch) pays one round trip, not one
/// each. One or two events take INSERTs of fixed shape, which stay prepared; more take a multi-row INSERT
/// prepared for its run.
pub fn append_each(
    conn: &mut DbConnection,
    org: &OrgId,
    occurred_at: NaiveDateTime,
    events: &[(&str, &serde_json::Value)],
) -> Result<(), StoreError> {
    let row = |(event_type, data): &(&str, &serde_json::Value)| -> Result<EventInsert, StoreError> {
        Ok(EventInsert {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org.as_str().to_owned(),
            event_type: (*event_type).to_owned(),
            occurred_at,
            data: serde_json::to_string(data)?,
        })
    };
    match events {
        [] => Ok(()),
        [(event_type, data)] => append(conn, org, event_type, occurred_at, data),
        [a, b] => {
            // MultiConnection has no multi-row INSERT; each backend's own connection has. Rows get their
            // `seq` in the order given.
            let rows = [row(a)?, row(b)?];
            on_own_connection!(conn, |c| diesel::insert_into(events::table)
                .values(&rows)
                .execute(c))?;
            Ok(())
        }
        _ => {
            for chunk in events.chunks(APPEND_CHUNK) {
                let rows = chunk.iter().map(row).collect::<Result<Vec<_>, _>>()?;
                on_own_connection!(conn, |c| diesel::insert_into(events::table)
                    .values(&rows)
                    .execute(c))?;
            }
            Ok(())
        }
    }
}

/// The most events one statement of [`append_all`] inserts (5 parameters each: within SQLite's and
/// PostgreSQL's bind limits).
const APPEND_CHUNK: usize = 500;

/// Gives feed positions to committed events that have none (PostgreSQL; SQLite's are their `seq`), at most
/// [`SEQUENCE_BATCH`] per call; returns how many, or `None` while another sequencer holds the lock (it is
/// doing the work). Run it in a write unit of work of its own.
pub fn sequence(conn: &mut DbConnection) -> Result<Option<usize>, StoreError> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(Some(0));
    };
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let lock: Locked = diesel::sql_query(
        "SELECT pg_try_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), ''))) AS locked",
    )
    .bind::<diesel::sql_types::Integer, _>(SEQUENCER_LOCK_CLASS)
    .get_result(pg)?;
    if !lock.locked {
        return Ok(None);
    }
    // This statement's snapshot is taken after the lock: it sees the last sequencer's committed positions
    // and only committed events. Positions continue from the largest, in `seq` order.
    let n = diesel::sql_query(
        "WITH batch AS (SELECT seq FROM events WHERE position IS NULL ORDER BY seq LIMIT $1), \
         numbered AS (SELECT seq, (SELECT COALESCE(MAX(position), 0) FROM events) \
             + row_number() OVER (ORDER BY seq) AS position FROM batch) \
         UPDATE events SET position = numbered.position FROM numbered WHERE events.seq = numbered.seq",
    )
    .bind::<BigInt, _>(i64::try_from(SEQUENCE_BATCH).unwrap_or(i64::MAX))
    .execute(pg)?;
    Ok(Some(n))
}

/// Positions every committed event that has no position yet (PostgreSQL; blocking), a batch per write;
/// readers of the feed (the platform API, the webhook worker, the directory's `as_of_cursor`) call it before
/// they read. While another process holds the sequencer's lock it returns at once: that one is doing it.
pub fn catch_up(store: &crate::Store) -> Result<(), StoreError> {
    if store.backend() != crate::Backend::Postgres {
        return Ok(());
    }
    loop {
        match store.write(sequence)? {
            Some(n) if n >= SEQUENCE_BATCH => continue,
            _ => return Ok(()),
        }
    }
}

/// Up to `limit` events after `cursor` (a position; 0 for the start) in feed order, of one org when given,
/// of the given types when any.
pub fn after(
    conn: &mut DbConnection,
    cursor: i64,
    limit: i64,
    org: Option<&OrgId>,
    event_types: &[String],
) -> Result<Vec<Event>, StoreError> {
    let mut q = events::table.select(Event::as_select()).limit(limit).into_boxed();
    q = if by_seq(conn) {
        q.filter(events::seq.gt(cursor)).order(events::seq.asc())
    } else {
        q.filter(events::position.gt(cursor))
            .order(events::position.asc())
    };
    if let Some(org) = org {
        q = q.filter(events::org_id.eq(org.as_str()));
    }
    if !event_types.is_empty() {
        q = q.filter(events::event_type.eq_any(event_types.to_vec()));
    }
    Ok(q.load(conn)?)
}

/// On SQLite an event's position is its `seq` (the rowid): reads filter and order on `seq`, which needs no
/// index of its own (migration `events_cheaper_writes`).
fn by_seq(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Sqlite(_))
}

/// The newest position (0 when there is none yet): `after=latest`.
pub fn latest(conn: &mut DbConnection) -> Result<i64, StoreError> {
    let newest: Option<i64> = if by_seq(conn) {
        events::table.select(diesel::dsl::max(events::seq)).first(conn)?
    } else {
        events::table
            .select(diesel::dsl::max(events::position))
            .first(conn)?
    };
    Ok(newest.unwrap_or(0))
}

/// The oldest retained position, if there is any event.
pub fn oldest(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    if by_seq(conn) {
        Ok(events::table.select(diesel::dsl::min(events::seq)).first(conn)?)
    } else {
        Ok(events::table
            .select(diesel::dsl::min(events::position))
            .first(conn)?)
    }
}

/// The most events one [`purge`] call looks at and deletes: the purge's write transaction stays short (on
/// SQLite it holds the one writer).
pub const PURGE_BATCH: i64 = 1_000;

/// Retention: of the oldest [`PURGE_BATCH`] positioned events, deletes those that occurred before `before`,
/// never the newest event (the sequencer continues from the largest position, so the feed's positions never
/// restart); returns how many. Call it again while it deletes a full batch.
pub fn purge(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StoreError> {
    let newest = latest(conn)?;
    // The oldest positions first, read through the position index: a call costs a batch, not the table.
    let q = events::table
        .select((events::seq, events::occurred_at))
        .limit(PURGE_BATCH)
        .into_boxed();
    let q = if by_seq(conn) {
        q.filter(events::seq.lt(newest)).order(events::seq.asc())
    } else {
        q.filter(events::position.lt(newest))
            .order(events::position.asc())
    };
    let oldest: Vec<(i64, NaiveDateTime)> = q.load(conn)?;
    let expired: Vec<i64> = oldest
        .into_iter()
        .filter(|(_, at)| *at < before)
        .map(|(seq, _)| seq)
        .collect();
    let mut deleted = 0;
    for chunk in expired.chunks(super::IN_CHUNK) {
        deleted += diesel::delete(events::table.filter(events::seq.eq_any(chunk))).execute(conn)?;
    }
    Ok(deleted)
}

/// The event's data, parsed.
pub fn data(event: &Event) -> Result<serde_json::Value, StoreError> {
    Ok(serde_json::from_str(&event.data)?)
}

/// The event as the feed and webhooks show it: `{"id", "type", "org_id", "occurred_at", "cursor", "data"}`,
/// times in RFC 3339 (UTC, milliseconds), the cursor as a string.
pub fn to_json(event: &Event) -> Result<serde_json::Value, StoreError> {
    Ok(serde_json::json!({
        "id": event.id,
        "type": event.event_type,
        "org_id": event.org_id,
        "occurred_at": rfc3339(event.occurred_at),
        "cursor": event.position.unwrap_or(0).to_string(),
        "data": data(event)?,
    }))
}

/// A time as the platform API writes it: RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
