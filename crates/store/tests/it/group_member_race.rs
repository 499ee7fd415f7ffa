//! L3: a group-add of a member racing that member's DELETE never leaves a membership of a deleted member, on
//! both backends (the race is real on PostgreSQL, where the two run at once): many rounds of the two on two
//! threads, then the invariant checked on the rows and on the group as SCIM reads it.

use crate::fixtures;
use scimd_scim::PatchRequest;
use scimd_store::OrgId;
use scimd_store::provisioning::{WriteCtx, groups, users};
use scimd_store::testing::TestDb;
use serde_json::json;

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

fn a_group_add_racing_the_members_delete_leaves_no_membership_of_it(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "Race");
    let gdoc = scimd_scim::resources::validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"}),
        &scimd_scim::schema::GROUP,
    )
    .unwrap()
    .doc;
    let g = store
        .write(|conn| groups::create(conn, &ctx(&org), &gdoc, &[], &[]))
        .unwrap()
        .row
        .id;
    for round in 0..60 {
        let id = store
            .write(|conn| {
                users::create(
                    conn,
                    &ctx(&org),
                    &fixtures::scim_user(&format!("{round}@race.example")),
                    &[],
                )
            })
            .unwrap()
            .user
            .row
            .id;
        let add = PatchRequest::from_value(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}],
        }))
        .unwrap();
        std::thread::scope(|s| {
            let adder = s.spawn(|| {
                store
                    .write(|conn| groups::patch(conn, &ctx(&org), &g, None, &add, 1000))
                    .is_ok()
            });
            let deleter = s.spawn(|| {
                store
                    .write(|conn| users::delete(conn, &ctx(&org), &id, None))
                    .is_ok()
            });
            adder.join().unwrap();
            assert!(deleter.join().unwrap(), "round {round}: the DELETE failed");
        });
        let left: Vec<String> = store
            .read(|conn| scimd_store::models::groups::member_ids(conn, &scimd_store::GroupId::new(g.clone())))
            .unwrap()
            .into_iter()
            .collect();
        assert!(
            !left.contains(&id),
            "round {round}: the deleted member {id} is still in the group"
        );
    }
}

scimd_store::backend_tests!(a_group_add_racing_the_members_delete_leaves_no_membership_of_it);
