//! Any bytes as a PATCH body against a User and a Group: no panic, and a failed PATCH leaves the document
//! exactly as it was (all-or-nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_scim::patch::{self, PatchRequest};
use scimd_scim::schema::{GROUP, USER};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = PatchRequest::from_slice(data) else {
        return;
    };
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "u1",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}}
    });
    let group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "G"});
    for (doc, schema) in [(user, &USER), (group, &GROUP)] {
        let mut work = doc.clone();
        match patch::apply(&mut work, &req, schema) {
            Ok(out) => {
                // `changed` says exactly whether the document or the membership changed.
                assert_eq!(
                    out.changed,
                    work != doc || out.members.as_ref().is_some_and(|m| !m.is_empty())
                );
            }
            Err(_) => assert_eq!(work, doc, "a failed PATCH changed the document"),
        }
    }
});
