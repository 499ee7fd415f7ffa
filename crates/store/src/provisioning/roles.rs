//! Roles from the directory (issue #26): the catalog, group -> role mappings, and each member's grants.
//!
//! A member's effective roles are scimd's own role (the highest of its `members.role` and an `admin` granted
//! by a mapping) followed by the platform's roles it was granted, sorted. Grants are rows of `member_roles`,
//! one per source (a group, or the SCIM `roles` attribute), and every change that moves them rewrites only
//! the rows of the members it moves, in its own transaction, with one `user.roles_changed` event per member
//! whose effective roles changed (a group's update writes those with its own events): a membership change
//! ([`on_membership`]), a mapping change ([`map`], [`unmap`]), a group's deletion, a `roles` write
//! ([`set_attribute_roles`]).
//!
//! Nothing grants `owner`: a mapping to it is refused, an IdP value of it ignored, and a member's own
//! `members.role` is never rewritten here, so an owner stays one whatever its groups. Mapping to `admin` is
//! for owners only.

use super::{IN_CHUNK, WriteCtx, audit};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::{GroupId, MemberId, OrgId};
use crate::models::events::{self, types};
use crate::models::members::Role;
use crate::schema::{
    group_members, groups, member_roles, members, role_jobs, role_mappings, role_settings, roles,
};
use crate::sql::{Piece, Statement};
use crate::store::UnitError;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";
pub const MEMBER: &str = "member";
/// scimd's own roles: in every catalog, never rows of `roles`.
pub const BUILT_IN: [&str; 3] = [OWNER, ADMIN, MEMBER];
/// The `org_id` of the deployment's catalog rows (every org's).
pub const DEPLOYMENT: &str = "";
pub const MAX_NAME: usize = 64;
/// The most platform roles one catalog (an org's, or the deployment's) holds.
pub const MAX_CATALOG: i64 = 200;
/// The most mappings one group has.
pub const MAX_MAPPINGS_PER_GROUP: i64 = 50;
/// An unmap that takes `admin` from more than this share of the org's admins needs a confirmation.
pub const ADMIN_SHARE_PERCENT: u64 = 20;

pub const SOURCE_GROUP: &str = "group";
pub const SOURCE_ATTRIBUTE: &str = "attribute";

pub const ROLE_CREATED: &str = "role.created";
pub const ROLE_MAPPED: &str = "role.mapped";
pub const ROLE_UNMAPPED: &str = "role.unmapped";
pub const ROLE_SETTINGS_CHANGED: &str = "role.settings_changed";

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("A role name is 1 to {MAX_NAME} characters of a-z, 0-9, '.', '_', ':' and '-'.")]
    InvalidName,
    #[error("\"{0}\" is one of scimd's own roles.")]
    BuiltIn(String),
    #[error("The role \"{0}\" already exists.")]
    Exists(String),
    #[error("The catalog holds at most {MAX_CATALOG} roles.")]
    CatalogFull,
    #[error("There is no role \"{0}\" in this organization's catalog.")]
    UnknownRole(String),
    #[error("There is no group \"{0}\" in this organization.")]
    UnknownGroup(String),
    #[error("The group \"{group}\" is not mapped to \"{role}\".")]
    NotMapped { group: String, role: String },
    #[error("A group has at most {MAX_MAPPINGS_PER_GROUP} mappings.")]
    TooManyMappings,
    #[error("Nothing grants \"owner\".")]
    OwnerNeverGranted,
    #[error("Only an owner may map a group to \"admin\".")]
    AdminNeedsOwner,
    #[error(
        "This change takes \"admin\" from {losing} of the organization's {admins} admins \
         (more than {ADMIN_SHARE_PERCENT}%); confirm it to save."
    )]
    NeedsConfirmation { losing: u64, admins: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for RoleError {}

impl From<diesel::result::Error> for RoleError {
    fn from(e: diesel::result::Error) -> Self {
        RoleError::Store(e.into())
    }
}

/// Who changes a mapping: the audit actor and the role it acts with (the CLI's operator acts as an owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acting(pub Role);

/// scimd's own role and the platform roles a member was granted, as the platform reads them.
pub fn compose<'a>(base: &str, granted: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut rank = Role::parse(base);
    let mut platform = BTreeSet::new();
    for role in granted {
        match role {
            ADMIN if rank == Role::Member => rank = Role::Admin,
            // Never from a grant (refused on the way in); a member's own `owner` is its base.
            OWNER | ADMIN | MEMBER => {}
            other => {
                platform.insert(other.to_owned());
            }
        }
    }
    let mut out = vec![rank.as_str().to_owned()];
    out.extend(platform);
    out
}

/// A valid platform role name.
pub fn check_name(name: &str) -> Result<(), RoleError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._:-".contains(&b));
    if !ok {
        return Err(RoleError::InvalidName);
    }
    if BUILT_IN.contains(&name) {
        return Err(RoleError::BuiltIn(name.to_owned()));
    }
    Ok(())
}

