//! Custom attributes over HTTP, on both backends: declared per org, advertised in `/Schemas` and
//! `/ResourceTypes`, written by POST, PUT and Entra-style PATCH paths, validated by type, filtered in the
//! database (declared filterable only), and carried by the directory API and the feed; one org's
//! declarations and values never reach another.

use crate::scim_client::Client;
use crate::test_app::TestApp;
use scimd_scim::schema::CustomType;
use scimd_store::models::attributes::{self, NewDefinition};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, OrgId, SystemClock};
use serde_json::{Value, json};

const URN: &str = "urn:ietf:params:scim:schemas:extension:scimd:2.0:User";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn define(env: &TestApp, org: &OrgId, name: &str, ty: CustomType, multi: bool, filterable: bool) {
    let new = NewDefinition {
        name,
        ty,
        multi_valued: multi,
        case_exact: false,
        filterable,
        claim: None,
    };
    let now = SystemClock.now_naive();
    env.store
        .write(|conn| attributes::define(conn, Some(org), "test", &new, now))
        .unwrap();
}

fn create(c: &Client, name: &str, custom: Value) -> (u16, Value) {
    let body = json!({"schemas": [USER, URN], "userName": name, URN: custom});
    let r = c.send("POST", "/Users", Some(&body.to_string()), &[]);
    (r.status, r.json())
}

fn patch(c: &Client, id: &str, op: Value) -> (u16, Value) {
    let body = json!({"schemas": [PATCH_OP], "Operations": [op]}).to_string();
    let r = c.send("PATCH", &format!("/Users/{id}"), Some(&body), &[]);
    (r.status, r.json())
}

