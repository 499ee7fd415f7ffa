//! `admin_sessions`: the server-side rows that admin session JWTs name. Revoking the row ends the session on
//! the next request, on every process.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::{MemberId, OrgId, SessionId};
use crate::schema::admin_sessions;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_sessions)]
pub struct AdminSessionRow {
    pub id: String,
    pub org_id: String,
    pub member_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &AdminSessionRow) -> Result<(), StoreError> {
    diesel::insert_into(admin_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &SessionId) -> Result<Option<AdminSessionRow>, StoreError> {
    Ok(admin_sessions::table
        .find(id.as_str())
        .select(AdminSessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Revokes one session (logout). Returns whether a live session was revoked.
pub fn revoke(conn: &mut DbConnection, id: &SessionId, at: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(diesel::update(
        admin_sessions::table
            .filter(admin_sessions::id.eq(id.as_str()))
            .filter(admin_sessions::revoked_at.is_null()),
    )
    .set(admin_sessions::revoked_at.eq(at))
    .execute(conn)?
        > 0)
}

/// Revokes every live session of a member (deprovisioning). Returns the ids of the sessions it ended.
pub fn revoke_all_for_member(
    conn: &mut DbConnection,
    org: &OrgId,
    member: &MemberId,
    at: NaiveDateTime,
) -> Result<Vec<String>, StoreError> {
    let live = || {
        admin_sessions::table
            .filter(admin_sessions::member_id.eq(member.as_str()))
            .filter(admin_sessions::org_id.eq(org.as_str()))
            .filter(admin_sessions::revoked_at.is_null())
    };
    let ids: Vec<String> = live().select(admin_sessions::id).load(conn)?;
    if !ids.is_empty() {
        diesel::update(live().filter(admin_sessions::id.eq_any(&ids)))
            .set(admin_sessions::revoked_at.eq(at))
            .execute(conn)?;
    }
    Ok(ids)
}

/// Records that the session was used at `now`, unless a request (of any process) already did so after
/// `not_before`: a session is written at most once per interval, not on every request. Returns whether the
/// row changed.
pub fn touch_last_seen(
    conn: &mut DbConnection,
    id: &SessionId,
    now: NaiveDateTime,
    not_before: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        admin_sessions::table
            .filter(admin_sessions::id.eq(id.as_str()))
            .filter(admin_sessions::revoked_at.is_null())
            .filter(admin_sessions::last_seen_at.lt(not_before)),
    )
    .set(admin_sessions::last_seen_at.eq(now))
    .execute(conn)?
        > 0)
}

/// The member's sessions that are live at `now` (not revoked, not expired), newest first, at most `limit`.
pub fn live_for_member(
    conn: &mut DbConnection,
    org: &OrgId,
    member: &MemberId,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<AdminSessionRow>, StoreError> {
    Ok(admin_sessions::table
        .filter(admin_sessions::member_id.eq(member.as_str()))
        .filter(admin_sessions::org_id.eq(org.as_str()))
        .filter(admin_sessions::revoked_at.is_null())
        .filter(admin_sessions::expires_at.gt(now))
        .select(AdminSessionRow::as_select())
        .order(admin_sessions::created_at.desc())
        .limit(limit)
        .load(conn)?)
}
