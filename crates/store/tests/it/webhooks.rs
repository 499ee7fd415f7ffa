//! Webhook endpoints (`models::webhooks`), on both backends: a claim leases an endpoint to one process at a
//! time, only while it is due and behind the feed; a finished round moves the cursor only as far as it
//! delivered and releases the lease it holds (a stale owner changes nothing); failures schedule the retry,
//! an endpoint failing for five days is disabled, and a replay re-enables it from the given cursor.

use crate::fixtures;
use chrono::Duration;
use scimd_store::OrgId;
use scimd_store::models::webhooks::{self, DISABLE_AFTER_DAYS, Endpoint, NewDelivery, Outcome};
use scimd_store::testing::TestDb;

/// An endpoint of `org`, due at `now`.
fn endpoint(org: &OrgId, id: &str, cursor: i64, now: chrono::NaiveDateTime) -> Endpoint {
    Endpoint {
        id: id.into(),
        org_id: Some(org.as_str().into()),
        url: "https://hooks.example.com/x".into(),
        types: String::new(),
        secret_sealed: vec![1, 2, 3],
        created_at: now,
        cursor,
        attempts: 0,
        next_attempt_at: now,
        failing_since: None,
        disabled_at: None,
        leased_until: None,
        lease_owner: None,
    }
}

fn attempt(id: &str, delivered: bool) -> NewDelivery {
    NewDelivery {
        endpoint_id: id.into(),
        org_id: "org".into(),
        event_id: "evt".into(),
        event_type: "user.created".into(),
        position: Some(1),
        attempt: 1,
        status_code: Some(if delivered { 204 } else { 500 }),
        error: (!delivered).then(|| "answered 500".into()),
        latency_ms: 3,
        delivered,
        attempted_at: fixtures::now(),
    }
}

fn a_claim_leases_due_endpoints_to_one_owner_and_a_round_moves_the_cursor(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "A");
    let now = fixtures::now();
    db.store
        .write(|conn| {
            webhooks::insert(conn, &endpoint(&org, "behind", 5, now))?;
            webhooks::insert(conn, &endpoint(&org, "caught-up", 10, now))
        })
        .unwrap();
    let lease = now + Duration::seconds(60);
    let claim = |owner: &str, at| {
        db.store
            .write(|conn| webhooks::claim(conn, owner, at, at + Duration::seconds(60), 10, 8, 2))
            .unwrap()
    };
    let first = claim("p1", now);
    assert_eq!(
        first.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["behind"],
        "only what is behind"
    );
    assert!(
        claim("p2", now).is_empty(),
        "a leased endpoint is not claimed again"
    );

    // A stale owner's finish changes nothing; the owner's moves the cursor and releases the lease.
    let stale = db
        .store
        .write(|conn| webhooks::finish(conn, "behind", "p2", &[], &Outcome::Delivered { cursor: 99 }, now))
        .unwrap();
    assert!(!stale);
    let done = db
        .store
        .write(|conn| {
            webhooks::finish(
                conn,
                "behind",
                "p1",
                &[attempt("behind", true)],
                &Outcome::Delivered { cursor: 8 },
                now,
            )
        })
        .unwrap();
    assert!(done);
    let row = db
        .store
        .read(|conn| webhooks::get(conn, "behind"))
        .unwrap()
        .unwrap();
    assert_eq!((row.cursor, row.lease_owner, row.attempts), (8, None, 0));
    assert_eq!(
        db.store
            .read(|conn| webhooks::deliveries(conn, "behind", 10))
            .unwrap()
            .len(),
        1
    );

    // An expired lease can be taken over by another process.
    let again = claim("p3", now);
    assert_eq!(again.len(), 1);
    assert!(claim("p4", now).is_empty(), "p3 holds it");
    assert_eq!(
        claim("p4", lease + Duration::seconds(1)).len(),
        1,
        "p3's lease ran out"
    );
}

