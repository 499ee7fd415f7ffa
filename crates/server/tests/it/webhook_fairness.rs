//! Webhooks are fair across orgs, on both backends:
//! - one org's eight slow endpoints hold at most their org's share of the worker's slots: another org's
//!   event is delivered (and recorded) before most of the slow org's backlog, asserted by the order of the
//!   delivery log, not by a time;
//! - a success that took most of the timeout ends the round and makes the endpoint wait like a failure;
//! - an org has at most `SCIMD_WEBHOOK_MAX_ENDPOINTS_PER_ORG` endpoints (admin service and `scimd webhook
//!   create`), and "Send test event" goes at most once every ten seconds per endpoint.

use crate::harness::{scimd_with, stderr};
use crate::scim_client::Client;
use crate::test_app::{TestApp, org_with_token};
use crate::webhook_receiver::Receiver;
use scimd_store::models::{events, webhooks};
use scimd_store::testing::TestDb;
use scimd_store::{Clock, StoreError, SystemClock};
use scimd_webhooks::client::Sender;
use scimd_webhooks::{AddressPolicy, WebhookError, WebhookService, Worker, WorkerSettings};
use serde_json::json;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn service(db: &TestDb) -> WebhookService {
    WebhookService::new(
        db.store.clone(),
        Arc::new(SystemClock),
        None,
        AddressPolicy { allow_private: true },
    )
}

