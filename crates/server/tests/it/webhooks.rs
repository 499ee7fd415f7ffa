//! Webhooks and the feed's ordering across processes, on both backends:
//! - deliveries are signed (Standard Webhooks), in feed order, retried while the receiver fails (later
//!   events wait), replayed on request, and managed by `scimd webhook` (the app in-process);
//! - against the real binary: a server killed (SIGKILL) while deliveries are pending delivers every one of
//!   them after a restart;
//! - two scimd processes on one database and 16 writers: a consumer following the feed throughout receives
//!   every event exactly once, in the order of the rows at the end, and the two processes' workers send a
//!   shared webhook endpoint each event once, in that order.

use crate::harness::{ServerProcess, scimd_with, stderr};
use crate::scim_client::Client;
use crate::test_app::{TestApp, org_with_token};
use crate::webhook_receiver::{Received, Receiver};
use scimd_store::models::events;
use scimd_store::testing::TestDb;
use scimd_store::{Clock, OrgId, SystemClock};
use scimd_tokens::ApiKeyService;
use scimd_webhooks::{AddressPolicy, SigningSecret, WebhookService};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ALLOW_PRIVATE: (&str, &str) = ("SCIMD_WEBHOOK_ALLOW_PRIVATE", "true");

fn create_user(client: &Client, name: &str) -> String {
    let body = json!({"schemas": [USER], "userName": name}).to_string();
    loop {
        let r = client.send("POST", "/Users", Some(&body), &[]);
        // Sixteen writers at once go past the org's limits: they wait as an IdP would.
        if r.status == 429 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            continue;
        }
        assert_eq!(r.status, 201, "{}", r.body);
        return r.json()["id"].as_str().unwrap().to_owned();
    }
}

/// Every signature checks out against `secret`, and each body names its own `webhook-id`.
fn assert_signed(received: &[Received], secret: &SigningSecret) {
    let now = SystemClock.now_naive().and_utc().timestamp();
    for r in received {
        assert!(
            scimd_webhooks::verify(secret, &r.id, &r.timestamp, &r.signature, &r.body, now),
            "a delivery's signature does not verify: {r:?}"
        );
        let body = r.json();
        // The event as the feed shows it, with the Standard Webhooks `timestamp` beside `type` and `data`.
        assert_eq!(body["id"], r.id.as_str());
        assert!(
            body["type"].is_string() && body["timestamp"].is_string(),
            "{body}"
        );
        assert!(body["data"].is_object(), "{body}");
    }
}

/// The first successful delivery of each event, in the order they arrived.
fn first_successes(received: &[Received]) -> Vec<String> {
    let mut seen = HashSet::new();
    received
        .iter()
        .filter(|r| r.delivered() && seen.insert(r.id.clone()))
        .map(|r| r.id.clone())
        .collect()
}

