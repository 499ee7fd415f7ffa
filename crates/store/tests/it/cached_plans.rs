//! Plans on PostgreSQL without statistics (issue #15: "use the right index whatever the statistics say").
//!
//! A connection caches a generic plan per statement after the fifth execution; on a fresh database that
//! happens while `members` is still empty, where any index the query can walk costs the same. And until the
//! first `ANALYZE`, custom plans guess every selectivity. These tests make both kinds of plan (statements run
//! on an almost empty org on one connection, then on a new connection after the org grew to 20,000 members
//! that were never analysed) and count the rows and index entries of `members` (and, for the Group paths, of
//! `groups` and `group_members`) that each request path reads: a lookup by key reads its row, not the org,
//! and a membership change reads its membership, not the group. PostgreSQL only: SQLite has no plan cache of
//! this kind and no per-statement counters.

use crate::fixtures;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use scimd_scim::PatchRequest;
use scimd_scim::filter;
use scimd_scim::schema::{GROUP, USER};
use scimd_store::provisioning::paging::Paging;
use scimd_store::provisioning::{ListSpec, ScimStoreError, WriteCtx, groups, users};
use scimd_store::testing::TestDb;
use scimd_store::{DbConnection, OrgId, Store, StoreError, StoreOptions};
use serde_json::json;

/// The calls of [`every_path`] (the invitation counted as one).
const USER_PATHS: i64 = 9;
/// The org grows to this many members once the plans are cached.
const GROWN: i64 = 20_000;
/// A request path may read this many rows of `members` for one User: its own, and a few more where a
/// bitmap or a uniqueness probe touches a neighbour.
const BOUND: i64 = 20;

#[derive(diesel::QueryableByName)]
struct Read {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The rows of `tables` and the entries of their indexes that this transaction has read so far (index
/// entries count too: a bitmap scan can read a whole index and fetch one row).
pub(crate) fn rows_read(conn: &mut DbConnection, tables: &[&str]) -> i64 {
    let relids = tables
        .iter()
        .map(|t| format!("'{t}'::regclass"))
        .collect::<Vec<_>>()
        .join(", ");
    diesel::sql_query(format!(
        "SELECT (COALESCE((SELECT SUM(seq_tup_read) FROM pg_stat_xact_user_tables \
                           WHERE relid IN ({relids})), 0) \
               + (SELECT COALESCE(SUM(pg_stat_get_xact_tuples_returned(indexrelid)), 0) \
                  FROM pg_index WHERE indrelid IN ({relids})))::BIGINT AS n"
    ))
    .get_result::<Read>(conn)
    .expect("read the statistics of this transaction")
    .n
}

pub(crate) fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

fn user(i: i64) -> serde_json::Value {
    user_named(&format!("u{i}@plans.example"), &format!("ext-{i}"))
}

fn user_named(user_name: &str, external_id: &str) -> serde_json::Value {
    scimd_scim::resources::validate(
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "externalId": external_id,
            "active": true,
        }),
        &USER,
    )
    .unwrap()
    .doc
}

/// The first page of the resources `filter` matches, in the lists' order.
fn first_page(filter: &filter::ResolvedFilter) -> ListSpec<'_> {
    ListSpec {
        filter: Some(filter),
        sort: None,
        descending: false,
        paging: Paging::Index { start_index: 1 },
        count: 100,
    }
}

fn lookup(conn: &mut DbConnection, store: &Store, org: &OrgId, f: &str) -> usize {
    let resolved = filter::resolve(&filter::parse(f).unwrap(), &USER).unwrap();
    users::list(conn, store.backend(), org, &first_page(&resolved), false)
        .unwrap()
        .items
        .len()
}

fn rename(i: i64) -> PatchRequest {
    PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": format!("User {i}")}],
    }))
    .unwrap()
}

fn deactivate() -> PatchRequest {
    PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    }))
    .unwrap()
}

