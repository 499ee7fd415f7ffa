//! SCIM Users over `members`: list, get, create (or link), replace, patch, delete.
//!
//! Uniqueness of `userName` is the database's: a create inserts, and only when the unique index refuses it
//! does it look the existing member up (in the same transaction) to decide between linking a member SCIM does
//! not manage yet (the org owner) and 409 `uniqueness`. Every write goes through [`save`], which routes an
//! `active` change to [`super::lifecycle`], so that every way of deactivating a member is one code path.

use super::audit::{self, MEMBER_CREATED, MEMBER_LINKED, MEMBER_UPDATED};
use super::filter_sql::{self, Resource, Translator};
use super::lifecycle::{self, Deprovision};
use super::paging::{self, Position};
use super::sql::Sql;
use super::{IN_CHUNK, IfMatch, ListSpec, Page, ScimStoreError, WriteCtx, check_if_match};
use crate::connection::{Backend, DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::ids::{MemberId, OrgId};
use crate::models::members::{self, Member, MemberChanges, NewMember, Role};
use crate::schema::{group_members, groups, members as m};
use crate::user_name;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use scimd_scim::patch::{self, PatchOutcome, PatchRequest};
use scimd_scim::resources::user::UserView;
use scimd_scim::schema::USER;
use scimd_scim::{Dialect, ScimError};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A group a user belongs to (the User's readOnly `groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: String,
    pub display: String,
}

/// A User as stored: its row, its parsed document, and its groups (empty when not asked for).
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub row: Member,
    pub doc: Value,
    pub groups: Vec<GroupRef>,
}

/// The org's SCIM view of `members`: tenant predicate first, then live and SCIM-managed.
fn view(org: &OrgId) -> m::BoxedQuery<'static, MultiBackend> {
    m::table
        .filter(m::org_id.eq(org.as_str().to_owned()))
        .filter(m::scim_managed.eq(true))
        .filter(m::deleted_at.is_null())
        .into_boxed()
}

fn ordered(
    q: m::BoxedQuery<'static, MultiBackend>,
    sort: &Option<Sql>,
    descending: bool,
) -> m::BoxedQuery<'static, MultiBackend> {
    match sort {
        // Unassigned values last in either order, then the key, then `seq`: a total order.
        Some(key) => {
            let nulls = key.clone().parens().push(" IS NULL").expr::<Bool>();
            let key = key.clone().expr::<Text>();
            let q = q.order_by(nulls.asc());
            let q = if descending {
                q.then_order_by(key.desc())
            } else {
                q.then_order_by(key.asc())
            };
            q.then_order_by(m::seq.asc())
        }
        None => q.order_by(m::seq.asc()),
    }
}

