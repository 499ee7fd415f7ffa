//! The platform API's event feed over HTTP, on both backends: API keys (bound to an org or not) read the
//! events the SCIM writes appended, in order, and nothing else; SCIM tokens do not work there and API keys do
//! not work on SCIM; a long poll returns the deprovisioning it waited for.

use crate::scim_client::Client;
use crate::test_app::TestApp;
use scimd_store::testing::TestDb;
use serde_json::{Value, json};

fn platform(env: &TestApp, key: Option<&str>) -> Client {
    env.client(String::new(), key)
}

fn create_user(client: &Client, name: &str) -> String {
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}).to_string();
    let r = client.send("POST", "/Users", Some(&body), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// Reads the feed from `after` until `n` events came (each call long-polls up to 10 s).
fn read(client: &Client, query: &str, n: usize) -> Vec<Value> {
    let mut got = Vec::new();
    let mut cursor = "0".to_owned();
    while got.len() < n {
        let r = client.get(&format!("/api/v1/events?after={cursor}&wait=10{query}"));
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        let page = body["events"].as_array().unwrap().clone();
        assert!(!page.is_empty(), "a long poll with events to come returned none");
        cursor = body["next_cursor"].as_str().unwrap().to_owned();
        got.extend(page);
    }
    got
}

fn the_feed_serves_each_key_its_orgs_events_in_order(db: &TestDb) {
    let env = &TestApp::init(db);
    let all = env.api_key(None);
    let only_a = env.api_key(Some(&env.a.id));
    let a_user = create_user(&env.client_a(), "ann@a.example");
    let b_user = create_user(&env.client_b(), "bob@b.example");

    // The orgs' SSO connections and tokens came first (sso.connection_set, scim_token.generated).
    let setup = read(
        &platform(env, Some(&all)),
        "&types=sso.connection_set,scim_token.generated",
        4,
    );
    let types: Vec<&str> = setup.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "sso.connection_set",
            "scim_token.generated",
            "sso.connection_set",
            "scim_token.generated"
        ]
    );
    let events = read(&platform(env, Some(&all)), "&types=user.created", 2);
    let users: Vec<&str> = events.iter().map(|e| e["data"]["id"].as_str().unwrap()).collect();
    assert_eq!(users, [a_user.as_str(), b_user.as_str()], "commit order");
    for e in &events {
        assert_eq!(e["type"], "user.created");
        assert!(e["id"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(e["cursor"].as_str().unwrap().parse::<i64>().unwrap() > 0);
        assert!(e["occurred_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(events[0]["data"]["user"]["user_name"], "ann@a.example");

    // A key bound to org A sees A's events only, and may not ask for B's.
    let a_events = read(&platform(env, Some(&only_a)), "&types=user.created", 1);
    assert_eq!(a_events[0]["org_id"], env.a.id.as_str());
    let r = platform(env, Some(&only_a)).get(&format!("/api/v1/events?org={}", env.b.id));
    assert_eq!(r.status, 403, "{}", r.body);
    let r = platform(env, Some(&only_a)).get("/api/v1/events?after=0");
    assert!(
        r.json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["org_id"] == env.a.id.as_str())
    );
    let filtered =
        platform(env, Some(&all)).get(&format!("/api/v1/events?org={}&types=user.created", env.b.id));
    assert_eq!(filtered.json()["events"].as_array().unwrap().len(), 1);

    // Credentials of the other surfaces do not work here, nor API keys on SCIM; bad parameters are 400.
    for bad in [None, Some(env.a.token.as_str()), Some("scimd_ak_not-a-key")] {
        let r = platform(env, bad).get("/api/v1/events");
        assert_eq!(r.status, 401, "{bad:?}: {}", r.body);
        assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
        assert_eq!(r.json()["error"], "unauthorized");
    }
    let scim_with_key = env.client_a().with_token(Some(&all)).get("/Users");
    assert_eq!(scim_with_key.status, 401, "{}", scim_with_key.body);
    for query in [
        "after=-1",
        "after=x",
        "limit=0",
        "limit=1001",
        "wait=31",
        "types=user.nope",
    ] {
        let r = platform(env, Some(&all)).get(&format!("/api/v1/events?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.json()["error"], "bad_request");
    }

    // A long poll from the newest event returns the deactivation it waited for, not an empty page.
    let latest = platform(env, Some(&all)).get("/api/v1/events?after=latest");
    let latest = latest.json()["next_cursor"].as_str().unwrap().to_owned();
    let poller = platform(env, Some(&all));
    let poll = std::thread::spawn(move || poller.get(&format!("/api/v1/events?after={latest}&wait=20")));
    // Long enough for the poll to have started waiting; the assertion below does not depend on it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]})
    .to_string();
    let r = env
        .client_a()
        .send("PATCH", &format!("/Users/{a_user}"), Some(&patch), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let polled = poll.join().unwrap().json();
    let page = polled["events"].as_array().unwrap();
    assert_eq!(page.len(), 1, "{polled}");
    assert_eq!(page[0]["type"], "user.deactivated");
    assert_eq!(page[0]["data"]["user"]["active"], false);

    // Retention: once the events after a cursor are purged, that cursor is 410; the start still works.
    let store = &env.store;
    let cutoff = chrono::Utc::now().naive_utc() + chrono::Duration::days(1);
    let purged = store
        .write(|conn| scimd_store::models::events::purge(conn, cutoff))
        .unwrap();
    assert!(purged > 1, "{purged}");
    let gone = platform(env, Some(&all)).get("/api/v1/events?after=1");
    assert_eq!(gone.status, 410, "{}", gone.body);
    assert_eq!(gone.json()["error"], "cursor_expired");
    assert_eq!(platform(env, Some(&all)).get("/api/v1/events").status, 200);
}

/// `scimd api-key create|list|revoke`: the key is printed once, listed by its hint only, and refused on the
/// very next request once revoked.
fn api_keys_are_managed_by_the_cli(db: &TestDb) {
    let env = &TestApp::init(db);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| crate::harness::scimd(dir.path(), Some(&env.db_url), args);
    let created = run(&[
        "api-key",
        "create",
        "--name",
        "Platform",
        "--org",
        env.a.id.as_str(),
        "--json",
    ]);
    assert!(created.status.success(), "{}", crate::harness::stderr(&created));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let cli_key = created["key"].as_str().unwrap().to_owned();
    assert!(cli_key.starts_with("scimd_ak_"), "{created}");
    assert_eq!(created["org_id"], env.a.id.as_str());
    assert_eq!(created["name"], "Platform");
    let listed = run(&["api-key", "list", "--json"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains(created["id"].as_str().unwrap()), "{listed}");
    assert!(!listed.contains(&cli_key), "a list never shows a key: {listed}");
    assert_eq!(platform(env, Some(&cli_key)).get("/api/v1/events").status, 200);
    let unknown_org = run(&["api-key", "create", "--name", "X", "--org", "no-such-org"]);
    assert!(!unknown_org.status.success());

    let revoked = run(&[
        "api-key",
        "revoke",
        "--id",
        created["id"].as_str().unwrap(),
        "--json",
    ]);
    assert!(revoked.status.success(), "{}", crate::harness::stderr(&revoked));
    assert_eq!(platform(env, Some(&cli_key)).get("/api/v1/events").status, 401);
    let again = run(&["api-key", "revoke", "--id", created["id"].as_str().unwrap()]);
    assert!(!again.status.success(), "a revoked key cannot be revoked twice");

    // Each key has the SCIM API's default limits (burst 200, then 50 a second): a burst far above is 429.
    // 1,000 requests from 8 threads: to stay under the limit they would have to take over 16 s, which no
    // loaded test machine comes near (300 in a row did, on a machine busy compiling: 2 s of refills).
    let busy = env.api_key(None);
    let limited: Vec<_> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let client = platform(env, Some(&busy));
                    (0..125)
                        .map(|_| client.get("/api/v1/events?limit=1"))
                        .filter(|r| r.status == 429)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect()
    });
    assert!(
        !limited.is_empty(),
        "1,000 requests at once stayed under a burst of 200"
    );
    assert!(
        limited[0]
            .header("Retry-After")
            .is_some_and(|s| s.parse::<u64>().unwrap() >= 1)
    );
    assert_eq!(limited[0].json()["error"], "rate_limited");
}

scimd_store::backend_tests!(
    the_feed_serves_each_key_its_orgs_events_in_order,
    api_keys_are_managed_by_the_cli,
);
