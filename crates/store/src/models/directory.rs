//! `directory`: the platform API's reads of an org's directory (`/api/v1/orgs/{org}/users`, `/groups`,
//! `/groups/{id}/members`), in keyset pages: each page is found through an index and costs the page, however
//! large the org or the group. Users and groups are read in `seq` order; a group's members in member-id order
//! (the `group_members` primary key), so that a group of 100,000 members streams page by page.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::{GroupId, OrgId};
use crate::models::groups::Group;
use crate::models::members::Member;
use crate::schema::{group_members, groups, members};
use diesel::prelude::*;

/// What a list of users may be narrowed to (all given ones hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub active: Option<bool>,
    /// Matched as SCIM matches userName: case- and width-insensitively.
    pub user_name: Option<String>,
    pub external_id: Option<String>,
}

/// What a list of groups may be narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFilter {
    /// Case-insensitively, as SCIM matches displayName.
    pub display_name: Option<String>,
    pub external_id: Option<String>,
}

/// Up to `limit` live members of `org` after `after_seq` (0 for the first page), in `seq` order.
pub fn users(
    conn: &mut DbConnection,
    org: &OrgId,
    filter: &UserFilter,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Member>, StoreError> {
    let mut q = members::table
        .filter(members::deleted_at.is_null())
        .select(Member::as_select())
        .order(members::seq.asc())
        .limit(limit)
        .into_boxed();
    // A unique key's lookup is found through its own index (`tenant_of_key`); a scan of the org through
    // `(org_id, seq)`.
    q = match (&filter.user_name, &filter.external_id) {
        (Some(name), _) => q
            .filter(super::tenant_of_key("members", org))
            .filter(members::user_name_norm.eq(crate::user_name::normalize(name))),
        (None, Some(external_id)) => q
            .filter(super::tenant_of_key("members", org))
            .filter(members::external_id.eq(external_id.clone())),
        (None, None) => q.filter(members::org_id.eq(org.as_str())),
    };
    if let (Some(_), Some(external_id)) = (&filter.user_name, &filter.external_id) {
        q = q.filter(members::external_id.eq(external_id.clone()));
    }
    if let Some(active) = filter.active {
        q = q.filter(members::active.eq(active));
    }
    if after_seq > 0 {
        q = q.filter(members::seq.gt(after_seq));
    }
    Ok(q.load(conn)?)
}

/// Up to `limit` live members of `group` (of `org`) whose id sorts after `after_id` ("" for the first page),
/// in member-id order, narrowed by `filter`; read along the group's primary key.
pub fn group_members(
    conn: &mut DbConnection,
    org: &OrgId,
    group: &GroupId,
    filter: &UserFilter,
    after_id: &str,
    limit: i64,
) -> Result<Vec<Member>, StoreError> {
    let mut q = group_members::table
        .inner_join(members::table.on(members::id.eq(group_members::member_id)))
        .filter(group_members::group_id.eq(group.as_str()))
        .filter(group_members::org_id.eq(org.as_str()))
        .filter(group_members::member_id.gt(after_id.to_owned()))
        .filter(members::deleted_at.is_null())
        .select(Member::as_select())
        .order(group_members::member_id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(active) = filter.active {
        q = q.filter(members::active.eq(active));
    }
    if let Some(name) = &filter.user_name {
        q = q.filter(members::user_name_norm.eq(crate::user_name::normalize(name)));
    }
    if let Some(external_id) = &filter.external_id {
        q = q.filter(members::external_id.eq(external_id.clone()));
    }
    Ok(q.load(conn)?)
}

/// Up to `limit` groups of `org` after `after_seq`, in `seq` order.
pub fn groups(
    conn: &mut DbConnection,
    org: &OrgId,
    filter: &GroupFilter,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Group>, StoreError> {
    let mut q = groups::table
        .select(Group::as_select())
        .order(groups::seq.asc())
        .limit(limit)
        .into_boxed();
    q = match (&filter.display_name, &filter.external_id) {
        (Some(name), _) => q
            .filter(super::tenant_of_key("groups", org))
            .filter(groups::display_name_norm.eq(crate::user_name::normalize(name))),
        (None, Some(external_id)) => q
            .filter(super::tenant_of_key("groups", org))
            .filter(groups::external_id.eq(external_id.clone())),
        (None, None) => q.filter(groups::org_id.eq(org.as_str())),
    };
    if let (Some(_), Some(external_id)) = (&filter.display_name, &filter.external_id) {
        q = q.filter(groups::external_id.eq(external_id.clone()));
    }
    if after_seq > 0 {
        q = q.filter(groups::seq.gt(after_seq));
    }
    Ok(q.load(conn)?)
}

/// One group of `org`.
pub fn group(conn: &mut DbConnection, org: &OrgId, id: &GroupId) -> Result<Option<Group>, StoreError> {
    Ok(groups::table
        .filter(super::tenant_of_key("groups", org))
        .filter(groups::id.eq(id.as_str()))
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}
