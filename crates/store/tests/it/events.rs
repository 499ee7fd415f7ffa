//! The platform's event feed (`models::events`), on both backends: every SCIM write appends exactly its
//! events in its own transaction and a refused write none, and a reader that follows the cursor while
//! writers commit concurrently sees every event exactly once, in feed order (on PostgreSQL through the
//! sequencer, on SQLite through the group commit's batches).

use crate::fixtures;
use crate::safety_valve::provision;
use chrono::Duration;
use scimd_scim::PatchRequest;
use scimd_scim::resources::validate;
use scimd_scim::schema::GROUP;
use scimd_store::models::events::{self, Event};
use scimd_store::models::safety_valve;
use scimd_store::provisioning::{IfMatch, ScimStoreError, WriteCtx, groups, users};
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, Store};
use serde_json::{Value, json};
use std::collections::HashSet;

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

use fixtures::scim_user as user;

/// Creates a User through SCIM in a write of its own; returns its row.
fn create(store: &Store, c: &WriteCtx, name: &str) -> scimd_store::models::members::Member {
    store
        .write(|conn| users::create(conn, c, &user(name), &[]))
        .unwrap()
        .user
        .row
}

fn patch(ops: Value) -> PatchRequest {
    PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops
    }))
    .unwrap()
}

/// Positions everything committed (waiting while another sequencer holds the lock), then reads the whole
/// feed of `org` (all orgs: `None`) in order.
fn feed(store: &Store, org: Option<&OrgId>) -> Vec<Event> {
    while store.write(events::sequence).unwrap() != Some(0) {}
    store
        .read(|conn| events::after(conn, 0, 1_000_000, org, &[]))
        .unwrap()
}

fn types_of(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn every_scim_write_appends_exactly_its_events(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let other = fixtures::new_org(store, "Other");
    let c = ctx(&org);
    let a = create(store, &c, "a@acme.example");
    let b = create(store, &c, "b@acme.example");
    store
        .write(|conn| users::create(conn, &ctx(&other), &user("a@acme.example"), &[]))
        .unwrap();
    let write = |id: &str, ops: Value| {
        store
            .write(|conn| users::patch(conn, &c, id, None, &patch(ops)))
            .unwrap()
    };
    write(
        &a.id,
        json!([{"op": "replace", "path": "displayName", "value": "Ann"}]),
    );
    write(&a.id, json!([{"op": "replace", "value": {"active": false}}]));
    write(&a.id, json!([{"op": "replace", "value": {"active": true}}]));
    let group_doc = validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"}),
        &GROUP,
    )
    .unwrap()
    .doc;
    let g = store
        .write(|conn| groups::create(conn, &c, &group_doc, std::slice::from_ref(&a.id), &[]))
        .unwrap()
        .row;
    let members = |ops: Value| {
        store
            .write(|conn| groups::patch(conn, &c, &g.id, None, &patch(ops), 1_000))
            .unwrap()
    };
    // Adding a member twice adds it once: the event lists what changed.
    members(json!([{"op": "add", "path": "members", "value": [{"value": b.id}, {"value": a.id}]}]));
    members(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", a.id)}]));
    members(json!([{"op": "replace", "path": "displayName", "value": "Engineering"}]));
    store.write(|conn| users::delete(conn, &c, &b.id, None)).unwrap();
    store.write(|conn| groups::delete(conn, &c, &g.id, None)).unwrap();

    let got = feed(store, Some(&org));
    assert_eq!(
        types_of(&got),
        [
            "user.created",
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.reactivated",
            "group.created",
            "group.membership_changed",
            "group.membership_changed",
            "group.membership_changed",
            "group.updated",
            "user.deleted",
            "group.deleted",
        ]
    );
    assert!(
        got.iter().all(|e| e.org_id == org.as_str()),
        "only the org's events"
    );
    let data: Vec<Value> = got.iter().map(|e| events::data(e).unwrap()).collect();
    assert_eq!(data[0]["id"], a.id.as_str());
    assert_eq!(data[0]["version"], 1);
    assert_eq!(data[0]["user"]["user_name"], "a@acme.example");
    assert_eq!(data[0]["user"]["id"], a.id.as_str());
    assert_eq!(data[0]["user"]["org_id"], org.as_str());
    assert_eq!(data[2]["user"]["display_name"], "Ann");
    assert_eq!(data[3]["user"]["active"], false);
    assert_eq!(data[3]["version"], 3);
    assert_eq!(data[4]["user"]["active"], true);
    assert_eq!(data[5]["group"]["display_name"], "Eng");
    assert!(
        data[5]["group"].get("members").is_none(),
        "a group's event has no members"
    );
    assert_eq!(data[6]["added"], json!([a.id]));
    assert_eq!(data[7]["added"], json!([b.id]), "a was a member already");
    assert_eq!(data[7]["removed"], json!([]));
    assert_eq!(data[8]["removed"], json!([a.id]));
    assert_eq!(data[9]["group"]["display_name"], "Engineering");
    assert_eq!(data[10]["id"], b.id.as_str());
    assert_eq!(data[11]["id"], g.id.as_str());
    // Ids are unique, positions strictly increase.
    let ids: HashSet<&str> = got.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), got.len());
    assert!(got.windows(2).all(|w| w[0].position < w[1].position));
}

