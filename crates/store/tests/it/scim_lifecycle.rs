//! The SCIM side of the member lifecycle, on both backends: linking the org owner on create, the one
//! deprovisioning path for every shape (PATCH with and without path, "False", PUT, DELETE) with its session
//! revocation and audit event, reactivation, and group membership by delta within one org.

use crate::fixtures;
use scimd_scim::PatchRequest;
use scimd_scim::resources::validate;
use scimd_scim::schema::GROUP;
use scimd_store::models::{admin_sessions, audit_events, organizations};
use scimd_store::provisioning::{IfMatch, ScimStoreError, WriteCtx, groups, users};
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, SessionId, Store};
use serde_json::{Value, json};

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:scimd_ab…yz".into(),
        now: fixtures::now(),
    }
}

use fixtures::scim_user as user;

fn group(name: &str) -> Value {
    validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name}),
        &GROUP,
    )
    .unwrap()
    .doc
}

fn patch(body: Value) -> PatchRequest {
    PatchRequest::from_value(body).unwrap()
}

fn revoked(store: &Store, id: &SessionId) -> bool {
    store
        .read(|conn| admin_sessions::find(conn, id))
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some()
}

fn create_links_the_owner_and_refuses_a_second_scim_user(db: &TestDb) {
    let store = &db.store;
    let (org, owner) = store
        .write(|conn| {
            organizations::create_with_owner(conn, "Acme", Some("Owner@Acme.example"), fixtures::now())
        })
        .unwrap();
    let org = org.org_id();
    let owner = owner.unwrap();
    // Linking the owner is the org's choice (off by default: see owner_protection.rs).
    store
        .write(|conn| {
            scimd_store::models::owner_link::set_allowed(conn, &org, "owner", true, fixtures::now())
        })
        .unwrap();
    // The owner is not in SCIM's view until linked.
    assert!(matches!(
        store.read_consistent(|conn| users::get(conn, &org, &owner.id, true)),
        Err(ScimStoreError::Refused(e)) if e.status == 404
    ));
    let c = store
        .write(|conn| users::create(conn, &ctx(&org), &user("owner@ACME.example"), &[]))
        .unwrap();
    assert!(c.linked);
    assert_eq!(c.user.row.id, owner.id, "linked, not created");
    assert_eq!(c.user.row.role, "owner", "role kept");
    assert!(c.user.row.scim_managed);
    assert_eq!(c.user.row.user_name, "owner@ACME.example");
    let again = store.write(|conn| users::create(conn, &ctx(&org), &user("OWNER@acme.example"), &[]));
    assert!(
        matches!(again, Err(ScimStoreError::Refused(e)) if e.status == 409 && e.scim_type == Some(scimd_scim::ScimType::Uniqueness))
    );
    // Another org's member of the same name is untouched: nothing crosses orgs.
    let other = fixtures::new_org(store, "Other");
    let c2 = store
        .write(|conn| users::create(conn, &ctx(&other), &user("owner@acme.example"), &[]))
        .unwrap();
    assert!(!c2.linked);
    assert_eq!(
        fixtures::actions(store, &org),
        vec!["org.created", "org.owner_link_configured", "member.linked"]
    );
}

