//! The input limits of `scimd_scim::limits` (findings H1, M1, M2, L1, L2 of the security review): each is a
//! 400 whose detail names the limit, on create/replace, on PATCH, and on `attributes` lists; and a refused
//! PATCH leaves the document as it was.

use crate::common::{bjensen, group, ops, patch};
use scimd_scim::limits::{
    MAX_DOCUMENT_BYTES, MAX_IDENTIFIER_BYTES, MAX_PATCH_OPERATIONS, MAX_PROJECTION_ENTRIES, MAX_STRING_BYTES,
    MAX_VALUES_PER_ATTRIBUTE,
};
use scimd_scim::list::{ListQuery, SEARCH_REQUEST_URN, SearchRequest};
use scimd_scim::resources::validate;
use scimd_scim::schema::{GROUP, USER};
use scimd_scim::{ScimError, ScimType, filter, work};
use serde_json::{Value, json};

fn user(extra: Value) -> Value {
    let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u@x"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

fn refused(r: Result<impl std::fmt::Debug, ScimError>, ty: ScimType, limit: &str) {
    let e = r.expect_err("refused");
    assert_eq!((e.status, e.scim_type), (400, Some(ty)), "{e}");
    assert!(e.detail.contains(limit), "{limit} not in: {}", e.detail);
}

#[test]
fn values_per_attribute_on_create_and_patch() {
    let emails: Vec<Value> = (0..=MAX_VALUES_PER_ATTRIBUTE)
        .map(|i| json!(format!("{i}@x")))
        .collect();
    refused(
        validate(&user(json!({"emails": emails.clone()})), &USER),
        ScimType::TooMany,
        "MAX_VALUES_PER_ATTRIBUTE",
    );
    let ok: Vec<Value> = emails[..MAX_VALUES_PER_ATTRIBUTE].to_vec();
    assert!(validate(&user(json!({"emails": ok})), &USER).is_ok());

    // The review's exploit, 50,000 bare strings: refused before any per-value work, so the count of steps
    // is far below the number of values.
    let many: Vec<Value> = (0..50_000).map(|i| json!(i.to_string())).collect();
    let mut doc = bjensen();
    let before = doc.clone();
    let (r, steps) = work::measure(|| {
        patch(
            &mut doc,
            ops(json!([{"op": "add", "path": "emails", "value": many}])),
            &USER,
        )
    });
    refused(r, ScimType::TooMany, "MAX_VALUES_PER_ATTRIBUTE");
    assert!(steps < 50_000, "{steps} steps");
    assert_eq!(doc, before);

    // Many small adds cannot grow a list past the limit either.
    let adds: Vec<Value> = (0..=MAX_VALUES_PER_ATTRIBUTE)
        .map(|i| json!({"op": "add", "path": "emails", "value": [{"value": format!("{i}@y")}]}))
        .collect();
    refused(
        patch(&mut doc, ops(Value::Array(adds)), &USER),
        ScimType::TooMany,
        "MAX_VALUES_PER_ATTRIBUTE",
    );
    assert_eq!(doc, before);
}

/// A document stored before the limits existed, with more values than the limit allows, can still be
/// deactivated and trimmed; a document within the limits cannot be taken over them.
#[test]
fn a_document_already_over_a_limit_stays_patchable() {
    let mut doc = bjensen();
    let emails: Vec<Value> = (0..MAX_VALUES_PER_ATTRIBUTE + 20)
        .map(|i| json!({"value": format!("{i}@x"), "type": "work"}))
        .collect();
    doc["emails"] = Value::Array(emails);
    let r = patch(
        &mut doc,
        ops(json!([{"op": "replace", "value": {"active": false}}])),
        &USER,
    );
    assert!(r.is_ok_and(|o| o.changed), "deactivation works");
    assert_eq!(doc["active"], json!(false));
    let r = patch(
        &mut doc,
        ops(json!([{"op": "remove", "path": "emails[value eq \"0@x\"]"}])),
        &USER,
    );
    assert!(r.is_ok());
    assert_eq!(
        doc["emails"].as_array().map(Vec::len),
        Some(MAX_VALUES_PER_ATTRIBUTE + 19)
    );
    let mut small = bjensen();
    let r = patch(
        &mut small,
        ops(json!([{"op": "replace", "path": "emails", "value": doc["emails"].clone()}])),
        &USER,
    );
    refused(r, ScimType::TooMany, "MAX_VALUES_PER_ATTRIBUTE");
}

#[test]
fn duplicates_are_dropped_first_occurrence_wins() {
    let body = user(json!({"emails": [
        {"value": "a@x", "type": "work"}, {"type": "work", "value": "a@x"}, "b@x", {"value": "b@x"}, {"value": "a@x"}
    ]}));
    let v = validate(&body, &USER).expect("valid");
    assert_eq!(
        v.doc["emails"],
        json!([{"value": "a@x", "type": "work"}, {"value": "b@x"}, {"value": "a@x"}])
    );
    let mut doc = bjensen();
    let out = patch(
        &mut doc,
        ops(json!([{"op": "add", "path": "emails", "value": [
            {"value": "babs@jensen.org", "type": "home"}, {"value": "new@x"}, {"value": "new@x"}
        ]}])),
        &USER,
    );
    assert!(out.is_ok());
    let values: Vec<&str> = doc["emails"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["value"].as_str())
        .collect();
    assert_eq!(values, ["bjensen@example.com", "babs@jensen.org", "new@x"]);
}

#[test]
fn string_lengths_identifiers_shorter() {
    let long_id = "a".repeat(MAX_IDENTIFIER_BYTES + 1);
    refused(
        validate(&user(json!({"userName": long_id.clone()})), &USER),
        ScimType::InvalidValue,
        "MAX_IDENTIFIER_BYTES",
    );
    refused(
        validate(&user(json!({"externalId": long_id.clone()})), &USER),
        ScimType::InvalidValue,
        "MAX_IDENTIFIER_BYTES",
    );
    let g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": long_id});
    refused(
        validate(&g, &GROUP),
        ScimType::InvalidValue,
        "MAX_IDENTIFIER_BYTES",
    );
    // A long string elsewhere is fine up to the general limit.
    let title = "t".repeat(MAX_IDENTIFIER_BYTES + 1);
    assert!(validate(&user(json!({"title": title})), &USER).is_ok());
    let title = "t".repeat(MAX_STRING_BYTES + 1);
    refused(
        validate(&user(json!({"title": title.clone()})), &USER),
        ScimType::InvalidValue,
        "MAX_STRING_BYTES",
    );
    let mut doc = bjensen();
    let before = doc.clone();
    let r = patch(
        &mut doc,
        ops(json!([{"op": "replace", "path": "userName", "value": "u".repeat(600)}])),
        &USER,
    );
    refused(r, ScimType::InvalidValue, "MAX_IDENTIFIER_BYTES");
    let r = patch(
        &mut doc,
        ops(json!([{"op": "replace", "value": {"title": title}}])),
        &USER,
    );
    refused(r, ScimType::InvalidValue, "MAX_STRING_BYTES");
    assert_eq!(doc, before);
}

#[test]
fn control_characters_are_refused_tab_cr_lf_kept() {
    for bad in ["a\u{0}b", "bell\u{7}", "esc\u{1b}"] {
        refused(
            validate(&user(json!({"title": bad})), &USER),
            ScimType::InvalidValue,
            "control character",
        );
        let ext = json!({"urn:example:ext:1.0": {"note": bad}});
        refused(
            validate(&user(ext), &USER),
            ScimType::InvalidValue,
            "control character",
        );
        let mut doc = bjensen();
        let r = patch(
            &mut doc,
            ops(json!([{"op": "add", "path": "nickName", "value": bad}])),
            &USER,
        );
        refused(r, ScimType::InvalidValue, "control character");
        let r = patch(
            &mut doc,
            ops(
                json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:custom", "value": bad}]),
            ),
            &USER,
        );
        refused(r, ScimType::InvalidValue, "control character");
    }
    let ok = validate(
        &user(json!({"addresses": [{"formatted": "1 Main St\r\nTown\tUS"}]})),
        &USER,
    );
    assert!(ok.is_ok());
    // Group member ids too: the store binds them as SQL parameters.
    let g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G",
                   "members": [{"value": "a\u{0}"}]});
    refused(validate(&g, &GROUP), ScimType::InvalidValue, "control character");
    let r = patch(
        &mut group(),
        ops(json!([{"op": "add", "path": "members", "value": [{"value": "\u{0}"}]}])),
        &GROUP,
    );
    refused(r, ScimType::InvalidValue, "control character");
}