fn record(row: Member, groups: Vec<GroupRef>) -> Result<UserRecord, StoreError> {
    let doc = serde_json::from_str(&row.document)?;
    Ok(UserRecord { row, doc, groups })
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A list or search: the page, its exact total, and where the next page starts.
pub fn list(
    conn: &mut DbConnection,
    backend: Backend,
    org: &OrgId,
    spec: &ListSpec<'_>,
    with_groups: bool,
) -> Result<Page<UserRecord>, ScimStoreError> {
    let where_sql = spec
        .filter
        .map(|f| Translator::new(backend, Resource::User).filter(f))
        .transpose()?;
    let sort_sql = spec
        .sort
        .map(|a| filter_sql::sort_key(backend, Resource::User, a))
        .transpose()?;
    let filtered = || match &where_sql {
        Some(w) => view(org).filter(w.clone().expr::<Bool>()),
        None => view(org),
    };
    let position = paging::start(&spec.paging, sort_sql.is_some())?;
    let limit = i64_of(spec.count.saturating_add(1));
    let mut rows: Vec<Member> = if spec.count == 0 {
        Vec::new()
    } else {
        match position {
            Position::Offset(0) => ordered(filtered(), &sort_sql, spec.descending)
                .select(Member::as_select())
                .limit(limit)
                .load(conn)?,
            Position::AfterSeq(after) => {
                ordered(filtered().filter(m::seq.gt(after)), &sort_sql, spec.descending)
                    .select(Member::as_select())
                    .limit(limit)
                    .load(conn)?
            }
            // Deep pages: walk the (covering) index for the page's keys, then read just those rows.
            Position::Offset(offset) => {
                let seqs: Vec<i64> = ordered(filtered(), &sort_sql, spec.descending)
                    .select(m::seq)
                    .limit(limit)
                    .offset(i64_of(offset))
                    .load(conn)?;
                let mut rows: Vec<Member> = m::table
                    .filter(m::org_id.eq(org.as_str()))
                    .filter(m::seq.eq_any(&seqs))
                    .select(Member::as_select())
                    .load(conn)?;
                let rank: HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
                rows.sort_by_key(|r| rank.get(&r.seq).copied().unwrap_or(usize::MAX));
                rows
            }
        }
    };
    let (total, next) = paging::finish(
        &mut rows,
        spec.count,
        position,
        sort_sql.is_some(),
        |r: &Member| r.seq,
        || filtered().count().get_result::<i64>(conn),
    )?;
    let mut groups = if with_groups {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        group_refs(conn, org, &ids)?
    } else {
        HashMap::new()
    };
    let items = rows
        .into_iter()
        .map(|r| {
            let g = groups.remove(&r.id).unwrap_or_default();
            record(r, g)
        })
        .collect::<Result<_, _>>()?;
    Ok(Page { total, items, next })
}

/// The groups of each of `ids`, in group creation order.
fn group_refs(
    conn: &mut DbConnection,
    org: &OrgId,
    ids: &[String],
) -> Result<HashMap<String, Vec<GroupRef>>, StoreError> {
    let mut out: HashMap<String, Vec<GroupRef>> = HashMap::new();
    let of_org = || {
        group_members::table
            .inner_join(groups::table.on(groups::id.eq(group_members::group_id)))
            .filter(group_members::org_id.eq(org.as_str()))
            .order(groups::seq.asc())
            .select((group_members::member_id, groups::id, groups::display_name))
    };
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(String, String, String)> = match chunk {
            // One user (a lookup, a GET): `=` keeps the statement in diesel's prepared-statement cache; an
            // `IN (...)` list is compiled again on every call.
            [one] => of_org().filter(group_members::member_id.eq(one)).load(conn)?,
            many => of_org()
                .filter(group_members::member_id.eq_any(many))
                .load(conn)?,
        };
        for (member, id, display) in rows {
            out.entry(member).or_default().push(GroupRef { id, display });
        }
    }
    Ok(out)
}

fn live_row(conn: &mut DbConnection, org: &OrgId, id: &str) -> Result<Member, ScimStoreError> {
    view(org)
        .filter(m::id.eq(id.to_owned()))
        .select(Member::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ScimError::not_found(format!("User {id}")).into())
}

/// Takes the row lock on PostgreSQL before a read-modify-write (SQLite's write transaction already holds
/// the database's write lock).
fn lock(conn: &mut DbConnection, org: &OrgId, id: &str) -> Result<(), StoreError> {
    if matches!(conn, DbConnection::Postgres(_)) {
        diesel::update(m::table.filter(m::org_id.eq(org.as_str())).filter(m::id.eq(id)))
            .set(m::version.eq(m::version))
            .execute(conn)?;
    }
    Ok(())
}

/// One User of the org, with its groups when asked; 404 for an id the org's SCIM view does not hold.
pub fn get(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &str,
    with_groups: bool,
) -> Result<UserRecord, ScimStoreError> {
    let row = live_row(conn, org, id)?;
    let groups = if with_groups {
        group_refs(conn, org, std::slice::from_ref(&row.id))?
            .remove(&row.id)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(record(row, groups)?)
}

/// The columns kept beside the document.
pub(crate) struct UserColumns<'a> {
    user_name: &'a str,
    external_id: Option<&'a str>,
    pub(crate) active: bool,
    display_name: Option<&'a str>,
    given_name: Option<&'a str>,
    family_name: Option<&'a str>,
    email: Option<&'a str>,
}

/// A User created without `active` is active (RFC 7643 leaves the default to the service provider): the
/// created document says so, so that what is served, filtered and stored agree. A later PATCH that removes
/// `active` leaves it unassigned (RFC 7644 §3.5.2.2), which scimd still reads as active.
fn with_default_active(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(o) = doc.as_object_mut()
        && !o.contains_key("active")
    {
        o.insert("active".into(), Value::Bool(true));
    }
    doc
}

pub(crate) fn columns(doc: &Value) -> Result<UserColumns<'_>, ScimError> {
    let v = UserView(doc);
    let user_name = v
        .user_name()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::invalid_value("\"userName\" is required and must not be empty."))?;
    Ok(UserColumns {
        user_name,
        external_id: v.external_id(),
        active: v.active(),
        display_name: v.display_name(),
        given_name: v.given_name(),
        family_name: v.family_name(),
        email: v.primary_email(),
    })
}

