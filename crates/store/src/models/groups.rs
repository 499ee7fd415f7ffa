//! `groups` and `group_members`: SCIM Groups, with membership as one row per member.

use super::IN_CHUNK;
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::{GroupId, OrgId};
use crate::schema::{group_members, groups};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashSet;

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

impl Group {
    pub fn group_id(&self) -> GroupId {
        GroupId::new(self.id.clone())
    }
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

// `treat_none_as_default_value = false`: one multi-row INSERT on SQLite too, not a savepoint and a row each.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = group_members, treat_none_as_default_value = false)]
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
        .filter(super::tenant_of_key("groups", org))
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
/// savepoint, so the caller's transaction stays usable). `renames` says whether the change moves the group's
/// display name (its normalised form): only then can the unique index refuse it.
pub fn update(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &GroupId,
    changes: &GroupChanges<'_>,
    renames: bool,
) -> Result<Group, StoreError> {
    // One statement: the row comes back from the UPDATE itself (MultiConnection has no RETURNING; each
    // backend has), and a displayName taken meanwhile leaves the transaction usable (`insert_may_conflict`).
    // An update that keeps the name (a membership change) cannot conflict: no savepoint, two round trips
    // fewer on PostgreSQL.
    let target = groups::table
        .filter(super::tenant_of_key_sql("groups", org))
        .filter(groups::id.eq(id.as_str()));
    let update = diesel::update(target).set(changes);
    let run = |conn: &mut DbConnection| {
        match conn {
            DbConnection::Postgres(c) => update.returning(Group::as_returning()).get_result(c),
            DbConnection::Sqlite(c) => update.returning(Group::as_returning()).get_result(c),
        }
        .optional()
    };
    let row = if renames {
        crate::connection::insert_may_conflict(conn, run)?
    } else {
        run(conn)?
    };
    row.ok_or(StoreError::NotFound)
}

/// Deletes a group of the org (its membership rows first: see [`clear_members`]).
pub fn delete(conn: &mut DbConnection, org: &OrgId, id: &GroupId) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        groups::table
            .filter(super::tenant_of_key("groups", org))
            .filter(groups::id.eq(id.as_str())),
    )
    .execute(conn)?)
}

/// The member ids of a group.
pub fn member_ids(conn: &mut DbConnection, group: &GroupId) -> Result<HashSet<String>, StoreError> {
    Ok(group_members::table
        .filter(group_members::group_id.eq(group.as_str()))
        .select(group_members::member_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// Inserts the memberships of `ids` that do not exist yet; returns the ids added, in `ids` order.
///
/// `ON CONFLICT DO NOTHING RETURNING` decides on the primary key itself, so there is no query plan to get
/// wrong: a check of the existing memberships first (`group_id = ? AND member_id IN (...)`) walked the whole
/// group on a fresh PostgreSQL database without statistics (or scanned the table), O(group) per PATCH.
pub fn add_members(
    conn: &mut DbConnection,
    org: &OrgId,
    group: &GroupId,
    ids: &[String],
    now: NaiveDateTime,
) -> Result<Vec<String>, StoreError> {
    let mut added = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<GroupMember> = chunk
            .iter()
            .map(|id| GroupMember {
                group_id: group.as_str().to_owned(),
                member_id: id.clone(),
                org_id: org.as_str().to_owned(),
                created_at: now,
            })
            .collect();
        // MultiConnection has no multi-row INSERT; each backend's own connection has.
        let inserted: Vec<String> = match conn {
            DbConnection::Postgres(c) => diesel::insert_into(group_members::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .returning(group_members::member_id)
                .get_results(c)?,
            // diesel runs a multi-row RETURNING on SQLite row by row, and a skipped row is an error there; the
            // check by primary key first is the plan SQLite takes whatever it knows.
            DbConnection::Sqlite(c) => {
                let existing: HashSet<String> = group_members::table
                    .filter(group_members::group_id.eq(group.as_str()))
                    .filter(group_members::member_id.eq_any(chunk))
                    .select(group_members::member_id)
                    .load::<String>(c)?
                    .into_iter()
                    .collect();
                let mut fresh = HashSet::new();
                let new_rows: Vec<&GroupMember> = rows
                    .iter()
                    .filter(|r| !existing.contains(&r.member_id) && fresh.insert(r.member_id.as_str()))
                    .collect();
                if !new_rows.is_empty() {
                    diesel::insert_into(group_members::table)
                        .values(new_rows)
                        .execute(c)?;
                }
                fresh.into_iter().map(str::to_owned).collect()
            }
        };
        let mut inserted: HashSet<String> = inserted.into_iter().collect();
        added.extend(chunk.iter().filter(|id| inserted.remove(*id)).cloned());
    }
    Ok(added)
}

/// Deletes the memberships of `ids`; returns the ids that were members. One delete by the full primary key
/// per id: the one plan whatever the statistics (see [`add_members`]), and cost by the ids, not the group.
pub fn remove_members(
    conn: &mut DbConnection,
    group: &GroupId,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut removed = Vec::new();
    let mut seen = HashSet::new();
    for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
        let deleted = diesel::delete(
            group_members::table
                .filter(group_members::group_id.eq(group.as_str()))
                .filter(group_members::member_id.eq(id.as_str())),
        )
        .execute(conn)?;
        if deleted > 0 {
            removed.push(id.clone());
        }
    }
    Ok(removed)
}

/// The ids of the groups of the org `member` belongs to (along `group_members_member_group`).
pub fn ids_of_member(
    conn: &mut DbConnection,
    org: &OrgId,
    member: &crate::ids::MemberId,
) -> Result<Vec<String>, StoreError> {
    Ok(group_members::table
        .filter(group_members::member_id.eq(member.as_str()))
        .filter(group_members::org_id.eq(org.as_str()))
        .select(group_members::group_id)
        .order(group_members::group_id.asc())
        .load(conn)?)
}

/// Deletes every membership of the group; returns the ids that were members.
pub fn clear_members(conn: &mut DbConnection, group: &GroupId) -> Result<Vec<String>, StoreError> {
    let members: Vec<String> = group_members::table
        .filter(group_members::group_id.eq(group.as_str()))
        .select(group_members::member_id)
        .load(conn)?;
    diesel::delete(group_members::table.filter(group_members::group_id.eq(group.as_str()))).execute(conn)?;
    Ok(members)
}

/// Takes a member out of every group of the org: the groups' versions move on (their membership changed),
/// then the rows go. Returns how many groups lost the member.
///
/// The groups are found from the member's memberships and then updated by id (`tenant_of_key`), in two
/// statements: with `org_id = ? AND id IN (memberships)` a plan cached while `groups` was empty walked all
/// of the org's groups along `groups_org_seq`, O(groups) per deleted User.
pub fn remove_member_everywhere(
    conn: &mut DbConnection,
    org: &OrgId,
    member: &crate::ids::MemberId,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    let member_groups = ids_of_member(conn, org, member)?;
    for chunk in member_groups.chunks(IN_CHUNK) {
        diesel::update(
            groups::table
                .filter(super::tenant_of_key("groups", org))
                .filter(groups::id.eq_any(chunk)),
        )
        .set((
            groups::version.eq(groups::version + 1),
            groups::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(diesel::delete(
        group_members::table
            .filter(group_members::org_id.eq(org.as_str()))
            .filter(group_members::member_id.eq(member.as_str())),
    )
    .execute(conn)?)
}
