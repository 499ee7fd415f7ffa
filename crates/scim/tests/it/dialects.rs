//! The Okta and Microsoft Entra ID request bodies, as their SCIM documentation gives them, and the dialect
//! rule each one fires.

use crate::common::{bjensen, group, ops, patch};
use scimd_scim::ScimType;
use scimd_scim::filter::{self, in_memory};
use scimd_scim::patch::{Dialect, MembersDelta};
use scimd_scim::resources::user::UserView;
use scimd_scim::schema::{GROUP, USER};
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// ---- Microsoft Entra ID ----

#[test]
fn entra_update_user_multi_valued_and_single_valued() {
    let mut doc = bjensen();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]
    });
    let out = patch(&mut doc, body, &USER).unwrap();
    assert_eq!(out.dialects, [Dialect::CaseInsensitiveOp]);
    assert_eq!(doc["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(doc["emails"][0]["type"], "work");
    assert_eq!(doc["name"]["familyName"], "updatedFamilyName");
    assert_eq!(UserView(&doc).primary_email(), Some("updatedEmail@microsoft.com"));
}

#[test]
fn entra_disable_user_with_boolean_and_with_string() {
    for value in [json!(false), json!("False")] {
        let mut doc = bjensen();
        let body = ops(json!([{"op": "Replace", "path": "active", "value": value}]));
        let out = patch(&mut doc, body, &USER).unwrap();
        assert_eq!(doc["active"], json!(false), "a JSON boolean is stored");
        assert!(!UserView(&doc).active());
        assert!(out.changed);
        assert_eq!(out.dialects.contains(&Dialect::StringBoolean), value.is_string());
    }
    let mut doc = bjensen();
    patch(
        &mut doc,
        ops(json!([{"op": "replace", "path": "active", "value": "False"}])),
        &USER,
    )
    .unwrap();
    let out = patch(
        &mut doc,
        ops(json!([{"op": "replace", "path": "active", "value": "True"}])),
        &USER,
    )
    .unwrap();
    assert_eq!(
        (doc["active"].clone(), out.dialects),
        (json!(true), vec![Dialect::StringBoolean])
    );
}

#[test]
fn entra_string_booleans_are_strict() {
    for bad in ["false", "FALSE", "0", "no", ""] {
        let mut doc = bjensen();
        let e = patch(
            &mut doc,
            ops(json!([{"op": "Replace", "path": "active", "value": bad}])),
            &USER,
        );
        let e = e.expect_err(bad);
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}");
        assert!(e.detail.contains("\"active\" must be a boolean"), "{}", e.detail);
    }
}

#[test]
fn entra_manager_as_bare_id_and_as_object() {
    for value in [
        json!("2819c223-7f76-453a-919d-413861904646"),
        json!({"value": "2819c223-7f76-453a-919d-413861904646"}),
    ] {
        let mut doc = bjensen();
        let body = ops(json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": value}]));
        let out = patch(&mut doc, body, &USER).unwrap();
        assert_eq!(
            doc[ENTERPRISE]["manager"]["value"],
            "2819c223-7f76-453a-919d-413861904646"
        );
        assert_eq!(
            out.dialects.contains(&Dialect::ComplexAsBareValue),
            value.is_string()
        );
    }
}

#[test]
fn entra_pathless_dotted_and_extension_keys() {
    let mut doc = bjensen();
    let body = ops(json!([{
        "op": "Add",
        "value": {
            "name.givenName": "Babs",
            "name.familyName": "Jensen-Smith",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "m-1"
        }
    }]));
    let out = patch(&mut doc, body, &USER).unwrap();
    assert_eq!(doc["name"]["givenName"], "Babs");
    assert_eq!(doc["name"]["familyName"], "Jensen-Smith");
    assert_eq!(doc["name"]["middleName"], "Jane");
    assert_eq!(doc[ENTERPRISE]["employeeNumber"], "42");
    assert_eq!(doc[ENTERPRISE]["manager"], json!({"value": "m-1"}));
    for d in [
        Dialect::CaseInsensitiveOp,
        Dialect::PathlessOperation,
        Dialect::PathlessDottedKey,
        Dialect::PathlessExtensionUrnKey,
        Dialect::ComplexAsBareValue,
    ] {
        assert!(out.dialects.contains(&d), "{d} missing from {:?}", out.dialects);
    }
}

#[test]
fn entra_add_to_missing_value_path_creates_it() {
    let mut doc = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b.c"});
    let body = ops(json!([
        {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "a@b.c"},
        {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"},
        {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Paris"}
    ]));
    let out = patch(&mut doc, body, &USER).unwrap();
    assert_eq!(doc["emails"], json!([{"type": "work", "value": "a@b.c"}]));
    assert_eq!(
        doc["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555"}])
    );
    assert_eq!(doc["addresses"], json!([{"type": "work", "locality": "Paris"}]));
    assert!(out.dialects.contains(&Dialect::AddCreatesValuePathElement));
    // Once it exists, the same add updates it in place.
    let body = ops(json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@b.c"}]));
    patch(&mut doc, body, &USER).unwrap();
    assert_eq!(doc["emails"], json!([{"type": "work", "value": "new@b.c"}]));
    // A filter that does not describe a value cannot create one.
    let body = ops(json!([{"op": "add", "path": "emails[value co \"x\"].type", "value": "home"}]));
    let e = patch(&mut doc, body, &USER).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn entra_group_add_and_remove_members() {
    let mut doc = group();
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]
    });
    let out = patch(&mut doc, add, &GROUP).unwrap();
    assert_eq!(
        out.members.map(|m| m.added),
        Some(vec!["f648f8d5ea4e4cd38e9c".to_owned()])
    );
    let remove = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Remove",
            "path": "members",
            "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}, {"value": "a1"}]
        }]
    });
    let out = patch(&mut doc, remove, &GROUP).unwrap();
    assert_eq!(
        out.members,
        Some(MembersDelta {
            added: vec![],
            removed: vec!["f648f8d5ea4e4cd38e9c".into(), "a1".into()],
            clear_all: false
        })
    );
    assert!(out.dialects.contains(&Dialect::MembersRemoveByValueList));
    assert_eq!(doc, group());
}

