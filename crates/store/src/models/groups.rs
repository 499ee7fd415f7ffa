//! `groups` and `group_members`: SCIM Groups, with membership as one row per member.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::{GroupId, OrgId};
use crate::schema::{group_members, groups};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = groups)]
pub struct Group {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub display_name: String,
    pub display_name_norm: String,
    pub external_id: Option<String>,
    pub document: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
// `None` is NULL (no column of this table has another default): the INSERT then has one fixed text,
// which diesel keeps prepared instead of building and looking up its SQL on every call.
#[diesel(table_name = groups, treat_none_as_default_value = false)]
pub struct NewGroup<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub display_name: &'a str,
    pub display_name_norm: String,
    pub external_id: Option<&'a str>,
    pub document: &'a str,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = group_members)]
pub struct GroupMember {
    pub group_id: String,
    pub member_id: String,
    pub org_id: String,
    pub created_at: NaiveDateTime,
}

/// Inserts a group; a display name already used in the org (in any case) is `StoreError::Conflict`.
pub fn insert(conn: &mut DbConnection, new: &NewGroup<'_>) -> Result<Group, StoreError> {
    // In a savepoint, so that on PostgreSQL a conflict leaves the caller's transaction usable (to look up the
    // existing row, for example).
    crate::connection::insert_may_conflict(conn, |conn| {
        diesel::insert_into(groups::table).values(new).execute(conn)
    })?;
    get(conn, &OrgId::new(new.org_id), &GroupId::new(new.id))
}

pub fn get(conn: &mut DbConnection, org: &OrgId, id: &GroupId) -> Result<Group, StoreError> {
    Ok(groups::table
        .filter(groups::org_id.eq(org.as_str()))
        .filter(groups::id.eq(id.as_str()))
        .select(Group::as_select())
        .first(conn)?)
}

pub fn member_count(conn: &mut DbConnection, org: &OrgId, id: &GroupId) -> Result<i64, StoreError> {
    Ok(group_members::table
        .filter(group_members::org_id.eq(org.as_str()))
        .filter(group_members::group_id.eq(id.as_str()))
        .count()
        .get_result(conn)?)
}

/// The columns a SCIM write of a group sets. `None` clears `external_id`.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = groups, treat_none_as_null = true)]
pub struct GroupChanges<'a> {
    pub display_name: &'a str,
    pub display_name_norm: String,
    pub external_id: Option<&'a str>,
    pub document: &'a str,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// Applies `changes` to a group of the org; a display name another group has is `StoreError::Conflict` (in a
/// savepoint, so the caller's transaction stays usable).
pub fn update(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &GroupId,
    changes: &GroupChanges<'_>,
) -> Result<Group, StoreError> {
    let n = conn.transaction(|conn| {
        diesel::update(
            groups::table
                .filter(groups::org_id.eq(org.as_str()))
                .filter(groups::id.eq(id.as_str())),
        )
        .set(changes)
        .execute(conn)
    })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    get(conn, org, id)
}