fn create_user(client: &Client, name: &str) {
    let body = json!({"schemas": [USER], "userName": name}).to_string();
    let r = client.send("POST", "/Users", Some(&body), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
}

/// The delivery log's sequence numbers of one endpoint's attempts.
fn logged(db: &TestDb, endpoint: &str) -> Vec<i64> {
    db.store
        .read(|conn| webhooks::deliveries(conn, endpoint, 200))
        .unwrap()
        .into_iter()
        .map(|d| d.seq)
        .collect()
}

fn a_slow_org_leaves_room_for_another_orgs_delivery(db: &TestDb) {
    let env = &TestApp::init(db);
    let hooks = service(db);
    let slow = Receiver::start();
    // Slow enough that two rounds of A's (4 events each) take longer than B's delivery, even on a loaded
    // machine: B would have to wait 4 s for the assertion below to fail.
    slow.answer_after(Duration::from_millis(500));
    let fast = Receiver::start();
    // Org A's backlog: four events for each of eight slow endpoints, all pending at once (a replay from
    // before them), then one event of org B.
    events::catch_up(&db.store).unwrap();
    let before = db.store.read(events::latest).unwrap();
    for i in 0..4 {
        create_user(&env.client_a(), &format!("a{i}@a.example"));
    }
    let a: Vec<String> = (0..8)
        .map(|_| {
            hooks
                .create_blocking(&slow.url(), Some(&env.a.id), &["user.created".into()], "test")
                .unwrap()
                .endpoint
                .id
        })
        .collect();
    let b = hooks
        .create_blocking(&fast.url(), Some(&env.b.id), &[], "test")
        .unwrap()
        .endpoint
        .id;
    for id in &a {
        hooks.replay_blocking(id, None, before, "test").unwrap();
    }
    create_user(&env.client_b(), "b@b.example");

    slow.wait_for("org A's whole backlog", |r| r.len() >= 32);
    fast.wait_for("org B's event", |r| !r.is_empty());
    // The rounds record their attempts when they end: wait for the log to hold them all.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (a_log, b_log) = loop {
        let a_log: Vec<i64> = a.iter().flat_map(|id| logged(db, id)).collect();
        let b_log = logged(db, &b);
        if a_log.len() >= 32 && !b_log.is_empty() {
            break (a_log, b_log);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log never held every attempt"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let b_at = b_log.iter().min().copied().unwrap();
    let a_before_b = a_log.iter().filter(|seq| **seq < b_at).count();
    // Before: every slot went to org A, and org B waited for the slowest of them (all 32 were first).
    // Now org A has two slots and org B's event goes in a free one: at most two of A's rounds came first.
    assert!(
        a_before_b <= 8,
        "{a_before_b} of org A's {} attempts were recorded before org B's one",
        a_log.len()
    );
}

fn a_slow_success_ends_the_round_and_makes_the_endpoint_wait(db: &TestDb) {
    let org = org_with_token(db, "A", None);
    let receiver = Receiver::start();
    // Over half of the worker's timeout, but within it: delivered, slowly.
    receiver.answer_after(Duration::from_millis(600));
    let hooks = service(db);
    let endpoint = hooks
        .create_blocking(&receiver.url(), Some(&org.id), &[], "test")
        .unwrap()
        .endpoint;
    let now = SystemClock.now_naive();
    db.store
        .write(|conn| {
            for i in 0..3 {
                events::append(conn, &org.id, "user.created", now, &json!({ "i": i }))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let settings = WorkerSettings {
        timeout: Duration::from_secs(1),
        ..WorkerSettings::default()
    };
    let worker = Worker::new(hooks.clone(), settings);
    let made = actix_web::rt::System::new().block_on(async move {
        let sender =
            Rc::new(Sender::new(AddressPolicy { allow_private: true }, Duration::from_secs(1)).unwrap());
        let first = worker.round(&sender).await.unwrap();
        // Not due again at once: the next round finds nothing to send.
        let second = worker.round(&sender).await.unwrap();
        (first, second)
    });
    assert_eq!(made, (1, 0), "one slow success, then a pause");
    let row = db
        .store
        .read(|conn| webhooks::get(conn, &endpoint.id))
        .unwrap()
        .unwrap();
    assert!(row.cursor > endpoint.cursor, "the slow event was delivered");
    assert!(
        row.next_attempt_at > SystemClock.now_naive(),
        "and the endpoint waits"
    );
    assert_eq!((row.attempts, row.failing_since), (0, None), "it is not failing");
}

fn an_org_has_at_most_the_configured_number_of_endpoints(db: &TestDb) {
    let org = org_with_token(db, "A", None);
    let hooks = service(db).with_max_endpoints_per_org(2);
    let url = "http://127.0.0.1:9/hook";
    for _ in 0..2 {
        hooks.create_blocking(url, Some(&org.id), &[], "test").unwrap();
    }
    let refused = hooks
        .create_blocking(url, Some(&org.id), &[], "test")
        .unwrap_err();
    assert!(
        matches!(refused, WebhookError::TooManyEndpoints { max: 2 }),
        "{refused:?}"
    );
    assert!(
        refused
            .to_string()
            .contains("SCIMD_WEBHOOK_MAX_ENDPOINTS_PER_ORG")
    );
    // Another org is not affected.
    let other = org_with_token(db, "B", None);
    hooks.create_blocking(url, Some(&other.id), &[], "test").unwrap();

    // `scimd webhook create` applies the setting.
    let dir = tempfile::tempdir().unwrap();
    let create = |max: &str| {
        scimd_with(
            dir.path(),
            Some(&db.url),
            &["webhook", "create", "--url", url, "--org", other.id.as_str()],
            &[
                ("SCIMD_WEBHOOK_ALLOW_PRIVATE", "true"),
                ("SCIMD_WEBHOOK_MAX_ENDPOINTS_PER_ORG", max),
            ],
        )
    };
    let full = create("1");
    assert!(!full.status.success());
    assert!(
        stderr(&full).contains("already has 1 webhook endpoints"),
        "{}",
        stderr(&full)
    );
    assert!(create("2").status.success());
}

fn a_test_event_goes_at_most_once_every_ten_seconds_per_endpoint(db: &TestDb) {
    let org = org_with_token(db, "A", None);
    let receiver = Receiver::start();
    let hooks = service(db);
    let (first, second) = (
        hooks
            .create_blocking(&receiver.url(), Some(&org.id), &[], "test")
            .unwrap()
            .endpoint,
        hooks
            .create_blocking(&receiver.url(), Some(&org.id), &[], "test")
            .unwrap()
            .endpoint,
    );
    let results = actix_web::rt::System::new().block_on(async move {
        let sender = Sender::new(AddressPolicy { allow_private: true }, Duration::from_secs(5)).unwrap();
        let send = |id: String| {
            let (hooks, sender, org) = (&hooks, &sender, org.id.clone());
            async move { scimd_webhooks::test_event::send(hooks, sender, &id, Some(&org)).await }
        };
        (
            send(first.id.clone()).await,
            send(first.id.clone()).await,
            send(second.id.clone()).await,
        )
    });
    assert!(results.0.unwrap().delivered());
    let throttled = results.1.unwrap_err();
    assert!(
        matches!(throttled, WebhookError::TestThrottled { seconds: 10 }),
        "{throttled:?}"
    );
    assert!(
        results.2.unwrap().delivered(),
        "another endpoint has its own allowance"
    );
    assert_eq!(receiver.received().len(), 2, "the throttled one was never sent");
}

scimd_store::backend_tests!(
    a_slow_org_leaves_room_for_another_orgs_delivery,
    a_slow_success_ends_the_round_and_makes_the_endpoint_wait,
    an_org_has_at_most_the_configured_number_of_endpoints,
    a_test_event_goes_at_most_once_every_ten_seconds_per_endpoint,
);