fn every_deprovisioning_shape_takes_the_one_path(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let shapes: Vec<(&str, Value)> = vec![
        (
            "patch with path",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]}),
        ),
        (
            "okta path-less",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]}),
        ),
        (
            "entra string",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
        ),
    ];
    for (i, (what, body)) in shapes.into_iter().enumerate() {
        let name = format!("u{i}@acme.example");
        let u = store
            .write(|conn| users::create(conn, &ctx(&org), &user(&name), &[]))
            .unwrap()
            .user;
        let s = fixtures::session(store, &org, &u.row.id);
        let (after, _) = store
            .write(|conn| users::patch(conn, &ctx(&org), &u.row.id, None, &patch(body.clone())))
            .unwrap();
        assert!(!after.row.active, "{what}");
        assert_eq!(after.doc["active"], json!(false), "{what}");
        assert!(revoked(store, &s), "{what}: session revoked");
        // Again: 2xx, no second event, no new version.
        let (again, _) = store
            .write(|conn| users::patch(conn, &ctx(&org), &u.row.id, None, &patch(body)))
            .unwrap();
        assert_eq!(again.row.version, after.row.version, "{what}");
    }
    // PUT with active: false, then reactivation by PUT.
    let u = store
        .write(|conn| users::create(conn, &ctx(&org), &user("put@acme.example"), &[]))
        .unwrap()
        .user;
    let s = fixtures::session(store, &org, &u.row.id);
    let mut inactive = user("put@acme.example");
    inactive["active"] = json!(false);
    let stale = Some(IfMatch::Version(99));
    assert!(matches!(
        store.write(|conn| users::replace(conn, &ctx(&org), &u.row.id, stale, &inactive, &[])),
        Err(ScimStoreError::Refused(e)) if e.status == 412
    ));
    let v = Some(IfMatch::Version(u.row.version as u64));
    store
        .write(|conn| users::replace(conn, &ctx(&org), &u.row.id, v, &inactive, &[]))
        .unwrap();
    assert!(revoked(store, &s));
    let back = store
        .write(|conn| users::replace(conn, &ctx(&org), &u.row.id, None, &user("put@acme.example"), &[]))
        .unwrap();
    assert!(back.row.active);
    // DELETE: hidden, sessions revoked, memberships gone, the userName free again.
    let s = fixtures::session(store, &org, &u.row.id);
    let gdoc = group("G");
    let g = store
        .write(|conn| groups::create(conn, &ctx(&org), &gdoc, std::slice::from_ref(&u.row.id), &[]))
        .unwrap();
    store
        .write(|conn| users::delete(conn, &ctx(&org), &u.row.id, None))
        .unwrap();
    assert!(revoked(store, &s));
    assert!(
        matches!(store.read_consistent(|conn| users::get(conn, &org, &u.row.id, true)), Err(ScimStoreError::Refused(e)) if e.status == 404)
    );
    assert!(
        matches!(store.write(|conn| users::delete(conn, &ctx(&org), &u.row.id, None)), Err(ScimStoreError::Refused(e)) if e.status == 404)
    );
    let g = store
        .read_consistent(|conn| groups::get(conn, &org, &g.row.id, true))
        .unwrap();
    assert_eq!(g.members.unwrap().len(), 0);
    let fresh = store
        .write(|conn| users::create(conn, &ctx(&org), &user("PUT@acme.example"), &[]))
        .unwrap();
    assert_ne!(fresh.user.row.id, u.row.id);

    let a = fixtures::actions(store, &org);
    let count = |x: &str| a.iter().filter(|y| *y == x).count();
    assert_eq!(count("member.deactivated"), 4, "{a:?}");
    assert_eq!(count("member.reactivated"), 1, "{a:?}");
    assert_eq!(count("member.deleted"), 1, "{a:?}");
    let events = store
        .read(|conn| audit_events::list(conn, &org, Some("member.deleted"), None, 10))
        .unwrap();
    let details: Value = serde_json::from_str(&events[0].details).unwrap();
    assert_eq!(
        (
            details["sessions_revoked"].clone(),
            details["groups_removed"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(events[0].actor, "idp:scimd_ab…yz");
}

fn group_membership_changes_by_delta_within_the_org(db: &TestDb) {
    let store = &db.store;
    let (org, other) = store
        .write(|conn| Ok::<_, scimd_store::StoreError>((fixtures::org(conn, "A"), fixtures::org(conn, "B"))))
        .unwrap();
    let mk = |org: &OrgId, n: &str| {
        store
            .write(|conn| users::create(conn, &ctx(org), &user(n), &[]))
            .unwrap()
            .user
            .row
            .id
    };
    let (u1, u2, u3) = (
        mk(&org, "1@a.example"),
        mk(&org, "2@a.example"),
        mk(&org, "3@a.example"),
    );
    let foreign = mk(&other, "x@b.example");
    let gdoc = group("Eng");
    let g = store
        .write(|conn| groups::create(conn, &ctx(&org), &gdoc, std::slice::from_ref(&u1), &[]))
        .unwrap();
    let dup = store.write(|conn| groups::create(conn, &ctx(&org), &gdoc, &[], &[]));
    assert!(matches!(dup, Err(ScimStoreError::Refused(e)) if e.status == 409));
    let add = |ids: &[&str]| {
        patch(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": ids.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()}]}),
        )
    };
    // One foreign id refuses the whole request: nothing written.
    let r =
        store.write(|conn| groups::patch(conn, &ctx(&org), &g.row.id, None, &add(&[&u2, &foreign]), 1000));
    assert!(matches!(r, Err(ScimStoreError::Refused(e)) if e.status == 400));
    let members = |id: &str| {
        let mut v: Vec<String> = store
            .read_consistent(|conn| groups::get(conn, &org, id, true))
            .unwrap()
            .members
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(members(&g.row.id), vec![u1.clone()]);
    let (_, outcome) = store
        .write(|conn| groups::patch(conn, &ctx(&org), &g.row.id, None, &add(&[&u1, &u2, &u3]), 1000))
        .unwrap();
    assert_eq!(outcome.members.unwrap().added.len(), 3);
    let mut expect = vec![u1.clone(), u2.clone(), u3.clone()];
    expect.sort();
    assert_eq!(members(&g.row.id), expect);
    let remove = patch(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": format!("members[value eq \"{u2}\"]")}]}),
    );
    store
        .write(|conn| groups::patch(conn, &ctx(&org), &g.row.id, None, &remove, 1000))
        .unwrap();
    assert_eq!(members(&g.row.id).len(), 2);
    // The limit on ids per PATCH.
    let r = store.write(|conn| groups::patch(conn, &ctx(&org), &g.row.id, None, &add(&[&u2, &u3]), 1));
    assert!(
        matches!(r, Err(ScimStoreError::Refused(e)) if e.status == 400 && e.scim_type == Some(scimd_scim::ScimType::TooMany))
    );
    // Another org cannot see the group.
    assert!(
        matches!(store.read_consistent(|conn| groups::get(conn, &other, &g.row.id, false)), Err(ScimStoreError::Refused(e)) if e.status == 404)
    );
    // The user lists its group.
    let u = store
        .read_consistent(|conn| users::get(conn, &org, &u1, true))
        .unwrap();
    assert_eq!(
        u.groups.iter().map(|g| g.display.as_str()).collect::<Vec<_>>(),
        vec!["Eng"]
    );
}

scimd_store::backend_tests!(
    create_links_the_owner_and_refuses_a_second_scim_user,
    every_deprovisioning_shape_takes_the_one_path,
    group_membership_changes_by_delta_within_the_org
);
