//! PATCH of a stored document: `patch::apply_to_stored` (the Okta `id` echo, handled in the protocol crate
//! rather than by the store) and `remove active` (finding L10: it must not reactivate).

use crate::common::{bjensen, group, ops};
use scimd_scim::patch::{self, PatchRequest};
use scimd_scim::resources::user::UserView;
use scimd_scim::schema::{ResourceKind, USER};
use scimd_scim::{Dialect, ScimType};
use serde_json::{Value, json};

fn req(operations: Value) -> PatchRequest {
    PatchRequest::from_value(ops(operations)).expect("a PATCH body")
}

fn stored(mut doc: Value) -> Value {
    if let Some(o) = doc.as_object_mut() {
        o.remove("id");
    }
    doc
}

#[test]
fn okta_group_rename_echoing_id() {
    let mut doc = stored(group());
    let r = req(json!([{"op": "replace", "value": {"id": "g1", "displayName": "Renamed"}}]));
    let out = patch::apply_to_stored(&mut doc, "g1", &r, ResourceKind::Group).expect("applied");
    assert!(out.changed);
    assert!(out.dialects.contains(&Dialect::ReadOnlyEchoIgnored));
    assert_eq!(doc["displayName"], "Renamed");
    assert!(
        doc.get("id").is_none(),
        "the id stays outside the stored document"
    );

    // Another id is a change of a readOnly attribute; the document is untouched.
    let before = doc.clone();
    let r = req(json!([{"op": "replace", "value": {"id": "other", "displayName": "X"}}]));
    let e = patch::apply_to_stored(&mut doc, "g1", &r, ResourceKind::Group).expect_err("refused");
    assert_eq!(e.scim_type, Some(ScimType::Mutability));
    assert_eq!(doc, before);

    // The same request on the bare document (no id given) is refused: the id is what makes it an echo.
    let r = req(json!([{"op": "replace", "value": {"id": "g1"}}]));
    assert!(patch::apply(&mut doc, &r, ResourceKind::Group.schema()).is_err());
}

#[test]
fn remove_active_leaves_a_deactivated_user_deactivated() {
    let mut doc = stored(bjensen());
    doc["active"] = json!(false);
    for body in [
        json!([{"op": "remove", "path": "active"}]),
        json!([{"op": "replace", "path": "active", "value": null}]),
        json!([{"op": "replace", "value": {"active": null}}]),
    ] {
        let mut d = doc.clone();
        let out = patch::apply_to_stored(&mut d, "u1", &req(body), ResourceKind::User).expect("applied");
        // The document no longer has `active` (RFC 7644: the attribute is unassigned); what access the member
        // keeps is the store's decision: an unassigned `active` keeps the member's previous state (the
        // store's `member_row::columns`, tested on both backends in the store's lifecycle tests).
        assert!(d.get("active").is_none(), "{d}");
        assert!(out.changed);
    }
    // Deactivating and reactivating explicitly still work, also in the same request as a removal.
    let mut d = doc.clone();
    let r =
        req(json!([{"op": "remove", "path": "active"}, {"op": "replace", "path": "active", "value": true}]));
    assert!(patch::apply(&mut d, &r, &USER).is_ok_and(|o| o.changed));
    assert!(UserView(&d).active());
    // A user that never had `active` stays without it.
    let mut d = doc.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("active");
    }
    let before = d.clone();
    assert!(patch::apply(&mut d, &req(json!([{"op": "remove", "path": "active"}])), &USER).is_ok());
    assert_eq!(d, before);
}

#[test]
fn the_member_limit_is_one_rule() {
    let ids: Vec<Value> = (0..5).map(|i| json!({"value": format!("m{i}")})).collect();
    let r = req(
        json!([{"op": "add", "path": "members", "value": ids}, {"op": "remove", "path": "members[value eq \"x\"]"}]),
    );
    let out = patch::apply_to_stored(&mut stored(group()), "g1", &r, ResourceKind::Group).expect("applied");
    let delta = out.members.expect("a delta");
    assert_eq!(delta.check_limit(6), Ok(()));
    let e = delta.check_limit(5).expect_err("over the limit");
    assert_eq!(e, scimd_scim::ScimError::too_many_members(6, 5));
}
