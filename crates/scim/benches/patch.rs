//! PATCH: a 50-operation request on a full User, and a 1,000-member group delta.

use criterion::{Criterion, criterion_group, criterion_main};
use scimd_scim::patch::{self, PatchOperation, PatchRequest};
use scimd_scim::resources;
use scimd_scim::schema::{GROUP, USER};
use serde_json::{Value, json};
use std::hint::black_box;

fn user() -> Value {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "bjensen@example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "department": "Tours"}
    });
    resources::validate(&body, &USER).map(|v| v.doc).unwrap_or(body)
}

/// 50 operations in the mix the IdPs send: replaces by path, value-path updates, path-less dotted keys,
/// string booleans, extension attributes.
fn fifty_ops() -> PatchRequest {
    let mut ops = Vec::new();
    for i in 0..10 {
        ops.push(PatchOperation::new(
            "Replace",
            Some("name.familyName"),
            Some(json!(format!("Jensen{i}"))),
        ));
        ops.push(PatchOperation::new(
            "Replace",
            Some("emails[type eq \"work\"].value"),
            Some(json!(format!("b{i}@example.com"))),
        ));
        ops.push(PatchOperation::new(
            "Replace",
            Some("active"),
            Some(json!(if i % 2 == 0 { "False" } else { "True" })),
        ));
        ops.push(PatchOperation::new(
            "Add",
            None,
            Some(json!({"name.givenName": format!("Babs{i}"), "title": "Guide"})),
        ));
        ops.push(PatchOperation::new(
            "Add",
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            Some(json!(format!("Dept{i}"))),
        ));
    }
    PatchRequest::new(ops)
}

fn bench(c: &mut Criterion) {
    let doc = user();
    let req = fifty_ops();
    c.bench_function("patch/50 ops on a user", |b| {
        b.iter(|| {
            let mut d = doc.clone();
            patch::apply(&mut d, black_box(&req), &USER)
        })
    });
    let members: Vec<Value> = (0..1000)
        .map(|i| json!({"value": format!("member-{i:05}")}))
        .collect();
    let add = PatchRequest::new(vec![PatchOperation::new(
        "Add",
        Some("members"),
        Some(Value::Array(members)),
    )]);
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"});
    c.bench_function("patch/add 1000 members (delta)", |b| {
        b.iter(|| {
            let mut d = group.clone();
            patch::apply(&mut d, black_box(&add), &GROUP)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
