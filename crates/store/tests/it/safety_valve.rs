//! The deprovisioning safety valve: 30 deactivations in a 100-member org trip it after the 20% threshold, the
//! admin's release lets the rest through, and it can be turned off.

use crate::fixtures;
use chrono::Duration;
use scimd_store::models::audit_events::{self, NewAuditEvent, actions};
use scimd_store::models::members;
use scimd_store::models::safety_valve::{self, Verdict};
use scimd_store::testing::TestDb;
use scimd_store::{DbConnection, OrgId, StoreError};

/// What the SCIM deprovisioning path does, reduced to the parts the valve sees.
fn deactivate(
    conn: &mut DbConnection,
    org: &OrgId,
    member: &members::Member,
    now: chrono::NaiveDateTime,
) -> Result<Verdict, StoreError> {
    let verdict = safety_valve::check(conn, org, "idp", member.created_at, now)?;
    if verdict == Verdict::Allowed {
        use diesel::prelude::*;
        use scimd_store::schema::members as m;
        diesel::update(m::table.filter(m::id.eq(&member.id)))
            .set(m::active.eq(false))
            .execute(conn)?;
        audit_events::append(
            conn,
            &NewAuditEvent {
                org_id: org,
                occurred_at: now,
                actor: "idp",
                action: actions::MEMBER_DEACTIVATED,
                target: Some(&member.id),
                details: serde_json::json!({}),
            },
        )?;
    }
    Ok(verdict)
}

fn org_of_100(db: &TestDb) -> (OrgId, Vec<members::Member>) {
    db.store
        .write(|conn| {
            let org = fixtures::org(conn, "Acme");
            let people = (0..100)
                .map(|i| fixtures::member(conn, &org, &format!("p{i}@acme.example")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, scimd_store::StoreError>((org, people))
        })
        .unwrap()
}

fn thirty_deactivations_in_a_hundred_trip_it_and_release_lets_them_through(db: &TestDb) {
    let (org, people) = org_of_100(db);
    let now = fixtures::now();
    let verdicts: Vec<Verdict> = people[..30]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            db.store
                .write(|conn| deactivate(conn, &org, p, now + Duration::seconds(i as i64)))
                .unwrap()
        })
        .collect();
    let allowed = verdicts.iter().filter(|v| **v == Verdict::Allowed).count();
    assert_eq!(allowed, 20, "20% of 100 go through");
    assert!(
        verdicts[20..]
            .iter()
            .all(|v| matches!(v, Verdict::Held { retry_after_secs } if *retry_after_secs > 0))
    );

    let status = db
        .store
        .read(|conn| safety_valve::status(conn, &org, now))
        .unwrap();
    assert!(status.held);
    let tripped = db
        .store
        .read(|conn| audit_events::list(conn, &org, Some(actions::SAFETY_VALVE_TRIPPED), None, 10))
        .unwrap();
    assert_eq!(
        tripped.len(),
        1,
        "one trip, one event, however many requests were held"
    );

    let later = now + Duration::minutes(5);
    assert!(
        db.store
            .write(|conn| safety_valve::release(conn, &org, "admin@acme.example", later))
            .unwrap()
    );
    let after: Vec<Verdict> = people[20..30]
        .iter()
        .map(|p| {
            db.store
                .write(|conn| deactivate(conn, &org, p, later + Duration::seconds(1)))
                .unwrap()
        })
        .collect();
    assert!(after.iter().all(|v| *v == Verdict::Allowed), "{after:?}");
    let active = db.store.read(|conn| members::count_live(conn, &org)).unwrap();
    assert_eq!(active, 100, "deactivated members stay members");
}

fn a_small_org_is_protected_by_the_minimum_and_the_valve_can_be_turned_off(db: &TestDb) {
    let (org, people) = org_of_100(db);
    let now = fixtures::now();
    db.store
        .write(|conn| safety_valve::configure(conn, &org, "admin", true, 5, 10, now))
        .unwrap();
    let verdicts: Vec<Verdict> = people[..11]
        .iter()
        .map(|p| db.store.write(|conn| deactivate(conn, &org, p, now)).unwrap())
        .collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == Verdict::Allowed).count(),
        10,
        "5% of 100 is below the minimum 10"
    );

    db.store
        .write(|conn| safety_valve::configure(conn, &org, "admin", false, 5, 10, now))
        .unwrap();
    let off: Vec<Verdict> = people[11..40]
        .iter()
        .map(|p| db.store.write(|conn| deactivate(conn, &org, p, now)).unwrap())
        .collect();
    assert!(off.iter().all(|v| *v == Verdict::Allowed));
    let bad = db
        .store
        .write(|conn| safety_valve::configure(conn, &org, "admin", true, 0, 10, now));
    assert!(matches!(bad, Err(StoreError::Refused(_))));
}

scimd_store::backend_tests!(
    thirty_deactivations_in_a_hundred_trip_it_and_release_lets_them_through,
    a_small_org_is_protected_by_the_minimum_and_the_valve_can_be_turned_off
);
