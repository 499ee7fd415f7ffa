//! `members`: an org's users, SCIM-provisioned or not.
//!
//! Uniqueness of `userName` per org is the unique index on `(org_id, user_name_norm)` among rows SCIM has not
//! deleted; an insert that violates it comes back as `StoreError::Conflict`.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::{MemberId, OrgId};
use crate::schema::members;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// What a member may do in the admin pages. Owners and admins may edit; members only look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Unknown values read as the least privileged role.
    pub fn parse(raw: &str) -> Role {
        match raw {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            _ => Role::Member,
        }
    }

    pub fn can_edit_settings(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = members)]
pub struct Member {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub user_name: String,
    pub user_name_norm: String,
    pub external_id: Option<String>,
    pub role: String,
    pub active: bool,
    pub scim_managed: bool,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub document: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl Member {
    pub fn member_id(&self) -> MemberId {
        MemberId::new(self.id.clone())
    }

    pub fn role(&self) -> Role {
        Role::parse(&self.role)
    }
}

#[derive(Debug, Clone, Insertable)]
// `None` is NULL (no column of this table has another default): the INSERT then has one fixed text,
// which diesel keeps prepared instead of building and looking up its SQL on every call.
#[diesel(table_name = members, treat_none_as_default_value = false)]
pub struct NewMember<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub user_name: &'a str,
    pub user_name_norm: String,
    pub external_id: Option<&'a str>,
    pub role: &'a str,
    pub active: bool,
    pub scim_managed: bool,
    pub display_name: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub document: &'a str,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a member; a userName already taken in the org (in any case or width) is `StoreError::Conflict`.
pub fn insert(conn: &mut DbConnection, new: &NewMember<'_>) -> Result<Member, StoreError> {
    // The row comes back from the INSERT itself (MultiConnection has no RETURNING; each backend has).
    let insert = diesel::insert_into(members::table).values(new);
    Ok(crate::connection::insert_may_conflict(conn, |conn| match conn {
        DbConnection::Postgres(c) => insert.returning(Member::as_returning()).get_result(c),
        DbConnection::Sqlite(c) => insert.returning(Member::as_returning()).get_result(c),
    })?)
}

/// A member of the org that SCIM has not deleted.
pub fn get(conn: &mut DbConnection, org: &OrgId, id: &MemberId) -> Result<Member, StoreError> {
    find(conn, org, id)?.ok_or(StoreError::NotFound)
}

pub fn find(conn: &mut DbConnection, org: &OrgId, id: &MemberId) -> Result<Option<Member>, StoreError> {
    Ok(members::table
        .filter(super::tenant_of_key("members", org))
        .filter(members::id.eq(id.as_str()))
        .filter(members::deleted_at.is_null())
        .select(Member::as_select())
        .first(conn)
        .optional()?)
}

/// The live member of the org whose userName normalises to the same key as `user_name`.
pub fn find_by_user_name(
    conn: &mut DbConnection,
    org: &OrgId,
    user_name: &str,
) -> Result<Option<Member>, StoreError> {
    Ok(members::table
        .filter(super::tenant_of_key("members", org))
        .filter(members::user_name_norm.eq(crate::user_name::normalize(user_name)))
        .filter(members::deleted_at.is_null())
        .select(Member::as_select())
        .first(conn)
        .optional()?)
}

/// Up to `limit` live members of the org whose `externalId` is `external_id` (it is not unique).
pub fn find_by_external_id(
    conn: &mut DbConnection,
    org: &OrgId,
    external_id: &str,
    limit: i64,
) -> Result<Vec<Member>, StoreError> {
    Ok(members::table
        .filter(super::tenant_of_key("members", org))
        .filter(members::external_id.eq(external_id))
        .filter(members::deleted_at.is_null())
        .select(Member::as_select())
        .limit(limit)
        .load(conn)?)
}

/// Up to `limit` orgs with a live, active member whose userName normalises as `user_name` does (the SSO
/// chooser and `login_hint`: along the userName index, not a scan). A deactivated member counts nowhere, so
/// these answers say nothing about who used to be a member (review M-4).
pub fn orgs_with_user_name(
    conn: &mut DbConnection,
    user_name: &str,
    limit: i64,
) -> Result<Vec<OrgId>, StoreError> {
    let orgs: Vec<String> = members::table
        .filter(members::user_name_norm.eq(crate::user_name::normalize(user_name)))
        .filter(members::deleted_at.is_null())
        .filter(members::active.eq(true))
        .select(members::org_id)
        .limit(limit)
        .load(conn)?;
    Ok(orgs.into_iter().map(OrgId::new).collect())
}

pub fn count_live(conn: &mut DbConnection, org: &OrgId) -> Result<i64, StoreError> {
    Ok(members::table
        .filter(members::org_id.eq(org.as_str()))
        .filter(members::deleted_at.is_null())
        .count()
        .get_result(conn)?)
}

/// The org's live, active owners other than `except`. On PostgreSQL the org's row is locked first (`FOR NO KEY
/// UPDATE`, which does not block inserts that reference the org), so that two concurrent deprovisionings of
/// the last two owners count one after the other and the second finds no other owner left. Locking the other
/// owners' rows instead would deadlock: each caller already holds its own member's row. SQLite's writer is
/// alone anyway.
pub fn other_active_owners(
    conn: &mut DbConnection,
    org: &OrgId,
    except: &MemberId,
) -> Result<i64, StoreError> {
    let owners = members::table
        .filter(members::org_id.eq(org.as_str()))
        .filter(members::role.eq(Role::Owner.as_str()))
        .filter(members::active.eq(true))
        .filter(members::deleted_at.is_null())
        .filter(members::id.ne(except.as_str()));
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE")
            .bind::<diesel::sql_types::Text, _>(org.as_str())
            .execute(pg)?;
    }
    Ok(owners.count().get_result(conn)?)
}