/// Adds a platform role to `org`'s catalog (or the deployment's, with `org` None), audited for an org.
pub fn create_role(
    conn: &mut DbConnection,
    org: Option<&OrgId>,
    actor: &str,
    name: &str,
    now: NaiveDateTime,
) -> Result<(), RoleError> {
    check_name(name)?;
    let scope = org.map_or(DEPLOYMENT, OrgId::as_str);
    let held: i64 = roles::table
        .filter(roles::org_id.eq(scope))
        .count()
        .get_result(conn)?;
    if held >= MAX_CATALOG {
        return Err(RoleError::CatalogFull);
    }
    if in_catalog(conn, org, name)? {
        return Err(RoleError::Exists(name.to_owned()));
    }
    diesel::insert_into(roles::table)
        .values((
            roles::org_id.eq(scope),
            roles::name.eq(name),
            roles::created_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(org) = org {
        crate::models::audit_events::append_for_org(
            conn,
            org,
            actor,
            ROLE_CREATED,
            json!({ "role": name }),
            now,
        )?;
    }
    Ok(())
}

/// Whether `name` is in the catalog `org` sees (scimd's own, the org's, the deployment's).
pub fn in_catalog(conn: &mut DbConnection, org: Option<&OrgId>, name: &str) -> Result<bool, StoreError> {
    if BUILT_IN.contains(&name) {
        return Ok(true);
    }
    let scopes: Vec<&str> = match org {
        Some(o) => vec![o.as_str(), DEPLOYMENT],
        None => vec![DEPLOYMENT],
    };
    let n: i64 = roles::table
        .filter(roles::org_id.eq_any(scopes))
        .filter(roles::name.eq(name))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A group a mapping names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRef {
    pub id: String,
    pub display_name: String,
}

/// A role of the catalog, with the groups mapped to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogRole {
    pub name: String,
    /// `built_in`, `org` or `deployment`.
    pub scope: &'static str,
    pub groups: Vec<GroupRef>,
}

/// The catalog `org` sees, scimd's own roles first, each with its mappings in the org.
pub fn catalog(conn: &mut DbConnection, org: &OrgId) -> Result<Vec<CatalogRole>, StoreError> {
    let rows: Vec<(String, String)> = roles::table
        .filter(roles::org_id.eq_any([org.as_str(), DEPLOYMENT]))
        .select((roles::org_id, roles::name))
        .order(roles::name.asc())
        .limit(2 * MAX_CATALOG)
        .load(conn)?;
    let mapped: Vec<(String, String, String)> = role_mappings::table
        .inner_join(groups::table.on(groups::id.eq(role_mappings::group_id)))
        .filter(role_mappings::org_id.eq(org.as_str()))
        .select((role_mappings::role, groups::id, groups::display_name))
        .order((role_mappings::role.asc(), groups::display_name.asc()))
        .load(conn)?;
    let mut by_role: HashMap<String, Vec<GroupRef>> = HashMap::new();
    for (role, id, display_name) in mapped {
        by_role
            .entry(role)
            .or_default()
            .push(GroupRef { id, display_name });
    }
    let mut out: Vec<CatalogRole> = BUILT_IN
        .iter()
        .map(|name| CatalogRole {
            name: (*name).to_owned(),
            scope: "built_in",
            groups: by_role.remove(*name).unwrap_or_default(),
        })
        .collect();
    let mut seen = HashSet::new();
    for (scope, name) in rows {
        if !seen.insert(name.clone()) {
            continue;
        }
        out.push(CatalogRole {
            groups: by_role.remove(&name).unwrap_or_default(),
            scope: if scope == DEPLOYMENT { "deployment" } else { "org" },
            name,
        });
    }
    Ok(out)
}

/// The group `key` names in `org`: its id, else its displayName (unique in an org, in any case).
pub fn resolve_group(conn: &mut DbConnection, org: &OrgId, key: &str) -> Result<GroupRef, RoleError> {
    let by_id: Option<(String, String)> = groups::table
        .filter(crate::models::tenant_of_key("groups", org))
        .filter(groups::id.eq(key))
        .select((groups::id, groups::display_name))
        .first(conn)
        .optional()?;
    let found = match by_id {
        Some(row) => Some(row),
        None => groups::table
            .filter(crate::models::tenant_of_key("groups", org))
            .filter(groups::display_name_norm.eq(crate::user_name::normalize(key)))
            .select((groups::id, groups::display_name))
            .first(conn)
            .optional()?,
    };
    found
        .map(|(id, display_name)| GroupRef { id, display_name })
        .ok_or_else(|| RoleError::UnknownGroup(key.to_owned()))
}

/// The roles a group is mapped to.
pub fn mapped_roles(conn: &mut DbConnection, group: &str) -> Result<Vec<String>, StoreError> {
    Ok(role_mappings::table
        .filter(role_mappings::group_id.eq(group))
        .select(role_mappings::role)
        .order(role_mappings::role.asc())
        .load(conn)?)
}

/// The roles granted to one member (by any source), along the grants' primary key.
pub fn granted_roles(conn: &mut DbConnection, org: &OrgId, member: &str) -> Result<Vec<String>, StoreError> {
    Ok(member_roles::table
        .filter(member_roles::member_id.eq(member))
        .filter(crate::models::tenant_of_key("member_roles", org))
        .select(member_roles::role)
        .load(conn)?)
}

/// The grants (role, source kind, source id) of the live members among `ids`, and their base roles.
#[derive(Debug, Clone, Default)]
struct Grants {
    base: HashMap<String, String>,
    granted: HashMap<String, Vec<(String, String, String)>>,
}

/// One row of a member's grants read: its base role and one grant, or none (a member without grants).
#[derive(QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    base: String,
    #[diesel(sql_type = Nullable<Text>)]
    role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    source_kind: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    source_id: Option<String>,
}

impl Grants {
    fn extend(&mut self, rows: impl IntoIterator<Item = GrantRow>) {
        for row in rows {
            self.base.entry(row.id.clone()).or_insert(row.base);
            if let (Some(role), Some(kind), Some(source)) = (row.role, row.source_kind, row.source_id) {
                self.granted.entry(row.id).or_default().push((role, kind, source));
            }
        }
    }
}

/// Which members [`grants_read`] reads: each form is one bind, so that the text is one statement, kept
/// prepared.
#[derive(Debug, Clone, Copy)]
pub enum Ids<'a> {
    /// One member: PostgreSQL makes a generic plan of it, planned once per connection (an array stays a custom
    /// plan, planned on every run).
    One(&'a str),
    /// A JSON array of ids (SQLite, `json_each`).
    Json(&'a str),
    /// An array of ids (PostgreSQL).
    Array(&'a [String]),
}

/// The read of the live `ids` of `org`, each joined to its grants: one row per grant, or one with no grant.
/// Every part is found by key: the members by `id`, their grants by the primary key's `member_id`. The tenant
/// predicates are the kind no index serves (`models::tenant_of_key`): with `org_id = ...` a planner may walk
/// the org's grants along `member_roles_source` instead, O(grants) per member (SQLite did, in a join).
pub fn grants_read<'a>(org: &'a OrgId, ids: Ids<'a>) -> Statement<'a> {
    let mut pieces = vec![Piece::Sql(
        "SELECT m.id, m.role AS base, g.role, g.source_kind, g.source_id \
         FROM members m LEFT JOIN member_roles g ON g.member_id = m.id AND (g.org_id || '') = m.org_id \
         WHERE ",
    )];
    pieces.extend(ids.matched_by("m.id"));
    pieces.extend([
        Piece::Sql(" AND (m.org_id || '') = "),
        Piece::Text(org.as_str()),
        Piece::Sql(" AND m.deleted_at IS NULL"),
    ]);
    Statement(pieces)
}

impl<'a> Ids<'a> {
    /// `column` is one of these ids: the condition, its one bind in it.
    fn matched_by(self, column: &'static str) -> [Piece<'a>; 4] {
        let (open, ids, close) = match self {
            Ids::One(id) => (" = ", Piece::Text(id), ""),
            Ids::Json(json) => (" IN (SELECT value FROM json_each(", Piece::Text(json), "))"),
            Ids::Array(ids) => (" = ANY(", Piece::Texts(ids), ")"),
        };
        [Piece::Sql(column), Piece::Sql(open), ids, Piece::Sql(close)]
    }
}

/// The `DELETE` of the grants `group` gave the members `ids` of `org`.
fn revoke_statement<'a>(org: &'a OrgId, group: &'a str, ids: Ids<'a>) -> Vec<Piece<'a>> {
    let mut pieces = vec![Piece::Sql("DELETE FROM member_roles WHERE ")];
    pieces.extend(ids.matched_by("member_id"));
    pieces.extend([
        Piece::Sql(" AND (org_id || '') = "),
        Piece::Text(org.as_str()),
        Piece::Sql(" AND source_kind = "),
        Piece::Text(SOURCE_GROUP),
        Piece::Sql(" AND source_id = "),
        Piece::Text(group),
    ]);
    pieces
}

/// The `INSERT ... SELECT` of grants from `group` (`insert` is the statement's head, with or without SQLite's
/// `OR IGNORE`): `member` and `role` name the selected id and role, the values of the rest are bound here, and
/// `from` is the `FROM` clause that yields them.
fn grant_statement<'a>(
    insert: &'static str,
    (member, role): (Piece<'a>, &'static str),
    change: &Move<'a>,
    from: impl IntoIterator<Item = Piece<'a>>,
) -> Vec<Piece<'a>> {
    let mut pieces = vec![
        Piece::Sql(insert),
        Piece::Sql(
            " INTO member_roles (member_id, role, source_kind, source_id, org_id, created_at) SELECT ",
        ),
        member,
        Piece::Sql(role),
        Piece::Text(SOURCE_GROUP),
        Piece::Sql(", "),
        Piece::Text(change.group),
        Piece::Sql(", "),
        Piece::Text(change.org.as_str()),
        Piece::Sql(", "),
        Piece::Time(change.now),
        Piece::Sql(" FROM "),
    ];
    pieces.extend(from);
    pieces
}

