//! The deprovisioning safety valve: when more than a share of an org's active members (default 20%, at least
//! 10) would lose access within an hour, further deprovisioning is held until an admin releases it. A broken
//! IdP mapping or a mistaken unassignment then costs a few accounts, not the whole company.
//!
//! The valve is sticky: once tripped it holds until released, so a runaway IdP cannot keep deprovisioning at
//! the threshold's rate hour after hour.
//!
//! A check costs the same in an org of ten and of a million: the window is a tally per org and minute
//! (`safety_valve_minutes`, at most 61 rows summed) and the base is the org's active-User tally
//! (`org_tallies`); nothing counts the org. Every process on the database shares both. A deprovisioning is
//! counted first, in its connection's shard of the minute (see [`bump`]), so concurrent deprovisionings of one
//! org do not wait for each other; with the valve off nothing is counted and no row is locked.
//!
//! Members the IdP created within the window do not count: a conformance tool or an IdP's "test connection"
//! that creates and deletes test users must not trip the valve of a new org.

use crate::connection::{DbConnection, shard_sql};
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::models::audit_events::{self, actions};
use crate::models::{events, org_tallies};
use crate::schema::{org_settings, safety_valve_minutes as minutes};
use chrono::{Duration, NaiveDateTime, Timelike};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;

