//! Tenant isolation and the protocol's edges over HTTP: org A's token on org B's ids answers 404 on every
//! endpoint and method and leaves B unchanged; A's token at B's URL is the same 401 as a bad token; filters
//! never reach another org; ETags, limits, content types and the unimplemented endpoints.

use crate::scim_client::Client;
use crate::test_app::TestApp;
use scimd_store::testing::TestDb;
use serde_json::Value;

const USER: &str =
    r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"NAME","active":true}"#;
const GROUP: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"NAME"}"#;
const DEACTIVATE: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#;

fn create(c: &Client, path: &str, template: &str, name: &str) -> String {
    let r = c.send("POST", path, Some(&template.replace("NAME", name)), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn isolation(db: &TestDb) {
    let env = &TestApp::init(db);
    let (a, b) = (env.client_a(), env.client_b());
    create(&a, "/Users", USER, "alice@a.example");
    let b_user = create(&b, "/Users", USER, "bob@b.example");
    let b_group = create(&b, "/Groups", GROUP, "B team");
    let b_member = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"add","path":"members","value":[{{"value":"{b_user}"}}]}}]}}"#
    );
    assert_eq!(
        b.send("PATCH", &format!("/Groups/{b_group}"), Some(&b_member), &[])
            .status,
        204
    );
    let before = (
        b.get(&format!("/Users/{b_user}")).body,
        b.get(&format!("/Groups/{b_group}")).body,
    );

    for (method, path, body) in [
        ("GET", format!("/Users/{b_user}"), None),
        (
            "PUT",
            format!("/Users/{b_user}"),
            Some(USER.replace("NAME", "bob@b.example")),
        ),
        ("PATCH", format!("/Users/{b_user}"), Some(DEACTIVATE.to_owned())),
        ("DELETE", format!("/Users/{b_user}"), None),
        ("GET", format!("/Groups/{b_group}"), None),
        (
            "PUT",
            format!("/Groups/{b_group}"),
            Some(GROUP.replace("NAME", "stolen")),
        ),
        (
            "PATCH",
            format!("/Groups/{b_group}"),
            Some(b_member.replace("add", "remove")),
        ),
        ("DELETE", format!("/Groups/{b_group}"), None),
    ] {
        let r = a.send(method, &path, body.as_deref(), &[]);
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
        assert_eq!(
            r.json()["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    // A's group cannot take B's user as a member: the whole request fails.
    let a_group = create(&a, "/Groups", GROUP, "A team");
    let r = a.send("PATCH", &format!("/Groups/{a_group}"), Some(&b_member), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    let with_foreign = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"X","members":[{{"value":"{b_user}"}}]}}"#
    );
    assert_eq!(a.send("POST", "/Groups", Some(&with_foreign), &[]).status, 400);
    assert_eq!(
        (
            b.get(&format!("/Users/{b_user}")).body,
            b.get(&format!("/Groups/{b_group}")).body
        ),
        before,
        "B unchanged"
    );

    // Filters and searches stay in A (the owner is not SCIM-managed yet, so A has exactly alice).
    let r = a.get("/Users?filter=userName pr or id pr");
    assert_eq!(r.json()["totalResults"], 1, "{}", r.body);
    let r = a.send(
        "POST",
        "/.search",
        Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"id pr"}"#),
        &[],
    );
    assert_eq!(r.json()["totalResults"], 2, "{}", r.body);
    let r = a.get(&format!(r#"/Users?filter=id eq "{b_user}""#));
    assert_eq!(r.json()["totalResults"], 0);

    // A's token at B's URL, an unknown token, a malformed one, none: the same 401.
    let at_b = a.with_base(b.base.clone());
    let revoked_like = a.with_token(Some("scimd_0000000000000000000000000000000000000000000AAAAAA"));
    let unauthorized: Vec<Value> = [
        at_b,
        revoked_like,
        a.with_token(Some("garbage")),
        a.with_token(None),
    ]
    .iter()
    .map(|c| {
        let r = c.get("/Users");
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        r.json()
    })
    .collect();
    assert!(unauthorized.windows(2).all(|w| w[0] == w[1]), "{unauthorized:?}");
}

fn protocol_edges(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = env.client_a();
    let id = create(&a, "/Users", USER, "etag@a.example");
    let r = a.get(&format!("/Users/{id}"));
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(etag, r#"W/"1""#);
    // If-Match: a stale version is 412 and changes nothing; the current one goes through.
    let stale = a.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(DEACTIVATE),
        &[("If-Match", r#"W/"7""#)],
    );
    assert_eq!(stale.status, 412, "{}", stale.body);
    let ok = a.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(DEACTIVATE),
        &[("If-Match", &etag)],
    );
    assert_eq!((ok.status, ok.header("etag")), (200, Some(r#"W/"2""#)));
    assert_eq!(
        a.send("DELETE", &format!("/Users/{id}"), None, &[("If-Match", &etag)])
            .status,
        412
    );

    // application/json is accepted; anything else is 415; the answer is application/scim+json.
    let r = a.send(
        "POST",
        "/Users",
        Some(&USER.replace("NAME", "json@a.example")),
        &[("Content-Type", "application/json; charset=utf-8")],
    );
    assert_eq!(
        (r.status, r.header("content-type")),
        (201, Some("application/scim+json"))
    );
    assert!(
        r.header("location")
            .unwrap()
            .ends_with(&format!("/Users/{}", r.json()["id"].as_str().unwrap()))
    );
    assert_eq!(
        a.send("POST", "/Users", Some(USER), &[("Content-Type", "text/plain")])
            .status,
        415
    );

    // Limits.
    let big = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big@a.example","title":"{}"}}"#,
        "x".repeat(3 << 20)
    );
    let r = a.send("POST", "/Users", Some(&big), &[]);
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(200)]);
    let ops = vec![r#"{"op":"replace","path":"title","value":"t"}"#; 1001].join(",");
    let r = a.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(&format!(
            r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{ops}]}}"#
        )),
        &[],
    );
    assert_eq!(
        (r.status, r.json()["scimType"].clone()),
        (400, Value::from("tooMany"))
    );
    let r = a.get(&format!(
        "/Users?filter={}",
        vec!["userName pr"; 300].join(" or ")
    ));
    assert_eq!(
        (r.status, r.json()["scimType"].clone()),
        (400, Value::from("invalidFilter"))
    );
    let r = a.get(r#"/Users?filter=password eq "x""#);
    assert_eq!(
        (r.status, r.json()["scimType"].clone()),
        (400, Value::from("invalidFilter"))
    );
    let r = a.get("/Users?count=5000&startIndex=-4");
    assert_eq!((r.status, r.json()["startIndex"].clone()), (200, Value::from(1)));

    // Cursor pagination (RFC 9865) beside index paging.
    for i in 0..5 {
        create(&a, "/Users", USER, &format!("page{i}@a.example"));
    }
    let mut seen = 0;
    let mut next = String::new();
    loop {
        let r = a.get(&format!(
            "/Users?filter=userName sw \"page\"&count=2&cursor={next}"
        ));
        let j = r.json();
        assert_eq!(j["totalResults"], 5, "{j}");
        seen += j["Resources"].as_array().unwrap().len();
        match j["nextCursor"].as_str() {
            Some(c) => next = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 5);
    assert_eq!(a.get("/Users?cursor=bogus").json()["scimType"], "invalidCursor");

    // Discovery, /Me, unknown paths, wrong methods.
    let spc = a.get("/ServiceProviderConfig").json();
    assert_eq!(
        (
            spc["patch"]["supported"].clone(),
            spc["etag"]["supported"].clone(),
            spc["filter"]["maxResults"].clone()
        ),
        (Value::from(true), Value::from(true), Value::from(1000))
    );
    assert_eq!(a.get("/ResourceTypes").json()["totalResults"], 2);
    assert_eq!(a.get("/Schemas").json()["totalResults"], 3);
    assert_eq!(
        a.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
            .json()["name"],
        "User"
    );
    assert_eq!(a.get("/ResourceTypes/Group").json()["endpoint"], "/Groups");
    assert_eq!(a.get("/Me").status, 501);
    assert_eq!(a.get("/Nope").status, 404);
    assert_eq!(a.send("DELETE", "/Users", None, &[]).status, 405);
}

scimd_store::backend_tests!(isolation, protocol_edges);
