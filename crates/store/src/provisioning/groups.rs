//! SCIM Groups over `groups` and `group_members`: list, get, create, replace, patch, delete.
//!
//! Membership is rows, changed by delta: a PATCH inserts the added rows that are not there yet and deletes
//! the removed ones, so adding one member to a group of 100,000 costs what it costs for a group of 10.
//! Every added id must be a User of the org's SCIM view, checked before anything is written; otherwise the
//! whole request is refused. Reads skip the member rows unless the response includes `members`.

use super::audit::{self, GROUP_CREATED, GROUP_DELETED, GROUP_UPDATED};
use super::feed;
use super::filter_sql::{self, Translator};
use super::paging::{self, ListSource, table_reads};
use super::{IN_CHUNK, IfMatch, ListSpec, Page, ScimStoreError, WriteCtx, check_if_match, roles, users};
use crate::connection::{Backend, DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::ids::{GroupId, OrgId};
use crate::models;
use crate::models::events::types;
use crate::models::groups::{self, Group, GroupChanges, NewGroup};
use crate::models::org_tallies::{self, Tally};
use crate::schema::{group_members, groups as g, members};
use crate::sql::{Raw, Sql};
use crate::user_name;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use scimd_scim::patch::{self, MembersDelta, PatchOutcome, PatchRequest};
use scimd_scim::resources::group::GroupView;
use scimd_scim::schema::ResourceKind;
use scimd_scim::{Dialect, ScimError};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// A member of a group as its `members` entry shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub id: String,
    /// The member's displayName, else its userName.
    pub display: String,
}

/// A Group as stored: its row, its parsed document, and its members when they were read.
#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub row: Group,
    pub doc: Value,
    pub members: Option<Vec<MemberRef>>,
}

/// `by_key`: the rows are looked up by a unique key, and the tenant predicate is `models::tenant_of_key`'s.
fn view(org: &OrgId, by_key: bool) -> g::BoxedQuery<'static, MultiBackend> {
    let q = g::table.into_boxed();
    if by_key {
        q.filter(models::tenant_of_key("groups", org))
    } else {
        q.filter(g::org_id.eq(org.as_str().to_owned()))
    }
}

fn group_record(row: Group, members: Option<Vec<MemberRef>>) -> Result<GroupRecord, StoreError> {
    let doc = serde_json::from_str(&row.document)?;
    Ok(GroupRecord { row, doc, members })
}

/// The members of each of `ids`, in the order they were added.
fn members_of(
    conn: &mut DbConnection,
    org: &OrgId,
    ids: &[String],
) -> Result<HashMap<String, Vec<MemberRef>>, StoreError> {
    let mut out: HashMap<String, Vec<MemberRef>> = ids.iter().map(|id| (id.clone(), Vec::new())).collect();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(String, String, Option<String>, String)> = group_members::table
            .inner_join(members::table.on(members::id.eq(group_members::member_id)))
            .filter(group_members::org_id.eq(org.as_str()))
            .filter(group_members::group_id.eq_any(chunk))
            // A deleted member's memberships are removed with it; one left by an older race is not shown.
            .filter(members::deleted_at.is_null())
            .order((group_members::created_at.asc(), members::seq.asc()))
            .select((
                group_members::group_id,
                members::id,
                members::display_name,
                members::user_name,
            ))
            .load(conn)?;
        for (group, id, display, user_name) in rows {
            out.entry(group).or_default().push(MemberRef {
                id,
                display: display.unwrap_or(user_name),
            });
        }
    }
    Ok(out)
}

/// The org's Groups as a list: its filter and sort translated to SQL.
struct GroupList<'a> {
    org: &'a OrgId,
    filter: Option<Sql>,
    /// The filter pins its rows by a key (see `filter_sql::pins_by_key`).
    by_key: bool,
    sort: Option<Sql>,
    descending: bool,
}

impl GroupList<'_> {
    fn filtered(&self) -> g::BoxedQuery<'static, MultiBackend> {
        match &self.filter {
            Some(w) => view(self.org, self.by_key).filter(w.clone().expr::<Bool>()),
            None => view(self.org, self.by_key),
        }
    }

    /// The lists' order: `seq`, as the index `groups_org_seq` holds it.
    fn page_key(&self) -> Raw<BigInt> {
        Sql::text("groups.seq").expr()
    }
}