fn a_refused_write_appends_no_event(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let c = ctx(&org);
    let a = create(store, &c, "a@acme.example");
    let before = feed(store, Some(&org)).len();
    assert_eq!(before, 1);
    // 409: the userName is taken.
    let taken = store.write(|conn| users::create(conn, &c, &user("A@acme.example"), &[]));
    assert!(matches!(taken, Err(ScimStoreError::Refused(_))), "{taken:?}");
    // 412: a stale version.
    let stale = store.write(|conn| {
        users::patch(
            conn,
            &c,
            &a.id,
            Some(IfMatch::Version(7)),
            &patch(json!([{"op": "replace", "path": "displayName", "value": "X"}])),
        )
    });
    assert!(matches!(stale, Err(ScimStoreError::Refused(_))), "{stale:?}");
    // 400: the operation cannot apply.
    let bad = store.write(|conn| {
        users::patch(
            conn,
            &c,
            &a.id,
            None,
            &patch(json!([{"op": "replace", "path": "userName", "value": ""}])),
        )
    });
    assert!(matches!(bad, Err(ScimStoreError::Refused(_))), "{bad:?}");
    assert_eq!(feed(store, Some(&org)).len(), before);

    // The safety valve's hold: the trip is an event, the deactivation it refused is not.
    let earlier = fixtures::now() - Duration::days(1);
    let ids = provision(db, &org, 20, earlier);
    store
        .write(|conn| safety_valve::configure(conn, &org, "admin", true, 10, 1, fixtures::now()))
        .unwrap();
    let mut held = false;
    for id in &ids {
        let r = store.write(|conn| {
            users::patch(
                conn,
                &c,
                id,
                None,
                &patch(json!([{"op": "replace", "value": {"active": false}}])),
            )
        });
        if matches!(r, Err(ScimStoreError::Held { .. })) {
            held = true;
            break;
        }
        r.unwrap();
    }
    assert!(held, "the valve held");
    let got = feed(store, Some(&org));
    let after: Vec<&str> = types_of(&got)[before..].to_vec();
    let deactivated = after.iter().filter(|t| **t == "user.deactivated").count();
    assert_eq!(after.iter().filter(|t| **t == "user.created").count(), 20);
    assert_eq!(deactivated, 2, "10 % of 21 active members: 2 deactivations pass");
    assert_eq!(after.last(), Some(&"safety_valve.tripped"));
    store
        .write(|conn| safety_valve::release(conn, &org, "admin", fixtures::now()))
        .unwrap();
    assert_eq!(
        types_of(&feed(store, Some(&org))).last(),
        Some(&"safety_valve.released")
    );
}

