//! The platform API's audit trail and provisioning activity (`/api/v1/orgs/{org}/audit` and `/activity`), on
//! both backends: newest first, filtered in the database (action and time; outcome), keyset pages that give
//! each row once, 400 for a bad parameter, and each org's rows only to a key that may see that org.

use crate::scim_client::Client;
use crate::test_app::TestApp;
use chrono::{Duration, Utc};
use scimd_store::OrgId;
use scimd_store::models::audit_events::{self, NewAuditEvent};
use scimd_store::models::scim_activity::{self, NewActivity};
use scimd_store::testing::TestDb;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn append_audit(env: &TestApp, org: &OrgId, n: usize, action: &str, minutes_ago: i64) {
    let at = Utc::now().naive_utc() - Duration::minutes(minutes_ago);
    env.store
        .write(|conn| {
            for i in 0..n {
                audit_events::append(
                    conn,
                    &NewAuditEvent {
                        org_id: org,
                        occurred_at: at,
                        actor: "scim:okta",
                        action,
                        target: Some("target"),
                        details: json!({ "i": i }),
                    },
                )?;
            }
            Ok::<_, scimd_store::StoreError>(())
        })
        .unwrap();
}

/// Every item of `items` on the pages from `first` on (which holds a `?`), following `next_cursor`.
fn walk(client: &Client, first: &str, items: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = first.to_owned();
    loop {
        let r = client.get(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let page = r.json();
        all.extend(page[items].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{first}&after={c}"),
            None => return all,
        }
    }
}

fn bad_request(client: &Client, path: &str, names: &str) {
    let r = client.get(path);
    assert_eq!(r.status, 400, "{path}: {}", r.body);
    assert_eq!(r.json()["error"], "bad_request");
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with(&format!("{names}:")), "{path}: {message}");
}

