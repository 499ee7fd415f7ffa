//! A filter on a custom attribute is an index lookup (issue #26: "a filter on a custom attribute uses an
//! index"): on PostgreSQL without statistics, in an org of 20,000 members with a value each, the lookup reads
//! its match, not the org (rows and index entries of `members` and `member_attribute_values`, as
//! `cached_plans` counts them). PostgreSQL only: SQLite has no per-statement counters.

use crate::fixtures;
use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;
use scimd_scim::filter;
use scimd_scim::schema::USER;
use scimd_store::models::attributes::{self, CustomType, NewDefinition};
use scimd_store::provisioning::paging::Paging;
use scimd_store::provisioning::{ListSpec, WriteCtx, users};
use scimd_store::testing::TestDb;
use scimd_store::{DbConnection, OrgId, StoreError};
use serde_json::json;

const GROWN: i64 = 20_000;
const BOUND: i64 = 20;
const URN: &str = "urn:ietf:params:scim:schemas:extension:scimd:2.0:User";

#[derive(diesel::QueryableByName)]
struct Read {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn rows_read(conn: &mut DbConnection) -> i64 {
    diesel::sql_query(
        "SELECT (COALESCE((SELECT SUM(seq_tup_read) FROM pg_stat_xact_user_tables \
                           WHERE relid IN ('members'::regclass, 'member_attribute_values'::regclass)), 0) \
               + (SELECT COALESCE(SUM(pg_stat_get_xact_tuples_returned(indexrelid)), 0) FROM pg_index \
                  WHERE indrelid IN ('members'::regclass, 'member_attribute_values'::regclass)))::BIGINT AS n",
    )
    .get_result::<Read>(conn)
    .unwrap()
    .n
}

fn lookup(conn: &mut DbConnection, org: &OrgId, f: &str) -> Vec<String> {
    let schema = attributes::schema_for(conn, org).unwrap();
    let resolved = filter::resolve::resolve_with(&filter::parse(f).unwrap(), &USER, &schema).unwrap();
    let spec = ListSpec {
        filter: Some(&resolved),
        sort: None,
        descending: false,
        paging: Paging::Index { start_index: 1 },
        count: 100,
    };
    users::list(conn, scimd_store::Backend::Postgres, org, &spec, false)
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.row.user_name)
        .collect()
}

#[test]
fn a_custom_attribute_filter_reads_its_match_not_the_org() {
    let Some(db) = TestDb::postgres() else { return };
    let store = &db.store;
    let org = fixtures::new_org(store, "Attrs");
    let new = NewDefinition {
        name: "costCenter",
        ty: CustomType::String,
        multi_valued: false,
        case_exact: false,
        filterable: true,
        claim: None,
    };
    store
        .write(|conn| attributes::define(conn, Some(&org), "test", &new, fixtures::now()))
        .unwrap();
    let ctx = WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    };
    let doc = scimd_scim::resources::validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", URN],
                "userName": "ann@attrs.example", URN: {"costCenter": "CC-Ann"}}),
        &USER,
    )
    .unwrap()
    .doc;
    store
        .write(|conn| users::create(conn, &ctx, &doc, &[]).map(|_| ()))
        .unwrap();
    store
        .write(|conn| {
            diesel::sql_query(format!(
                "INSERT INTO members (id, org_id, user_name, user_name_norm, role, active, scim_managed, document, \
                 version, created_at, updated_at) \
                 SELECT 'bulk-' || g, '{org}', 'b' || g || '@attrs.example', 'b' || g || '@attrs.example', \
                 'member', TRUE, TRUE, '{{}}', 1, now(), now() FROM generate_series(1, {GROWN}) g",
                org = org.as_str()
            ))
            .execute(conn)?;
            diesel::sql_query(format!(
                "INSERT INTO member_attribute_values (org_id, member_id, attribute, position, value_text) \
                 SELECT '{org}', 'bulk-' || g, 'costcenter', 0, 'cc-' || (g % 100) FROM generate_series(1, {GROWN}) g",
                org = org.as_str()
            ))
            .execute(conn)
            .map_err(StoreError::from)
        })
        .unwrap();
    let read = store
        .read(|conn| {
            let before = rows_read(conn);
            let found = lookup(conn, &org, &format!("{URN}:costCenter eq \"cc-ann\""));
            assert_eq!(found, ["ann@attrs.example"]);
            Ok::<_, StoreError>(rows_read(conn) - before)
        })
        .unwrap();
    assert!(read <= BOUND, "the lookup read {read} rows and index entries");
}
