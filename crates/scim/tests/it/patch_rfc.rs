//! RFC 7644 §3.5.2: every PATCH example, with the outcome the RFC describes, and its error cases.

use crate::common::{bjensen, group, ops, patch};
use scimd_scim::ScimType;
use scimd_scim::patch::MembersDelta;
use scimd_scim::schema::{GROUP, USER};
use serde_json::json;

const MEMBER: &str = "2819c223-7f76-453a-919d-413861904646";
const OTHER: &str = "902c246b-6245-4190-8e05-00816be7344a";

fn delta(added: &[&str], removed: &[&str], clear_all: bool) -> Option<MembersDelta> {
    Some(MembersDelta {
        added: added.iter().map(|s| (*s).to_owned()).collect(),
        removed: removed.iter().map(|s| (*s).to_owned()).collect(),
        clear_all,
    })
}

#[test]
fn add_member_to_group() {
    let mut doc = group();
    let out = patch(
        &mut doc,
        ops(json!([{
            "op": "add",
            "path": "members",
            "value": [{
                "display": "Babs Jensen",
                "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
                "value": MEMBER
            }]
        }])),
        &GROUP,
    )
    .unwrap();
    assert_eq!(out.members, delta(&[MEMBER], &[], false));
    assert!(out.changed);
    assert_eq!(doc, group(), "members never enter the group document");
}

#[test]
fn add_without_path() {
    let mut doc = bjensen();
    let out = patch(
        &mut doc,
        ops(json!([{
            "op": "add",
            "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "b@x.org"}], "nickname": "Barbie"}
        }])),
        &USER,
    )
    .unwrap();
    assert!(out.changed);
    assert_eq!(doc["nickName"], "Barbie", "canonical spelling");
    assert!(doc.get("nickname").is_none());
    let emails = doc["emails"].as_array().unwrap();
    assert_eq!(
        emails.len(),
        3,
        "the existing home address is not duplicated: {emails:?}"
    );
    assert_eq!(emails[2], json!({"value": "b@x.org"}));
}

#[test]
fn add_to_single_valued_replaces_and_to_complex_merges() {
    let mut doc = bjensen();
    patch(
        &mut doc,
        ops(json!([
            {"op": "add", "path": "title", "value": "Chief Guide"},
            {"op": "add", "path": "name", "value": {"givenName": "Babs"}}
        ])),
        &USER,
    )
    .unwrap();
    assert_eq!(doc["title"], "Chief Guide");
    assert_eq!(doc["name"]["givenName"], "Babs");
    assert_eq!(doc["name"]["familyName"], "Jensen");
}