/// The userNames a filter finds, or the error's `scimType`.
fn filter(c: &Client, f: &str) -> Result<Vec<String>, String> {
    let q: String = url_encode(f);
    let r = c.get(&format!("/Users?filter={q}"));
    let v = r.json();
    if r.status != 200 {
        return Err(v["scimType"].as_str().unwrap_or_default().to_owned());
    }
    let mut names: Vec<String> = v["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn custom_attributes(db: &TestDb) {
    let env = &TestApp::init(db);
    let (a, b) = (env.client_a(), env.client_b());
    define(env, &env.a.id, "costCenter", CustomType::String, false, true);
    define(env, &env.a.id, "clearance", CustomType::Integer, false, true);
    define(env, &env.a.id, "contractor", CustomType::Boolean, false, false);
    define(env, &env.a.id, "badges", CustomType::String, true, true);
    define(env, &env.a.id, "hiredAt", CustomType::DateTime, false, true);
    define(env, &env.b.id, "costCenter", CustomType::String, false, true);

    // Discovery: A's extension with A's attributes; B's with B's only.
    let schemas = a.get("/Schemas").json();
    assert_eq!(schemas["totalResults"], 4);
    let ext = a.get(&format!("/Schemas/{URN}")).json();
    assert_eq!(ext["id"], URN);
    let names: Vec<&str> = ext["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["badges", "clearance", "contractor", "costCenter", "hiredAt"]
    );
    let clearance = &ext["attributes"][1];
    assert_eq!(
        (
            &clearance["type"],
            &clearance["multiValued"],
            &clearance["mutability"],
            &clearance["returned"],
            &clearance["uniqueness"],
            &clearance["caseExact"]
        ),
        (
            &json!("integer"),
            &json!(false),
            &json!("readWrite"),
            &json!("default"),
            &json!("none"),
            &json!(false)
        )
    );
    assert_eq!(ext["attributes"][0]["multiValued"], true);
    let user_rt = a.get("/ResourceTypes/User").json();
    let exts: Vec<&str> = user_rt["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["schema"].as_str().unwrap())
        .collect();
    assert_eq!(
        exts,
        ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", URN]
    );
    // RFC 7643 §6: an extension a User may carry, not one it must.
    assert_eq!(
        user_rt["schemaExtensions"][1],
        json!({"schema": URN, "required": false})
    );
    // Okta's schema discovery reads the list: the extension is in it, with its attributes.
    let listed = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == URN)
        .cloned()
        .unwrap();
    assert_eq!(listed["attributes"], ext["attributes"]);
    assert!(
        listed["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Schemas/{URN}")),
        "{listed}"
    );
    let b_ext = b.get(&format!("/Schemas/{URN}")).json();
    assert_eq!(b_ext["attributes"].as_array().unwrap().len(), 1);

    // Writes: typed, canonicalised (Entra's string booleans and numbers), the attribute named when wrong.
    let (status, ann) = create(
        &a,
        "ann@a.example",
        json!({"CostCenter": "CC-1", "clearance": "3", "contractor": "False", "badges": ["Blue", "Red"],
               "hiredAt": "2024-01-02T03:04:05Z"}),
    );
    assert_eq!(status, 201, "{ann}");
    assert_eq!(
        ann[URN],
        json!({"costCenter": "CC-1", "clearance": 3, "contractor": false, "badges": ["Blue", "Red"],
               "hiredAt": "2024-01-02T03:04:05Z"})
    );
    let ann_id = ann["id"].as_str().unwrap().to_owned();
    let (status, err) = create(&a, "bad@a.example", json!({"clearance": "high"}));
    assert_eq!((status, err["scimType"].as_str()), (400, Some("invalidValue")));
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{URN}:clearance")),
        "{err}"
    );
    let (status, bob) = create(&a, "bob@a.example", json!({"costCenter": "CC-2", "clearance": 1}));
    assert_eq!(status, 201, "{bob}");
    let bob_id = bob["id"].as_str().unwrap().to_owned();

    // Entra's PATCH: the full path of the attribute, "Replace" in any case; a wrong type names it.
    let (status, body) = patch(
        &a,
        &bob_id,
        json!({"op": "Replace", "path": format!("{URN}:costCenter"), "value": "CC-9"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[URN]["costCenter"], "CC-9");
    let (status, body) = patch(
        &a,
        &bob_id,
        json!({"op": "add", "path": format!("{URN}:hiredAt"), "value": "not a date"}),
    );
    assert_eq!((status, body["scimType"].as_str()), (400, Some("invalidValue")));
    assert!(body["detail"].as_str().unwrap().contains("hiredAt"), "{body}");
    // Entra's path-less form: the value's keys are full paths (as it sends the enterprise extension's); a
    // string integer is stored typed.
    let (status, body) = patch(
        &a,
        &bob_id,
        json!({"op": "Replace", "value": {format!("{URN}:clearance"): "2", "displayName": "Bob"}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body[URN]["clearance"], &body[URN]["costCenter"]),
        (&json!(2), &json!("CC-9"))
    );
    let (status, body) = patch(
        &a,
        &bob_id,
        json!({"op": "Replace", "value": {format!("{URN}:clearance"): "two"}}),
    );
    assert_eq!((status, body["scimType"].as_str()), (400, Some("invalidValue")));
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{URN}:clearance")),
        "{body}"
    );
    let (status, body) = patch(
        &a,
        &bob_id,
        json!({"op": "Replace", "path": format!("{URN}:clearance"), "value": 1}),
    );
    assert_eq!((status, &body[URN]["clearance"]), (200, &json!(1)), "{body}");
    // A first custom attribute on a user that had none, by PATCH.
    let (status, cy) = create(&a, "cy@a.example", json!({}));
    assert_eq!(status, 201, "{cy}");
    let cy_id = cy["id"].as_str().unwrap().to_owned();
    let (status, body) = patch(
        &a,
        &cy_id,
        json!({"op": "add", "path": format!("{URN}:badges"), "value": ["green"]}),
    );
    assert_eq!(status, 200, "{body}");

    // Filters: declared filterable attributes, in the database, case-insensitive unless caseExact.
    let cc = format!("{URN}:costCenter");
    assert_eq!(
        filter(&a, &format!("{cc} eq \"cc-9\"")),
        Ok(vec!["bob@a.example".into()])
    );
    assert_eq!(filter(&a, &format!("{cc} sw \"CC\"")).map(|v| v.len()), Ok(2));
    assert_eq!(
        filter(&a, &format!("{URN}:clearance gt 2")),
        Ok(vec!["ann@a.example".into()])
    );
    assert_eq!(
        filter(
            &a,
            &format!("{URN}:badges eq \"RED\" or {URN}:badges eq \"green\"")
        ),
        Ok(vec!["ann@a.example".into(), "cy@a.example".into()])
    );
    assert_eq!(
        filter(&a, &format!("{URN}:hiredAt lt \"2025-01-01T00:00:00Z\"")),
        Ok(vec!["ann@a.example".into()])
    );
    assert_eq!(
        filter(&a, &format!("{URN}:costCenter pr and userName sw \"a\"")),
        Ok(vec!["ann@a.example".into()])
    );
    assert_eq!(
        filter(&a, &format!("not ({cc} eq \"CC-1\") and {cc} pr")),
        Ok(vec!["bob@a.example".into()])
    );
    assert_eq!(
        filter(&a, &format!("{URN}:contractor eq false")),
        Err("invalidFilter".into()),
        "declared, not filterable"
    );
    assert_eq!(
        filter(&a, &format!("{URN}:nope eq \"x\"")),
        Err("invalidFilter".into())
    );

    // The same filter through POST /.search (over Users and Groups): Groups have no custom attributes.
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": format!("{cc} eq \"CC-9\"")});
    let r = a.send("POST", "/.search", Some(&search.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["totalResults"], 1);
    assert_eq!(r.json()["Resources"][0]["userName"], "bob@a.example");

    // PUT replaces the values, and a value removed leaves the index.
    let put = json!({"schemas": [USER, URN], "userName": "bob@a.example", URN: {"clearance": 7}});
    let r = a.send("PUT", &format!("/Users/{bob_id}"), Some(&put.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(filter(&a, &format!("{cc} eq \"cc-9\"")), Ok(vec![]));
    assert_eq!(
        filter(&a, &format!("{URN}:clearance ge 7")),
        Ok(vec!["bob@a.example".into()])
    );
    let rows = env
        .store
        .read(|conn| attributes::indexed_values(conn, &env.a.id, &bob_id))
        .unwrap();
    assert_eq!(rows, vec![("clearance".to_owned(), 0, None, Some(7))]);

    // Tenants: B's user with A's value is not A's, and B's filter sees B's only.
    let (status, _) = create(&b, "ann@b.example", json!({"costCenter": "CC-1"}));
    assert_eq!(status, 201);
    assert_eq!(
        filter(&a, &format!("{cc} eq \"CC-1\"")),
        Ok(vec!["ann@a.example".into()])
    );
    assert_eq!(
        filter(&b, &format!("{cc} eq \"CC-1\"")),
        Ok(vec!["ann@b.example".into()])
    );
    assert_eq!(
        filter(&b, &format!("{URN}:clearance gt 0")),
        Err("invalidFilter".into()),
        "A's declaration is not B's"
    );

    // The directory API and the feed carry them.
    let key = env.api_key(Some(&env.a.id));
    let api = env.client(String::new(), Some(&key));
    let user = api.get(&format!("/api/v1/orgs/{}/users/{ann_id}", env.a.id));
    assert_eq!(user.status, 200, "{}", user.body);
    assert_eq!(user.json()["attributes"]["costCenter"], "CC-1");
    assert_eq!(user.json()["attributes"]["badges"], json!(["Blue", "Red"]));
    let events = api
        .get(&format!(
            "/api/v1/events?after=0&org={}&types=user.updated",
            env.a.id
        ))
        .json();
    let last = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["data"]["id"] == bob_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(last["data"]["user"]["attributes"], json!({"clearance": 7}));
}

/// Values an IdP sent before the attribute was declared (kept verbatim, as any undeclared attribute): the
/// declaration indexes them at once when filterable, so a filter finds them, and is refused, naming the
/// attribute, when one of them does not fit its type (which would otherwise make that user's every later
/// write a 400, a deactivation included).
fn values_sent_before_a_declaration(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.client_a();
    let (status, early) = create(&a, "early@a.example", json!({"level": "3", "clearance": "high"}));
    assert_eq!(status, 201, "{early}");
    let early_id = early["id"].as_str().unwrap().to_owned();
    let (status, late) = create(&a, "late@a.example", json!({"level": 5}));
    assert_eq!(status, 201, "{late}");
    // B's value does not stand in the way of A's declaration, nor is it indexed as A's.
    let (status, _) = create(
        &env.client_b(),
        "early@b.example",
        json!({"level": 3, "clearance": 9}),
    );
    assert_eq!(status, 201);
    let before = filter(&a, &format!("{URN}:level eq 3"));
    assert_eq!(before, Err("invalidFilter".into()), "undeclared: not filterable");

    define(env, &env.a.id, "level", CustomType::Integer, false, true);
    assert_eq!(
        filter(&a, &format!("{URN}:level eq 3")),
        Ok(vec!["early@a.example".into()]),
        "indexed by the declaration, typed"
    );
    assert_eq!(
        filter(&a, &format!("{URN}:level ge 3")),
        Ok(vec!["early@a.example".into(), "late@a.example".into()])
    );

    let wrong = NewDefinition {
        name: "clearance",
        ty: CustomType::Integer,
        multi_valued: false,
        case_exact: false,
        filterable: true,
        claim: None,
    };
    let now = SystemClock.now_naive();
    let refused = env
        .store
        .write(|conn| attributes::define(conn, Some(&env.a.id), "test", &wrong, now));
    let Err(scimd_store::StoreError::Refused(why)) = refused else {
        panic!("a declaration its existing values do not fit: {refused:?}");
    };
    assert!(
        why.contains("1 member(s)") && why.contains("clearance") && why.contains(&early_id),
        "{why}"
    );
    let declared = env.store.read(|conn| attributes::list(conn, &env.a.id)).unwrap();
    assert_eq!(declared.len(), 1, "the refused declaration left nothing");
    let (status, body) = patch(
        &a,
        &early_id,
        json!({"op": "replace", "value": {"active": false}}),
    );
    assert_eq!((status, &body["active"]), (200, &json!(false)), "{body}");

    // Declared with the type the IdP sends, it is adopted like the other.
    define(env, &env.a.id, "clearance", CustomType::String, false, true);
    assert_eq!(
        filter(&a, &format!("{URN}:clearance eq \"HIGH\"")),
        Ok(vec!["early@a.example".into()])
    );
    let rows = env
        .store
        .read(|conn| attributes::indexed_values(conn, &env.a.id, &early_id))
        .unwrap();
    assert_eq!(
        rows,
        [
            ("clearance".to_owned(), 0, Some("high".to_owned()), None),
            ("level".to_owned(), 0, None, Some(3)),
        ]
    );
}

scimd_store::backend_tests!(custom_attributes, values_sent_before_a_declaration);