fn failures_back_off_then_disable_the_endpoint_until_a_replay(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "A");
    let now = fixtures::now();
    db.store
        .write(|conn| webhooks::insert(conn, &endpoint(&org, "e", 0, now)))
        .unwrap();
    let claim = |at| {
        db.store
            .write(|conn| webhooks::claim(conn, "p", at, at + Duration::seconds(60), 10, 8, 2))
            .unwrap()
    };
    let fail = |at, since| {
        db.store
            .write(|conn| {
                webhooks::finish(
                    conn,
                    "e",
                    "p",
                    &[attempt("e", false)],
                    &Outcome::Failed {
                        cursor: 0,
                        failures: 1,
                        retry_at: at + Duration::seconds(5),
                        failing_since: since,
                    },
                    at,
                )
            })
            .unwrap()
    };
    assert_eq!(claim(now).len(), 1);
    assert!(fail(now, now));
    let row = db.store.read(|conn| webhooks::get(conn, "e")).unwrap().unwrap();
    assert_eq!(
        (row.attempts, row.failing_since, row.disabled_at),
        (1, Some(now), None)
    );
    assert!(claim(now).is_empty(), "not due before its retry");
    assert_eq!(
        claim(now + Duration::seconds(6)).len(),
        1,
        "due again after its back-off"
    );

    // Still failing five days after the first failure: disabled, and never claimed again.
    let later = now + Duration::days(DISABLE_AFTER_DAYS) + Duration::seconds(7);
    assert!(fail(later, now));
    let row = db.store.read(|conn| webhooks::get(conn, "e")).unwrap().unwrap();
    assert_eq!(row.disabled_at, Some(later));
    assert!(claim(later + Duration::days(1)).is_empty());
    assert!(
        !db.store
            .read(|conn| webhooks::any_due(conn, later + Duration::days(1)))
            .unwrap()
    );

    // A replay re-enables it from the cursor it is given.
    assert!(
        db.store
            .write(|conn| webhooks::replay(conn, "e", 3, later))
            .unwrap()
    );
    let row = db.store.read(|conn| webhooks::get(conn, "e")).unwrap().unwrap();
    assert_eq!(
        (row.cursor, row.attempts, row.disabled_at, row.failing_since),
        (3, 0, None, None)
    );
    assert!(
        !db.store
            .write(|conn| webhooks::replay(conn, "nope", 0, later))
            .unwrap()
    );
    assert!(db.store.write(|conn| webhooks::delete(conn, "e")).unwrap());
    assert!(
        db.store
            .read(|conn| webhooks::deliveries(conn, "e", 10))
            .unwrap()
            .is_empty()
    );
}

fn a_claim_gives_each_org_at_most_its_share_across_owners(db: &TestDb) {
    let (a, b) = (
        fixtures::new_org(&db.store, "A"),
        fixtures::new_org(&db.store, "B"),
    );
    let now = fixtures::now();
    db.store
        .write(|conn| {
            // Org A's eight endpoints are the most overdue; org B's one comes last.
            for i in 0..8 {
                webhooks::insert(
                    conn,
                    &endpoint(&a, &format!("a{i}"), 0, now - Duration::seconds(10)),
                )?;
            }
            webhooks::insert(conn, &endpoint(&b, "b", 0, now))
        })
        .unwrap();
    let claim = |owner: &str, limit| {
        let mut ids: Vec<String> = db
            .store
            .write(|conn| webhooks::claim(conn, owner, now, now + Duration::seconds(60), 10, limit, 2))
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(claim("p1", 8), ["a0", "a1", "b"], "two of org A, and org B's");
    assert!(
        claim("p2", 8).is_empty(),
        "org A's share is in flight in another process"
    );
    db.store
        .write(|conn| webhooks::finish(conn, "a0", "p1", &[], &Outcome::Delivered { cursor: 0 }, now))
        .unwrap();
    assert_eq!(
        claim("p2", 8),
        ["a2"],
        "a finished round frees one of org A's slots"
    );

    // A slow success is delivered, not failing, and due again only later.
    let later = now + Duration::seconds(5);
    db.store
        .write(|conn| {
            webhooks::finish(
                conn,
                "a1",
                "p1",
                &[],
                &Outcome::Slow {
                    cursor: 4,
                    due_at: later,
                },
                now,
            )
        })
        .unwrap();
    let row = db.store.read(|conn| webhooks::get(conn, "a1")).unwrap().unwrap();
    assert_eq!(
        (row.cursor, row.attempts, row.next_attempt_at, row.lease_owner),
        (4, 0, later, None)
    );
    assert_eq!(
        db.store.read(|conn| webhooks::count_for_org(conn, &a)).unwrap(),
        8
    );
}

scimd_store::backend_tests!(
    a_claim_gives_each_org_at_most_its_share_across_owners,
    a_claim_leases_due_endpoints_to_one_owner_and_a_round_moves_the_cursor,
    failures_back_off_then_disable_the_endpoint_until_a_replay,
);