/// Retention deletes old events but never the newest one, so positions continue after a purge instead of
/// starting again (a consumer's cursor must never point at a reused position).
fn the_retention_purge_keeps_the_newest_event_and_positions_never_restart(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let long_ago = fixtures::now() - Duration::days(200);
    for i in 0..3 {
        store
            .write(|conn| {
                events::append(
                    conn,
                    &org,
                    "user.updated",
                    long_ago + Duration::seconds(i),
                    &json!({"i": i}),
                )
            })
            .unwrap();
    }
    assert_eq!(feed(store, None).len(), 3);
    let cutoff = fixtures::now() - Duration::days(90);
    assert_eq!(
        store.write(|conn| events::purge(conn, cutoff)).unwrap(),
        2,
        "the newest stays"
    );
    let left = feed(store, None);
    assert_eq!(left.len(), 1);
    assert_eq!(events::data(&left[0]).unwrap()["i"], 2);
    assert_eq!(store.read(events::oldest).unwrap(), left[0].position);
    store
        .write(|conn| events::append(conn, &org, "user.updated", fixtures::now(), &json!({"i": 3})))
        .unwrap();
    let after = feed(store, None);
    assert_eq!(after.len(), 2);
    assert!(
        after[1].position > left[0].position,
        "positions continue after a purge"
    );
    assert_eq!(after[1].position, left[0].position.map(|p| p + 1));
}

/// A purge deletes a batch per call (one short write each), oldest first.
fn the_retention_purge_works_in_batches(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let long_ago = fixtures::now() - Duration::days(200);
    let batch = usize::try_from(events::PURGE_BATCH).unwrap();
    store
        .write(|conn| {
            for i in 0..batch + 5 {
                events::append(conn, &org, "user.updated", long_ago, &json!({ "i": i }))?;
            }
            events::append(
                conn,
                &org,
                "user.updated",
                fixtures::now(),
                &json!({ "i": "new" }),
            )
        })
        .unwrap();
    assert_eq!(feed(store, None).len(), batch + 6);
    let cutoff = fixtures::now() - Duration::days(90);
    assert_eq!(store.write(|conn| events::purge(conn, cutoff)).unwrap(), batch);
    assert_eq!(store.write(|conn| events::purge(conn, cutoff)).unwrap(), 5);
    assert_eq!(store.write(|conn| events::purge(conn, cutoff)).unwrap(), 0);
    let left = feed(store, None);
    assert_eq!(left.len(), 1);
    assert_eq!(events::data(&left[0]).unwrap()["i"], "new");
}

const WRITERS: usize = 8;
const WRITES_EACH: usize = 40;

fn a_reader_following_the_cursor_sees_every_event_once_in_order(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "Acme");
    let done = std::sync::atomic::AtomicBool::new(false);
    let seen = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut cursor = 0;
            let mut seen: Vec<Event> = Vec::new();
            loop {
                // Read "done" before the page: a page read after every writer finished holds the rest.
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                // A busy sequencer (another's) positions the rest; wait for this one's turn.
                while store.write(events::sequence).unwrap().is_none() {}
                let page = store
                    .read(|conn| events::after(conn, cursor, 50, None, &[]))
                    .unwrap();
                if let Some(last) = page.last() {
                    cursor = last.position.unwrap();
                }
                let empty = page.is_empty();
                seen.extend(page);
                if finished && empty {
                    return seen;
                }
            }
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let org = &org;
                s.spawn(move || {
                    for i in 0..WRITES_EACH {
                        let name = format!("w{w}-{i}@acme.example");
                        store
                            .write(|conn| users::create(conn, &ctx(org), &user(&name), &[]))
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        reader.join().unwrap()
    });
    let all = feed(store, None);
    assert_eq!(all.len(), WRITERS * WRITES_EACH);
    let seen_ids: Vec<&str> = seen.iter().map(|e| e.id.as_str()).collect();
    let all_ids: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(seen_ids, all_ids, "every event once, in feed order");
    let positions: Vec<i64> = all.iter().map(|e| e.position.unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    // Each writer's own events are in the order it wrote them.
    for w in 0..WRITERS {
        let names: Vec<String> = all
            .iter()
            .map(|e| {
                events::data(e).unwrap()["user"]["user_name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .filter(|n| n.starts_with(&format!("w{w}-")))
            .collect();
        let expected: Vec<String> = (0..WRITES_EACH)
            .map(|i| format!("w{w}-{i}@acme.example"))
            .collect();
        assert_eq!(names, expected);
    }
}

scimd_store::backend_tests!(
    every_scim_write_appends_exactly_its_events,
    a_refused_write_appends_no_event,
    a_reader_following_the_cursor_sees_every_event_once_in_order,
    the_retention_purge_keeps_the_newest_event_and_positions_never_restart,
    the_retention_purge_works_in_batches,
);
