//! `org_limits`: an org's overrides of the SCIM API's rate and concurrency limits. No row, or a NULL column,
//! means the process default; the SCIM API reads this through a short cache, so a change applies within
//! seconds and without a restart.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::models::audit_events;
use crate::schema::org_limits as t;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// An org's stored overrides.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = t)]
pub struct OrgLimits {
    pub org_id: String,
    /// Sustained requests per second.
    pub rate: Option<i32>,
    /// Requests allowed at once above the sustained rate (the bucket's size).
    pub burst: Option<i32>,
    /// Requests of the org being served at once.
    pub in_flight: Option<i32>,
    pub updated_at: NaiveDateTime,
}

/// What `set` changes: `None` keeps the stored value (or the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitsChange {
    pub rate: Option<i32>,
    pub burst: Option<i32>,
    pub in_flight: Option<i32>,
}

/// The org's overrides, if it has any.
pub fn get(conn: &mut DbConnection, org: &OrgId) -> Result<Option<OrgLimits>, StoreError> {
    Ok(t::table
        .find(org.as_str())
        .select(OrgLimits::as_select())
        .first(conn)
        .optional()?)
}

/// Sets the given limits of the org, keeping the others; run it in a write unit of work. A value below 1 is
/// refused (the table's CHECK), and an org that does not exist is `MissingReference`.
pub fn set(
    conn: &mut DbConnection,
    org: &OrgId,
    change: LimitsChange,
    now: NaiveDateTime,
) -> Result<OrgLimits, StoreError> {
    for v in [change.rate, change.burst, change.in_flight]
        .into_iter()
        .flatten()
    {
        if v < 1 {
            return Err(StoreError::Refused(format!(
                "a limit must be at least 1, not {v}"
            )));
        }
    }
    let existing = get(conn, org)?;
    let row = OrgLimits {
        org_id: org.to_string(),
        rate: change.rate.or(existing.as_ref().and_then(|e| e.rate)),
        burst: change.burst.or(existing.as_ref().and_then(|e| e.burst)),
        in_flight: change.in_flight.or(existing.as_ref().and_then(|e| e.in_flight)),
        updated_at: now,
    };
    if existing.is_some() {
        diesel::update(t::table.find(org.as_str()))
            .set((
                t::rate.eq(row.rate),
                t::burst.eq(row.burst),
                t::in_flight.eq(row.in_flight),
                t::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(t::table).values(&row).execute(conn)?;
    }
    Ok(row)
}

/// Removes the org's overrides: every limit is the default again. True when there were any.
pub fn reset(conn: &mut DbConnection, org: &OrgId) -> Result<bool, StoreError> {
    Ok(diesel::delete(t::table.find(org.as_str())).execute(conn)? > 0)
}

/// The audit action of [`replace`].
pub const LIMITS_CONFIGURED: &str = "org.limits_configured";

/// Sets the org's limits to exactly `limits` (`None`: the default), audited as `actor` when that changes
/// anything; as the admin page saves its form. Run it in a write unit of work. True when something changed.
pub fn replace(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    limits: LimitsChange,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let before = get(conn, org)?
        .map(|b| LimitsChange {
            rate: b.rate,
            burst: b.burst,
            in_flight: b.in_flight,
        })
        .unwrap_or_default();
    if before == limits {
        return Ok(false);
    }
    reset(conn, org)?;
    if limits != LimitsChange::default() {
        set(conn, org, limits, now)?;
    }
    let details = serde_json::json!({
        "rate": limits.rate,
        "burst": limits.burst,
        "in_flight": limits.in_flight,
    });
    audit_events::append_for_org(conn, org, actor, LIMITS_CONFIGURED, details, now)?;
    Ok(true)
}
