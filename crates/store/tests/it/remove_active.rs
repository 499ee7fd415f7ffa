//! Finding L10: `remove active` (or `active: null`) leaves the member's access as it was. The document no
//! longer carries `active` (RFC 7644 §3.5.2.2), and the member stays deactivated, or active: unassigning is
//! never a reactivation.

use crate::fixtures;
use scimd_scim::PatchRequest;
use scimd_scim::resources::validate;
use scimd_scim::schema::USER;
use scimd_store::MemberId;
use scimd_store::models::members;
use scimd_store::provisioning::{WriteCtx, users};
use scimd_store::testing::TestDb;
use serde_json::json;

fn ops(ops: serde_json::Value) -> PatchRequest {
    PatchRequest::from_value(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
    )
    .unwrap()
}

fn removing_active_keeps_the_access_state(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "Acme");
    let ctx = WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    };
    for (start, name) in [(false, "off@acme.example"), (true, "on@acme.example")] {
        let doc = validate(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": start}), &USER)
            .unwrap()
            .doc;
        let id = db
            .store
            .write(|conn| users::create(conn, &ctx, &doc, &[]))
            .unwrap()
            .user
            .row
            .id;
        for body in [
            json!([{"op": "remove", "path": "active"}]),
            json!([{"op": "replace", "path": "active", "value": null}]),
        ] {
            let (rec, _) = db
                .store
                .write(|conn| users::patch(conn, &ctx, &id, None, &ops(body.clone())))
                .unwrap();
            assert!(rec.doc.get("active").is_none(), "{}", rec.doc);
            let row = db
                .store
                .read(|conn| members::get(conn, &org, &MemberId::new(id.clone())))
                .unwrap();
            assert_eq!(row.active, start, "{name} after {body}");
        }
    }
}

scimd_store::backend_tests!(removing_active_keeps_the_access_state);
