//! The platform API's OpenAPI document (`GET /api/v1/openapi.json`), kept true on both backends: it is
//! OpenAPI 3.1; its operations are exactly the routes the app registers under `/api/v1`; every operation answers at its documented path;
//! every documented status of every operation is provoked and its real answer validated against the
//! document's schema (`openapi_schema`), and so are the query parameters' documented bounds.

use crate::openapi_schema::Document;
use crate::scim_client::Reply;
use crate::test_app::TestApp;
use actix_web::ResponseError;
use scimd_server::platform_api::error::PlatformApiError;
use scimd_store::StoreError;
use scimd_store::testing::TestDb;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

const EVENTS: &str = "/api/v1/events";
const ORGS: &str = "/api/v1/orgs";
const USERS: &str = "/api/v1/orgs/{org}/users";
const ONE_USER: &str = "/api/v1/orgs/{org}/users/{id}";
const GROUPS: &str = "/api/v1/orgs/{org}/groups";
const ONE_GROUP: &str = "/api/v1/orgs/{org}/groups/{id}";
const MEMBERS: &str = "/api/v1/orgs/{org}/groups/{id}/members";
const AUDIT: &str = "/api/v1/orgs/{org}/audit";
const ACTIVITY: &str = "/api/v1/orgs/{org}/activity";
const OPENAPI: &str = "/api/v1/openapi.json";

/// The statuses that only an outage (503), a bug (500) or a burst (429, provoked once, on the feed) give.
const NOT_PROVOKED_PER_OPERATION: [u16; 3] = [429, 500, 503];

fn document(env: &TestApp) -> Document {
    let r = env.get(OPENAPI);
    assert_eq!(r.status, 200, "{}", r.body);
    Document(r.json())
}

/// Every `(METHOD, path template)` the document lists.
fn documented(doc: &Document) -> BTreeSet<(String, String)> {
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    doc.0["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| methods.contains(&k.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// `template` with its `{org}` and `{id}` filled in (`id` a user's or a group's, by the template).
fn fill(template: &str, org: &str, user: &str, group: &str) -> String {
    let id = if template.contains("/users/") { user } else { group };
    template.replace("{org}", org).replace("{id}", id)
}

fn create(env: &TestApp, what: &str, body: Value) -> String {
    let r = env.client_a().send("POST", what, Some(&body.to_string()), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn the_document_is_openapi_3_1_and_lists_every_api_key_route(db: &TestDb) {
    let env = &TestApp::init(db);
    let key = env.api_key(None);
    let r = env.get(OPENAPI);
    assert_eq!(r.status, 200, "served without a key: {}", r.body);
    assert!(
        r.header("cache-control")
            .is_some_and(|c| c.contains("public") && c.contains("max-age=")),
        "{:?}",
        r.header("cache-control")
    );
    let doc = Document(r.json());
    let version = doc.0["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(doc.0["info"]["version"], env!("CARGO_PKG_VERSION"));
    let scheme = &doc.0["components"]["securitySchemes"]["api_key"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&json!("http"), &json!("bearer"))
    );

    // The document and the routes the app registers are one list; it holds every operation of the platform
    // API (the events, the directory, the audit trail and activity, and the document itself).
    let documented = documented(&doc);
    let routed: BTreeSet<(String, String)> = scimd_server::platform_api::routes().into_iter().collect();
    assert_eq!(documented, routed);
    let paths: BTreeSet<&str> = documented.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            EVENTS, ORGS, USERS, ONE_USER, GROUPS, ONE_GROUP, MEMBERS, AUDIT, ACTIVITY, OPENAPI
        ])
    );

    let tags: Vec<&Value> = doc.0["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    for (method, template) in &documented {
        let op = doc.operation(template, &method.to_lowercase());
        assert!(
            tags.contains(&&op["tags"][0]),
            "{template}: tagged {}",
            op["tags"]
        );
        assert!(op["operationId"].is_string(), "{template}");
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let placeholders: BTreeSet<&str> = template
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, placeholders, "{template}: its path parameters");

        // Each answers at its documented path, from the platform API: without a key, 401 as documented.
        let path = fill(template, env.a.id.as_str(), "u1", "g1");
        let r = env.client(String::new(), None).send(method, &path, None, &[]);
        if template == OPENAPI {
            assert_eq!(op["security"], json!([]), "{template} needs no key");
            assert_eq!(r.status, 200, "{path}: {}", r.body);
        } else {
            assert_eq!(op["security"], json!([{"api_key": []}]), "{template}");
            assert_eq!(r.status, 401, "{path}: {}", r.body);
            assert_eq!(r.json()["error"], "unauthorized", "{path}: the platform API");
        }
        doc.check(template, &method.to_lowercase(), &r);

        // Its undocumented neighbours are no route: another method, and a path below it.
        let client = env.client(String::new(), Some(&key));
        let other = client.send("DELETE", &path, None, &[]);
        assert!(
            matches!(other.status, 404 | 405),
            "DELETE {path}: {}",
            other.status
        );
        let below = client.get(&format!("{path}/undocumented"));
        assert_eq!(below.status, 404, "{path}/undocumented: {}", below.body);
    }
}