/// Adds an org's owner: an active member with the owner role, not managed by SCIM.
pub fn insert_owner(
    conn: &mut DbConnection,
    org: &OrgId,
    email: &str,
    now: NaiveDateTime,
) -> Result<Member, StoreError> {
    let id = MemberId::generate();
    let document = serde_json::json!({
        "userName": email,
        "emails": [{ "value": email, "primary": true }],
        "active": true,
    })
    .to_string();
    insert(
        conn,
        &NewMember {
            id: id.as_str(),
            org_id: org.as_str(),
            user_name: email,
            user_name_norm: crate::user_name::normalize(email),
            external_id: None,
            role: Role::Owner.as_str(),
            active: true,
            scim_managed: false,
            display_name: None,
            given_name: None,
            family_name: None,
            email: Some(email),
            document: &document,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )
}

/// Every column a SCIM write sets, from the new document. `None` clears a column.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = members, treat_none_as_null = true)]
pub struct MemberChanges<'a> {
    pub user_name: &'a str,
    pub user_name_norm: String,
    pub external_id: Option<&'a str>,
    pub active: bool,
    pub scim_managed: bool,
    pub display_name: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub document: &'a str,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

/// Applies `changes` to a live member of the org; a userName taken by another member is
/// `StoreError::Conflict` (in a savepoint, so the caller's transaction stays usable). `renames` says whether
/// the change moves the member's userName (its normalised form): only then can the unique index refuse it.
pub fn update(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &MemberId,
    changes: &MemberChanges<'_>,
    renames: bool,
) -> Result<Member, StoreError> {
    // One statement: the row comes back from the UPDATE itself (MultiConnection has no RETURNING; each
    // backend has), and a userName taken meanwhile leaves the transaction usable (`insert_may_conflict`).
    // An update that keeps the userName cannot conflict, so it saves PostgreSQL's savepoint (two round trips).
    let target = members::table
        .filter(super::tenant_of_key_sql("members", org))
        .filter(members::id.eq(id.as_str()))
        .filter(members::deleted_at.is_null());
    let update = diesel::update(target).set(changes);
    let run = |conn: &mut DbConnection| {
        match conn {
            DbConnection::Postgres(c) => update.returning(Member::as_returning()).get_result(c),
            DbConnection::Sqlite(c) => update.returning(Member::as_returning()).get_result(c),
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

/// SCIM DELETE of a member: hidden from SCIM (`deleted_at`), inactive, its version moved on. The userName is
/// free again (the unique index holds live members only).
pub fn soft_delete(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &MemberId,
    version: i64,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        members::table
            .filter(super::tenant_of_key("members", org))
            .filter(members::id.eq(id.as_str()))
            .filter(members::deleted_at.is_null()),
    )
    .set((
        members::deleted_at.eq(Some(now)),
        members::active.eq(false),
        members::version.eq(version),
        members::updated_at.eq(now),
    ))
    .execute(conn)?)
}
