//! The directory API over HTTP, on both backends: orgs, users (with their filters), groups and a group's
//! members in keyset pages, each key seeing its own org only; and the bootstrap it exists for: a consumer
//! copies a 10,000-user org while writes go on, then follows the feed from the first page's `as_of_cursor`,
//! and its copy equals the directory at the end.

use crate::scim_client::Client;
use crate::test_app::TestApp;
use scimd_store::models::members::{self, NewMember};
use scimd_store::models::org_tallies::{self, Tally};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, MemberId, OrgId, SystemClock};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn api(env: &TestApp, key: &str) -> Client {
    env.client(String::new(), Some(key))
}

fn ok(client: &Client, path: &str) -> Value {
    let r = client.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

fn create_user(client: &Client, name: &str, external_id: Option<&str>) -> String {
    let mut body = json!({"schemas": [USER], "userName": name});
    if let Some(x) = external_id {
        body["externalId"] = json!(x);
    }
    let r = client.send("POST", "/Users", Some(&body.to_string()), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn patch_user(client: &Client, id: &str, op: Value) {
    let body = json!({"schemas": [PATCH_OP], "Operations": [op]}).to_string();
    let r = client.send("PATCH", &format!("/Users/{id}"), Some(&body), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Every page of `path` (a list answering `key`), following `next_cursor`; and the first page's
/// `as_of_cursor`.
fn all_pages(client: &Client, path: &str, key: &str) -> (Vec<Value>, String) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let first = ok(client, path);
    let as_of = first["as_of_cursor"].as_str().unwrap_or_default().to_owned();
    let mut rows = first[key].as_array().unwrap().clone();
    let mut next = first["next_cursor"].clone();
    while let Some(cursor) = next.as_str() {
        let page = ok(client, &format!("{path}{sep}after={cursor}"));
        rows.extend(page[key].as_array().unwrap().iter().cloned());
        next = page["next_cursor"].clone();
    }
    (rows, as_of)
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn the_directory_lists_what_each_key_may_see(db: &TestDb) {
    let env = &TestApp::init(db);
    let scim = env.client_a();
    let ann = create_user(&scim, "Ann@a.example", Some("okta-ann"));
    let bob = create_user(&scim, "bob@a.example", None);
    let cid = create_user(&scim, "cid@a.example", None);
    patch_user(&scim, &cid, json!({"op": "replace", "value": {"active": false}}));
    let b_user = create_user(&env.client_b(), "zed@b.example", None);
    let group = scim.send(
        "POST",
        "/Groups",
        Some(
            &json!({"schemas": [GROUP], "displayName": "Engineering",
                    "members": [{"value": ann}, {"value": bob}]})
            .to_string(),
        ),
        &[],
    );
    assert_eq!(group.status, 201, "{}", group.body);
    let group = group.json()["id"].as_str().unwrap().to_owned();

    let all = env.api_key(None);
    let only_a = env.api_key(Some(&env.a.id));
    let (a, b) = (env.a.id.as_str(), env.b.id.as_str());

    // Orgs: an unbound key sees both, a bound key its own.
    let orgs = ok(&api(env, &all), "/api/v1/orgs");
    let org_ids: Vec<&str> = orgs["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(org_ids.contains(&a) && org_ids.contains(&b), "{orgs}");
    let own = ok(&api(env, &only_a), "/api/v1/orgs");
    assert_eq!(own["orgs"].as_array().unwrap().len(), 1);
    assert_eq!(own["orgs"][0]["id"], a);

    // Users: every live member of the org (its owner too), in a stable snake_case shape.
    let client = api(env, &only_a);
    let (users, _) = all_pages(&client, &format!("/api/v1/orgs/{a}/users?limit=2"), "users");
    assert_eq!(users.len(), 4, "owner, Ann, Bob, Cid: {users:?}");
    let got = ids(&users);
    for id in [&ann, &bob, &cid] {
        assert!(got.contains(id));
    }
    assert!(!got.contains(&b_user), "another org's user");
    let ann_row = users.iter().find(|u| u["id"] == ann.as_str()).unwrap();
    assert_eq!(ann_row["user_name"], "Ann@a.example");
    assert_eq!(ann_row["external_id"], "okta-ann");
    assert_eq!(ann_row["active"], true);
    assert_eq!(ann_row["org_id"], a);
    assert!(ann_row["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(ann_row["version"].as_i64().unwrap() >= 1);

    // Filters.
    let inactive = ok(&client, &format!("/api/v1/orgs/{a}/users?active=false"));
    assert_eq!(
        ids(inactive["users"].as_array().unwrap()),
        std::slice::from_ref(&cid)
    );
    let by_name = ok(
        &client,
        &format!("/api/v1/orgs/{a}/users?user_name=ann%40A.EXAMPLE"),
    );
    assert_eq!(
        ids(by_name["users"].as_array().unwrap()),
        std::slice::from_ref(&ann),
        "case-insensitive"
    );
    let by_external = ok(&client, &format!("/api/v1/orgs/{a}/users?external_id=okta-ann"));
    assert_eq!(
        ids(by_external["users"].as_array().unwrap()),
        std::slice::from_ref(&ann)
    );
    let (in_group, _) = all_pages(
        &client,
        &format!("/api/v1/orgs/{a}/users?group={group}&limit=1"),
        "users",
    );
    let mut in_group = ids(&in_group);
    in_group.sort();
    let mut expected = vec![ann.clone(), bob.clone()];
    expected.sort();
    assert_eq!(in_group, expected);

    // One user, one group, its members.
    assert_eq!(
        ok(&client, &format!("/api/v1/orgs/{a}/users/{bob}"))["user_name"],
        "bob@a.example"
    );
    let groups = ok(&client, &format!("/api/v1/orgs/{a}/groups"));
    assert_eq!(groups["groups"][0]["display_name"], "Engineering");
    assert!(groups["as_of_cursor"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert_eq!(
        ok(&client, &format!("/api/v1/orgs/{a}/groups/{group}"))["id"],
        group.as_str()
    );
    let (members, _) = all_pages(
        &client,
        &format!("/api/v1/orgs/{a}/groups/{group}/members?limit=1"),
        "members",
    );
    assert_eq!(members.len(), 2);

    // The list is consistent with the feed: every event up to as_of_cursor is in it, and the newest event
    // (the group's membership) is one of them.
    let latest = ok(&client, "/api/v1/events?after=latest")["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = ok(&client, &format!("/api/v1/orgs/{a}/users"));
    assert!(
        listed["as_of_cursor"].as_str().unwrap().parse::<i64>().unwrap() >= latest.parse::<i64>().unwrap()
    );

    // Isolation: a bound key may not ask for another org; another org's user is not found through this one.
    let forbidden = client.get(&format!("/api/v1/orgs/{b}/users"));
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json()["error"], "forbidden");
    assert_eq!(
        client.get(&format!("/api/v1/orgs/{a}/users/{b_user}")).status,
        404
    );
    assert_eq!(
        api(env, &all)
            .get(&format!("/api/v1/orgs/{b}/users/{b_user}"))
            .status,
        200
    );
    assert_eq!(api(env, &all).get("/api/v1/orgs/no-such-org/users").status, 404);
    assert_eq!(
        client
            .get(&format!("/api/v1/orgs/{a}/groups/nope/members"))
            .status,
        404
    );

    // Bad input is a 400 naming the parameter; SCIM tokens do not work here.
    for bad in ["limit=0", "limit=1001", "active=yes", "after=-3"] {
        let r = client.get(&format!("/api/v1/orgs/{a}/users?{bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json()["error"], "bad_request");
    }
    let scim_token = env.client_a().with_base(String::new());
    assert_eq!(scim_token.get(&format!("/api/v1/orgs/{a}/users")).status, 401);
    assert_eq!(scim_token.get("/api/v1/orgs").status, 401);
}

/// What a consumer keeps of a user: enough to tell a stale copy from the truth.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Copy {
    user_name: String,
    active: bool,
    version: i64,
}

/// Seeds `n` SCIM-managed members of `org` in one transaction (and their tally, as the SCIM API keeps it).
fn seed(env: &TestApp, org: &OrgId, n: usize) -> Vec<String> {
    let now = SystemClock.now_naive();
    env.store
        .write(|conn| {
            let mut ids = Vec::with_capacity(n);
            for i in 0..n {
                let id = MemberId::generate();
                let name = format!("seed{i:05}@a.example");
                let document = json!({"schemas": [USER], "userName": name, "active": true}).to_string();
                members::insert(
                    conn,
                    &NewMember {
                        id: id.as_str(),
                        org_id: org.as_str(),
                        user_name: &name,
                        user_name_norm: scimd_store::user_name::normalize(&name),
                        external_id: None,
                        role: "member",
                        active: true,
                        scim_managed: true,
                        display_name: None,
                        given_name: None,
                        family_name: None,
                        email: Some(&name),
                        document: &document,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                ids.push(id.as_str().to_owned());
            }
            let n = i64::try_from(n).unwrap();
            org_tallies::add(
                conn,
                org,
                Tally {
                    users: n,
                    active_users: n,
                    groups: 0,
                },
            )?;
            Ok::<_, scimd_store::StoreError>(ids)
        })
        .unwrap()
}

fn a_consumer_copies_the_directory_then_follows_the_feed_and_misses_nothing(db: &TestDb) {
    let env = &TestApp::init(db);
    let org = env.a.id.clone();
    let seeded = seed(env, &org, 10_000);
    let scim = env.client_a();
    let client = api(env, &env.api_key(Some(&org)));
    let a = org.as_str();

    // The copy, page by page, with writes to the org between the pages: creates, renames, deactivations,
    // deletions, some of rows already copied and some of rows still to come.
    let mut copy: BTreeMap<String, Copy> = BTreeMap::new();
    let mut as_of: Option<String> = None;
    let mut next: Option<String> = None;
    let mut page_no = 0usize;
    loop {
        let path = match &next {
            None => format!("/api/v1/orgs/{a}/users?limit=500"),
            Some(c) => format!("/api/v1/orgs/{a}/users?limit=500&after={c}"),
        };
        let page = ok(&client, &path);
        as_of.get_or_insert_with(|| page["as_of_cursor"].as_str().unwrap().to_owned());
        for u in page["users"].as_array().unwrap() {
            copy.insert(
                u["id"].as_str().unwrap().to_owned(),
                Copy {
                    user_name: u["user_name"].as_str().unwrap().to_owned(),
                    active: u["active"].as_bool().unwrap(),
                    version: u["version"].as_i64().unwrap(),
                },
            );
        }
        // Early rows (copied) and late rows (not yet) change while the copy goes on.
        let early = &seeded[page_no * 7];
        let late = &seeded[9_999 - page_no * 11];
        patch_user(
            &scim,
            early,
            json!({"op": "replace", "path": "displayName", "value": "Renamed"}),
        );
        patch_user(&scim, late, json!({"op": "replace", "value": {"active": false}}));
        create_user(&scim, &format!("new{page_no}@a.example"), None);
        let gone = &seeded[5_000 + page_no];
        assert_eq!(
            scim.send("DELETE", &format!("/Users/{gone}"), None, &[]).status,
            204
        );
        page_no += 1;
        match page["next_cursor"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(page_no >= 20, "the copy took {page_no} pages");

    // Then the feed from the first page's cursor, applying what is newer than the copy, until a page comes back
    // empty. A read positions the committed events (PostgreSQL) unless another sequencer (the app's webhook
    // worker) is doing it at that moment, and then answers with what is positioned so far: a consumer gets the
    // rest on its next poll. The test stops at its first empty page, so the last writes are positioned first.
    scimd_store::testing::settle_feed(&env.store).unwrap();
    let mut cursor = as_of.unwrap();
    loop {
        let page = ok(
            &client,
            &format!(
                "/api/v1/events?after={cursor}&limit=1000&types=user.created,user.updated,user.deactivated,user.reactivated,user.deleted"
            ),
        );
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        for e in events {
            let id = e["data"]["id"].as_str().unwrap().to_owned();
            let version = e["data"]["version"].as_i64().unwrap();
            if e["type"] == "user.deleted" {
                copy.remove(&id);
                continue;
            }
            let user = &e["data"]["user"];
            if copy.get(&id).is_none_or(|c| c.version < version) {
                copy.insert(
                    id,
                    Copy {
                        user_name: user["user_name"].as_str().unwrap().to_owned(),
                        active: user["active"].as_bool().unwrap_or(true),
                        version,
                    },
                );
            }
        }
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
    }

    // The copy equals the directory now.
    let (now, _) = all_pages(&client, &format!("/api/v1/orgs/{a}/users?limit=1000"), "users");
    let truth: BTreeMap<String, Copy> = now
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_owned(),
                Copy {
                    user_name: u["user_name"].as_str().unwrap().to_owned(),
                    active: u["active"].as_bool().unwrap(),
                    version: u["version"].as_i64().unwrap(),
                },
            )
        })
        .collect();
    // The seeded users and the owner, with as many created as deleted during the copy.
    assert_eq!(truth.len(), 10_001);
    assert_eq!(copy.len(), truth.len());
    let differing: Vec<_> = truth
        .iter()
        .filter(|(id, t)| copy.get(*id) != Some(t))
        .take(5)
        .collect();
    assert!(
        differing.is_empty(),
        "the copy differs from the directory: {differing:?}"
    );
}

/// One shape for a user and a group: the feed's `user.*` and `group.*` events carry exactly what the directory
/// API answers for the same version (docs/PLATFORM.md, "A user and a group").
fn the_feed_and_the_directory_describe_a_user_and_a_group_the_same_way(db: &TestDb) {
    let env = &TestApp::init(db);
    let scim = env.client_a();
    let ann = create_user(&scim, "ann@a.example", Some("okta-ann"));
    patch_user(
        &scim,
        &ann,
        json!({"op": "replace", "value": {"displayName": "Ann Lee", "active": false}}),
    );
    let r = scim.send(
        "POST",
        "/Groups",
        Some(&json!({"schemas": [GROUP], "displayName": "Eng", "externalId": "okta-eng"}).to_string()),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let group = r.json()["id"].as_str().unwrap().to_owned();

    let key = env.api_key(None);
    let client = api(env, &key);
    let a = env.a.id.as_str();
    let feed = ok(&client, &format!("/api/v1/events?org={a}&limit=1000"));
    let last_of = |kind: &str, id: &str| -> Value {
        feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|e| e["data"]["id"] == id && e["data"].get(kind).is_some())
            .unwrap_or_else(|| panic!("no {kind} event for {id}: {feed}"))["data"][kind]
            .clone()
    };
    let user = ok(&client, &format!("/api/v1/orgs/{a}/users/{ann}"));
    assert_eq!(last_of("user", &ann), user);
    assert_eq!(user["display_name"], "Ann Lee");
    assert_eq!(user["active"], false);
    let listed = ok(&client, &format!("/api/v1/orgs/{a}/groups/{group}"));
    assert_eq!(last_of("group", &group), listed);
}

scimd_store::backend_tests!(
    the_feed_and_the_directory_describe_a_user_and_a_group_the_same_way,
    the_directory_lists_what_each_key_may_see,
    a_consumer_copies_the_directory_then_follows_the_feed_and_misses_nothing,
);