/// Asks the API and checks each answer against the document, remembering which statuses it saw.
struct Checker<'a> {
    env: &'a TestApp,
    doc: &'a Document,
    seen: BTreeSet<(String, u16)>,
}

impl Checker<'_> {
    fn expect(&mut self, template: &str, path: &str, key: Option<&str>, status: u16) -> Value {
        let r = self.env.client(String::new(), key).get(path);
        assert_eq!(r.status, status, "GET {path}: {}", r.body);
        self.doc.check(template, "get", &r);
        self.seen.insert((template.to_owned(), status));
        r.json()
    }
}

fn every_documented_answer_matches_the_document(db: &TestDb) {
    let env = &TestApp::init(db);
    let doc = &document(env);
    let ann = create(
        env,
        "/Users",
        json!({"schemas": [USER], "userName": "ann@a.example", "externalId": "okta-ann",
               "displayName": "Ann Lee", "name": {"givenName": "Ann", "familyName": "Lee"},
               "emails": [{"value": "ann@a.example", "primary": true}]}),
    );
    let bob = create(
        env,
        "/Users",
        json!({"schemas": [USER], "userName": "bob@a.example"}),
    );
    let group = create(
        env,
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Engineering", "externalId": "okta-eng",
               "members": [{"value": ann}, {"value": bob}]}),
    );
    let bare_group = create(
        env,
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Empty"}),
    );
    let b_user = {
        let r = env.client_b().send(
            "POST",
            "/Users",
            Some(&json!({"schemas": [USER], "userName": "zed@b.example"}).to_string()),
            &[],
        );
        r.json()["id"].as_str().unwrap().to_owned()
    };
    let (all, only_a) = (env.api_key(None), env.api_key(Some(&env.a.id)));
    let (all, only_a) = (Some(all.as_str()), Some(only_a.as_str()));
    let (a, b) = (env.a.id.as_str(), env.b.id.as_str());
    let mut c = Checker {
        env,
        doc,
        seen: BTreeSet::new(),
    };

    c.expect(OPENAPI, OPENAPI, None, 200);

    let feed = c.expect(EVENTS, "/api/v1/events?after=0&limit=1000", all, 200);
    assert!(feed["events"].as_array().unwrap().len() >= 5, "{feed}");
    let latest = c.expect(EVENTS, "/api/v1/events?after=latest", all, 200);
    assert_eq!(latest["events"], json!([]));
    c.expect(EVENTS, "/api/v1/events?limit=0", all, 400);
    c.expect(EVENTS, "/api/v1/events", None, 401);
    c.expect(EVENTS, &format!("/api/v1/events?org={b}"), only_a, 403);

    let orgs = c.expect(ORGS, ORGS, all, 200);
    assert!(orgs["orgs"].as_array().unwrap().len() >= 2, "{orgs}");
    let first = c.expect(ORGS, "/api/v1/orgs?limit=1", all, 200);
    assert!(first["next_cursor"].is_string(), "{first}");
    c.expect(ORGS, "/api/v1/orgs?limit=x", all, 400);
    c.expect(ORGS, ORGS, None, 401);

    let users = fill(USERS, a, "", "");
    let page = c.expect(USERS, &users, all, 200);
    assert_eq!(
        page["users"].as_array().unwrap().len(),
        3,
        "the owner, Ann and Bob: {page}"
    );
    let page = c.expect(USERS, &format!("{users}?limit=1"), only_a, 200);
    assert!(page["next_cursor"].is_string(), "{page}");
    let page = c.expect(USERS, &format!("{users}?group={group}"), all, 200);
    assert_eq!(page["users"].as_array().unwrap().len(), 2, "{page}");
    c.expect(USERS, &format!("{users}?active=maybe"), all, 400);
    c.expect(USERS, &users, None, 401);
    c.expect(USERS, &fill(USERS, b, "", ""), only_a, 403);
    c.expect(USERS, &fill(USERS, "no-such-org", "", ""), all, 404);
    c.expect(USERS, &format!("{users}?group=no-such-group"), all, 404);

    for (user, expected) in [(&ann, json!("okta-ann")), (&bob, Value::Null)] {
        let got = c.expect(ONE_USER, &fill(ONE_USER, a, user, ""), only_a, 200);
        assert_eq!(got["external_id"], expected, "{got}");
    }
    c.expect(ONE_USER, &fill(ONE_USER, a, "%00", ""), all, 400);
    c.expect(ONE_USER, &fill(ONE_USER, a, &ann, ""), None, 401);
    c.expect(ONE_USER, &fill(ONE_USER, b, &b_user, ""), only_a, 403);
    c.expect(ONE_USER, &fill(ONE_USER, a, "no-such-user", ""), all, 404);

    let groups = fill(GROUPS, a, "", "");
    let page = c.expect(GROUPS, &groups, all, 200);
    assert_eq!(page["groups"].as_array().unwrap().len(), 2, "{page}");
    c.expect(GROUPS, &format!("{groups}?limit=0"), all, 400);
    c.expect(GROUPS, &groups, None, 401);
    c.expect(GROUPS, &fill(GROUPS, b, "", ""), only_a, 403);
    c.expect(GROUPS, &fill(GROUPS, "no-such-org", "", ""), all, 404);

    for id in [&group, &bare_group] {
        c.expect(ONE_GROUP, &fill(ONE_GROUP, a, "", id), all, 200);
    }
    c.expect(ONE_GROUP, &fill(ONE_GROUP, a, "", "%00"), all, 400);
    c.expect(ONE_GROUP, &fill(ONE_GROUP, a, "", &group), None, 401);
    c.expect(ONE_GROUP, &fill(ONE_GROUP, b, "", &group), only_a, 403);
    c.expect(ONE_GROUP, &fill(ONE_GROUP, a, "", "no-such-group"), all, 404);

    let members = fill(MEMBERS, a, "", &group);
    let page = c.expect(MEMBERS, &members, all, 200);
    assert_eq!(page["members"].as_array().unwrap().len(), 2, "{page}");
    c.expect(MEMBERS, &format!("{members}?active=maybe"), all, 400);
    c.expect(MEMBERS, &members, None, 401);
    c.expect(MEMBERS, &fill(MEMBERS, b, "", &group), only_a, 403);
    c.expect(MEMBERS, &fill(MEMBERS, a, "", "no-such-group"), all, 404);

    // The audit trail (the SCIM writes above are in it) and the activity (the recorder writes in batches: a
    // row is written directly, so that the page holds one whatever the recorder's timing).
    let audit = fill(AUDIT, a, "", "");
    let trail = c.expect(
        AUDIT,
        &format!("{audit}?action=member.created&limit=1"),
        only_a,
        200,
    );
    assert_eq!(trail["events"][0]["action"], "member.created", "{trail}");
    assert!(trail["next_cursor"].is_string(), "{trail}");
    c.expect(AUDIT, &format!("{audit}?since=yesterday"), all, 400);
    c.expect(AUDIT, &audit, None, 401);
    c.expect(AUDIT, &fill(AUDIT, b, "", ""), only_a, 403);
    c.expect(AUDIT, &fill(AUDIT, "no-such-org", "", ""), all, 404);
    env.store
        .write(|conn| {
            scimd_store::models::scim_activity::insert_batch(
                conn,
                &[scimd_store::models::scim_activity::NewActivity {
                    org_id: a.to_owned(),
                    occurred_at: chrono::Utc::now().naive_utc(),
                    method: "PATCH".into(),
                    path: format!("/scim/v2/{a}/Users/{ann}"),
                    status: 400,
                    duration_us: 1_500,
                    scim_type: Some("invalidValue".into()),
                    dialects: "[]".into(),
                    detail: Some("active: not a boolean".into()),
                }],
            )
        })
        .unwrap();
    let activity = fill(ACTIVITY, a, "", "");
    let requests = c.expect(ACTIVITY, &format!("{activity}?outcome=client_error"), all, 200);
    assert_eq!(requests["requests"][0]["scim_type"], "invalidValue", "{requests}");
    c.expect(ACTIVITY, &format!("{activity}?outcome=4xx"), all, 400);
    c.expect(ACTIVITY, &activity, None, 401);
    c.expect(ACTIVITY, &fill(ACTIVITY, b, "", ""), only_a, 403);
    c.expect(ACTIVITY, &fill(ACTIVITY, "no-such-org", "", ""), all, 404);

    // A burst over a key's limit (burst 200, then 50 a second) is 429 with `Retry-After`, as documented.
    let busy = env.api_key(None);
    let client = env.client(String::new(), Some(&busy));
    let limited = (0..300)
        .map(|_| client.get("/api/v1/events?limit=1"))
        .find(|r| r.status == 429)
        .expect("300 requests at once stayed under a burst of 200");
    doc.check(EVENTS, "get", &limited);
    c.seen.insert((EVENTS.to_owned(), 429));

    // Once the events after a cursor are purged, that cursor is 410 (last: it empties the feed).
    let cutoff = chrono::Utc::now().naive_utc() + chrono::Duration::days(1);
    env.store
        .write(|conn| scimd_store::models::events::purge(conn, cutoff))
        .unwrap();
    let gone = c.expect(EVENTS, "/api/v1/events?after=1", all, 410);
    assert_eq!(gone["error"], "cursor_expired");

    // Every status the document lists for an operation was provoked above, but those of an outage or a bug.
    for (method, template) in documented(doc) {
        let op = doc.operation(&template, &method.to_lowercase());
        for status in op["responses"].as_object().unwrap().keys() {
            let status: u16 = status.parse().unwrap();
            let provoked = c.seen.contains(&(template.clone(), status));
            assert!(
                provoked || NOT_PROVOKED_PER_OPERATION.contains(&status),
                "{method} {template}: {status} is documented but was not provoked"
            );
        }
    }
    assert!(c.seen.contains(&(EVENTS.to_owned(), 429)));

    the_query_parameters_bounds_are_the_apis(env, doc, all, &group);
}