pub(crate) fn changes<'a>(
    cols: &UserColumns<'a>,
    document: &'a str,
    version: i64,
    ctx: &WriteCtx,
) -> MemberChanges<'a> {
    MemberChanges {
        user_name: cols.user_name,
        user_name_norm: user_name::normalize(cols.user_name),
        external_id: cols.external_id,
        active: cols.active,
        scim_managed: true,
        display_name: cols.display_name,
        given_name: cols.given_name,
        family_name: cols.family_name,
        email: cols.email,
        document,
        version,
        updated_at: ctx.now,
    }
}

/// Writes `ch` to `before`'s row; a userName another member has is 409 `uniqueness`.
pub(crate) fn update_row(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    before: &Member,
    ch: &MemberChanges<'_>,
) -> Result<Member, ScimStoreError> {
    match members::update(conn, &ctx.org, &MemberId::new(before.id.clone()), ch) {
        Err(StoreError::Conflict(_)) => {
            Err(ScimError::uniqueness("Another User of this organization already has this userName.").into())
        }
        other => Ok(other?),
    }
}

fn dialect_labels(dialects: &[Dialect]) -> Value {
    Value::from(dialects.iter().map(|d| d.label()).collect::<Vec<_>>())
}

/// Saves `after` over `before`: nothing when nothing changed (no version, no event); an `active` change goes
/// through [`lifecycle`]; anything else is `member.updated` (or `member.linked`).
fn save(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    before: &Member,
    before_doc: &Value,
    after: &Value,
    link: bool,
    dialects: &[Dialect],
) -> Result<Member, ScimStoreError> {
    if !link && after == before_doc {
        return Ok(before.clone());
    }
    let text = after.to_string();
    let cols = columns(after)?;
    let ch = changes(&cols, &text, before.version + 1, ctx);
    let mut details = json!({ "changed": audit::changed_attributes(before_doc, after) });
    if !dialects.is_empty()
        && let Some(o) = details.as_object_mut()
    {
        o.insert("dialects".into(), dialect_labels(dialects));
    }
    let row = match (before.active, cols.active) {
        (true, false) => {
            lifecycle::deprovision(conn, ctx, before, Deprovision::Deactivate(&ch), details.clone())?
        }
        (false, true) => lifecycle::reactivate(conn, ctx, before, &ch, details.clone())?,
        _ => {
            let row = update_row(conn, ctx, before, &ch)?;
            let action = if link { MEMBER_LINKED } else { MEMBER_UPDATED };
            audit::record(conn, ctx, action, &before.id, details.clone())?;
            return Ok(row);
        }
    };
    if link {
        audit::record(conn, ctx, MEMBER_LINKED, &before.id, details)?;
    }
    Ok(row)
}

/// What a create did.
#[derive(Debug, Clone)]
pub struct Created {
    pub user: UserRecord,
    /// An existing member that SCIM did not manage yet was linked instead of a new one created.
    pub linked: bool,
}

/// Creates a User from a validated document, or links the org's member with that userName when SCIM does
/// not manage it yet. A userName SCIM already manages is 409 `uniqueness`.
pub fn create(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    doc: &Value,
    dialects: &[Dialect],
) -> Result<Created, ScimStoreError> {
    let doc = &with_default_active(doc);
    let cols = columns(doc)?;
    let text = doc.to_string();
    let id = MemberId::generate();
    let inserted = members::insert(
        conn,
        &NewMember {
            id: id.as_str(),
            org_id: ctx.org.as_str(),
            user_name: cols.user_name,
            user_name_norm: user_name::normalize(cols.user_name),
            external_id: cols.external_id,
            role: Role::Member.as_str(),
            active: cols.active,
            scim_managed: true,
            display_name: cols.display_name,
            given_name: cols.given_name,
            family_name: cols.family_name,
            email: cols.email,
            document: &text,
            version: 1,
            created_at: ctx.now,
            updated_at: ctx.now,
        },
    );
    match inserted {
        Ok(row) => {
            let mut details = json!({ "userName": cols.user_name, "active": cols.active });
            if !dialects.is_empty()
                && let Some(o) = details.as_object_mut()
            {
                o.insert("dialects".into(), dialect_labels(dialects));
            }
            audit::record(conn, ctx, MEMBER_CREATED, &row.id, details)?;
            Ok(Created {
                user: record(row, Vec::new())?,
                linked: false,
            })
        }
        Err(StoreError::Conflict(_)) => {
            let existing = members::find_by_user_name(conn, &ctx.org, cols.user_name)?;
            match existing {
                Some(before) if !before.scim_managed => {
                    let before_doc: Value = serde_json::from_str(&before.document)?;
                    let row = save(conn, ctx, &before, &before_doc, doc, true, dialects)?;
                    let groups = group_refs(conn, &ctx.org, std::slice::from_ref(&row.id))?
                        .remove(&row.id)
                        .unwrap_or_default();
                    Ok(Created {
                        user: record(row, groups)?,
                        linked: true,
                    })
                }
                _ => Err(ScimError::uniqueness(
                    "A User with this userName already exists in this organization.",
                )
                .into()),
            }
        }
        Err(other) => Err(other.into()),
    }
}

