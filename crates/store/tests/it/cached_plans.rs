//! Plans on PostgreSQL without statistics (issue #15: "use the right index whatever the statistics say").
//!
//! A connection caches a generic plan per statement after the fifth execution; on a fresh database that
//! happens while `members` is still empty, where any index the query can walk costs the same. And until the
//! first `ANALYZE`, custom plans guess every selectivity. These tests make both kinds of plan (statements run
//! on an almost empty org on one connection, then on a new connection after the org grew to 20,000 members
//! that were never analysed) and count the rows and index entries of `members` that each request path reads:
//! a lookup by key reads its row, not the org. PostgreSQL only: SQLite has no plan cache of this kind and no
//! per-statement counters.

use crate::fixtures;
use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;
use scimd_scim::PatchRequest;
use scimd_scim::filter;
use scimd_scim::schema::USER;
use scimd_store::provisioning::paging::Paging;
use scimd_store::provisioning::{ListSpec, ScimStoreError, WriteCtx, users};
use scimd_store::testing::TestDb;
use scimd_store::{DbConnection, OrgId, Store, StoreError, StoreOptions};
use serde_json::json;

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

/// The rows of `members` and the entries of its indexes that this transaction has read so far (index
/// entries count too: a bitmap scan can read a whole index and fetch one row).
fn members_read(conn: &mut DbConnection) -> i64 {
    diesel::sql_query(
        "SELECT (COALESCE((SELECT seq_tup_read FROM pg_stat_xact_user_tables \
                           WHERE relid = 'members'::regclass), 0) \
               + (SELECT COALESCE(SUM(pg_stat_get_xact_tuples_returned(indexrelid)), 0) \
                  FROM pg_index WHERE indrelid = 'members'::regclass))::BIGINT AS n",
    )
    .get_result::<Read>(conn)
    .expect("read the statistics of this transaction")
    .n
}

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

fn user(i: i64) -> serde_json::Value {
    scimd_scim::resources::validate(
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("u{i}@plans.example"),
            "externalId": format!("ext-{i}"),
            "active": true,
        }),
        &USER,
    )
    .unwrap()
    .doc
}

fn lookup(conn: &mut DbConnection, store: &Store, org: &OrgId, f: &str) -> usize {
    let resolved = filter::resolve(&filter::parse(f).unwrap(), &USER).unwrap();
    let spec = ListSpec {
        filter: Some(&resolved),
        sort: None,
        descending: false,
        paging: Paging::Index { start_index: 1 },
        count: 100,
    };
    users::list(conn, store.backend(), org, &spec, false)
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
/// deactivation (users created within the safety valve's window do not count towards it).
fn every_path(conn: &mut DbConnection, store: &Store, org: &OrgId, i: i64) -> Result<(), ScimStoreError> {
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
    store
        .write(|conn| {
            let before = members_read(conn);
            every_path(conn, store, org, i)?;
            Ok::<_, ScimStoreError>(members_read(conn) - before)
        })
        .unwrap()
}

/// A store of one connection: every statement is planned, cached and reused on it.
fn one_connection(db: &TestDb) -> Store {
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
    // Seven paths, each reading its row and index entry a few times; a plan that walks an index of the org
    // reads 20,000 or more.
    let cached = read_by_every_path(&store, &org, 100);
    assert!(
        cached <= 7 * BOUND,
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
        fresh <= 7 * BOUND,
        "plans made without statistics: one User's paths read {fresh} rows and entries of an org of {GROWN}"
    );
}