/// Each documented bound of a query parameter (a maximum, a length, a boolean, a pattern) is the API's: a
/// value just past it is a 400 naming that parameter, as documented.
fn the_query_parameters_bounds_are_the_apis(env: &TestApp, doc: &Document, key: Option<&str>, group: &str) {
    let mut checked = 0;
    for (method, template) in documented(doc) {
        let op = doc.operation(&template, &method.to_lowercase());
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["in"] != "query" {
                continue;
            }
            let name = param["name"].as_str().unwrap();
            let schema = doc.resolve(&param["schema"]);
            let types = schema["type"].to_string();
            let past = if let Some(max) = schema["maximum"].as_i64() {
                (max + 1).to_string()
            } else if let Some(max) = schema["maxLength"].as_u64() {
                "a".repeat(usize::try_from(max).unwrap() + 1)
            } else if types.contains("boolean") {
                "maybe".to_owned()
            } else if schema["pattern"].is_string() {
                "!".to_owned()
            } else {
                continue;
            };
            let path = format!("{}?{name}={past}", fill(&template, env.a.id.as_str(), "", group));
            let r = env.client(String::new(), key).get(&path);
            assert_eq!(r.status, 400, "{path}: {}", r.body);
            let message = r.json()["message"].as_str().unwrap().to_owned();
            assert!(message.starts_with(&format!("{name}:")), "{path}: {message}");
            doc.check(&template, &method.to_lowercase(), &r);
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} bounds were checked");
}