pub const DEFAULT_PERCENT: i32 = 20;
pub const DEFAULT_MIN: i32 = 10;
/// What `Retry-After` says while the valve holds: an IdP retries after it, by which time an admin may have
/// released the hold.
pub const RETRY_AFTER_SECS: u64 = 600;
const WINDOW: Duration = Duration::hours(1);

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = org_settings)]
pub struct OrgSettings {
    pub org_id: String,
    pub safety_valve_enabled: bool,
    pub safety_valve_percent: i32,
    pub safety_valve_min: i32,
    pub safety_valve_tripped_at: Option<NaiveDateTime>,
    pub safety_valve_released_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl OrgSettings {
    fn defaults(org: &OrgId, now: NaiveDateTime) -> OrgSettings {
        OrgSettings {
            org_id: org.to_string(),
            safety_valve_enabled: true,
            safety_valve_percent: DEFAULT_PERCENT,
            safety_valve_min: DEFAULT_MIN,
            safety_valve_tripped_at: None,
            safety_valve_released_at: None,
            updated_at: now,
        }
    }

    /// Tripped and not released since.
    pub fn is_held(&self) -> bool {
        match (self.safety_valve_tripped_at, self.safety_valve_released_at) {
            (Some(tripped), Some(released)) => released < tripped,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// What the valve says about one more deprovisioning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refuse with 503 and `Retry-After`. The caller must still commit its transaction: tripping is recorded.
    Held {
        retry_after_secs: u64,
    },
}

/// The valve as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValveStatus {
    pub settings: OrgSettings,
    pub held: bool,
    pub deprovisioned_in_window: i64,
    pub threshold: i64,
}

/// The org's settings (the defaults when none were saved).
pub fn settings(conn: &mut DbConnection, org: &OrgId, now: NaiveDateTime) -> Result<OrgSettings, StoreError> {
    Ok(org_settings::table
        .find(org.as_str())
        .select(OrgSettings::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_else(|| OrgSettings::defaults(org, now)))
}

/// Makes sure the row exists and locks it for the rest of the transaction (on PostgreSQL; SQLite writers are
/// already serialised).
pub(crate) fn lock(
    conn: &mut DbConnection,
    org: &OrgId,
    now: NaiveDateTime,
) -> Result<OrgSettings, StoreError> {
    let touched = diesel::update(org_settings::table.find(org.as_str()))
        .set(org_settings::updated_at.eq(org_settings::updated_at))
        .execute(conn)?;
    if touched == 0 {
        let insert = conn.transaction(|conn| {
            diesel::insert_into(org_settings::table)
                .values(OrgSettings::defaults(org, now))
                .execute(conn)
        });
        match insert.map_err(StoreError::from) {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
        diesel::update(org_settings::table.find(org.as_str()))
            .set(org_settings::updated_at.eq(org_settings::updated_at))
            .execute(conn)?;
    }
    settings(conn, org, now)
}

fn window_start(settings: &OrgSettings, now: NaiveDateTime) -> NaiveDateTime {
    let hour_ago = now - WINDOW;
    match settings.safety_valve_released_at {
        Some(released) if released > hour_ago => released,
        _ => hour_ago,
    }
}

fn minute_of(t: NaiveDateTime) -> NaiveDateTime {
    t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(t)
}

/// Deprovisionings counted in the sliding hour (a release clears the count, see [`release`]).
fn count_window(conn: &mut DbConnection, org: &OrgId, now: NaiveDateTime) -> Result<i64, StoreError> {
    let counts: Vec<i64> = minutes::table
        .filter(minutes::org_id.eq(org.as_str()))
        .filter(minutes::minute.ge(minute_of(now - WINDOW)))
        .select(minutes::deprovisioned)
        .load(conn)?;
    Ok(counts.into_iter().sum())
}

/// Adds `n` to the count of the minute of `now` (and forgets this shard's minutes that left the window).
///
/// On PostgreSQL the row is the connection's shard of the minute (`connection::shard_sql!`, as the tallies),
/// so concurrent deprovisionings of one org do not queue on one row lock until commit. A check then sees the
/// committed counts of the other shards: concurrent checks may each allow one more than the threshold, at most
/// as many as the org has requests in flight.
fn bump(conn: &mut DbConnection, org: &OrgId, now: NaiveDateTime, n: i64) -> Result<(), StoreError> {
    let (upsert, forget) = match conn {
        DbConnection::Sqlite(_) => (
            "INSERT INTO safety_valve_minutes (org_id, minute, shard, deprovisioned) VALUES (?, ?, 0, ?) \
             ON CONFLICT (org_id, minute, shard) DO UPDATE \
             SET deprovisioned = deprovisioned + excluded.deprovisioned",
            "DELETE FROM safety_valve_minutes WHERE org_id = ? AND shard = 0 AND minute < ?",
        ),
        DbConnection::Postgres(_) => (
            concat!(
                "INSERT INTO safety_valve_minutes (org_id, minute, shard, deprovisioned) VALUES ($1, $2, ",
                shard_sql!(),
                ", $3) ON CONFLICT (org_id, minute, shard) DO UPDATE \
                 SET deprovisioned = safety_valve_minutes.deprovisioned + excluded.deprovisioned"
            ),
            concat!(
                "DELETE FROM safety_valve_minutes WHERE org_id = $1 AND shard = ",
                shard_sql!(),
                " AND minute < $2"
            ),
        ),
    };
    diesel::sql_query(upsert)
        .bind::<Text, _>(org.as_str())
        .bind::<Timestamp, _>(minute_of(now))
        .bind::<BigInt, _>(n)
        .execute(conn)?;
    diesel::sql_query(forget)
        .bind::<Text, _>(org.as_str())
        .bind::<Timestamp, _>(minute_of(now - WINDOW))
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    in_window: i64,
    #[diesel(sql_type = BigInt)]
    active: i64,
}

/// Counts this deprovisioning in the window ([`bump`]) and returns the window's count before it and the org's
/// active members. On PostgreSQL it is one statement (the bump, the forgetting of this shard's old minutes, and
/// both sums), because each round trip is what the valve costs a deprovisioning: four statements made it
/// 0.6-0.8x the same deprovisioning with the valve off. The sums read the statement's snapshot, which does not
/// see its own bump: the count before it, as the SQLite path computes it.
fn count_this_one(
    conn: &mut DbConnection,
    org: &OrgId,
    now: NaiveDateTime,
) -> Result<(i64, i64), StoreError> {
    if let DbConnection::Sqlite(_) = conn {
        bump(conn, org, now, 1)?;
        return Ok((count_window(conn, org, now)? - 1, active_members(conn, org)?));
    }
    let counted: Counted = diesel::sql_query(concat!(
        "WITH bumped AS ( \
             INSERT INTO safety_valve_minutes (org_id, minute, shard, deprovisioned) VALUES ($1, $2, ",
        shard_sql!(),
        ", 1) ON CONFLICT (org_id, minute, shard) DO UPDATE \
             SET deprovisioned = safety_valve_minutes.deprovisioned + 1 \
             RETURNING 1), \
         forgotten AS ( \
             DELETE FROM safety_valve_minutes WHERE org_id = $1 AND shard = ",
        shard_sql!(),
        " AND minute < $3 RETURNING 1) \
         SELECT \
             (SELECT COALESCE(SUM(deprovisioned), 0) FROM safety_valve_minutes \
              WHERE org_id = $1 AND minute >= $3)::BIGINT AS in_window, \
             (SELECT COALESCE(SUM(active_users), 0) FROM org_tallies WHERE org_id = $1)::BIGINT AS active"
    ))
    .bind::<Text, _>(org.as_str())
    .bind::<Timestamp, _>(minute_of(now))
    .bind::<Timestamp, _>(minute_of(now - WINDOW))
    .get_result(conn)?;
    Ok((counted.in_window, counted.active))
}

fn active_members(conn: &mut DbConnection, org: &OrgId) -> Result<i64, StoreError> {
    Ok(org_tallies::totals(conn, org)?.active_users)
}

/// How many deprovisionings the window allows: the share of the members who were active when it began
/// (those active now plus those deprovisioned since), and never fewer than the minimum.
fn threshold(settings: &OrgSettings, active_now: i64, in_window: i64) -> i64 {
    let base = active_now + in_window;
    (base * i64::from(settings.safety_valve_percent) / 100).max(i64::from(settings.safety_valve_min))
}

/// Call inside the deprovisioning transaction of a member created at `member_created_at`, before the change.
/// `Held` records the trip (an audit event, once per trip); the caller commits and answers 503.
pub fn check(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    member_created_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Verdict, StoreError> {
    let current = settings(conn, org, now)?;
    if !current.safety_valve_enabled || member_created_at >= window_start(&current, now) {
        return Ok(Verdict::Allowed);
    }
    let held = Verdict::Held {
        retry_after_secs: RETRY_AFTER_SECS,
    };
    if current.is_held() {
        return Ok(held);
    }
    let (in_window, active_now) = count_this_one(conn, org, now)?;
    let limit = threshold(&current, active_now, in_window);
    if in_window < limit {
        return Ok(Verdict::Allowed);
    }
    // Held: this deprovisioning does not happen, so it is not counted; the trip is what commits.
    bump(conn, org, now, -1)?;
    lock(conn, org, now)?;
    diesel::update(org_settings::table.find(org.as_str()))
        .set((
            org_settings::safety_valve_tripped_at.eq(now),
            org_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    let counts = serde_json::json!({ "deprovisioned_in_window": in_window, "threshold": limit });
    audit_events::append_for_org(
        conn,
        org,
        actor,
        actions::SAFETY_VALVE_TRIPPED,
        counts.clone(),
        now,
    )?;
    events::append(conn, org, events::types::SAFETY_VALVE_TRIPPED, now, &counts)?;
    Ok(held)
}

/// The admin's release: lets deprovisioning through again, counting afresh from now (the window's count is
/// cleared).
pub fn release(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let current = lock(conn, org, now)?;
    if !current.is_held() {
        return Ok(false);
    }
    diesel::update(org_settings::table.find(org.as_str()))
        .set((
            org_settings::safety_valve_released_at.eq(now),
            org_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::delete(minutes::table.filter(minutes::org_id.eq(org.as_str()))).execute(conn)?;
    audit_events::append_for_org(
        conn,
        org,
        actor,
        actions::SAFETY_VALVE_RELEASED,
        serde_json::json!({}),
        now,
    )?;
    events::append(
        conn,
        org,
        events::types::SAFETY_VALVE_RELEASED,
        now,
        &serde_json::json!({}),
    )?;
    Ok(true)
}

/// Turns the valve on or off and sets its share (1-100 %) and minimum (at least 1).
pub fn configure(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    enabled: bool,
    percent: i32,
    min: i32,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if !(1..=100).contains(&percent) || min < 1 {
        return Err(StoreError::Refused(
            "the share must be 1 to 100 % and the minimum at least 1".into(),
        ));
    }
    lock(conn, org, now)?;
    diesel::update(org_settings::table.find(org.as_str()))
        .set((
            org_settings::safety_valve_enabled.eq(enabled),
            org_settings::safety_valve_percent.eq(percent),
            org_settings::safety_valve_min.eq(min),
            org_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    audit_events::append_for_org(
        conn,
        org,
        actor,
        actions::SAFETY_VALVE_CONFIGURED,
        serde_json::json!({ "enabled": enabled, "percent": percent, "min": min }),
        now,
    )?;
    Ok(())
}

/// For the banner and the settings form. While the valve holds, the counts are those that tripped it (the
/// sliding window would empty while the hold stays); otherwise the current window's.
pub fn status(conn: &mut DbConnection, org: &OrgId, now: NaiveDateTime) -> Result<ValveStatus, StoreError> {
    let current = settings(conn, org, now)?;
    if current.is_held()
        && let Some(trip) = audit_events::list(conn, org, Some(actions::SAFETY_VALVE_TRIPPED), None, 1)?.pop()
    {
        let details: serde_json::Value = serde_json::from_str(&trip.details)?;
        let count = |key: &str| details.get(key).and_then(serde_json::Value::as_i64).unwrap_or(0);
        return Ok(ValveStatus {
            held: true,
            deprovisioned_in_window: count("deprovisioned_in_window"),
            threshold: count("threshold"),
            settings: current,
        });
    }
    let in_window = count_window(conn, org, now)?;
    let limit = threshold(&current, active_members(conn, org)?, in_window);
    Ok(ValveStatus {
        held: current.is_held(),
        settings: current,
        deprovisioned_in_window: in_window,
        threshold: limit,
    })
}