/// Every request path of a User, once: create, GET by id, lookups by userName, externalId and id, PATCH,
/// deactivation (users created within the safety valve's window do not count towards it), and a create that
/// links a member the org invited (the invitation itself is not a request path, but is counted too).
fn every_path(conn: &mut DbConnection, store: &Store, org: &OrgId, i: i64) -> Result<(), ScimStoreError> {
    let name = format!("invited-{i}@plans.example");
    let invited = fixtures::invited(conn, org, &name)?.id;
    let linked = users::create(conn, &ctx(org), &user_named(&name, &format!("inv-ext-{i}")), &[])?;
    assert!(linked.linked);
    assert_eq!(linked.user.row.id, invited);
    let created = users::create(conn, &ctx(org), &user(i), &[])?;
    let id = created.user.row.id;
    users::get(conn, org, &id, true)?;
    assert_eq!(
        lookup(conn, store, org, &format!(r#"userName eq "u{i}@plans.example""#)),
        1
    );
    assert_eq!(
        lookup(conn, store, org, &format!(r#"externalId eq "ext-{i}""#)),
        1
    );
    assert_eq!(lookup(conn, store, org, &format!(r#"id eq "{id}""#)), 1);
    users::patch(conn, &ctx(org), &id, None, &rename(i))?;
    users::patch(conn, &ctx(org), &id, None, &deactivate())?;
    Ok(())
}

/// What one round of every path reads, on `store`'s connection, in one transaction.
fn read_by_every_path(store: &Store, org: &OrgId, i: i64) -> i64 {
    reads_of(store, &["members"], |conn| every_path(conn, store, org, i))
}

/// What `paths` read of `tables` on `store`'s connection, in one transaction.
pub(crate) fn reads_of(
    store: &Store,
    tables: &[&str],
    paths: impl FnOnce(&mut DbConnection) -> Result<(), ScimStoreError>,
) -> i64 {
    // The transaction's counters (`pg_stat_xact_*`) also hold what earlier transactions of this backend
    // counted and did not flush yet (PostgreSQL 15 flushes at most once a second), and a savepoint's release
    // can count those again: flush them first (on the way to idle after this statement), so that only the
    // paths' own reads are measured.
    store
        .read(|conn| {
            diesel::sql_query("SELECT pg_stat_force_next_flush()")
                .execute(conn)
                .map_err(StoreError::from)
        })
        .unwrap();
    store
        .write(|conn| {
            let before = rows_read(conn, tables);
            paths(conn)?;
            Ok::<_, ScimStoreError>(rows_read(conn, tables) - before)
        })
        .unwrap()
}

/// A store of one connection: every statement is planned, cached and reused on it.
pub(crate) fn one_connection(db: &TestDb) -> Store {
    Store::connect(
        &db.url,
        StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn lookups_by_key_read_one_row_whatever_plan_the_statistics_left() {
    let Some(db) = TestDb::postgres() else { return };
    let store = one_connection(&db);
    let org = fixtures::new_org(&store, "Plans");
    for i in 0..8 {
        store.write(|conn| every_path(conn, &store, &org, i)).unwrap();
    }
    store
        .write(|conn| {
            diesel::sql_query(format!(
                "INSERT INTO members (id, org_id, user_name, user_name_norm, external_id, role, active, \
                 scim_managed, document, version, created_at, updated_at) \
                 SELECT 'bulk-' || g, '{org}', 'b' || g || '@plans.example', 'b' || g || '@plans.example', \
                 'bulk-ext-' || g, 'member', TRUE, TRUE, '{{}}', 1, now(), now() \
                 FROM generate_series(1, {GROWN}) g",
                org = org.as_str()
            ))
            .execute(conn)
            .map_err(StoreError::from)
        })
        .unwrap();
    // Nine paths, each reading its row and index entry a few times; a plan that walks an index of the org
    // reads 20,000 or more.
    let cached = read_by_every_path(&store, &org, 100);
    assert!(
        cached <= USER_PATHS * BOUND,
        "plans cached on an empty table: one User's paths read {cached} rows and entries of an org of {GROWN}"
    );
    // A new connection plans the same statements on the grown table, still without statistics.
    drop(store);
    let store = one_connection(&db);
    for i in 200..208 {
        store.write(|conn| every_path(conn, &store, &org, i)).unwrap();
    }
    let fresh = read_by_every_path(&store, &org, 300);
    assert!(
        fresh <= USER_PATHS * BOUND,
        "plans made without statistics: one User's paths read {fresh} rows and entries of an org of {GROWN}"
    );
}

/// The org's groups besides the ones a round makes, once it has grown.
const GROUPS: i64 = 2_000;

pub(crate) fn group(name: &str) -> serde_json::Value {
    scimd_scim::resources::validate(
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "externalId": format!("gext-{name}"),
        }),
        &GROUP,
    )
    .unwrap()
    .doc
}

pub(crate) fn members_patch(op: &str, id: &str) -> PatchRequest {
    let op = match op {
        "add" => json!({"op": "add", "path": "members", "value": [{"value": id}]}),
        _ => json!({"op": "remove", "path": format!(r#"members[value eq "{id}"]"#)}),
    };
    PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [op],
    }))
    .unwrap()
}

/// The ids of the org's Groups that match `f`.
fn find_groups(conn: &mut DbConnection, store: &Store, org: &OrgId, f: &str) -> Vec<String> {
    let resolved = filter::resolve(&filter::parse(f).unwrap(), &GROUP).unwrap();
    groups::list(conn, store.backend(), org, &first_page(&resolved), false)
        .unwrap()
        .items
        .into_iter()
        .map(|g| g.row.id)
        .collect()
}

/// The id of the group every member of the org is in (a directory's "Everyone").
fn everyone(conn: &mut DbConnection, store: &Store, org: &OrgId) -> String {
    find_groups(conn, store, org, r#"displayName eq "Everyone""#).remove(0)
}

/// Every request path of a Group, once, and the membership paths of a User: create with a member, GET with
/// members, lookups by displayName and externalId, PATCH add and remove, PUT, adding to and removing from the
/// group of the whole org, deleting a User who is in groups, DELETE.
fn every_group_path(
    conn: &mut DbConnection,
    store: &Store,
    org: &OrgId,
    i: i64,
) -> Result<(), ScimStoreError> {
    let a = users::create(conn, &ctx(org), &user(2 * i), &[])?.user.row.id;
    let b = users::create(conn, &ctx(org), &user(2 * i + 1), &[])?.user.row.id;
    let name = format!("Team {i}");
    let team = groups::create(conn, &ctx(org), &group(&name), std::slice::from_ref(&a), &[])?
        .row
        .id;
    let got = groups::get(conn, org, &team, true)?;
    assert_eq!(got.members.map(|m| m.len()), Some(1));
    let by_name = find_groups(conn, store, org, &format!(r#"displayName eq "{name}""#));
    assert_eq!(by_name, std::slice::from_ref(&team));
    let by_external_id = find_groups(conn, store, org, &format!(r#"externalId eq "gext-{name}""#));
    assert_eq!(by_external_id, std::slice::from_ref(&team));
    groups::patch(conn, &ctx(org), &team, None, &members_patch("add", &b), 1_000)?;
    groups::patch(conn, &ctx(org), &team, None, &members_patch("remove", &a), 1_000)?;
    groups::replace(
        conn,
        &ctx(org),
        &team,
        None,
        &group(&name),
        &[a.clone(), b.clone()],
        &[],
    )?;
    let all = everyone(conn, store, org);
    groups::patch(conn, &ctx(org), &all, None, &members_patch("add", &a), 1_000)?;
    groups::patch(conn, &ctx(org), &all, None, &members_patch("add", &b), 1_000)?;
    groups::patch(conn, &ctx(org), &all, None, &members_patch("remove", &a), 1_000)?;
    users::delete(conn, &ctx(org), &b, None)?;
    groups::delete(conn, &ctx(org), &team, None)?;
    Ok(())
}

/// The tables the Group paths read.
const GROUP_TABLES: [&str; 3] = ["members", "groups", "group_members"];

/// The calls of [`every_group_path`], each allowed `BOUND` reads: 300 in all, well below the org's 2,000
/// groups and the 20,000 members of its "Everyone". (A round reads about 75; deleting a User that is in
/// groups read 2,000 more, the org's groups, before that path looked its groups up by id.)
const GROUP_PATHS: i64 = 15;

fn read_by_every_group_path(store: &Store, org: &OrgId, i: i64) -> i64 {
    reads_of(store, &GROUP_TABLES, |conn| every_group_path(conn, store, org, i))
}

#[test]
fn membership_changes_read_the_membership_whatever_plan_the_statistics_left() {
    let Some(db) = TestDb::postgres() else { return };
    let store = one_connection(&db);
    let org = fixtures::new_org(&store, "Group plans");
    store
        .write(|conn| groups::create(conn, &ctx(&org), &group("Everyone"), &[], &[]))
        .unwrap();
    for i in 0..8 {
        store
            .write(|conn| every_group_path(conn, &store, &org, i))
            .unwrap();
    }
    store
        .write(|conn| {
            let all = everyone(conn, &store, &org);
            conn.batch_execute(&format!(
                "INSERT INTO members (id, org_id, user_name, user_name_norm, external_id, role, active, \
                 scim_managed, document, version, created_at, updated_at) \
                 SELECT 'bulk-' || g, '{org}', 'b' || g || '@plans.example', 'b' || g || '@plans.example', \
                 'bulk-ext-' || g, 'member', TRUE, TRUE, '{{}}', 1, now(), now() \
                 FROM generate_series(1, {GROWN}) g; \
                 INSERT INTO group_members (group_id, member_id, org_id, created_at) \
                 SELECT '{all}', 'bulk-' || g, '{org}', now() FROM generate_series(1, {GROWN}) g; \
                 INSERT INTO groups (id, org_id, display_name, display_name_norm, external_id, document, \
                 version, created_at, updated_at) \
                 SELECT 'bulk-group-' || g, '{org}', 'Bulk ' || g, 'bulk ' || g, 'bulk-gext-' || g, '{{}}', 1, \
                 now(), now() FROM generate_series(1, {GROUPS}) g; \
                 INSERT INTO group_members (group_id, member_id, org_id, created_at) \
                 SELECT 'bulk-group-' || g, 'bulk-' || g, '{org}', now() FROM generate_series(1, {GROUPS}) g",
                org = org.as_str()
            ))
            .map_err(StoreError::from)
        })
        .unwrap();
    let cached = read_by_every_group_path(&store, &org, 100);
    assert!(
        cached <= GROUP_PATHS * BOUND,
        "plans cached on empty tables: one Group's paths read {cached} rows and entries of an org of \
         {GROWN} members in {GROUPS} groups"
    );
    drop(store);
    let store = one_connection(&db);
    for i in 200..208 {
        store
            .write(|conn| every_group_path(conn, &store, &org, i))
            .unwrap();
    }
    let fresh = read_by_every_group_path(&store, &org, 300);
    assert!(
        fresh <= GROUP_PATHS * BOUND,
        "plans made without statistics: one Group's paths read {fresh} rows and entries of an org of \
         {GROWN} members in {GROUPS} groups"
    );
}
