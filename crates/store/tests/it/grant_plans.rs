//! The members' grants (roles from groups, issue #26) are read by key whatever the org holds: on SQLite the
//! plan names the keys' indexes and never the org's (`member_roles_source`, which a join by `org_id` took,
//! walking every grant of the org for each member); on PostgreSQL, without statistics, the read and a mapped
//! group's membership change read a few rows of an org of 20,000 grants.

use crate::cached_plans::{ctx, group, members_patch, one_connection, reads_of};
use crate::fixtures;
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use scimd_store::models::members::Role;
use scimd_store::provisioning::groups;
use scimd_store::provisioning::roles::{self, Acting};
use scimd_store::sql::Piece;
use scimd_store::testing::TestDb;
use scimd_store::{DbConnection, OrgId, Store, StoreError};

/// The org's grants once it has grown.
const GROWN: i64 = 20_000;
/// A read may touch this many rows and index entries of `members` and `member_roles` for one member.
const BOUND: i64 = 20;

#[derive(diesel::QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[test]
fn sqlite_reads_grants_along_the_keys() {
    let db = TestDb::sqlite();
    let org = fixtures::new_org(&db.store, "Grant plans");
    let plan: Vec<String> = db
        .store
        .read(|conn| {
            let DbConnection::Sqlite(c) = conn else {
                unreachable!("a SQLite test database")
            };
            let mut explain = roles::grants_read(&org, roles::Ids::Json(r#"["a","b"]"#));
            explain.0.insert(0, Piece::Sql("EXPLAIN QUERY PLAN "));
            explain.load::<Plan>(c).map_err(StoreError::from)
        })
        .unwrap()
        .into_iter()
        .map(|p| p.detail)
        .collect();
    let text = plan.join("\n");
    assert!(
        plan.iter()
            .any(|d| d.starts_with("SEARCH m USING INDEX sqlite_autoindex_members_1 (id=?)")),
        "{text}"
    );
    assert!(
        plan.iter()
            .any(|d| d.starts_with("SEARCH g USING INDEX sqlite_autoindex_member_roles_1 (member_id=?)")),
        "{text}"
    );
    assert!(!text.contains("member_roles_source"), "{text}");
}

/// One member's grants read, and an add to and a remove from a group mapped to a role (PostgreSQL writes and
/// reads those in one statement).
fn grant_paths(store: &Store, org: &OrgId, member: &str, mapped: &str) -> i64 {
    let ids = [member.to_owned()];
    reads_of(store, &["members", "member_roles"], |conn| {
        roles::effective_of(conn, org, &ids)?;
        groups::patch(
            conn,
            &ctx(org),
            mapped,
            None,
            &members_patch("add", member),
            1_000,
        )?;
        groups::patch(
            conn,
            &ctx(org),
            mapped,
            None,
            &members_patch("remove", member),
            1_000,
        )?;
        Ok(())
    })
}

#[test]
fn postgres_reads_grants_by_key_whatever_plan_the_statistics_left() {
    let Some(db) = TestDb::postgres() else { return };
    let store = one_connection(&db);
    let org = fixtures::new_org(&store, "Grant plans");
    let mapped = store
        .write(|conn| groups::create(conn, &ctx(&org), &group("Deployers"), &[], &[]))
        .unwrap()
        .row
        .id;
    let member = store
        .write(|conn| {
            roles::create_role(conn, Some(&org), "admin:test", "deployer", fixtures::now())?;
            roles::map(conn, &ctx(&org), Acting(Role::Owner), &mapped, "deployer", 1_000)?;
            Ok::<_, roles::RoleError>(fixtures::member(conn, &org, "one@grants.example")?.id)
        })
        .unwrap();
    // Plans cached while the org has no grants (a generic plan after the fifth run).
    for _ in 0..6 {
        grant_paths(&store, &org, &member, &mapped);
    }
    store
        .write(|conn| {
            diesel::sql_query(format!(
                "INSERT INTO members (id, org_id, user_name, user_name_norm, role, active, scim_managed, \
                 document, version, created_at, updated_at) \
                 SELECT 'g-bulk-' || g, '{org}', 'g' || g || '@grants.example', 'g' || g || '@grants.example', \
                 'member', TRUE, TRUE, '{{}}', 1, now(), now() FROM generate_series(1, {GROWN}) g",
                org = org.as_str()
            ))
            .execute(conn)?;
            diesel::sql_query(format!(
                "INSERT INTO member_roles (member_id, role, source_kind, source_id, org_id, created_at) \
                 SELECT 'g-bulk-' || g, 'deployer', 'group', '{mapped}', '{org}', now() \
                 FROM generate_series(1, {GROWN}) g",
                org = org.as_str()
            ))
            .execute(conn)
            .map_err(StoreError::from)
        })
        .unwrap();
    let bound = 3 * BOUND;
    let cached = grant_paths(&store, &org, &member, &mapped);
    assert!(
        cached <= bound,
        "plans cached on an empty table: {cached} rows and entries read of an org of {GROWN} grants"
    );
    drop(store);
    let store = one_connection(&db);
    let fresh = grant_paths(&store, &org, &member, &mapped);
    assert!(
        fresh <= bound,
        "plans made without statistics: {fresh} rows and entries read of an org of {GROWN} grants"
    );
}