/// What no request can provoke here (an outage, an internal error) is answered as documented too.
fn the_outage_and_internal_answers_match_the_document(db: &TestDb) {
    let env = &TestApp::init(db);
    let doc = &document(env);
    for error in [
        PlatformApiError::from(StoreError::Unreachable("connection refused".into())),
        PlatformApiError::Internal("a bug".into()),
    ] {
        let res = error.error_response();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        let status = res.status().as_u16();
        let body = actix_web::rt::System::new()
            .block_on(actix_web::body::to_bytes(res.into_body()))
            .unwrap();
        let reply = Reply {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        };
        for (method, template) in documented(doc) {
            if template != OPENAPI {
                doc.check(&template, &method.to_lowercase(), &reply);
            }
        }
    }
}

/// The validator itself: a real user passes; one with a property too many, one too few, or of another type
/// does not, so that the checks above could fail.
fn the_validator_refuses_what_the_document_does_not_say(db: &TestDb) {
    let env = &TestApp::init(db);
    let doc = &document(env);
    let key = env.api_key(None);
    let user = env
        .client(String::new(), Some(&key))
        .get(&format!("/api/v1/orgs/{}/users?limit=1", env.a.id))
        .json()["users"][0]
        .clone();
    let schema = json!({"$ref": "#/components/schemas/User"});
    assert_eq!(doc.errors(&schema, &user), Vec::<String>::new());
    let mut extra = user.clone();
    extra["password"] = json!("x");
    let mut missing = user.clone();
    missing.as_object_mut().unwrap().remove("external_id");
    let mut wrong = user.clone();
    wrong["version"] = json!("1");
    let mut bad_time = user.clone();
    bad_time["created_at"] = json!("yesterday");
    for bad in [extra, missing, wrong, bad_time] {
        assert!(!doc.errors(&schema, &bad).is_empty(), "{bad}");
    }
    let page = json!({"$ref": "#/components/schemas/UserPage"});
    assert!(
        !doc.errors(
            &page,
            &json!({"users": [{}], "next_cursor": null, "as_of_cursor": "1"})
        )
        .is_empty()
    );
}

scimd_store::backend_tests!(
    the_document_is_openapi_3_1_and_lists_every_api_key_route,
    every_documented_answer_matches_the_document,
    the_outage_and_internal_answers_match_the_document,
    the_validator_refuses_what_the_document_does_not_say,
);