impl ListSource for GroupList<'_> {
    type Row = Group;

    table_reads!(g, Group);

    fn total(&self, conn: &mut DbConnection) -> Result<u64, StoreError> {
        let n = match &self.filter {
            None => org_tallies::totals(conn, self.org)?.groups,
            Some(_) => self.filtered().count().get_result(conn)?,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// A list or search of the org's Groups.
pub fn list(
    conn: &mut DbConnection,
    backend: Backend,
    org: &OrgId,
    spec: &ListSpec<'_>,
    with_members: bool,
) -> Result<Page<GroupRecord>, ScimStoreError> {
    let source = GroupList {
        org,
        by_key: spec
            .filter
            .is_some_and(|f| filter_sql::pins_by_key(ResourceKind::Group, f)),
        filter: spec
            .filter
            .map(|f| Translator::new(backend, ResourceKind::Group).filter(f))
            .transpose()?,
        sort: spec
            .sort
            .map(|a| filter_sql::sort_key(backend, ResourceKind::Group, a))
            .transpose()?,
        descending: spec.descending,
    };
    let page = paging::page(conn, &source, spec)?;
    let mut members = if with_members {
        let ids: Vec<String> = page.items.iter().map(|r| r.id.clone()).collect();
        Some(members_of(conn, org, &ids)?)
    } else {
        None
    };
    let items = page
        .items
        .into_iter()
        .map(|r| {
            let m = members.as_mut().map(|all| all.remove(&r.id).unwrap_or_default());
            group_record(r, m)
        })
        .collect::<Result<_, _>>()?;
    Ok(Page {
        total: page.total,
        items,
        next: page.next,
    })
}

fn live_row(conn: &mut DbConnection, org: &OrgId, id: &str) -> Result<Group, ScimStoreError> {
    view(org, true)
        .filter(g::id.eq(id.to_owned()))
        .select(Group::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ScimError::not_found(format!("Group {id}")).into())
}

/// The live row of `id`, locked for the read-modify-write that follows. On PostgreSQL one `SELECT ... FOR
/// UPDATE` instead of a lock and then a read: after waiting for a concurrent writer it returns the row as that
/// writer committed it, or nothing when the row no longer qualifies (404). SQLite's write transaction already
/// holds the database's write lock.
fn locked_live_row(conn: &mut DbConnection, org: &OrgId, id: &str) -> Result<Group, ScimStoreError> {
    let DbConnection::Postgres(pg) = conn else {
        return live_row(conn, org, id);
    };
    g::table
        .filter(models::tenant_of_key_sql("groups", org))
        .filter(g::id.eq(id))
        .select(Group::as_select())
        .for_update()
        .first(pg)
        .optional()?
        .ok_or_else(|| ScimError::not_found(format!("Group {id}")).into())
}

/// One Group; its member rows are read only when `with_members`.
pub fn get(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &str,
    with_members: bool,
) -> Result<GroupRecord, ScimStoreError> {
    let row = live_row(conn, org, id)?;
    with_member_rows(conn, org, row, with_members)
}

fn with_member_rows(
    conn: &mut DbConnection,
    org: &OrgId,
    row: Group,
    with_members: bool,
) -> Result<GroupRecord, ScimStoreError> {
    let members = if with_members {
        Some(
            members_of(conn, org, std::slice::from_ref(&row.id))?
                .remove(&row.id)
                .unwrap_or_default(),
        )
    } else {
        None
    };
    Ok(group_record(row, members)?)
}

fn display_name(doc: &Value) -> Result<&str, ScimError> {
    GroupView(doc)
        .display_name()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::invalid_value("\"displayName\" is required and must not be empty."))
        .and_then(|name| user_name::key_within_limit("displayName", name).map(|_| name))
}

fn taken() -> ScimError {
    ScimError::uniqueness("A Group with this displayName already exists in this organization.")
}

/// Refuses ids that are not Users of the org (before anything is written).
fn check_members(conn: &mut DbConnection, org: &OrgId, ids: &[String]) -> Result<(), ScimStoreError> {
    let unknown = users::unknown_ids(conn, org, ids)?;
    if unknown.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = unknown.iter().take(5).map(String::as_str).collect();
    Err(ScimError::invalid_value(format!(
        "{} member(s) are not Users of this organization: {}{}. Nothing was changed.",
        unknown.len(),
        shown.join(", "),
        if unknown.len() > shown.len() { ", ..." } else { "" }
    ))
    .into())
}

/// Applies a membership delta to the rows; returns the member ids actually added and removed, and the roles
/// that moved with them (their events are written with the group's, [`update_events`]).
fn apply_delta(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    group: &GroupId,
    delta: &MembersDelta,
) -> Result<feed::MembersMoved, StoreError> {
    let mut removed = if delta.clear_all {
        groups::clear_members(conn, group)?
    } else {
        Vec::new()
    };
    removed.extend(groups::remove_members(conn, group, &delta.removed)?);
    let added = groups::add_members(conn, &ctx.org, group, &delta.added, ctx.now)?;
    let roles = roles::on_membership(conn, ctx, group, &added, &removed)?;
    Ok(feed::MembersMoved {
        added,
        removed,
        roles,
    })
}

fn details(changed: &[String], added: usize, removed: usize, dialects: &[Dialect]) -> Value {
    audit::with_dialects(
        json!({ "changed": changed, "members_added": added, "members_removed": removed }),
        dialects,
    )
}

/// The feed events of an update, in one statement: `group.updated` (with the `method`) when the document
/// changed, `group.membership_changed` when members did, `user.roles_changed` when roles moved with them.
fn update_events(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    row: &Group,
    method: feed::Method,
    changed: &[String],
    members: &feed::MembersMoved,
) -> Result<(), StoreError> {
    let document = (!changed.is_empty()).then_some(method);
    feed::group_update(conn, ctx, row, document, members)
}

/// Creates a Group from a validated document and its member ids.
pub fn create(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    doc: &Value,
    member_ids: &[String],
    dialects: &[Dialect],
) -> Result<GroupRecord, ScimStoreError> {
    let name = display_name(doc)?;
    let id = GroupId::generate();
    models::lock_joining_members(conn, &ctx.org, id.as_str(), member_ids)?;
    check_members(conn, &ctx.org, member_ids)?;
    let text = doc.to_string();
    let inserted = groups::insert(
        conn,
        &NewGroup {
            id: id.as_str(),
            org_id: ctx.org.as_str(),
            display_name: name,
            display_name_norm: user_name::normalize(name),
            external_id: GroupView(doc).external_id(),
            document: &text,
            version: 1,
            created_at: ctx.now,
            updated_at: ctx.now,
        },
    );
    let row = match inserted {
        Err(StoreError::Conflict(_)) => return Err(taken().into()),
        other => other?,
    };
    let added = groups::add_members(conn, &ctx.org, &row.group_id(), member_ids, ctx.now)?;
    // A new group has no mapping yet: nothing to grant.
    let mut d = details(&[], added.len(), 0, dialects);
    if let Some(o) = d.as_object_mut() {
        o.insert("displayName".into(), Value::from(name));
    }
    audit::record(conn, ctx, GROUP_CREATED, &row.id, d)?;
    feed::group_changed(conn, ctx, types::GROUP_CREATED, &row)?;
    feed::membership(conn, ctx, &row, &added, &[])?;
    org_tallies::add(conn, &ctx.org, Tally::groups(1))?;
    Ok(group_record(row, None)?)
}

fn write_row(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    before: &Group,
    doc: &Value,
) -> Result<Group, ScimStoreError> {
    let name = display_name(doc)?;
    let text = doc.to_string();
    let changes = GroupChanges {
        display_name: name,
        display_name_norm: user_name::normalize(name),
        external_id: GroupView(doc).external_id(),
        document: &text,
        version: before.version + 1,
        updated_at: ctx.now,
    };
    let renames = changes.display_name_norm != before.display_name_norm;
    match groups::update(
        conn,
        &ctx.org,
        &GroupId::new(before.id.clone()),
        &changes,
        renames,
    ) {
        Err(StoreError::Conflict(_)) => Err(taken().into()),
        other => Ok(other?),
    }
}

/// PUT: replaces the document and sets the membership to `member_ids` (by delta against the rows).
pub fn replace(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    id: &str,
    if_match: Option<IfMatch>,
    doc: &Value,
    member_ids: &[String],
    dialects: &[Dialect],
) -> Result<GroupRecord, ScimStoreError> {
    let before = locked_live_row(conn, &ctx.org, id)?;
    check_if_match(if_match, before.version)?;
    models::lock_joining_members(conn, &ctx.org, id, member_ids)?;
    check_members(conn, &ctx.org, member_ids)?;
    let current = groups::member_ids(conn, &before.group_id())?;
    let wanted: HashSet<&String> = member_ids.iter().collect();
    let delta = MembersDelta {
        added: member_ids
            .iter()
            .filter(|m| !current.contains(*m))
            .cloned()
            .collect(),
        removed: current.iter().filter(|m| !wanted.contains(m)).cloned().collect(),
        clear_all: false,
    };
    let before_doc: Value = serde_json::from_str(&before.document)?;
    if before_doc == *doc && delta.is_empty() {
        return Ok(group_record(before, None)?);
    }
    let row = write_row(conn, ctx, &before, doc)?;
    let moved = apply_delta(conn, ctx, &before.group_id(), &delta)?;
    let changed = audit::changed_attributes(&before_doc, doc);
    audit::record(
        conn,
        ctx,
        GROUP_UPDATED,
        &before.id,
        details(&changed, moved.added.len(), moved.removed.len(), dialects),
    )?;
    update_events(conn, ctx, &row, feed::Method::Put, &changed, &moved)?;
    Ok(group_record(row, None)?)
}

/// PATCH: applies the operations to the document and the membership delta to the rows, all or nothing.
/// `max_members` bounds the ids one request may add or remove. The record has no members (the caller reads
/// them only if the response shows them).
pub fn patch(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    id: &str,
    if_match: Option<IfMatch>,
    req: &PatchRequest,
    max_members: usize,
) -> Result<(GroupRecord, PatchOutcome), ScimStoreError> {
    let before = locked_live_row(conn, &ctx.org, id)?;
    check_if_match(if_match, before.version)?;
    let before_doc: Value = serde_json::from_str(&before.document)?;
    let mut doc = before_doc.clone();
    let outcome = patch::apply_to_stored(&mut doc, &before.id, req, ResourceKind::Group)?;
    if let Some(delta) = &outcome.members {
        delta.check_limit(max_members)?;
        models::lock_joining_members(conn, &ctx.org, id, &delta.added)?;
        check_members(conn, &ctx.org, &delta.added)?;
    }
    if !outcome.changed {
        return Ok((group_record(before, None)?, outcome));
    }
    let row = write_row(conn, ctx, &before, &doc)?;
    let moved = match &outcome.members {
        Some(delta) => apply_delta(conn, ctx, &before.group_id(), delta)?,
        None => feed::MembersMoved::default(),
    };
    let changed = audit::changed_attributes(&before_doc, &doc);
    audit::record(
        conn,
        ctx,
        GROUP_UPDATED,
        &before.id,
        details(
            &changed,
            moved.added.len(),
            moved.removed.len(),
            &outcome.dialects,
        ),
    )?;
    update_events(conn, ctx, &row, feed::Method::Patch, &changed, &moved)?;
    Ok((group_record(row, None)?, outcome))
}

/// Reads the members of a record written by [`patch()`] or [`replace`], for a response that shows them.
pub fn load_members(
    conn: &mut DbConnection,
    org: &OrgId,
    rec: GroupRecord,
) -> Result<GroupRecord, ScimStoreError> {
    with_member_rows(conn, org, rec.row, true)
}

/// DELETE: the group and its membership rows.
pub fn delete(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    id: &str,
    if_match: Option<IfMatch>,
) -> Result<(), ScimStoreError> {
    let before = locked_live_row(conn, &ctx.org, id)?;
    check_if_match(if_match, before.version)?;
    let removed = groups::clear_members(conn, &before.group_id())?;
    roles::on_group_deleted(conn, ctx, &before.group_id(), &removed)?;
    groups::delete(conn, &ctx.org, &before.group_id())?;
    org_tallies::add(conn, &ctx.org, Tally::groups(-1))?;
    audit::record(
        conn,
        ctx,
        GROUP_DELETED,
        &before.id,
        json!({ "displayName": before.display_name, "members_removed": removed.len() }),
    )?;
    feed::group_changed(conn, ctx, types::GROUP_DELETED, &before)?;
    Ok(())
}