/// PUT: replaces the document (validated) of a User.
pub fn replace(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    id: &str,
    if_match: Option<IfMatch>,
    doc: &Value,
    dialects: &[Dialect],
) -> Result<UserRecord, ScimStoreError> {
    lock(conn, &ctx.org, id)?;
    let before = live_row(conn, &ctx.org, id)?;
    check_if_match(if_match, before.version)?;
    let before_doc: Value = serde_json::from_str(&before.document)?;
    let row = save(conn, ctx, &before, &before_doc, doc, false, dialects)?;
    get_groups_for(conn, &ctx.org, row)
}

fn get_groups_for(conn: &mut DbConnection, org: &OrgId, row: Member) -> Result<UserRecord, ScimStoreError> {
    let groups = group_refs(conn, org, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(record(row, groups)?)
}

/// PATCH: applies the operations to the stored document, all or nothing.
pub fn patch(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    id: &str,
    if_match: Option<IfMatch>,
    req: &PatchRequest,
) -> Result<(UserRecord, PatchOutcome), ScimStoreError> {
    lock(conn, &ctx.org, id)?;
    let before = live_row(conn, &ctx.org, id)?;
    check_if_match(if_match, before.version)?;
    let before_doc: Value = serde_json::from_str(&before.document)?;
    let mut doc = before_doc.clone();
    // The engine sees `id` so that a path-less value echoing it (Okta) is recognised as unchanged.
    if let Some(o) = doc.as_object_mut() {
        o.insert("id".into(), Value::String(before.id.clone()));
    }
    let outcome = patch::apply(&mut doc, req, &USER)?;
    if let Some(o) = doc.as_object_mut() {
        o.remove("id");
    }
    let row = if outcome.changed {
        save(conn, ctx, &before, &before_doc, &doc, false, &outcome.dialects)?
    } else {
        before
    };
    Ok((get_groups_for(conn, &ctx.org, row)?, outcome))
}

/// DELETE: hides the User from SCIM through the one deprovisioning path.
pub fn delete(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    id: &str,
    if_match: Option<IfMatch>,
) -> Result<(), ScimStoreError> {
    lock(conn, &ctx.org, id)?;
    let before = live_row(conn, &ctx.org, id)?;
    check_if_match(if_match, before.version)?;
    lifecycle::deprovision(conn, ctx, &before, Deprovision::Delete, json!({}))?;
    Ok(())
}

/// The ids among `ids` that are not Users of the org's SCIM view (for group membership checks).
///
/// The rows are found by their unique `id`. The tenant predicate is written `org_id || ''` so that no planner
/// prefers the org's paging index for it: without statistics SQLite otherwise walks all of the org's members
/// for a long `IN` list (measured: 73 ms for 100 ids in an org of 100,000, 0.3 ms this way).
pub fn unknown_ids(conn: &mut DbConnection, org: &OrgId, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut unknown = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let tenant = Sql::text("(members.org_id || '') = ").bind_text(org.as_str());
        let found: Vec<String> = m::table
            .filter(tenant.expr::<Bool>())
            .filter(m::id.eq_any(chunk.to_vec()))
            .filter(m::scim_managed.eq(true))
            .filter(m::deleted_at.is_null())
            .select(m::id)
            .load(conn)?;
        let found: std::collections::HashSet<String> = found.into_iter().collect();
        unknown.extend(chunk.iter().filter(|id| !found.contains(*id)).cloned());
    }
    Ok(unknown)
}
