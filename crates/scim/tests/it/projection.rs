//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) honouring `returned`.

use crate::common::bjensen;
use scimd_scim::projection::{Selection, project};
use scimd_scim::resources::group::{MemberKind, member_entry, set_members};
use scimd_scim::schema::{GROUP, USER};
use scimd_scim::work;
use serde_json::json;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

#[test]
fn attributes_keeps_always_returned_ones() {
    let out = project(&bjensen(), &USER, &s(&["userName", "name.givenName"]), &[]);
    assert_eq!(
        out,
        json!({
            "schemas": bjensen()["schemas"],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "userName": "bjensen@example.com",
            "name": {"givenName": "Barbara"}
        })
    );
}

#[test]
fn attributes_are_case_insensitive_and_may_be_urn_qualified() {
    let out = project(
        &bjensen(),
        &USER,
        &s(&["USERNAME,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"]),
        &[],
    );
    assert_eq!(out["userName"], "bjensen@example.com");
    assert_eq!(
        out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        json!({"employeeNumber": "701984"})
    );
    assert!(out.get("emails").is_none());
    let out = project(
        &bjensen(),
        &USER,
        &s(&["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]),
        &[],
    );
    assert_eq!(
        out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["costCenter"],
        "4130"
    );
}

#[test]
fn excluded_attributes() {
    let out = project(
        &bjensen(),
        &USER,
        &[],
        &s(&["emails", "name.middleName", "id", "meta"]),
    );
    assert!(out.get("emails").is_none());
    assert!(out["name"].get("middleName").is_none());
    assert_eq!(out["name"]["givenName"], "Barbara");
    assert_eq!(
        out["id"], "2819c223-7f76-453a-919d-413861904646",
        "id is returned always"
    );
    assert!(out.get("meta").is_none());
    assert_eq!(out["phoneNumbers"], bjensen()["phoneNumbers"]);
}

#[test]
fn never_returned_attributes_never_are() {
    let mut doc = bjensen();
    doc["password"] = json!("secret");
    assert!(project(&doc, &USER, &[], &[]).get("password").is_none());
    assert!(
        project(&doc, &USER, &s(&["password"]), &[])
            .get("password")
            .is_none()
    );
    assert_eq!(
        project(&bjensen(), &USER, &[], &[]),
        bjensen(),
        "no parameters: everything returnable"
    );
}

#[test]
fn group_members_excluded() {
    let mut doc = crate::common::group();
    set_members(
        &mut doc,
        vec![member_entry("https://h/scim/v2", "u1", MemberKind::User, None)],
    );
    let out = project(&doc, &GROUP, &[], &s(&["members"]));
    assert!(out.get("members").is_none());
    assert_eq!(out["displayName"], "Tour Guides");
    let out = project(&doc, &GROUP, &s(&["members.value"]), &[]);
    assert_eq!(out["members"], json!([{"value": "u1"}]));
}

/// Finding M1: a selection is compiled once per request and reused for every document; duplicate entries
/// are dropped, so they add no work per document.
#[test]
fn a_selection_is_compiled_once_and_duplicates_cost_nothing_per_document() {
    let doc = bjensen();
    let one = s(&["userName", "emails.value"]);
    let mut repeated = Vec::new();
    for _ in 0..30 {
        repeated.extend(s(&["USERNAME", "emails.VALUE"]));
    }
    let (sel_one, _) = work::measure(|| Selection::new(&USER, &one, &[]));
    let (sel_rep, compile) = work::measure(|| Selection::new(&USER, &repeated, &[]));
    assert_eq!(sel_rep.len(), 2);
    assert!(
        compile >= 60,
        "each entry is parsed once when compiling: {compile} steps"
    );
    let (a, steps_one) = work::measure(|| sel_one.project(&doc));
    let (b, steps_rep) = work::measure(|| sel_rep.project(&doc));
    assert_eq!(a, b);
    assert_eq!(a, project(&doc, &USER, &one, &[]));
    assert_eq!(
        steps_one, steps_rep,
        "per-document work does not depend on duplicates"
    );
    // Projecting ten documents with one selection is ten times one document: no parsing per document.
    let (docs, ten) = work::measure(|| (0..10).map(|_| sel_rep.project(&doc)).collect::<Vec<_>>());
    assert!(docs.iter().all(|d| *d == b));
    assert_eq!(ten, 10 * steps_rep);
    assert!(sel_rep.shows("emails") && !sel_rep.shows("groups"));
    // The same selection from a list query's parameters.
    let q = scimd_scim::list::ListQuery::from_query_pairs([("attributes", "userName,USERNAME,emails.value")]);
    let q = q.expect("a query");
    assert_eq!(q.selection(&USER).project(&doc), b);
}