#[test]
fn nul_in_a_filter_operand_is_invalid_filter() {
    for text in [
        r#"title eq "a\u0000b""#,
        "title eq \"a\u{0}b\"",
        r#"emails[value co "\u0000"]"#,
    ] {
        refused(filter::parse(text), ScimType::InvalidFilter, "NUL");
    }
    assert!(filter::parse(r#"title eq "a\tb""#).is_ok());
}

#[test]
fn document_size() {
    let chunk = "x".repeat(MAX_STRING_BYTES - 100);
    let big: serde_json::Map<String, Value> =
        (0..40).map(|i| (format!("k{i}"), json!(chunk.clone()))).collect();
    refused(
        validate(&user(json!({"urn:example:ext:1.0": big.clone()})), &USER),
        ScimType::InvalidValue,
        "MAX_DOCUMENT_BYTES",
    );
    // PATCH: each value is small, but together they pass the limit; the document is left as it was.
    let mut doc = bjensen();
    let before = doc.clone();
    let adds: Vec<Value> = big
        .iter()
        .map(|(k, v)| json!({"op": "add", "path": format!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:{k}"), "value": v}))
        .collect();
    assert!(serde_json::to_string(&adds).map(|s| s.len()).unwrap_or(0) > MAX_DOCUMENT_BYTES);
    refused(
        patch(&mut doc, ops(Value::Array(adds)), &USER),
        ScimType::InvalidValue,
        "MAX_DOCUMENT_BYTES",
    );
    assert_eq!(doc, before);
}

#[test]
fn patch_operation_count() {
    let many: Vec<Value> = (0..=MAX_PATCH_OPERATIONS)
        .map(|_| json!({"op": "replace", "path": "title", "value": "t"}))
        .collect();
    refused(
        patch(&mut bjensen(), ops(Value::Array(many)), &USER),
        ScimType::TooMany,
        "MAX_PATCH_OPERATIONS",
    );
}

#[test]
fn projection_lists_in_the_query_and_the_search_body() {
    let names: Vec<String> = (0..=MAX_PROJECTION_ENTRIES).map(|i| format!("a{i}")).collect();
    let joined = names.join(",");
    refused(
        ListQuery::from_query_pairs([("attributes", joined.as_str())]),
        ScimType::TooMany,
        "MAX_PROJECTION_ENTRIES",
    );
    refused(
        ListQuery::from_query_pairs([("excludedAttributes", joined.as_str())]),
        ScimType::TooMany,
        "MAX_PROJECTION_ENTRIES",
    );
    // Split across repeated parameters, the entries still count together.
    let halves = [
        ("attributes", names[..40].join(",")),
        ("attributes", names[40..].join(",")),
    ];
    refused(
        ListQuery::from_query_pairs(halves),
        ScimType::TooMany,
        "MAX_PROJECTION_ENTRIES",
    );
    let long = "a".repeat(300);
    refused(
        ListQuery::from_query_pairs([("attributes", long.as_str())]),
        ScimType::InvalidValue,
        "MAX_PROJECTION_ENTRY_BYTES",
    );
    let body = SearchRequest {
        schemas: vec![SEARCH_REQUEST_URN.to_owned()],
        attributes: Some(vec!["userName".to_owned(); 100_000]),
        ..SearchRequest::default()
    };
    let (r, steps) = work::measure(|| ListQuery::from_search_request(&body));
    refused(r, ScimType::TooMany, "MAX_PROJECTION_ENTRIES");
    assert!(
        steps <= 2 * MAX_PROJECTION_ENTRIES as u64,
        "stops at the limit: {steps} steps"
    );
    let body = SearchRequest {
        schemas: vec![SEARCH_REQUEST_URN.to_owned()],
        excluded_attributes: Some(vec![long]),
        ..SearchRequest::default()
    };
    refused(
        ListQuery::from_search_request(&body),
        ScimType::InvalidValue,
        "MAX_PROJECTION_ENTRY_BYTES",
    );
    let q = ListQuery::from_query_pairs([("attributes", names[..MAX_PROJECTION_ENTRIES].join(","))]);
    assert_eq!(q.map(|q| q.attributes.len()), Ok(MAX_PROJECTION_ENTRIES));
}