/// The ids of org A's events of these types in feed order, after `cursor`.
fn feed_ids(env_db: &TestDb, org: &OrgId, cursor: i64, types: &[&str]) -> Vec<String> {
    events::catch_up(&env_db.store).unwrap();
    let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
    env_db
        .store
        .read(|conn| events::after(conn, cursor, 10_000, Some(org), &types))
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

fn webhooks_deliver_signed_events_in_order_and_retry(db: &TestDb) {
    let env = &TestApp::init(db);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| scimd_with(dir.path(), Some(&db.url), args, &[ALLOW_PRIVATE]);
    let receiver = Receiver::start();
    // The first two attempts fail: the first event is retried, and the others wait for it.
    receiver.fail_next(2);
    let created = run(&[
        "webhook",
        "create",
        "--url",
        &receiver.url(),
        "--org",
        env.a.id.as_str(),
        "--types",
        "user.created,user.deactivated,user.deleted",
        "--json",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let endpoint = created["id"].as_str().unwrap().to_owned();
    let secret = SigningSecret::parse(created["secret"].as_str().unwrap()).unwrap();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));

    let scim = env.client_a();
    let id = create_user(&scim, "wanda@a.example");
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]})
    .to_string();
    assert_eq!(
        scim.send("PATCH", &format!("/Users/{id}"), Some(&patch), &[])
            .status,
        200
    );
    assert_eq!(
        scim.send("DELETE", &format!("/Users/{id}"), None, &[]).status,
        204
    );
    // Another org's events never reach this endpoint.
    create_user(&env.client_b(), "other@b.example");

    let got = receiver.wait_for("three events delivered", |r| first_successes(r).len() >= 3);
    let wanted = feed_ids(
        db,
        &env.a.id,
        0,
        &["user.created", "user.deactivated", "user.deleted"],
    );
    assert_eq!(wanted.len(), 3);
    assert_eq!(first_successes(&got), wanted, "feed order, each event once");
    // The two failures were the first event's: nothing later was sent before it got through.
    assert_eq!(got[0].id, wanted[0]);
    assert_eq!(got[1].id, wanted[0]);
    assert_eq!((got[0].status, got[1].status, got[2].status), (500, 500, 200));
    assert_eq!(got[2].id, wanted[0]);
    assert_signed(&got, &secret);
    let types: Vec<Value> = got[2..].iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(types, ["user.created", "user.deactivated", "user.deleted"]);
    assert_eq!(got[2].json()["data"]["user"]["user_name"], "wanda@a.example");

    // The log of attempts, newest first; the endpoint is caught up and healthy again. The worker records an
    // attempt after the receiver has answered it, so the receiver can be ahead of the log for a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let log = loop {
        let out = run(&["webhook", "deliveries", "--id", &endpoint, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let log: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        if log.len() >= 3 || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let oldest_first: Vec<(i64, bool)> = log
        .iter()
        .rev()
        .map(|d| (d["attempt"].as_i64().unwrap(), d["delivered"].as_bool().unwrap()))
        .collect();
    assert_eq!(oldest_first[..3], [(1, false), (2, false), (3, true)]);
    assert_eq!(log.iter().rev().nth(1).unwrap()["status_code"], 500);
    let listed = run(&["webhook", "list", "--json"]);
    let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    let mine = listed.iter().find(|e| e["id"] == endpoint.as_str()).unwrap();
    assert_eq!(mine["state"], "active");
    assert!(
        !listed.iter().any(|e| e.to_string().contains("whsec_")),
        "a list never shows a secret"
    );

    // A replay sends them again, in order.
    let before = receiver.received().len();
    let replay = run(&["webhook", "replay", "--id", &endpoint, "--after", "0", "--json"]);
    assert!(replay.status.success(), "{}", stderr(&replay));
    let again = receiver.wait_for("the replay", |r| r.len() >= before + 3);
    let replayed: Vec<String> = again[before..].iter().map(|r| r.id.clone()).collect();
    assert_eq!(replayed, wanted);

    // Private destinations need the setting; unknown types and ids are refused; delete removes it.
    let strict = scimd_with(
        dir.path(),
        Some(&db.url),
        &[
            "webhook",
            "create",
            "--url",
            &receiver.url(),
            "--org",
            env.a.id.as_str(),
        ],
        &[],
    );
    assert!(!strict.status.success());
    assert!(
        stderr(&strict).contains("SCIMD_WEBHOOK_ALLOW_PRIVATE"),
        "{}",
        stderr(&strict)
    );
    let bad_type = run(&[
        "webhook",
        "create",
        "--url",
        &receiver.url(),
        "--types",
        "user.exploded",
    ]);
    assert!(!bad_type.status.success());
    let deleted = run(&["webhook", "delete", "--id", &endpoint, "--json"]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let listed = run(&["webhook", "list", "--json"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&endpoint));
    assert!(!run(&["webhook", "delete", "--id", &endpoint]).status.success());
}

fn a_killed_server_delivers_every_pending_event_after_restart(db: &TestDb) {
    let org = org_with_token(db, "A", None);
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    receiver.fail_all(true);
    let service = WebhookService::new(
        db.store.clone(),
        Arc::new(SystemClock),
        None,
        AddressPolicy { allow_private: true },
    );
    let created = service
        .create_blocking(&receiver.url(), Some(&org.id), &[], "test")
        .unwrap();
    let first = ServerProcess::start_with(dir.path(), Some(&db.url), &[ALLOW_PRIVATE]);
    let scim = Client {
        addr: first.addr,
        base: format!("/scim/v2/{}", org.id),
        token: Some(org.token.clone()),
    };
    for i in 0..20 {
        create_user(&scim, &format!("u{i}@a.example"));
    }
    receiver.wait_for("a first (failed) attempt", |r| !r.is_empty());
    let mut first = first;
    first.child.kill().unwrap(); // SIGKILL: no shutdown, no chance to finish anything
    first.child.wait().unwrap();
    receiver.fail_all(false);
    let wanted = feed_ids(db, &org.id, created.endpoint.cursor, &["user.created"]);
    assert_eq!(wanted.len(), 20);

    let _second = ServerProcess::start_with(dir.path(), Some(&db.url), &[ALLOW_PRIVATE]);
    let got = receiver.wait_for("all 20 events after the restart", |r| {
        first_successes(r).len() >= 20
    });
    assert_eq!(
        first_successes(&got),
        wanted,
        "every pending event, in feed order"
    );
    assert_signed(&got, &created.secret);
}

fn two_processes_and_sixteen_writers_never_skip_or_repeat_an_event(db: &TestDb) {
    let (a, b) = (org_with_token(db, "A", None), org_with_token(db, "B", None));
    let dir = tempfile::tempdir().unwrap();
    // One webhook endpoint for every org: both processes' workers share it.
    let receiver = Receiver::start();
    let endpoint = WebhookService::new(
        db.store.clone(),
        Arc::new(SystemClock),
        None,
        AddressPolicy { allow_private: true },
    )
    .create_blocking(&receiver.url(), None, &[], "test")
    .unwrap();
    let servers = [
        ServerProcess::start_with(dir.path(), Some(&db.url), &[ALLOW_PRIVATE]),
        ServerProcess::start_with(dir.path(), Some(&db.url), &[ALLOW_PRIVATE]),
    ];
    let addrs = [servers[0].addr, servers[1].addr];
    let key = ApiKeyService::new(db.store.clone(), Arc::new(SystemClock))
        .create_blocking("consumer", None)
        .unwrap()
        .key;
    let done = Arc::new(AtomicBool::new(false));

    // The consumer follows the feed throughout, alternating between the processes.
    let consumer = {
        let (done, key) = (done.clone(), key.clone());
        std::thread::spawn(move || {
            let mut got: Vec<String> = Vec::new();
            let mut cursor = "0".to_owned();
            let mut i = 0usize;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let client = Client {
                    addr: addrs[i % 2],
                    base: String::new(),
                    token: Some(key.clone()),
                };
                i += 1;
                let r = client.get(&format!("/api/v1/events?after={cursor}&limit=50"));
                if r.status == 429 {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    continue;
                }
                assert_eq!(r.status, 200, "{}", r.body);
                let body = r.json();
                let page = body["events"].as_array().unwrap();
                got.extend(page.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
                cursor = body["next_cursor"].as_str().unwrap().to_owned();
                // After the writers stopped, one empty page means the consumer has seen everything.
                if finished && page.is_empty() {
                    return got;
                }
            }
        })
    };
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let org = if w % 2 == 0 {
                (a.id.clone(), a.token.clone())
            } else {
                (b.id.clone(), b.token.clone())
            };
            let addr = addrs[w % 2];
            std::thread::spawn(move || {
                let client = Client {
                    addr,
                    base: format!("/scim/v2/{}", org.0),
                    token: Some(org.1),
                };
                for i in 0..20 {
                    create_user(&client, &format!("w{w}-{i}@example.com"));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let got = consumer.join().unwrap();

    events::catch_up(&db.store).unwrap();
    let rows: Vec<String> = db
        .store
        .read(|conn| events::after(conn, 0, 100_000, None, &[]))
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        rows.len(),
        16 * 20 + 4,
        "the creates, and each org's SSO connection and token"
    );
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "an event was received twice");
    assert_eq!(
        got, rows,
        "the consumer's feed is the rows in commit order, each once"
    );

    // The two processes' workers shared the endpoint: every event after its creation, each sent once, in
    // feed order.
    let wanted: Vec<String> = db
        .store
        .read(|conn| events::after(conn, endpoint.endpoint.cursor, 100_000, None, &[]))
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(wanted.len(), 16 * 20);
    let delivered = receiver.wait_for("every event of both orgs", |r| {
        first_successes(r).len() >= wanted.len()
    });
    assert_eq!(delivered.len(), wanted.len(), "an event was sent twice");
    assert_eq!(first_successes(&delivered), wanted, "feed order");
    assert_signed(&delivered, &endpoint.secret);
}

/// An endpoint subscribed to `user.roles_changed` only receives each change of a member's roles (a mapping
/// that grants, a membership PATCH that takes), signed, with `roles`, `added` and `removed`, and nothing else.
fn a_roles_change_is_delivered_signed_to_its_subscribers(db: &TestDb) {
    use scimd_store::models::members::Role;
    use scimd_store::provisioning::{WriteCtx, roles};
    let env = &TestApp::init(db);
    let receiver = Receiver::start();
    let created = WebhookService::new(
        db.store.clone(),
        Arc::new(SystemClock),
        None,
        AddressPolicy { allow_private: true },
    )
    .create_blocking(
        &receiver.url(),
        Some(&env.a.id),
        &["user.roles_changed".to_owned()],
        "test",
    )
    .unwrap();
    let scim = env.client_a();
    let member = create_user(&scim, "rhea@a.example");
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Deployers",
        "members": [{"value": member}]});
    let r = scim.send("POST", "/Groups", Some(&body.to_string()), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    let group = r.json()["id"].as_str().unwrap().to_owned();
    let ctx = WriteCtx {
        org: env.a.id.clone(),
        actor: "cli".into(),
        now: SystemClock.now_naive(),
    };
    env.store
        .write(|c| roles::create_role(c, Some(&env.a.id), "cli", "deployer", ctx.now))
        .unwrap();
    env.store
        .write(|c| {
            roles::map(
                c,
                &ctx,
                roles::Acting(Role::Owner),
                &group,
                "deployer",
                roles::JOB_BATCH,
            )
        })
        .unwrap();
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": format!("members[value eq \"{member}\"]")}]});
    let r = scim.send(
        "PATCH",
        &format!("/Groups/{group}"),
        Some(&remove.to_string()),
        &[],
    );
    assert!(r.status == 200 || r.status == 204, "{}", r.body);

    let got = receiver.wait_for("both roles changes", |r| first_successes(r).len() >= 2);
    assert_eq!(
        first_successes(&got),
        feed_ids(db, &env.a.id, created.endpoint.cursor, &["user.roles_changed"]),
        "the two roles changes, in feed order, and none of the org's other events"
    );
    assert_signed(&got, &created.secret);
    let data: Vec<Value> = got.iter().map(|r| r.json()["data"].clone()).collect();
    assert!(got.iter().all(|r| r.json()["type"] == "user.roles_changed"));
    assert_eq!(
        data,
        [
            json!({"id": member, "roles": ["member", "deployer"], "added": ["deployer"], "removed": []}),
            json!({"id": member, "roles": ["member"], "added": [], "removed": ["deployer"]}),
        ]
    );
}

scimd_store::backend_tests!(
    webhooks_deliver_signed_events_in_order_and_retry,
    a_killed_server_delivers_every_pending_event_after_restart,
    two_processes_and_sixteen_writers_never_skip_or_repeat_an_event,
    a_roles_change_is_delivered_signed_to_its_subscribers,
);
