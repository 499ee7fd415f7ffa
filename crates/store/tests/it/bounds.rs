//! Input that would break an index or a JSON function is a 400, never a 500, on both backends (L1, L2 of the
//! security review): a NUL anywhere in a document, and a userName or displayName whose normalised key is too
//! long for a btree index row.

use crate::fixtures;
use scimd_scim::resources::validate;
use scimd_scim::schema::{GROUP, USER};
use scimd_store::OrgId;
use scimd_store::provisioning::{ScimStoreError, WriteCtx, groups, users};
use scimd_store::testing::TestDb;
use serde_json::json;

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

fn a_nul_byte_is_refused_before_the_database(db: &TestDb) {
    let refused = validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b.c", "title": "a\u{0}b"}),
        &USER,
    )
    .unwrap_err();
    assert_eq!(refused.status, 400);
    // And the org's JSON filters still work afterwards (nothing with a NUL was stored).
    let org = fixtures::new_org(&db.store, "Acme");
    let doc = validate(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b.c", "title": "ab"}), &USER)
        .unwrap()
        .doc;
    db.store
        .write(|conn| users::create(conn, &ctx(&org), &doc, &[]))
        .unwrap();
}

fn a_name_too_long_once_normalised_is_400_not_500(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "Acme");
    // U+FDFA is one character of 3 bytes that NFKC turns into 18 characters (33 bytes): 100 of them pass the
    // protocol's length limit and normalise to 3.3 KB, over PostgreSQL's index row limit.
    let long: String = "\u{FDFA}".repeat(100);
    let user = validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": long}),
        &USER,
    )
    .unwrap()
    .doc;
    match db.store.write(|conn| users::create(conn, &ctx(&org), &user, &[])) {
        Err(ScimStoreError::Refused(e)) => {
            assert_eq!(e.status, 400);
            assert!(e.detail.contains("userName"), "{}", e.detail);
        }
        other => panic!("{other:?}"),
    }
    let group = validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": long}),
        &GROUP,
    )
    .unwrap()
    .doc;
    match db
        .store
        .write(|conn| groups::create(conn, &ctx(&org), &group, &[], &[]))
    {
        Err(ScimStoreError::Refused(e)) => assert_eq!(e.status, 400),
        other => panic!("{other:?}"),
    }
}

scimd_store::backend_tests!(
    a_nul_byte_is_refused_before_the_database,
    a_name_too_long_once_normalised_is_400_not_500
);