#[test]
fn add_primary_value_clears_other_primaries() {
    let mut doc = bjensen();
    patch(
        &mut doc,
        ops(json!([{"op": "add", "path": "emails", "value": [{"value": "new@x.org", "primary": true}]}])),
        &USER,
    )
    .unwrap();
    let primaries: Vec<_> = doc["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["primary"] == true)
        .collect();
    assert_eq!(primaries, [&json!({"value": "new@x.org", "primary": true})]);
}

#[test]
fn remove_all_members() {
    let mut doc = group();
    let out = patch(
        &mut doc,
        ops(json!([{"op": "remove", "path": "members"}])),
        &GROUP,
    )
    .unwrap();
    assert_eq!(out.members, delta(&[], &[], true));
    assert!(out.changed);
}

#[test]
fn remove_one_member() {
    let mut doc = group();
    let path = format!("members[value eq \"{MEMBER}\"]");
    let out = patch(&mut doc, ops(json!([{"op": "remove", "path": path}])), &GROUP).unwrap();
    assert_eq!(out.members, delta(&[], &[MEMBER], false));
}

#[test]
fn remove_work_emails_at_example_com() {
    let mut doc = bjensen();
    let body =
        ops(json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]));
    let out = patch(&mut doc, body, &USER).unwrap();
    assert!(out.changed);
    assert_eq!(
        doc["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn remove_member_and_add_another() {
    let mut doc = group();
    let body = ops(json!([
        {"op": "remove", "path": format!("members[value eq \"{MEMBER}\"]")},
        {"op": "add", "path": "members", "value": [{"display": "James Smith", "value": OTHER}]}
    ]));
    let out = patch(&mut doc, body, &GROUP).unwrap();
    assert_eq!(out.members, delta(&[OTHER], &[MEMBER], false));
}

#[test]
fn replace_all_members() {
    let mut doc = group();
    let body = ops(json!([{
        "op": "replace",
        "path": "members",
        "value": [{"display": "Babs Jensen", "value": MEMBER}, {"display": "James Smith", "value": OTHER}]
    }]));
    let out = patch(&mut doc, body, &GROUP).unwrap();
    assert_eq!(out.members, delta(&[MEMBER, OTHER], &[], true));
}

#[test]
fn replace_work_address() {
    let mut doc = bjensen();
    let new_address = json!({
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood",
        "region": "CA",
        "postalCode": "91608",
        "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": true
    });
    let body = ops(json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": new_address}]));
    patch(&mut doc, body, &USER).unwrap();
    assert_eq!(doc["addresses"][0], new_address);
    assert_eq!(doc["addresses"][1]["type"], "home");
}

#[test]
fn replace_work_street_address() {
    let mut doc = bjensen();
    let body = ops(json!([{
        "op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"
    }]));
    patch(&mut doc, body, &USER).unwrap();
    assert_eq!(doc["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(doc["addresses"][0]["locality"], "Hollywood");
    assert_eq!(doc["addresses"][1]["streetAddress"], "456 Hollywood Blvd");
}

#[test]
fn replace_without_path() {
    let mut doc = bjensen();
    let body = ops(json!([{
        "op": "replace",
        "value": {
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "nickname": "Babs"
        }
    }]));
    let out = patch(&mut doc, body, &USER).unwrap();
    assert!(!out.changed, "the same values: nothing changed");
    assert_eq!(doc, bjensen());
}

#[test]
fn replace_of_missing_attribute_adds_it() {
    let mut doc = bjensen();
    patch(
        &mut doc,
        ops(json!([{"op": "replace", "path": "name.honorificPrefix", "value": "Dr."}])),
        &USER,
    )
    .unwrap();
    patch(
        &mut doc,
        ops(json!([{"op": "replace", "path": "photos", "value": [{"value": "https://p/x.jpg"}]}])),
        &USER,
    )
    .unwrap();
    assert_eq!(doc["name"]["honorificPrefix"], "Dr.");
    assert_eq!(doc["photos"], json!([{"value": "https://p/x.jpg"}]));
}

#[test]
fn remove_single_valued_and_sub_attribute() {
    let mut doc = bjensen();
    let body = ops(json!([
        {"op": "remove", "path": "title"},
        {"op": "remove", "path": "name.middleName"},
        {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}
    ]));
    patch(&mut doc, body, &USER).unwrap();
    assert!(doc.get("title").is_none());
    assert!(doc["name"].get("middleName").is_none());
    assert_eq!(doc["name"]["givenName"], "Barbara");
    assert!(
        doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
            .get("manager")
            .is_none()
    );
}

#[test]
fn removing_the_last_extension_attribute_drops_it_from_schemas() {
    let mut doc = bjensen();
    let body =
        ops(json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]));
    patch(&mut doc, body, &USER).unwrap();
    assert_eq!(
        doc["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    let body = ops(json!([{
        "op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"
    }]));
    patch(&mut doc, body, &USER).unwrap();
    assert_eq!(
        doc["schemas"][1],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );
}

fn error(doc: &mut serde_json::Value, operations: serde_json::Value) -> (Option<ScimType>, String) {
    let before = doc.clone();
    let e = patch(doc, ops(operations), &USER).expect_err("should fail");
    assert_eq!(
        *doc, before,
        "all-or-nothing: a failed PATCH leaves the document untouched"
    );
    (e.scim_type, e.detail)
}