#[test]
fn entra_group_rename_and_exclude_members() {
    let mut doc = group();
    let body = ops(
        json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
    );
    let out = patch(&mut doc, body, &GROUP).unwrap();
    assert_eq!(
        doc["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
    assert_eq!(out.members, None, "no members operation: no delta");
    let excluded = ["members".to_owned()];
    assert!(!scimd_scim::projection::is_requested(
        &GROUP,
        &[],
        &excluded,
        "members"
    ));
}

#[test]
fn entra_lookups_and_test_connection() {
    for f in [
        r#"userName eq "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081""#,
        r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#,
        "externalId eq 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        r#"displayName eq "Group1DisplayName""#,
    ] {
        let parsed = filter::parse(f).unwrap();
        let schema = if f.starts_with("displayName") {
            &GROUP
        } else {
            &USER
        };
        let resolved = filter::resolve(&parsed, schema).unwrap();
        assert!(!in_memory::matches(&resolved, &bjensen()), "{f}");
    }
}

// ---- Okta ----

#[test]
fn okta_deactivate_with_pathless_replace() {
    let mut doc = bjensen();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    let out = patch(&mut doc, body, &USER).unwrap();
    assert!(out.changed);
    assert_eq!(doc["active"], false);
    assert_eq!(out.dialects, [Dialect::PathlessOperation]);
    assert_eq!(Dialect::PathlessOperation.label(), "Okta path-less replace");
}

#[test]
fn okta_password_change_is_accepted_and_never_stored() {
    let mut doc = bjensen();
    let body = ops(json!([{"op": "replace", "value": {"password": "t1meMa$heen"}}]));
    let out = patch(&mut doc, body, &USER).unwrap();
    assert!(doc.get("password").is_none());
    assert!(!out.changed);
}

#[test]
fn okta_group_rename_echoing_id() {
    let mut doc = group();
    let body = ops(json!([{
        "op": "replace",
        "value": {"id": "e9e30dba-f08f-4109-8486-d5c6a331660a", "displayName": "Test SCIMv2"}
    }]));
    let out = patch(&mut doc, body, &GROUP).unwrap();
    assert_eq!(doc["displayName"], "Test SCIMv2");
    assert!(out.dialects.contains(&Dialect::ReadOnlyEchoIgnored));
}

#[test]
fn okta_group_membership_changes() {
    let mut doc = group();
    let body = ops(json!([
        {"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},
        {"op": "add", "path": "members", "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]}
    ]));
    let out = patch(&mut doc, body, &GROUP).unwrap();
    assert_eq!(
        out.members,
        Some(MembersDelta {
            added: vec!["23a35c27-23d3-4c03-b4c5-6443c09e7173".into()],
            removed: vec!["89bb1940-b905-4575-9e7f-6f887cfb368e".into()],
            clear_all: false
        })
    );
}

#[test]
fn okta_replace_members_with_empty_list() {
    let mut doc = group();
    let body = ops(json!([{"op": "replace", "path": "members", "value": []}]));
    let out = patch(&mut doc, body, &GROUP).unwrap();
    assert_eq!(
        out.members,
        Some(MembersDelta {
            added: vec![],
            removed: vec![],
            clear_all: true
        })
    );
    assert_eq!(out.dialects, [Dialect::MembersReplaceEmpty]);
}

#[test]
fn members_delta_nets_out_within_one_request() {
    let mut doc = group();
    let body = ops(json!([
        {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
        {"op": "remove", "path": "members[value eq \"a\" or value eq \"c\"]"},
        {"op": "add", "path": "members", "value": [{"value": "c"}]}
    ]));
    let out = patch(&mut doc, body, &GROUP).unwrap();
    assert_eq!(
        out.members,
        Some(MembersDelta {
            added: vec!["b".into(), "c".into()],
            removed: vec!["a".into()],
            clear_all: false
        })
    );
}

#[test]
fn members_errors() {
    for (op, why) in [
        (
            json!({"op": "remove", "path": "members[display eq \"x\"]"}),
            ScimType::InvalidPath,
        ),
        (
            json!({"op": "add", "path": "members", "value": [{"display": "no id"}]}),
            ScimType::InvalidValue,
        ),
        (
            json!({"op": "add", "path": "members[value eq \"a\"]", "value": [{"value": "a"}]}),
            ScimType::InvalidPath,
        ),
        (json!({"op": "add", "path": "members"}), ScimType::InvalidValue),
    ] {
        let e = patch(&mut group(), ops(json!([op])), &GROUP).unwrap_err();
        assert_eq!(e.scim_type, Some(why), "{}", e.detail);
    }
    let e = patch(
        &mut bjensen(),
        ops(json!([{"op": "add", "path": "members", "value": []}])),
        &USER,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "Users have no members");
}
