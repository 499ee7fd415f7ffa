//! The org tallies and the safety valve's count stay exact under concurrent writers: after randomised
//! creates, deactivations, reactivations and deletes of Users and creates and deletes of Groups from several
//! threads at once (on SQLite through the group commit's batches, on PostgreSQL through the sharded rows),
//! each equals a full count of the rows it stands for.

use crate::fixtures;
use crate::safety_valve::provision;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use scimd_scim::PatchRequest;
use scimd_scim::resources::validate;
use scimd_scim::schema::{GROUP, USER};
use scimd_store::models::audit_events::actions;
use scimd_store::models::org_tallies;
use scimd_store::models::safety_valve;
use scimd_store::provisioning::{ScimStoreError, WriteCtx, groups, users};
use scimd_store::schema::{audit_events, groups as g, members as m};
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, StoreError};
use serde_json::json;

const THREADS: u64 = 8;
const OPS_EACH: usize = 60;

/// A small deterministic generator per thread (xorshift), so a failure reproduces.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn active(value: bool) -> PatchRequest {
    PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": value}]
    }))
    .unwrap()
}

fn ctx(org: &OrgId, now: NaiveDateTime) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now,
    }
}

fn randomised_concurrent_writes_keep_the_tallies_and_the_valve_exact(db: &TestDb) {
    let org = fixtures::new_org(&db.store, "Acme");
    let created = fixtures::now();
    let later = created + Duration::hours(2);
    // Counting, never holding: the share is 100% and the minimum far above what the run does.
    db.store
        .write(|conn| safety_valve::configure(conn, &org, "admin", true, 100, 1_000_000, later))
        .unwrap();
    let seeded = provision(db, &org, 80, created);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (store, org) = (db.store.clone(), org.clone());
            // Each thread works on its own users (so ops do not 404 on each other), all in one org.
            let mine: Vec<String> = seeded
                .iter()
                .skip(t as usize)
                .step_by(THREADS as usize)
                .cloned()
                .collect();
            scope.spawn(move || {
                let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (t + 1));
                let mut users_left = mine;
                let mut groups_made: Vec<String> = Vec::new();
                for i in 0..OPS_EACH {
                    let at = later + Duration::seconds(i as i64);
                    match dice.roll(6) {
                        0 => {
                            let name = format!("new-{t}-{i}@acme.example");
                            let doc = validate(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": dice.roll(2) == 0}), &USER).unwrap().doc;
                            let o = org.clone();
                            let created = store
                                .write_owned(move |conn| users::create(conn, &ctx(&o, created), &doc, &[]))
                                .unwrap();
                            users_left.push(created.user.row.id);
                        }
                        op @ 1..=3 if !users_left.is_empty() => {
                            let id = users_left[dice.roll(users_left.len() as u64) as usize].clone();
                            let o = org.clone();
                            let result = match op {
                                1 | 2 => {
                                    let req = active(op == 2);
                                    store.write_owned(move |conn| users::patch(conn, &ctx(&o, at), &id, None, &req).map(|_| ()))
                                }
                                _ => {
                                    users_left.retain(|u| *u != id);
                                    store.write_owned(move |conn| users::delete(conn, &ctx(&o, at), &id, None))
                                }
                            };
                            assert!(!matches!(result, Err(ScimStoreError::Held { .. })), "the valve never holds here");
                            result.unwrap();
                        }
                        4 => {
                            let doc = validate(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("g-{t}-{i}")}), &GROUP).unwrap().doc;
                            let o = org.clone();
                            let g = store
                                .write_owned(move |conn| groups::create(conn, &ctx(&o, at), &doc, &[], &[]))
                                .unwrap();
                            groups_made.push(g.row.id);
                        }
                        _ => {
                            if let Some(id) = groups_made.pop() {
                                let o = org.clone();
                                store
                                    .write_owned(move |conn| groups::delete(conn, &ctx(&o, at), &id, None))
                                    .unwrap();
                            }
                        }
                    }
                }
            });
        }
    });

    let (tally, users, active_users, group_rows, deprovisionings) = db
        .store
        .read(|conn| {
            let view = || {
                m::table
                    .filter(m::org_id.eq(org.as_str()))
                    .filter(m::scim_managed.eq(true))
                    .filter(m::deleted_at.is_null())
            };
            // The valve counts deprovisionings of members created before its window (all of the seeded ones).
            let seeded_before: Vec<String> = m::table
                .filter(m::org_id.eq(org.as_str()))
                .filter(m::created_at.lt(later - Duration::hours(1)))
                .select(m::id)
                .load(conn)?;
            let deprovisionings: i64 = audit_events::table
                .filter(audit_events::org_id.eq(org.as_str()))
                .filter(audit_events::action.eq_any([actions::MEMBER_DEACTIVATED, actions::MEMBER_DELETED]))
                .filter(audit_events::target.eq_any(seeded_before))
                .count()
                .get_result(conn)?;
            Ok::<_, StoreError>((
                org_tallies::totals(conn, &org)?,
                view().count().get_result::<i64>(conn)?,
                view()
                    .filter(m::active.eq(true))
                    .count()
                    .get_result::<i64>(conn)?,
                g::table
                    .filter(g::org_id.eq(org.as_str()))
                    .count()
                    .get_result::<i64>(conn)?,
                deprovisionings,
            ))
        })
        .unwrap();
    assert_eq!(tally.users, users);
    assert_eq!(tally.active_users, active_users);
    assert_eq!(tally.groups, group_rows);
    let status = db
        .store
        .read(|conn| safety_valve::status(conn, &org, later + Duration::seconds(OPS_EACH as i64)))
        .unwrap();
    assert!(deprovisionings > 0, "the run deprovisioned someone");
    assert_eq!(status.deprovisioned_in_window, deprovisionings);
}

scimd_store::backend_tests!(randomised_concurrent_writes_keep_the_tallies_and_the_valve_exact);

/// On PostgreSQL the connections of one pool write to distinct shards, so that up to `SHARDS` concurrent
/// writers of an org never wait on each other's tally row (with `pg_backend_pid() % 16` about a third of a
/// pool of 16 shared a row). All 16 connections are held at once: each is a different one. Another pool
/// connects between the first connection and the rest, as the other tests of this process do at any time;
/// with one turn counter for the whole process its connections took turns in the middle of ours, and two of
/// ours shared a row.
#[test]
fn the_connections_of_a_pool_write_to_distinct_shards() {
    let Some(db) = TestDb::postgres() else { return };
    let shards = scimd_store::connection::SHARDS.unsigned_abs() as usize;
    let options = scimd_store::StoreOptions {
        max_connections: shards as u32,
        ..scimd_store::StoreOptions::default()
    };
    let store = scimd_store::Store::connect(&db.url, options.clone()).unwrap();
    let other = scimd_store::Store::connect(&db.url, options).unwrap();
    let held = std::sync::Barrier::new(shards);
    let seen: Vec<i32> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..shards)
            .map(|_| {
                scope.spawn(|| {
                    store
                        .read(|conn| {
                            let shard = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
                                "current_setting('scimd.shard')::INTEGER",
                            ))
                            .get_result::<i32>(conn)
                            .map_err(StoreError::from);
                            held.wait();
                            shard
                        })
                        .unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let distinct: std::collections::BTreeSet<i32> = seen.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        shards,
        "shards of {shards} concurrent connections: {seen:?}"
    );
    assert!(
        distinct
            .iter()
            .all(|s| (0..scimd_store::connection::SHARDS).contains(s))
    );
    drop(other);
}
