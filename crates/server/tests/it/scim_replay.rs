//! The request sequences of Okta and Microsoft Entra ID, as their public SCIM documentation shows them,
//! replayed against the real server on SQLite and (with `SCIMD_TEST_POSTGRES_URL`) PostgreSQL.

use crate::scim_client::{Expect::*, Step, replay};
use crate::test_app::TestApp;
use scimd_store::testing::TestDb;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

macro_rules! step {
    ($what:expr, $method:expr, $path:expr, $body:expr, $status:expr, [$($p:expr => $e:expr),* $(,)?] $(, save [$($n:expr => $q:expr),* $(,)?])?) => {
        Step {
            what: $what,
            method: $method,
            path: $path,
            body: $body,
            status: $status,
            expect: &[$(($p, $e)),*],
            save: &[$($(($n, $q)),*)?],
        }
    };
}

/// Okta: "SCIM 2.0 protocol reference" (user lookup, create, PUT update, path-less deactivate, group push,
/// member add and remove).
pub(crate) const OKTA: &[Step] = &[
    step!("lookup before create", "GET", r#"/Users?filter=userName eq "test.user@okta.local"&startIndex=1&count=100"#, None, 200,
        ["/totalResults" => Is("0"), "/Resources" => Len(0), "/startIndex" => Is("1")]),
    step!("create", "POST", "/Users", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName":"test.user@okta.local","name":{"givenName":"Test","familyName":"User"},
        "emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],"displayName":"Test User",
        "locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}"#), 201,
        ["/userName" => Is(r#""test.user@okta.local""#), "/active" => Is("true"), "/password" => Absent,
         "/meta/resourceType" => Is(r#""User""#)],
        save ["user" => "/id"]),
    step!("lookup after create, any case", "GET", r#"/Users?filter=userName eq "TEST.USER@okta.local"&startIndex=1&count=100"#, None, 200,
        ["/totalResults" => Is("1"), "/Resources/0/id" => Is(r#""{user}""#)]),
    step!("create again is a conflict", "POST", "/Users", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName":"Test.User@okta.local","active":true}"#), 409,
        ["/scimType" => Is(r#""uniqueness""#), "/status" => Is(r#""409""#)]),
    step!("get", "GET", "/Users/{user}", None, 200, ["/id" => Is(r#""{user}""#), "/name/givenName" => Is(r#""Test""#)]),
    step!("PUT update", "PUT", "/Users/{user}", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id":"{user}","userName":"test.user@okta.local","name":{"givenName":"Another","familyName":"User"},
        "emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],"displayName":"Another User",
        "locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"active":true,
        "meta":{"resourceType":"User"}}"#), 200,
        ["/name/givenName" => Is(r#""Another""#), "/meta/version" => Is(r#""W/\"2\"""#)]),
    step!("path-less PATCH deactivate", "PATCH", "/Users/{user}", Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"replace","value":{"active":false}}]}"#), 200,
        ["/active" => Is("false"), "/id" => Is(r#""{user}""#)]),
    step!("deactivate again is fine", "PATCH", "/Users/{user}", Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"replace","value":{"active":false}}]}"#), 200,
        ["/active" => Is("false"), "/meta/version" => Is(r#""W/\"3\"""#)]),
    step!("reactivate", "PATCH", "/Users/{user}", Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"replace","value":{"active":true}}]}"#), 200, ["/active" => Is("true")]),
    step!("group push: create", "POST", "/Groups", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName":"Test SCIMv2","members":[]}"#), 201, ["/displayName" => Is(r#""Test SCIMv2""#)], save ["group" => "/id"]),
    step!("group lookup", "GET", r#"/Groups?filter=displayName eq "Test SCIMv2"&startIndex=1&count=100"#, None, 200,
        ["/totalResults" => Is("1"), "/Resources/0/id" => Is(r#""{group}""#)]),
    step!(
        "group rename echoing id",
        "PATCH",
        "/Groups/{group}",
        Some(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"replace","value":{"id":"{group}","displayName":"Test SCIMv2 renamed"}}]}"#
        ),
        204,
        []
    ),
    step!(
        "member add",
        "PATCH",
        "/Groups/{group}",
        Some(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"add","path":"members","value":[{"value":"{user}","display":"test.user@okta.local"}]}]}"#
        ),
        204,
        []
    ),
    step!("group shows the member", "GET", "/Groups/{group}", None, 200,
        ["/displayName" => Is(r#""Test SCIMv2 renamed""#), "/members" => Len(1), "/members/0/value" => Is(r#""{user}""#)]),
    step!("user shows the group", "GET", "/Users/{user}", None, 200,
        ["/groups/0/value" => Is(r#""{group}""#), "/groups/0/display" => Is(r#""Test SCIMv2 renamed""#)]),
    step!(
        "member remove",
        "PATCH",
        "/Groups/{group}",
        Some(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"remove","path":"members[value eq \"{user}\"]"}]}"#
        ),
        204,
        []
    ),
    step!("group has no member", "GET", "/Groups/{group}", None, 200, ["/members" => Absent]),
    step!("replace members with [] (Okta)", "PATCH", "/Groups/{group}?excludedAttributes=members", Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"replace","path":"members","value":[]}]}"#), 200, ["/members" => Absent, "/id" => Is(r#""{group}""#)]),
    step!("group delete", "DELETE", "/Groups/{group}", None, 204, []),
    step!("group gone", "GET", "/Groups/{group}", None, 404, ["/status" => Is(r#""404""#)]),
];

/// Microsoft Entra ID: "Develop a sample SCIM endpoint" / "Known issues" request and response examples.
pub(crate) const ENTRA: &[Step] = &[
    step!("Test Connection: base URL", "GET", "", None, 200, []),
    step!("Test Connection: random lookup", "GET", r#"/Users?filter=userName eq "non-existent user 7c3a8d1b""#, None, 200,
        ["/totalResults" => Is("0"), "/Resources" => Len(0)]),
    step!("lookup by externalId, unquoted", "GET", "/Users?filter=externalId eq 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", None, 200,
        ["/totalResults" => Is("0")]),
    step!("create with the enterprise extension", "POST", "/Users", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com","active":true,
        "emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
        "meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
        "roles":[],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1234","department":"Sales"}}"#), 201,
        ["/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department" => Is(r#""Sales""#),
         "/schemas" => Len(2)],
        save ["user" => "/id"]),
    step!("lookup by userName", "GET", r#"/Users?filter=userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com""#, None, 200,
        ["/totalResults" => Is("1"), "/Resources/0/id" => Is(r#""{user}""#)]),
    step!("lookup by externalId, unquoted, finds it", "GET", "/Users?filter=externalId eq 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", None, 200,
        ["/totalResults" => Is("1")]),
    step!("manager and work email", "PATCH", "/Users/{user}", Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2819c223-7f76-453a-919d-413861904646"},
        {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
        {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}"#), 200,
        ["/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value" => Is(r#""2819c223-7f76-453a-919d-413861904646""#),
         "/emails/0/value" => Is(r#""updatedEmail@microsoft.com""#), "/name/familyName" => Is(r#""updatedFamilyName""#)]),
    step!("path-less dotted keys", "PATCH", "/Users/{user}", Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"Replace","value":{"displayName":"Entra Name","name.givenName":"Updated",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"5678"}}]}"#), 200,
        ["/displayName" => Is(r#""Entra Name""#), "/name/givenName" => Is(r#""Updated""#),
         "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber" => Is(r#""5678""#)]),
    step!("disable with \"False\"", "PATCH", "/Users/{user}", Some(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"Replace","path":"active","value":"False"}]}"#), 200, ["/active" => Is("false")]),
    step!("filter on the work email", "GET", r#"/Users?filter=emails[type eq "work" and value eq "UPDATEDEMAIL@microsoft.com"]"#, None, 200,
        ["/totalResults" => Is("1")]),
    step!("second user", "POST", "/Users", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u2@contoso.com","active":true}"#), 201, [], save ["u2" => "/id"]),
    step!("third user", "POST", "/Users", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u3@contoso.com","active":true}"#), 201, [], save ["u3" => "/id"]),
    step!("group create", "POST", "/Groups", Some(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"],
        "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}"#), 201,
        ["/externalId" => Is(r#""8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159""#)], save ["group" => "/id"]),
    step!("group lookup without members", "GET", r#"/Groups?excludedAttributes=members&filter=displayName eq "displayName""#, None, 200,
        ["/totalResults" => Is("1"), "/Resources/0/members" => Absent]),
    step!(
        "members added, first batch",
        "PATCH",
        "/Groups/{group}",
        Some(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"name":"addMember","op":"add","path":"members","value":[{"displayName":"new_user","value":"{user}"},{"value":"{u2}"}]}]}"#
        ),
        204,
        []
    ),
    step!(
        "members added, second batch",
        "PATCH",
        "/Groups/{group}",
        Some(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"Add","path":"members","value":[{"value":"{u3}"},{"value":"{u2}"}]}]}"#
        ),
        204,
        []
    ),
    step!("read with excludedAttributes=members", "GET", "/Groups/{group}?excludedAttributes=members", None, 200,
        ["/members" => Absent, "/displayName" => Is(r#""displayName""#)]),
    step!("read with members", "GET", "/Groups/{group}", None, 200, ["/members" => Len(3)]),
    step!(
        "members removed in a batch",
        "PATCH",
        "/Groups/{group}",
        Some(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"name":"removeMember","op":"Remove","path":"members","value":[{"value":"{user}"},{"value":"{u3}"}]}]}"#
        ),
        204,
        []
    ),
    step!("one member left", "GET", "/Groups/{group}", None, 200, ["/members" => Len(1), "/members/0/value" => Is(r#""{u2}""#)]),
    step!("group filter by member", "GET", r#"/Groups?filter=members[value eq "{u2}"]&excludedAttributes=members"#, None, 200,
        ["/totalResults" => Is("1")]),
    step!("delete user", "DELETE", "/Users/{user}", None, 204, []),
    step!("deleted user is gone", "GET", "/Users/{user}", None, 404, []),
    step!(
        "and its userName is free",
        "POST",
        "/Users",
        Some(
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com","active":true}"#
        ),
        201,
        []
    ),
];

/// Both backends answer every step with the same body: one snapshot each for Okta and Entra, whichever
/// backend runs (ids, times and versions redacted; the org id appears only inside the redacted base URL).
fn run(env: &TestApp, label: &str) {
    let a = env.client_a();
    let org_free = |t: Vec<serde_json::Value>| -> serde_json::Value {
        let text = serde_json::Value::Array(t).to_string();
        let org = a.base.trim_start_matches("/scim/v2/");
        serde_json::from_str(&text.replace(org, "[org]")).unwrap()
    };
    let start = feed(env, 0).last().map_or(0, |e| e.position.unwrap_or(0));
    let (okta_ids, okta) = replay(&a, OKTA, &format!("okta on {label}"));
    insta::assert_json_snapshot!("okta", org_free(okta));
    let okta_events = feed(env, start);
    let (user, group) = (&okta_ids["user"], &okta_ids["group"]);
    assert_eq!(
        shapes(&okta_events),
        [
            (
                "user.created",
                user.clone(),
                "test.user@okta.local / active".to_owned()
            ),
            (
                "user.updated",
                user.clone(),
                "test.user@okta.local / active".to_owned()
            ),
            (
                "user.deactivated",
                user.clone(),
                "test.user@okta.local / inactive".to_owned()
            ),
            (
                "user.reactivated",
                user.clone(),
                "test.user@okta.local / active".to_owned()
            ),
            ("group.created", group.clone(), "Test SCIMv2".to_owned()),
            ("group.updated", group.clone(), "Test SCIMv2 renamed".to_owned()),
            (
                "group.membership_changed",
                group.clone(),
                format!("+[{user}] -[]")
            ),
            (
                "group.membership_changed",
                group.clone(),
                format!("+[] -[{user}]")
            ),
            ("group.deleted", group.clone(), "Test SCIMv2 renamed".to_owned()),
        ],
        "the Okta sequence's events, in order; the refused create (409) and the repeated deactivation (no change) have none"
    );
    let start = okta_events.last().and_then(|e| e.position).unwrap_or(start);
    let (entra_ids, entra) = replay(&a, ENTRA, &format!("entra on {label}"));
    insta::assert_json_snapshot!("entra", org_free(entra));
    let (user, u2, u3, group) = (
        &entra_ids["user"],
        &entra_ids["u2"],
        &entra_ids["u3"],
        &entra_ids["group"],
    );
    let entra_events = feed(env, start);
    let shaped = shapes(&entra_events);
    let entra_user = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com";
    let sorted = |ids: &[&String]| {
        let mut ids: Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
        ids.sort_unstable();
        ids.join(", ")
    };
    let expected = [
        ("user.created", user.clone(), format!("{entra_user} / active")),
        ("user.updated", user.clone(), format!("{entra_user} / active")),
        ("user.updated", user.clone(), format!("{entra_user} / active")),
        (
            "user.deactivated",
            user.clone(),
            format!("{entra_user} / inactive"),
        ),
        ("user.created", u2.clone(), "u2@contoso.com / active".to_owned()),
        ("user.created", u3.clone(), "u3@contoso.com / active".to_owned()),
        ("group.created", group.clone(), "displayName".to_owned()),
        (
            "group.membership_changed",
            group.clone(),
            format!("+[{}] -[]", sorted(&[user, u2])),
        ),
        // u2 was a member already: only u3 is added.
        ("group.membership_changed", group.clone(), format!("+[{u3}] -[]")),
        (
            "group.membership_changed",
            group.clone(),
            format!("+[] -[{}]", sorted(&[user, u3])),
        ),
        ("user.deleted", user.clone(), format!("{entra_user} / inactive")),
        (
            "user.created",
            shaped[11].1.clone(),
            format!("{entra_user} / active"),
        ),
    ];
    assert_eq!(shaped, expected, "the Entra sequence's events, in order");
    assert_ne!(shaped[11].1, *user, "the freed userName is a new user");
    assert!(PATCH_OP.ends_with("PatchOp"));
}

/// Org A's events after `position`, in feed order.
fn feed(env: &TestApp, position: i64) -> Vec<scimd_store::models::events::Event> {
    use scimd_store::models::events;
    scimd_store::testing::settle_feed(&env.store).unwrap();
    env.store
        .read(|conn| events::after(conn, position, 1_000, Some(&env.a.id), &[]))
        .unwrap()
}

/// Each event as (type, resource id, what it says of the resource).
fn shapes(events: &[scimd_store::models::events::Event]) -> Vec<(&str, String, String)> {
    events
        .iter()
        .map(|e| {
            let data = scimd_store::models::events::data(e).unwrap();
            let id = data["id"].as_str().unwrap().to_owned();
            let said = if let Some(user) = data.get("user") {
                let active = if user["active"] == false {
                    "inactive"
                } else {
                    "active"
                };
                format!("{} / {active}", user["user_name"].as_str().unwrap())
            } else if let Some(group) = data.get("group") {
                group["display_name"].as_str().unwrap().to_owned()
            } else {
                // Sorted: the order of ids within one event is not part of its meaning.
                let list = |k: &str| {
                    let mut ids: Vec<&str> = data[k]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    ids.sort_unstable();
                    ids.join(", ")
                };
                format!("+[{}] -[{}]", list("added"), list("removed"))
            };
            (e.event_type.as_str(), id, said)
        })
        .collect()
}

fn okta_and_entra_sequences(db: &TestDb) {
    run(&TestApp::init(db), db.conn_backend_name());
}

scimd_store::backend_tests!(okta_and_entra_sequences);
