//! M5 over HTTP with the real app: the org's owner is not SCIM's to take until an admin allows it
//! (`scimd org owner-link`), and SCIM can never deactivate or delete the last active owner.

use crate::harness::{scimd, stdout};
use crate::test_app::TestApp;
use scimd_store::models::{audit_events, members};
use scimd_store::testing::TestDb;

const OWNER: &str = "owner@a.example";

fn create_owner_body(active: bool) -> String {
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{OWNER}","active":{active}}}"#
    )
}

fn the_owner_is_protected(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.client_a();
    let owner_before = db
        .store
        .read(|conn| members::find_by_user_name(conn, &env.a.id, OWNER))
        .unwrap()
        .unwrap();

    let refused = a.send("POST", "/Users", Some(&create_owner_body(false)), &[]);
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.json()["scimType"], "uniqueness");
    // The 409 says whose address it is and how to allow the link: no SCIM list shows the owner.
    let detail = refused.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("organization's owner"), "{detail}");
    assert!(detail.contains("scimd org owner-link"), "{detail}");
    // A userName SCIM manages already is the plain uniqueness error.
    let ada = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@a.example"}"#;
    assert_eq!(a.send("POST", "/Users", Some(ada), &[]).status, 201);
    let taken = a.send("POST", "/Users", Some(ada), &[]);
    assert_eq!(taken.status, 409);
    assert!(
        !taken.json()["detail"].as_str().unwrap().contains("owner"),
        "{}",
        taken.body
    );
    let owner_after = db
        .store
        .read(|conn| members::find_by_user_name(conn, &env.a.id, OWNER))
        .unwrap()
        .unwrap();
    assert_eq!(owner_after, owner_before, "row, role and active unchanged");

    let dir = tempfile::tempdir().unwrap();
    let org = env.a.id.to_string();
    let set = scimd(
        dir.path(),
        Some(&db.url),
        &["org", "owner-link", "--org", &org, "--set", "on", "--json"],
    );
    assert!(set.status.success(), "{set:?}");
    let shown: serde_json::Value = serde_json::from_str(&stdout(&set)).unwrap();
    assert_eq!(shown["allowed"], true);

    let linked = a.send("POST", "/Users", Some(&create_owner_body(true)), &[]);
    assert_eq!(linked.status, 201, "{}", linked.body);
    let id = linked.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(id, owner_before.id);

    let deleted = a.send("DELETE", &format!("/Users/{id}"), None, &[]);
    assert_eq!(deleted.status, 409, "{}", deleted.body);
    let body = deleted.json();
    assert!(
        body["detail"].as_str().unwrap().contains("last active owner"),
        "{body}"
    );
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    assert_eq!(a.get(&format!("/Users/{id}")).status, 200, "still there");
    let refusals = db
        .store
        .read(|conn| audit_events::list(conn, &env.a.id, None, None, 100))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "member.deprovision_refused")
        .count();
    assert_eq!(refusals, 1, "the refusal is audited");
}

scimd_store::backend_tests!(the_owner_is_protected);