fn the_audit_trail_filters_by_action_and_time_and_pages_newest_first(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = &env.a.id;
    append_audit(env, a, 5, "group.updated", 120);
    append_audit(env, a, 7, "user.created", 5);
    // A SCIM create writes its own entry, the newest.
    let created = env.client_a().send(
        "POST",
        "/Users",
        Some(&json!({"schemas": [USER], "userName": "ann@a.example"}).to_string()),
        &[],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let ann = created.json()["id"].as_str().unwrap().to_owned();

    let key = env.api_key(Some(a));
    let client = env.client(String::new(), Some(&key));
    let api = format!("/api/v1/orgs/{a}/audit");
    let all = client.get(&api);
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.header("cache-control"), Some("no-store"));
    let newest = &all.json()["events"][0];
    assert_eq!(newest["action"], "member.created", "{newest}");
    assert_eq!(newest["target"], ann.as_str(), "the SCIM create, newest first");
    assert!(newest["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert!(newest["details"].is_object(), "{newest}");

    // Paging: each of the seven appended user.created entries once, newest first (equal times: by order).
    let seen: Vec<i64> = walk(&client, &format!("{api}?action=user.created&limit=3"), "events")
        .iter()
        .filter(|e| e["actor"] == "scim:okta")
        .map(|e| e["details"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, vec![6, 5, 4, 3, 2, 1, 0]);

    // Time: before an hour ago, only the old group entries (and the org's creation); after it, none of them.
    let hour_ago = (Utc::now() - Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let before = walk(&client, &format!("{api}?until={hour_ago}"), "events");
    let actions: Vec<&str> = before.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.iter().filter(|a| **a == "group.updated").count() == 5,
        "{actions:?}"
    );
    assert!(!actions.contains(&"user.created"), "{actions:?}");
    let since = client.get(&format!("{api}?since={hour_ago}&action=group.updated"));
    assert_eq!(since.json()["events"], json!([]));

    bad_request(&client, &format!("{api}?since=yesterday"), "since");
    bad_request(&client, &format!("{api}?until=2026-13-01"), "until");
    bad_request(&client, &format!("{api}?limit=0"), "limit");
    bad_request(&client, &format!("{api}?limit=1001"), "limit");
    bad_request(&client, &format!("{api}?after=abc"), "after");
    bad_request(&client, &format!("{api}?action={}", "a".repeat(129)), "action");
}

fn record_activity(env: &TestApp, org: &OrgId, statuses: &[(i32, &str)]) {
    let now = Utc::now().naive_utc();
    let rows: Vec<NewActivity> = statuses
        .iter()
        .enumerate()
        .map(|(i, (status, path))| NewActivity {
            org_id: org.as_str().to_owned(),
            occurred_at: now - Duration::minutes(60 - i64::try_from(i).unwrap()),
            method: "PATCH".into(),
            path: (*path).to_owned(),
            status: *status,
            duration_us: 12_345,
            scim_type: (*status == 400).then(|| "invalidValue".to_owned()),
            dialects: r#"["Okta path-less replace"]"#.into(),
            detail: (*status == 400).then(|| "active: not a boolean".to_owned()),
        })
        .collect();
    env.store
        .write(|conn| scim_activity::insert_batch(conn, &rows))
        .unwrap();
}

fn the_activity_filters_by_outcome_and_pages_newest_first(db: &TestDb) {
    let env = &TestApp::init(db);
    let a = &env.a.id;
    record_activity(
        env,
        a,
        &[
            (200, "/scim/v2/o/Users/1"),
            (400, "/scim/v2/o/Users/2"),
            (503, "/scim/v2/o/Users/3"),
        ],
    );
    let key = env.api_key(None);
    let client = env.client(String::new(), Some(&key));
    let api = format!("/api/v1/orgs/{a}/activity");
    let page = client.get(&api).json();
    let requests = page["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 3, "{page}");
    assert_eq!(requests[0]["status"], 503, "newest first");
    assert_eq!(requests[0]["outcome"], "server_error");
    assert_eq!(requests[1]["scim_type"], "invalidValue");
    assert_eq!(requests[1]["detail"], "active: not a boolean");
    assert!(requests[0]["detail"].is_null());
    assert_eq!(requests[1]["dialects"], json!(["Okta path-less replace"]));
    assert_eq!(requests[2]["duration_ms"], 12.345);
    assert!(requests[2]["scim_type"].is_null());
    assert!(page["next_cursor"].is_null());

    let refused = client.get(&format!("{api}?outcome=client_error")).json();
    assert_eq!(refused["requests"].as_array().unwrap().len(), 1, "{refused}");
    assert_eq!(refused["requests"][0]["path"], "/scim/v2/o/Users/2");

    let statuses: Vec<i64> = walk(&client, &format!("{api}?limit=2"), "requests")
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, vec![503, 400, 200]);

    bad_request(&client, &format!("{api}?outcome=4xx"), "outcome");
    bad_request(&client, &format!("{api}?limit=1001"), "limit");
    bad_request(&client, &format!("{api}?after=-1"), "after");
}

fn each_org_s_trail_is_for_keys_that_see_that_org(db: &TestDb) {
    let env = &TestApp::init(db);
    let (a, b) = (&env.a.id, &env.b.id);
    append_audit(env, b, 1, "user.deactivated", 1);
    record_activity(env, b, &[(200, "/scim/v2/b/Users/secret-of-b")]);
    let only_a = env.api_key(Some(a));
    let client = env.client(String::new(), Some(&only_a));
    for page in ["audit", "activity"] {
        let r = client.get(&format!("/api/v1/orgs/{b}/{page}"));
        assert_eq!(r.status, 403, "{page}: {}", r.body);
        assert!(!r.body.contains("secret-of-b") && !r.body.contains("user.deactivated"));
        // A's own never holds B's.
        let own = client.get(&format!("/api/v1/orgs/{a}/{page}"));
        assert_eq!(own.status, 200, "{page}: {}", own.body);
        assert!(!own.body.contains("secret-of-b") && !own.body.contains("user.deactivated"));
        // No key: the platform API's 401; a SCIM token is not a key here.
        let anonymous = env.get(&format!("/api/v1/orgs/{a}/{page}"));
        assert_eq!(anonymous.status, 401);
        assert_eq!(anonymous.json()["error"], "unauthorized");
        let scim_token = env.client(String::new(), Some(&env.a.token));
        assert_eq!(scim_token.get(&format!("/api/v1/orgs/{a}/{page}")).status, 401);
    }
    // A key for every org reads B's, and an org that does not exist is 404.
    let all = env.api_key(None);
    let client = env.client(String::new(), Some(&all));
    assert!(
        client
            .get(&format!("/api/v1/orgs/{b}/activity"))
            .body
            .contains("secret-of-b")
    );
    assert!(
        client
            .get(&format!("/api/v1/orgs/{b}/audit"))
            .body
            .contains("user.deactivated")
    );
    let missing = client.get(&format!("/api/v1/orgs/{}/audit", OrgId::generate()));
    assert_eq!(missing.status, 404, "{}", missing.body);
}

scimd_store::backend_tests!(
    the_audit_trail_filters_by_action_and_time_and_pages_newest_first,
    the_activity_filters_by_outcome_and_pages_newest_first,
    each_org_s_trail_is_for_keys_that_see_that_org,
);