/// The live members among `ids`, their base roles and grants: one statement ([`grants_read`]).
fn grants_of(conn: &mut DbConnection, org: &OrgId, ids: &[String]) -> Result<Grants, StoreError> {
    let rows: Vec<GrantRow> = match conn {
        DbConnection::Sqlite(c) => {
            let json = serde_json::to_string(ids)?;
            grants_read(org, Ids::Json(&json)).load(c)?
        }
        DbConnection::Postgres(c) => grants_read(org, Ids::Array(ids)).load(c)?,
    };
    let mut grants = Grants::default();
    grants.extend(rows);
    Ok(grants)
}

impl Grants {
    fn effective(&self, id: &str) -> Option<Vec<String>> {
        let base = self.base.get(id)?;
        let granted = self.granted.get(id).map(Vec::as_slice).unwrap_or_default();
        Some(compose(base, granted.iter().map(|(r, _, _)| r.as_str())))
    }

    /// A group's membership change applied: the `removed` lose its grants, then the `added` gain `roles` from
    /// it (in the order the rows were written).
    fn moved(&self, group: &str, roles: &[String], added: &[String], removed: &[String]) -> Grants {
        let mut after = self.clone();
        for id in removed {
            if let Some(rows) = after.granted.get_mut(id) {
                rows.retain(|(_, k, s)| !(k == SOURCE_GROUP && s == group));
            }
        }
        for id in added {
            let rows = after.granted.entry(id.clone()).or_default();
            for role in roles {
                let row = (role.clone(), SOURCE_GROUP.to_owned(), group.to_owned());
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
        after
    }
}

/// The effective roles of the live members among `ids`.
pub fn effective_of(
    conn: &mut DbConnection,
    org: &OrgId,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let grants = grants_of(conn, org, ids)?;
    Ok(ids
        .iter()
        .filter_map(|id| grants.effective(id).map(|r| (id.clone(), r)))
        .collect())
}

/// What a change did to one member's roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolesChange {
    pub id: String,
    pub roles: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// Runs `change` (which rewrites grants of members among `ids`) and writes `user.roles_changed` for each
/// member whose effective roles it changed; returns those changes.
fn regrant(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    ids: &[String],
    change: impl FnOnce(&mut DbConnection) -> Result<(), StoreError>,
) -> Result<Vec<RolesChange>, StoreError> {
    let before = grants_of(conn, &ctx.org, ids)?;
    change(conn)?;
    let after = grants_of(conn, &ctx.org, ids)?;
    record_changes(conn, ctx, ids, &before, &after)
}

/// Writes `user.roles_changed` for each member among `ids` whose effective roles differ between `before`
/// and `after`; returns those changes.
fn record_changes(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    ids: &[String],
    before: &Grants,
    after: &Grants,
) -> Result<Vec<RolesChange>, StoreError> {
    let out = changes(ids, before, after);
    write_events(conn, ctx, &out)?;
    Ok(out)
}

/// The members among `ids` whose effective roles differ between `before` and `after`, and how.
fn changes(ids: &[String], before: &Grants, after: &Grants) -> Vec<RolesChange> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
        let (Some(was), Some(now)) = (before.effective(id), after.effective(id)) else {
            continue;
        };
        let added: Vec<String> = now.iter().filter(|r| !was.contains(r)).cloned().collect();
        let removed: Vec<String> = was.iter().filter(|r| !now.contains(r)).cloned().collect();
        if added.is_empty() && removed.is_empty() {
            continue;
        }
        out.push(RolesChange {
            id: id.clone(),
            roles: now,
            added,
            removed,
        });
    }
    out
}

/// The `user.roles_changed` events of `changes`, in one statement.
fn write_events(conn: &mut DbConnection, ctx: &WriteCtx, changes: &[RolesChange]) -> Result<(), StoreError> {
    let data = changes
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    events::append_all(conn, &ctx.org, types::USER_ROLES_CHANGED, ctx.now, &data)
}