#[test]
fn remove_without_path_is_no_target() {
    let (t, d) = error(&mut bjensen(), json!([{"op": "remove"}]));
    assert_eq!(t, Some(ScimType::NoTarget));
    assert_eq!(
        d,
        "Operation 1 (remove): A remove operation needs a \"path\" naming what to remove."
    );
}

#[test]
fn replace_with_unmatched_filter_is_no_target() {
    let (t, _) = error(
        &mut bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
    );
    assert_eq!(t, Some(ScimType::NoTarget));
}

#[test]
fn read_only_attributes_are_mutability_errors() {
    for path in ["id", "meta", "meta.lastModified", "groups", "schemas"] {
        let (t, d) = error(
            &mut bjensen(),
            json!([{"op": "replace", "path": path, "value": "x"}]),
        );
        assert_eq!(t, Some(ScimType::Mutability), "{path}");
        assert!(d.contains("read-only"), "{d}");
    }
    let (t, _) = error(
        &mut bjensen(),
        json!([{"op": "replace", "value": {"id": "other"}}]),
    );
    assert_eq!(t, Some(ScimType::Mutability));
}

#[test]
fn removing_a_required_attribute_is_mutability() {
    let (t, d) = error(&mut bjensen(), json!([{"op": "remove", "path": "userName"}]));
    assert_eq!(t, Some(ScimType::Mutability));
    assert_eq!(
        d,
        "Operation 1 (remove \"userName\"): \"userName\" is required, so it cannot be removed."
    );
}

#[test]
fn bad_paths_are_invalid_path() {
    for path in [
        "favouriteColour",
        "name.nickname",
        "emails[type eq \"work\"",
        "title[value pr]",
        "urn:x:y:z",
    ] {
        let (t, _) = error(
            &mut bjensen(),
            json!([{"op": "replace", "path": path, "value": "x"}]),
        );
        assert_eq!(t, Some(ScimType::InvalidPath), "{path}");
    }
}

#[test]
fn bad_values_are_invalid_value() {
    for (path, value) in [
        ("active", json!("yes")),
        ("userName", json!(7)),
        ("emails", json!([{"value": true}])),
    ] {
        let (t, _) = error(
            &mut bjensen(),
            json!([{"op": "replace", "path": path, "value": value}]),
        );
        assert_eq!(t, Some(ScimType::InvalidValue), "{path}");
    }
    let (t, _) = error(&mut bjensen(), json!([{"op": "add", "path": "title"}]));
    assert_eq!(t, Some(ScimType::InvalidValue));
}

#[test]
fn a_late_failure_rolls_back_earlier_operations() {
    let mut doc = bjensen();
    let (t, d) = error(
        &mut doc,
        json!([
            {"op": "replace", "path": "title", "value": "Changed"},
            {"op": "remove", "path": "emails"},
            {"op": "replace", "path": "id", "value": "x"}
        ]),
    );
    assert_eq!(t, Some(ScimType::Mutability));
    assert!(d.starts_with("Operation 3 (replace \"id\")"), "{d}");
    assert_eq!(doc["title"], "Tour Guide");
}

#[test]
fn malformed_requests_are_invalid_syntax() {
    let mut doc = bjensen();
    let e = patch(
        &mut doc,
        json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        &USER,
    );
    assert_eq!(e.err().and_then(|e| e.scim_type), Some(ScimType::InvalidSyntax));
    let e = patch(&mut doc, ops(json!([])), &USER);
    assert_eq!(e.err().and_then(|e| e.scim_type), Some(ScimType::InvalidSyntax));
    let e = patch(&mut doc, ops(json!([{"op": "move", "path": "title"}])), &USER);
    assert_eq!(e.err().and_then(|e| e.scim_type), Some(ScimType::InvalidSyntax));
    let e = scimd_scim::PatchRequest::from_slice(b"{not json");
    assert_eq!(e.err().and_then(|e| e.scim_type), Some(ScimType::InvalidSyntax));
}
