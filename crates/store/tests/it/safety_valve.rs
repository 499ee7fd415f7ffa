//! The deprovisioning safety valve through the SCIM deprovisioning path: 30 deactivations in a 100-member org
//! trip it after the 20% threshold, the admin's release lets the rest through, it can be turned off (and then
//! counts nothing), and members the IdP created within the window do not count.

use crate::fixtures;
use chrono::{Duration, NaiveDateTime};
use scimd_scim::PatchRequest;
use scimd_scim::resources::validate;
use scimd_scim::schema::USER;
use scimd_store::models::audit_events::{self, actions};
use scimd_store::models::members;
use scimd_store::models::safety_valve;
use scimd_store::provisioning::{ScimStoreError, WriteCtx, users};
use scimd_store::schema::safety_valve_minutes;
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, StoreError};
use serde_json::json;

fn ctx(org: &OrgId, now: NaiveDateTime) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now,
    }
}

fn deactivation() -> PatchRequest {
    PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    }))
    .unwrap()
}

/// Creates `n` Users through SCIM at `at`; returns their ids.
pub fn provision(db: &TestDb, org: &OrgId, n: usize, at: NaiveDateTime) -> Vec<String> {
    (0..n)
        .map(|i| {
            let doc = validate(
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("p{i}@acme.example")}),
                &USER,
            )
            .unwrap()
            .doc;
            db.store
                .write(|conn| users::create(conn, &ctx(org, at), &doc, &[]))
                .unwrap()
                .user
                .row
                .id
        })
        .collect()
}

/// Whether one deactivation went through (`false`: the valve held it, with 503 semantics).
fn deactivate(db: &TestDb, org: &OrgId, id: &str, at: NaiveDateTime) -> bool {
    match db
        .store
        .write(|conn| users::patch(conn, &ctx(org, at), id, None, &deactivation()))
    {
        Ok(_) => true,
        Err(ScimStoreError::Held { retry_after_secs }) => {
            assert!(retry_after_secs > 0);
            false
        }
        Err(other) => panic!("{other:?}"),
    }
}

fn org_of_100(db: &TestDb) -> (OrgId, Vec<String>, NaiveDateTime) {
    let org = fixtures::new_org(&db.store, "Acme");
    let created = fixtures::now();
    let people = provision(db, &org, 100, created);
    // Deprovisioning starts two hours later: none of them was created within the valve's window.
    (org, people, created + Duration::hours(2))
}

fn thirty_deactivations_in_a_hundred_trip_it_and_release_lets_them_through(db: &TestDb) {
    let (org, people, now) = org_of_100(db);
    let went: Vec<bool> = people[..30]
        .iter()
        .enumerate()
        .map(|(i, p)| deactivate(db, &org, p, now + Duration::seconds(i as i64)))
        .collect();
    assert_eq!(went.iter().filter(|w| **w).count(), 20, "20% of 100 go through");
    assert!(went[20..].iter().all(|w| !w), "{went:?}");

    let status = db
        .store
        .read(|conn| safety_valve::status(conn, &org, now))
        .unwrap();
    assert!(status.held);
    assert_eq!((status.deprovisioned_in_window, status.threshold), (20, 20));
    let tripped = db
        .store
        .read(|conn| audit_events::list(conn, &org, Some(actions::SAFETY_VALVE_TRIPPED), None, 10))
        .unwrap();
    assert_eq!(
        tripped.len(),
        1,
        "one trip, one event, however many requests were held"
    );
    let held_member = db
        .store
        .read(|conn| members::get(conn, &org, &scimd_store::MemberId::new(people[25].clone())))
        .unwrap();
    assert!(held_member.active, "a held deprovisioning changes nothing");

    let later = now + Duration::minutes(5);
    assert!(
        db.store
            .write(|conn| safety_valve::release(conn, &org, "admin@acme.example", later))
            .unwrap()
    );
    let after: Vec<bool> = people[20..30]
        .iter()
        .map(|p| deactivate(db, &org, p, later + Duration::seconds(1)))
        .collect();
    assert!(after.iter().all(|w| *w), "{after:?}");
    let live = db.store.read(|conn| members::count_live(conn, &org)).unwrap();
    assert_eq!(live, 100, "deactivated members stay members");
}

fn a_small_org_is_protected_by_the_minimum_and_the_valve_can_be_turned_off(db: &TestDb) {
    let (org, people, now) = org_of_100(db);
    db.store
        .write(|conn| safety_valve::configure(conn, &org, "admin", true, 5, 10, now))
        .unwrap();
    let went: Vec<bool> = people[..11]
        .iter()
        .map(|p| deactivate(db, &org, p, now))
        .collect();
    assert_eq!(
        went.iter().filter(|w| **w).count(),
        10,
        "5% of 100 is below the minimum 10"
    );

    db.store
        .write(|conn| safety_valve::configure(conn, &org, "admin", false, 5, 10, now))
        .unwrap();
    let minutes_before = minute_rows(db, &org);
    let off: Vec<bool> = people[11..40]
        .iter()
        .map(|p| deactivate(db, &org, p, now))
        .collect();
    assert!(off.iter().all(|w| *w));
    assert_eq!(
        minute_rows(db, &org),
        minutes_before,
        "with the valve off nothing is counted"
    );
    let bad = db
        .store
        .write(|conn| safety_valve::configure(conn, &org, "admin", true, 0, 10, now));
    assert!(matches!(bad, Err(StoreError::Refused(_))));
}

fn minute_rows(db: &TestDb, org: &OrgId) -> Vec<(NaiveDateTime, i64)> {
    use diesel::prelude::*;
    db.store
        .read(|conn| {
            Ok::<_, StoreError>(
                safety_valve_minutes::table
                    .filter(safety_valve_minutes::org_id.eq(org.as_str()))
                    .select((safety_valve_minutes::minute, safety_valve_minutes::deprovisioned))
                    .order(safety_valve_minutes::minute)
                    .load(conn)?,
            )
        })
        .unwrap()
}

/// What a conformance tool or an IdP's "test connection" does: create users and delete them at once. They
/// were created within the window, so they do not count, however many there are.
fn members_created_within_the_window_do_not_count(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "Fresh");
    let now = fixtures::now();
    let ids = provision(db, &org, 40, now);
    for (i, id) in ids.iter().enumerate() {
        let at = now + Duration::seconds(i as i64);
        db.store
            .write(|conn| users::delete(conn, &ctx(&org, at), id, None))
            .unwrap();
    }
    let status = db
        .store
        .read(|conn| safety_valve::status(conn, &org, now))
        .unwrap();
    assert!(!status.held);
    assert_eq!(status.deprovisioned_in_window, 0);
    assert!(minute_rows(db, &org).is_empty());
}

scimd_store::backend_tests!(
    thirty_deactivations_in_a_hundred_trip_it_and_release_lets_them_through,
    a_small_org_is_protected_by_the_minimum_and_the_valve_can_be_turned_off,
    members_created_within_the_window_do_not_count
);