fn grant_rows(
    conn: &mut DbConnection,
    org: &OrgId,
    kind: &str,
    source: &str,
    roles: &[String],
    ids: &[String],
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    // Without `treat_none_as_default_value = false` diesel inserts the rows one by one on SQLite, in a savepoint.
    #[derive(Insertable)]
    #[diesel(table_name = member_roles, treat_none_as_default_value = false)]
    struct Row<'a> {
        member_id: &'a str,
        role: &'a str,
        source_kind: &'a str,
        source_id: &'a str,
        org_id: &'a str,
        created_at: NaiveDateTime,
    }
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<Row<'_>> = chunk
            .iter()
            .flat_map(|m| {
                roles.iter().map(move |r| Row {
                    member_id: m,
                    role: r,
                    source_kind: kind,
                    source_id: source,
                    org_id: org.as_str(),
                    created_at: now,
                })
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        // MultiConnection has no multi-row INSERT; each backend's own connection has.
        match conn {
            DbConnection::Postgres(c) => {
                diesel::insert_into(member_roles::table)
                    .values(&rows)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
            DbConnection::Sqlite(c) => {
                diesel::insert_or_ignore_into(member_roles::table)
                    .values(&rows)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

fn revoke_rows(
    conn: &mut DbConnection,
    org: &OrgId,
    kind: &str,
    source: &str,
    role: Option<&str>,
    ids: &[String],
) -> Result<(), StoreError> {
    for chunk in ids.chunks(IN_CHUNK) {
        let q = member_roles::table
            .filter(member_roles::member_id.eq_any(chunk))
            .filter(crate::models::tenant_of_key("member_roles", org))
            .filter(member_roles::source_kind.eq(kind))
            .filter(member_roles::source_id.eq(source));
        match role {
            Some(r) => diesel::delete(q.filter(member_roles::role.eq(r))).execute(conn)?,
            None => diesel::delete(q).execute(conn)?,
        };
    }
    Ok(())
}

/// A group's membership changed: the members it `added` gain its mapped roles and those it `removed` lose
/// them; returns the members whose roles that changed, whose `user.roles_changed` events the caller writes
/// with its own in one statement (`feed::group_update`). One lookup of the group's mappings when it has none;
/// with mappings, one read of the moved members' grants before the change (on PostgreSQL the same statement
/// writes the change) and the grants' writes on SQLite: the "after" is the "before" with the change applied,
/// not read again (each statement is a round trip on every PATCH of a mapped group).
pub fn on_membership(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    group: &GroupId,
    added: &[String],
    removed: &[String],
) -> Result<Vec<RolesChange>, StoreError> {
    if added.is_empty() && removed.is_empty() {
        return Ok(Vec::new());
    }
    let mapped = mapped_roles(conn, group.as_str())?;
    if mapped.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    let moved: Vec<String> = removed
        .iter()
        .chain(added)
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect();
    // A member both removed and added (a replace of all members that keeps it) has its grant deleted and
    // inserted again: one statement may not touch a row twice, so that case takes the statements one by one.
    let readded = moved.len() < removed.len() + added.len();
    let change = Move {
        org: &ctx.org,
        group: group.as_str(),
        roles: &mapped,
        added,
        removed,
        moved: &moved,
        now: &ctx.now,
    };
    let before = match conn {
        DbConnection::Postgres(pg) if !readded => move_grants_pg(pg, &change)?,
        DbConnection::Sqlite(c) => move_grants_sqlite(c, &change)?,
        _ => {
            let before = grants_of(conn, &ctx.org, &moved)?;
            revoke_rows(conn, &ctx.org, SOURCE_GROUP, group.as_str(), None, removed)?;
            grant_rows(
                conn,
                &ctx.org,
                SOURCE_GROUP,
                group.as_str(),
                &mapped,
                added,
                ctx.now,
            )?;
            before
        }
    };
    let after = before.moved(group.as_str(), &mapped, added, removed);
    Ok(changes(&moved, &before, &after))
}

/// A group's membership change, as the grants see it: `group` maps to `roles`; `moved` is `removed` and
/// `added` without repeats.
struct Move<'a> {
    org: &'a OrgId,
    group: &'a str,
    roles: &'a [String],
    added: &'a [String],
    removed: &'a [String],
    moved: &'a [String],
    now: &'a NaiveDateTime,
}

/// SQLite: reads the `moved` members' grants, then deletes the `removed` members' grants from `group` and
/// grants its `roles` to the `added`; returns the grants as they were. Each id list is one JSON bind, so that
/// every statement stays prepared.
fn move_grants_sqlite(c: &mut diesel::SqliteConnection, change: &Move<'_>) -> Result<Grants, StoreError> {
    let json = serde_json::to_string(change.moved)?;
    let mut before = Grants::default();
    before.extend(grants_read(change.org, Ids::Json(&json)).load::<GrantRow>(c)?);
    if !change.removed.is_empty() {
        let json = serde_json::to_string(change.removed)?;
        Statement(revoke_statement(change.org, change.group, Ids::Json(&json))).execute(c)?;
    }
    if !change.added.is_empty() {
        let members = serde_json::to_string(change.added)?;
        let roles = serde_json::to_string(change.roles)?;
        let from = [
            Piece::Sql("json_each("),
            Piece::Text(&members),
            Piece::Sql(") AS a CROSS JOIN json_each("),
            Piece::Text(&roles),
            Piece::Sql(") AS r"),
        ];
        Statement(grant_statement(
            "INSERT OR IGNORE",
            (Piece::Sql("a.value"), ", r.value, "),
            change,
            from,
        ))
        .execute(c)?;
    }
    Ok(before)
}

/// PostgreSQL, one statement: deletes the `removed` members' grants from `group`, grants its `roles` to the
/// `added`, and returns the `moved` members' grants as they were before (every part of a statement reads the
/// snapshot it started with). One member added or removed, an IdP's usual PATCH, takes a statement of its
/// own: scalar binds let PostgreSQL plan it once per connection.
fn move_grants_pg<'a>(pg: &mut diesel::PgConnection, change: &Move<'a>) -> Result<Grants, StoreError> {
    let revoked = |ids| {
        let mut pieces = vec![Piece::Sql("revoked AS (")];
        pieces.extend(revoke_statement(change.org, change.group, ids));
        pieces.push(Piece::Sql(")"));
        pieces
    };
    let granted = |member, from: Vec<Piece<'a>>| {
        let mut pieces = vec![Piece::Sql("granted AS (")];
        let from = from.into_iter().chain([
            Piece::Sql("unnest("),
            Piece::Texts(change.roles),
            Piece::Sql(") AS r(role) ON CONFLICT DO NOTHING"),
        ]);
        pieces.extend(grant_statement("INSERT", (member, ", r.role, "), change, from));
        pieces.push(Piece::Sql(")"));
        pieces
    };
    let (mut pieces, read) = match (change.added, change.removed) {
        ([one], []) => (granted(Piece::Text(one), Vec::new()), Ids::One(one)),
        ([], [one]) => (revoked(Ids::One(one)), Ids::One(one)),
        (added, removed) => {
            let mut pieces = revoked(Ids::Array(removed));
            pieces.push(Piece::Sql(", "));
            pieces.extend(granted(
                Piece::Sql("a.id"),
                vec![
                    Piece::Sql("unnest("),
                    Piece::Texts(added),
                    Piece::Sql(") AS a(id) CROSS JOIN "),
                ],
            ));
            (pieces, Ids::Array(change.moved))
        }
    };
    pieces.insert(0, Piece::Sql("WITH "));
    pieces.push(Piece::Sql(" "));
    // The read after the writes sees the statement's snapshot: the grants as they were.
    pieces.extend(grants_read(change.org, read).0);
    let rows: Vec<GrantRow> = Statement(pieces).load(pg)?;
    let mut grants = Grants::default();
    grants.extend(rows);
    Ok(grants)
}

/// A group is being deleted: its members (`removed`, already taken out) lose its roles, its mappings go.
pub fn on_group_deleted(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    group: &GroupId,
    removed: &[String],
) -> Result<(), StoreError> {
    let changes = on_membership(conn, ctx, group, &[], removed)?;
    write_events(conn, ctx, &changes)?;
    diesel::delete(role_mappings::table.filter(role_mappings::group_id.eq(group.as_str()))).execute(conn)?;
    Ok(())
}

/// SCIM deleted a member: its grants go with it (its `user.deleted` event says the rest).
pub fn on_member_deleted(conn: &mut DbConnection, org: &OrgId, member: &MemberId) -> Result<(), StoreError> {
    diesel::delete(
        member_roles::table
            .filter(member_roles::member_id.eq(member.as_str()))
            .filter(crate::models::tenant_of_key("member_roles", org)),
    )
    .execute(conn)?;
    Ok(())
}

/// The ids of a group's members, a page after `after` (by member id), at most `limit`.
pub fn group_member_page(
    conn: &mut DbConnection,
    group: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(group_members::table
        .filter(group_members::group_id.eq(group))
        .filter(group_members::member_id.gt(after))
        .select(group_members::member_id)
        .order(group_members::member_id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Map or unmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Map,
    Unmap,
}

/// How many of the group's members gain and lose each role if the change is saved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub group: Option<GroupRef>,
    pub role: String,
    pub direction: Option<Direction>,
    pub members: u64,
    /// role -> members gaining it.
    pub gain: BTreeMap<String, u64>,
    /// role -> members losing it.
    pub lose: BTreeMap<String, u64>,
    /// The org's admins now, and how many of them would lose `admin`.
    pub admins: u64,
    pub admins_losing: u64,
    /// The change takes `admin` from more than [`ADMIN_SHARE_PERCENT`] of the org's admins.
    pub needs_confirmation: bool,
}

/// How many members of `org` are admins (not owners): `members.role` admin, or an `admin` grant on a
/// member. An admin action's count, along the org's admins.
pub fn admin_count(conn: &mut DbConnection, org: &OrgId) -> Result<u64, StoreError> {
    let own: i64 = members::table
        .filter(members::org_id.eq(org.as_str()))
        .filter(members::role.eq(ADMIN))
        .filter(members::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    let granted: i64 = member_roles::table
        .inner_join(members::table.on(members::id.eq(member_roles::member_id)))
        .filter(member_roles::org_id.eq(org.as_str()))
        .filter(member_roles::role.eq(ADMIN))
        .filter(members::role.eq(MEMBER))
        .filter(members::deleted_at.is_null())
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "COUNT(DISTINCT member_roles.member_id)",
        ))
        .first(conn)?;
    Ok(u64::try_from(own + granted).unwrap_or(0))
}

/// What mapping (or unmapping) `group` to `role` would do, without doing it. Reads the group's members a
/// page at a time.
pub fn preview(
    conn: &mut DbConnection,
    org: &OrgId,
    group: &GroupRef,
    role: &str,
    direction: Direction,
) -> Result<Preview, StoreError> {
    let mut p = Preview {
        group: Some(group.clone()),
        role: role.to_owned(),
        direction: Some(direction),
        ..Preview::default()
    };
    let mut after = String::new();
    loop {
        let page = group_member_page(conn, &group.id, &after, IN_CHUNK as i64)?;
        let Some(last) = page.last() else { break };
        after = last.clone();
        let grants = grants_of(conn, org, &page)?;
        for id in &page {
            let (Some(was), Some(base)) = (grants.effective(id), grants.base.get(id)) else {
                continue;
            };
            let rows = grants.granted.get(id).map(Vec::as_slice).unwrap_or_default();
            let kept = rows
                .iter()
                .filter(|(r, k, s)| !(r == role && k == SOURCE_GROUP && *s == group.id))
                .map(|(r, _, _)| r.as_str());
            let now = match direction {
                Direction::Map => compose(base, kept.chain([role])),
                Direction::Unmap => compose(base, kept),
            };
            p.members += 1;
            for r in now.iter().filter(|r| !was.contains(r)) {
                *p.gain.entry(r.clone()).or_default() += 1;
            }
            for r in was.iter().filter(|r| !now.contains(r)) {
                *p.lose.entry(r.clone()).or_default() += 1;
            }
        }
    }
    p.admins_losing = p.lose.get(ADMIN).copied().unwrap_or(0);
    if p.admins_losing > 0 {
        p.admins = admin_count(conn, org)?;
        p.needs_confirmation = p.admins_losing * 100 > ADMIN_SHARE_PERCENT * p.admins;
    }
    Ok(p)
}

fn check_mappable(conn: &mut DbConnection, org: &OrgId, acting: Acting, role: &str) -> Result<(), RoleError> {
    if role == OWNER {
        return Err(RoleError::OwnerNeverGranted);
    }
    if role == ADMIN && acting.0 != Role::Owner {
        return Err(RoleError::AdminNeedsOwner);
    }
    if !in_catalog(conn, Some(org), role)? {
        return Err(RoleError::UnknownRole(role.to_owned()));
    }
    Ok(())
}

/// What a saved mapping change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappingOutcome {
    pub group: GroupRef,
    pub role: String,
    pub direction: Direction,
    /// False when the mapping already was there: nothing changed.
    pub changed: bool,
    /// The job applying it to the group's members (finished already for a group of at most one batch).
    pub job: Option<Job>,
}

/// Maps `group_key` (an id, or a displayName) to `role` and grants it to the group's members: the first
/// `batch` of them in this transaction, the rest by the job it starts (`run_job_batch`). `admin` only when
/// `acting` is an owner; `owner` never.
pub fn map(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    acting: Acting,
    group_key: &str,
    role: &str,
    batch: usize,
) -> Result<MappingOutcome, RoleError> {
    check_mappable(conn, &ctx.org, acting, role)?;
    let group = resolve_group(conn, &ctx.org, group_key)?;
    crate::models::lock_for_update(conn, crate::models::Locked::Group, &ctx.org, &group.id)?;
    let existing = mapped_roles(conn, &group.id)?;
    if existing.iter().any(|r| r == role) {
        return Ok(MappingOutcome {
            group,
            role: role.to_owned(),
            direction: Direction::Map,
            changed: false,
            job: None,
        });
    }
    if existing.len() as i64 >= MAX_MAPPINGS_PER_GROUP {
        return Err(RoleError::TooManyMappings);
    }
    diesel::insert_into(role_mappings::table)
        .values((
            role_mappings::group_id.eq(&group.id),
            role_mappings::role.eq(role),
            role_mappings::org_id.eq(ctx.org.as_str()),
            role_mappings::created_at.eq(ctx.now),
        ))
        .execute(conn)?;
    let job = start_job(conn, ctx, &group.id, role, Direction::Map, batch)?;
    audit::record(
        conn,
        ctx,
        ROLE_MAPPED,
        &group.id,
        json!({ "group": group.display_name, "role": role, "members": job.total, "job": job.id }),
    )?;
    Ok(outcome(group, role, Direction::Map, true, job))
}

/// Removes the mapping of `group_key` to `role` and its grants (as [`map`]: the first `batch` now, the rest by
/// its job). An unmap that takes `admin` from more than
/// [`ADMIN_SHARE_PERCENT`] of the org's admins is refused unless `confirmed`.
pub fn unmap(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    acting: Acting,
    group_key: &str,
    role: &str,
    confirmed: bool,
    batch: usize,
) -> Result<MappingOutcome, RoleError> {
    if role == ADMIN && acting.0 != Role::Owner {
        return Err(RoleError::AdminNeedsOwner);
    }
    let group = resolve_group(conn, &ctx.org, group_key)?;
    crate::models::lock_for_update(conn, crate::models::Locked::Group, &ctx.org, &group.id)?;
    if !mapped_roles(conn, &group.id)?.iter().any(|r| r == role) {
        return Err(RoleError::NotMapped {
            group: group.display_name,
            role: role.to_owned(),
        });
    }
    if role == ADMIN && !confirmed {
        let p = preview(conn, &ctx.org, &group, role, Direction::Unmap)?;
        if p.needs_confirmation {
            return Err(RoleError::NeedsConfirmation {
                losing: p.admins_losing,
                admins: p.admins,
            });
        }
    }
    diesel::delete(
        role_mappings::table
            .filter(role_mappings::group_id.eq(&group.id))
            .filter(role_mappings::role.eq(role)),
    )
    .execute(conn)?;
    let job = start_job(conn, ctx, &group.id, role, Direction::Unmap, batch)?;
    audit::record(
        conn,
        ctx,
        ROLE_UNMAPPED,
        &group.id,
        json!({ "group": group.display_name, "role": role, "members": job.total, "job": job.id,
            "confirmed": confirmed }),
    )?;
    Ok(outcome(group, role, Direction::Unmap, true, job))
}

fn outcome(group: GroupRef, role: &str, direction: Direction, changed: bool, job: Job) -> MappingOutcome {
    MappingOutcome {
        group,
        role: role.to_owned(),
        direction,
        changed,
        job: Some(job),
    }
}

/// A mapping change's grants (or revocations) for one page of member ids.
fn apply_page(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    group: &str,
    role: &str,
    direction: Direction,
    page: &[String],
) -> Result<Vec<RolesChange>, StoreError> {
    let roles = [role.to_owned()];
    regrant(conn, ctx, page, |conn| match direction {
        Direction::Map => grant_rows(conn, &ctx.org, SOURCE_GROUP, group, &roles, page, ctx.now),
        Direction::Unmap => revoke_rows(conn, &ctx.org, SOURCE_GROUP, group, Some(role), page),
    })
}

/// One source of a role in an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The member's own role in scimd (`members.role`).
    Assigned,
    Group {
        group_id: String,
        group: String,
    },
    /// The SCIM `roles` attribute.
    Attribute,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedRole {
    pub role: String,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub member_id: String,
    pub roles: Vec<ExplainedRole>,
}

/// Which roles `member` has, and what gave each one. `None` when it is not a live member of the org.
pub fn explain(
    conn: &mut DbConnection,
    org: &OrgId,
    member: &str,
) -> Result<Option<Explanation>, StoreError> {
    let ids = [member.to_owned()];
    let grants = grants_of(conn, org, &ids)?;
    let Some(effective) = grants.effective(member) else {
        return Ok(None);
    };
    let base = grants.base.get(member).cloned().unwrap_or_default();
    let rows = grants.granted.get(member).cloned().unwrap_or_default();
    let group_ids: Vec<&str> = rows
        .iter()
        .filter(|(_, k, _)| k == SOURCE_GROUP)
        .map(|(_, _, s)| s.as_str())
        .collect();
    let names: HashMap<String, String> = groups::table
        .filter(crate::models::tenant_of_key("groups", org))
        .filter(groups::id.eq_any(group_ids))
        .select((groups::id, groups::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let roles = effective
        .into_iter()
        .map(|role| {
            let mut sources = Vec::new();
            if role == base {
                sources.push(Source::Assigned);
            }
            for (r, kind, source) in &rows {
                if *r != role {
                    continue;
                }
                sources.push(if kind == SOURCE_GROUP {
                    Source::Group {
                        group_id: source.clone(),
                        group: names.get(source).cloned().unwrap_or_default(),
                    }
                } else {
                    Source::Attribute
                });
            }
            ExplainedRole { role, sources }
        })
        .collect();
    Ok(Some(Explanation {
        member_id: member.to_owned(),
        roles,
    }))
}

/// Whether the org honours the SCIM `roles` attribute (off unless turned on).
pub fn scim_roles_enabled(conn: &mut DbConnection, org: &OrgId) -> Result<bool, StoreError> {
    Ok(role_settings::table
        .find(org.as_str())
        .select(role_settings::scim_roles)
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

/// Turns the SCIM `roles` attribute on or off for the org, audited. Turning it off takes back what it
/// granted (with the events); turning it on grants from the values the IdP writes from then on.
pub fn set_scim_roles(
    conn: &mut DbConnection,
    org: &OrgId,
    actor: &str,
    enabled: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if !enabled {
        let ctx = WriteCtx {
            org: org.clone(),
            actor: actor.to_owned(),
            now,
        };
        loop {
            let page: Vec<String> = member_roles::table
                .filter(member_roles::org_id.eq(org.as_str()))
                .filter(member_roles::source_kind.eq(SOURCE_ATTRIBUTE))
                .filter(member_roles::source_id.eq(""))
                .select(member_roles::member_id)
                .distinct()
                .limit(IN_CHUNK as i64)
                .load(conn)?;
            if page.is_empty() {
                break;
            }
            regrant(conn, &ctx, &page, |conn| {
                revoke_rows(conn, org, SOURCE_ATTRIBUTE, "", None, &page)
            })?;
        }
    }
    let updated = diesel::update(role_settings::table.find(org.as_str()))
        .set((
            role_settings::scim_roles.eq(enabled),
            role_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(role_settings::table)
            .values((
                role_settings::org_id.eq(org.as_str()),
                role_settings::scim_roles.eq(enabled),
                role_settings::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    crate::models::audit_events::append_for_org(
        conn,
        org,
        actor,
        ROLE_SETTINGS_CHANGED,
        json!({ "scim_roles": enabled }),
        now,
    )
}

/// The most `roles` values of one User that are looked up in the catalog; the rest are ignored.
pub const MAX_ATTRIBUTE_ROLES: usize = 100;

/// The `value`s of a User document's `roles` (RFC 7643 §4.1.2), at most [`MAX_ATTRIBUTE_ROLES`], lower-cased
/// (catalog names are lower-case; an Entra app role's value is whatever its admin typed).
///
/// Entra ID's `AppRoleAssignmentsComplex` sends each role as `{"primary": false, "type":
/// "WindowsAzureActiveDirectoryRole", "value": "Admin"}` in a POST, but in a PATCH as `{"value":
/// "{\"id\":\"...\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}`: the app role's JSON as a string.
/// The role is its inner `value` either way.
pub fn attribute_values(doc: &serde_json::Value) -> Vec<String> {
    let role = |r: &serde_json::Value| -> Option<String> {
        let v = r.get("value")?.as_str()?;
        let inner = v
            .trim_start()
            .starts_with('{')
            .then(|| serde_json::from_str::<serde_json::Value>(v).ok())
            .flatten();
        let name = match &inner {
            Some(app_role) => app_role.get("value")?.as_str()?,
            None => v,
        };
        Some(name.trim().to_lowercase())
    };
    doc.get("roles")
        .and_then(serde_json::Value::as_array)
        .map(|all| all.iter().filter_map(role).take(MAX_ATTRIBUTE_ROLES).collect())
        .unwrap_or_default()
}

/// A User's document was written: when its `roles` changed, [`set_attribute_roles`].
pub fn on_user_document(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    member: &str,
    before: Option<&serde_json::Value>,
    after: &serde_json::Value,
) -> Result<(), StoreError> {
    let was = before.and_then(|d| d.get("roles"));
    if was == after.get("roles") {
        return Ok(());
    }
    set_attribute_roles(conn, ctx, member, &attribute_values(after))?;
    Ok(())
}

/// The member's `roles` attribute was written (`values`: its `value`s): when the org honours it, the
/// member's attribute grants become the values that are in the catalog (never `owner`); otherwise nothing.
pub fn set_attribute_roles(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    member: &str,
    values: &[String],
) -> Result<Vec<RolesChange>, StoreError> {
    if !scim_roles_enabled(conn, &ctx.org)? {
        return Ok(Vec::new());
    }
    let mut wanted = Vec::new();
    for v in values {
        if v != OWNER && !wanted.contains(v) && in_catalog(conn, Some(&ctx.org), v)? {
            wanted.push(v.clone());
        }
    }
    let ids = [member.to_owned()];
    regrant(conn, ctx, &ids, |conn| {
        revoke_rows(conn, &ctx.org, SOURCE_ATTRIBUTE, "", None, &ids)?;
        grant_rows(conn, &ctx.org, SOURCE_ATTRIBUTE, "", &wanted, &ids, ctx.now)
    })
}

/// The members one batch of a mapping change covers, by default (each batch is one transaction).
pub const JOB_BATCH: usize = 1_000;

/// A mapping change being applied to its group's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = role_jobs)]
pub struct Job {
    pub id: String,
    #[serde(skip)]
    pub org_id: String,
    pub group_id: String,
    pub role: String,
    pub direction: String,
    #[serde(skip)]
    pub after_member: String,
    /// Members looked at so far, of `total` (the group's size when the change was saved).
    pub done: i64,
    pub total: i64,
    /// Members whose effective roles changed.
    pub changed: i64,
    #[serde(serialize_with = "ser_time")]
    pub finished_at: Option<NaiveDateTime>,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

fn ser_time<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&events::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

impl Job {
    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }
}

/// Starts the job of a mapping change saved in this transaction (finishing any earlier job of the same group
/// and role: the new change supersedes it), and runs its first batch here.
fn start_job(
    conn: &mut DbConnection,
    ctx: &WriteCtx,
    group: &str,
    role: &str,
    direction: Direction,
    batch: usize,
) -> Result<Job, StoreError> {
    diesel::update(
        role_jobs::table
            .filter(role_jobs::group_id.eq(group))
            .filter(role_jobs::role.eq(role))
            .filter(role_jobs::finished_at.is_null()),
    )
    .set(role_jobs::finished_at.eq(ctx.now))
    .execute(conn)?;
    let total: i64 = match direction {
        Direction::Map => group_members::table
            .filter(group_members::group_id.eq(group))
            .count()
            .get_result(conn)?,
        Direction::Unmap => grants_query(&ctx.org, group, role).count().get_result(conn)?,
    };
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(role_jobs::table)
        .values((
            role_jobs::id.eq(&id),
            role_jobs::org_id.eq(ctx.org.as_str()),
            role_jobs::group_id.eq(group),
            role_jobs::role.eq(role),
            role_jobs::direction.eq(direction_name(direction)),
            role_jobs::after_member.eq(""),
            role_jobs::done.eq(0),
            role_jobs::total.eq(total),
            role_jobs::changed.eq(0),
            role_jobs::created_at.eq(ctx.now),
            role_jobs::updated_at.eq(ctx.now),
        ))
        .execute(conn)?;
    run_job_batch(conn, &id, batch, ctx.now)?;
    Ok(role_jobs::table.find(&id).select(Job::as_select()).first(conn)?)
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Map => "map",
        Direction::Unmap => "unmap",
    }
}

/// The grants a mapping of `group` to `role` made, along `member_roles_source`.
fn grants_query<'a>(
    org: &'a OrgId,
    group: &'a str,
    role: &'a str,
) -> member_roles::BoxedQuery<'a, crate::connection::MultiBackend> {
    member_roles::table
        .filter(member_roles::org_id.eq(org.as_str()))
        .filter(member_roles::source_kind.eq(SOURCE_GROUP))
        .filter(member_roles::source_id.eq(group))
        .filter(member_roles::role.eq(role))
        .into_boxed()
}

/// Runs the next batch (at most `batch` members) of job `id`, in the caller's transaction, which commits the
/// batch, its events and the job's progress together. Returns the job as it now is; `None` for no such job.
pub fn run_job_batch(
    conn: &mut DbConnection,
    id: &str,
    batch: usize,
    now: NaiveDateTime,
) -> Result<Option<Job>, StoreError> {
    // The group's lock first, as a membership change and a mapping change take it: a batch then never grants
    // to a member a concurrent PATCH is taking out of the group (nor the reverse), and the order (group, then
    // job) is the one `map` and `unmap` take, so they cannot deadlock. Then the job's: one runner at a time.
    let group: Option<(String, String)> = role_jobs::table
        .find(id)
        .select((role_jobs::org_id, role_jobs::group_id))
        .first(conn)
        .optional()?;
    let Some((org_id, group_id)) = group else {
        return Ok(None);
    };
    crate::models::lock_for_update(conn, crate::models::Locked::Group, &OrgId::new(org_id), &group_id)?;
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("SELECT 1 FROM role_jobs WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(pg)?;
    }
    let Some(job) = role_jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if job.is_finished() {
        return Ok(Some(job));
    }
    let limit = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
    let org = OrgId::new(job.org_id.clone());
    let direction = if job.direction == "unmap" {
        Direction::Unmap
    } else {
        Direction::Map
    };
    let page: Vec<String> = match direction {
        Direction::Map => group_member_page(conn, &job.group_id, &job.after_member, limit)?,
        Direction::Unmap => grants_query(&org, &job.group_id, &job.role)
            .filter(member_roles::member_id.gt(&job.after_member))
            .select(member_roles::member_id)
            .order(member_roles::member_id.asc())
            .limit(limit)
            .load(conn)?,
    };
    let ctx = WriteCtx {
        org,
        actor: "system".to_owned(),
        now,
    };
    let mut changed = 0;
    for chunk in page.chunks(IN_CHUNK) {
        changed += apply_page(conn, &ctx, &job.group_id, &job.role, direction, chunk)?.len() as i64;
    }
    let finished = (page.len() as i64) < limit;
    diesel::update(role_jobs::table.find(id))
        .set((
            role_jobs::after_member.eq(page.last().cloned().unwrap_or(job.after_member.clone())),
            role_jobs::done.eq(job.done + page.len() as i64),
            role_jobs::changed.eq(job.changed + changed),
            role_jobs::finished_at.eq(finished.then_some(now)),
            role_jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(role_jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .optional()?)
}

/// Up to `limit` unfinished jobs of every org, oldest first (the worker's queue).
pub fn unfinished_jobs(conn: &mut DbConnection, limit: i64) -> Result<Vec<String>, StoreError> {
    Ok(role_jobs::table
        .filter(role_jobs::finished_at.is_null())
        .select(role_jobs::id)
        .order(role_jobs::created_at.asc())
        .limit(limit)
        .load(conn)?)
}

/// The org's latest jobs, newest first (the page's progress).
pub fn jobs_of(conn: &mut DbConnection, org: &OrgId, limit: i64) -> Result<Vec<Job>, StoreError> {
    Ok(role_jobs::table
        .filter(role_jobs::org_id.eq(org.as_str()))
        .select(Job::as_select())
        .order(role_jobs::created_at.desc())
        .limit(limit)
        .load(conn)?)
}

/// Runs job `id` to its end, a batch per write of `store`; returns it finished (or `None`).
pub fn run_job(
    store: &crate::Store,
    id: &str,
    batch: usize,
    clock: &dyn crate::Clock,
) -> Result<Option<Job>, StoreError> {
    loop {
        let job = store.write(|conn| run_job_batch(conn, id, batch, clock.now_naive()))?;
        match job {
            Some(j) if !j.is_finished() => continue,
            other => return Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_app_roles_read_the_same_from_a_post_and_a_patch() {
        // POST: the app role's value; PATCH (AppRoleAssignmentsComplex): the app role as a JSON string.
        let post = json!({"roles": [
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "value": "Deployer"},
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "value": "viewer"}]});
        let patched = json!({"roles": [
            {"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"Deployer\",\"displayName\":\"Deployers\"}"},
            {"value": "viewer"}]});
        assert_eq!(attribute_values(&post), ["deployer", "viewer"]);
        assert_eq!(attribute_values(&patched), ["deployer", "viewer"]);
        // A string that only looks like JSON is the value itself; one without a `value` grants nothing.
        let odd = json!({"roles": [{"value": "{not json"}, {"value": "{\"id\":\"x\"}"}, {"display": "x"}]});
        assert_eq!(attribute_values(&odd), ["{not json"]);
        assert!(attribute_values(&json!({"roles": "admin"})).is_empty());
    }
}
