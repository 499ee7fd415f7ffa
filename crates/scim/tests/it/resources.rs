//! Create / replace validation of User and Group bodies.

use scimd_scim::resources::{self, user::UserView};
use scimd_scim::schema::{GROUP, USER};
use scimd_scim::{Dialect, ScimType};
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn entra_create_user_body() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "addresses": [{"primary": true, "type": "work", "postalCode": "98052"}],
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"familyName": "User", "givenName": "Test"},
        "roles": [],
        ENTERPRISE: {"department": "Sales", "manager": "m-1"}
    });
    let v = resources::validate(&body, &USER).unwrap();
    assert!(v.doc.get("meta").is_none(), "readOnly input is ignored");
    assert!(v.doc.get("roles").is_none(), "an empty array is unassigned");
    assert_eq!(v.doc[ENTERPRISE]["manager"], json!({"value": "m-1"}));
    assert_eq!(v.dialects, [Dialect::ComplexAsBareValue]);
    let u = UserView(&v.doc);
    assert_eq!(
        u.user_name(),
        Some("Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1")
    );
    assert_eq!(u.external_id(), Some("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"));
    assert_eq!(u.given_name(), Some("Test"));
    assert_eq!(u.primary_email(), Some("Test_User_fd0ea19b@testuser.com"));
    assert_eq!(
        v.doc["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE])
    );
}

#[test]
fn okta_create_user_body() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": "True"
    });
    let v = resources::validate(&body, &USER).unwrap();
    assert!(v.doc.get("password").is_none(), "passwords are never stored");
    assert!(v.doc.get("groups").is_none());
    assert_eq!(v.doc["active"], true);
    assert_eq!(v.dialects, [Dialect::StringBoolean]);
}

#[test]
fn canonical_names_and_unknown_attributes() {
    let body = json!({
        "SCHEMAS": ["urn:ietf:params:scim:schemas:core:2.0:user"],
        "USERNAME": "a@b.c",
        "Name": {"GivenName": "A", "unknown": 1},
        "id": "client-chosen",
        "favouriteColour": "blue",
        "urn:example:params:scim:schemas:extension:acme:2.0:User": {"badge": 7}
    });
    let v = resources::validate(&body, &USER).unwrap();
    assert_eq!(
        v.doc,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:example:params:scim:schemas:extension:acme:2.0:User"],
            "userName": "a@b.c",
            "name": {"givenName": "A"},
            "urn:example:params:scim:schemas:extension:acme:2.0:User": {"badge": 7}
        })
    );
}

#[test]
fn unknown_attributes_of_the_enterprise_extension_survive() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": "a@b.c",
        ENTERPRISE: {"employeeNumber": "1", "badgeColour": "green"}
    });
    let v = resources::validate(&body, &USER).unwrap();
    assert_eq!(
        v.doc[ENTERPRISE],
        json!({"employeeNumber": "1", "badgeColour": "green"})
    );
    // And through a PATCH of that attribute.
    let mut doc = v.doc.clone();
    let req = scimd_scim::PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": format!("{ENTERPRISE}:badgeColour"), "value": "red"}]
    }))
    .unwrap();
    scimd_scim::patch::apply(&mut doc, &req, &USER).unwrap();
    assert_eq!(doc[ENTERPRISE]["badgeColour"], "red");
}

#[test]
fn required_and_types() {
    let e = resources::validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
        &USER,
    );
    let e = e.unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
    assert_eq!(e.detail, "\"userName\" is required for a User.");
    let e = resources::validate(&json!({"userName": "a"}), &USER).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    let e = resources::validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "active": "no"}),
        &USER,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn group_members_come_out_separately() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Admins",
        "members": [{"value": "u1", "display": "One"}, {"value": "u2"}, {"value": "u1"}]
    });
    let v = resources::validate(&body, &GROUP).unwrap();
    assert_eq!(v.members, Some(vec!["u1".to_owned(), "u2".to_owned()]));
    assert!(v.doc.get("members").is_none());
    let e = resources::validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}),
        &GROUP,
    );
    assert_eq!(e.unwrap_err().detail, "\"displayName\" is required for a Group.");
}
