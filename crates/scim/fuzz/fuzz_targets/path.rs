//! Any text as a PATCH attribute path: no panic; what parses renders to text that parses back to the same
//! path (unless the rendering exceeds a named filter limit: escaping lengthens strings); and a parsed path
//! applied as a `remove` to a User and a Group never panics and leaves the document untouched on error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_scim::patch::{self, PatchOperation, PatchRequest};
use scimd_scim::path;
use scimd_scim::schema::{GROUP, USER};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = path::parse(text) else {
        return;
    };
    match path::parse(&p.to_string()) {
        Ok(again) => assert_eq!(again, p, "path round trip of {text:?}"),
        Err(e) => assert!(
            e.detail.contains("MAX_FILTER_LEN") || e.detail.contains("MAX_FILTER_DEPTH"),
            "rendering of {text:?} does not parse: {e}"
        ),
    }
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "b@home.org"}],
        "active": false
    });
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"});
    for (doc, schema) in [(user, &USER), (group, &GROUP)] {
        for (op, value) in [("remove", None), ("add", Some(json!("x"))), ("replace", Some(json!({"value": "y"})))] {
            let req = PatchRequest::new(vec![PatchOperation::new(op, Some(text), value)]);
            let mut work = doc.clone();
            if patch::apply(&mut work, &req, schema).is_err() {
                assert_eq!(work, doc, "a failed PATCH changed the document");
            }
        }
    }
});
