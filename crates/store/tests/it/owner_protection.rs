//! SCIM and the org's owner (review findings M5 and L3), on both backends: the owner is linked only when the
//! org allows it, other members SCIM does not manage keep linking, the last active owner is never
//! deprovisioned (409, audited, nothing else written), and two concurrent links cannot both succeed.

use crate::fixtures;
use scimd_scim::resources::validate;
use scimd_scim::schema::USER;
use scimd_scim::{PatchRequest, ScimType};
use scimd_store::models::members::{self, Member, NewMember};
use scimd_store::models::org_tallies::{self, Tally};
use scimd_store::models::{admin_sessions, audit_events, organizations, owner_link};
use scimd_store::provisioning::{ScimStoreError, WriteCtx, users};
use scimd_store::testing::TestDb;
use scimd_store::{MemberId, OrgId, Store, StoreError};
use serde_json::{Value, json};

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:scimd_ab…yz".into(),
        now: fixtures::now(),
    }
}

fn user(name: &str, active: bool) -> Value {
    validate(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": active}),
        &USER,
    )
    .unwrap()
    .doc
}

fn deactivate() -> PatchRequest {
    PatchRequest::from_value(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]}),
    )
    .unwrap()
}

fn org_with_owner(store: &Store, email: &str) -> (OrgId, Member) {
    let (org, owner) = store
        .write(|conn| organizations::create_with_owner(conn, "Acme", Some(email), fixtures::now()))
        .unwrap();
    (org.org_id(), owner.unwrap())
}

fn allow_owner_link(store: &Store, org: &OrgId, allowed: bool) {
    store
        .write(|conn| owner_link::set_allowed(conn, org, "owner@acme.example", allowed, fixtures::now()))
        .unwrap();
}

fn row(store: &Store, org: &OrgId, id: &str) -> Member {
    store
        .read(|conn| members::get(conn, org, &MemberId::new(id)))
        .unwrap()
}

fn tally(store: &Store, org: &OrgId) -> Tally {
    store.read(|conn| org_tallies::totals(conn, org)).unwrap()
}

fn is_uniqueness(r: &Result<users::Created, ScimStoreError>) -> bool {
    matches!(r, Err(ScimStoreError::Refused(e)) if e.status == 409 && e.scim_type == Some(ScimType::Uniqueness))
}

fn is_last_owner_refusal<T>(r: &Result<T, ScimStoreError>) -> bool {
    matches!(r, Err(ScimStoreError::RefusedAudited(e)) if e.status == 409 && e.detail.contains("last active owner"))
}

fn the_owner_is_not_linked_unless_the_org_allows_it(db: &TestDb) {
    let store = &db.store;
    let (org, owner) = org_with_owner(store, "owner@acme.example");
    let sid = fixtures::session(store, &org, &owner.id);
    assert!(
        !store.read(|conn| owner_link::allowed(conn, &org)).unwrap(),
        "off by default"
    );

    let r = store.write(|conn| users::create(conn, &ctx(&org), &user("OWNER@acme.example", false), &[]));
    assert!(is_uniqueness(&r), "{r:?}");
    assert_eq!(
        row(store, &org, &owner.id),
        owner,
        "row, role and active unchanged"
    );
    let s = store
        .read(|conn| admin_sessions::find(conn, &sid))
        .unwrap()
        .unwrap();
    assert!(s.revoked_at.is_none(), "the owner's session survives");
    assert_eq!(tally(store, &org), Tally::default());
    assert_eq!(fixtures::actions(store, &org), vec!["org.created"]);

    // An admin allows it: the same create links the owner (its role kept).
    allow_owner_link(store, &org, true);
    assert!(store.read(|conn| owner_link::allowed(conn, &org)).unwrap());
    let c = store
        .write(|conn| users::create(conn, &ctx(&org), &user("owner@acme.example", true), &[]))
        .unwrap();
    assert!(c.linked);
    assert_eq!(
        (c.user.row.id.as_str(), c.user.row.role.as_str()),
        (owner.id.as_str(), "owner")
    );
    assert_eq!(
        fixtures::actions(store, &org),
        vec!["org.created", "org.owner_link_configured", "member.linked"]
    );
}

fn other_unmanaged_members_keep_linking(db: &TestDb) {
    let store = &db.store;
    let (org, _owner) = org_with_owner(store, "owner@acme.example");
    let admin = store
        .write(|conn| {
            members::insert(
                conn,
                &NewMember {
                    id: MemberId::generate().as_str(),
                    org_id: org.as_str(),
                    user_name: "admin@acme.example",
                    user_name_norm: scimd_store::user_name::normalize("admin@acme.example"),
                    external_id: None,
                    role: "admin",
                    active: true,
                    scim_managed: false,
                    display_name: None,
                    given_name: None,
                    family_name: None,
                    email: Some("admin@acme.example"),
                    document: r#"{"userName":"admin@acme.example","active":true}"#,
                    version: 1,
                    created_at: fixtures::now(),
                    updated_at: fixtures::now(),
                },
            )
        })
        .unwrap();
    let c = store
        .write(|conn| users::create(conn, &ctx(&org), &user("admin@acme.example", true), &[]))
        .unwrap();
    assert!(c.linked, "the setting is about the owner only");
    assert_eq!(c.user.row.id, admin.id);
}

fn the_last_active_owner_is_never_deprovisioned(db: &TestDb) {
    let store = &db.store;
    let (org, owner) = org_with_owner(store, "owner@acme.example");
    allow_owner_link(store, &org, true);
    let sid = fixtures::session(store, &org, &owner.id);

    // A link that would deactivate the last owner: refused, only the refusal is written.
    let r = store.write(|conn| users::create(conn, &ctx(&org), &user("owner@acme.example", false), &[]));
    assert!(is_last_owner_refusal(&r), "{r:?}");
    assert_eq!(row(store, &org, &owner.id), owner);
    assert_eq!(
        tally(store, &org),
        Tally::default(),
        "a refused link is not counted"
    );

    let linked = store
        .write(|conn| users::create(conn, &ctx(&org), &user("owner@acme.example", true), &[]))
        .unwrap()
        .user
        .row;
    let tally_linked = tally(store, &org);
    let r = store.write(|conn| users::patch(conn, &ctx(&org), &owner.id, None, &deactivate()));
    assert!(is_last_owner_refusal(&r), "PATCH active=false");
    let r = store.write(|conn| users::delete(conn, &ctx(&org), &owner.id, None));
    assert!(is_last_owner_refusal(&r), "DELETE");
    assert_eq!(
        row(store, &org, &owner.id),
        linked,
        "nothing but the refusals written"
    );
    assert_eq!(tally(store, &org), tally_linked);
    let s = store
        .read(|conn| admin_sessions::find(conn, &sid))
        .unwrap()
        .unwrap();
    assert!(s.revoked_at.is_none());
    let refused: Vec<Value> = store
        .read(|conn| audit_events::list(conn, &org, None, None, 1000))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "member.deprovision_refused")
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect();
    assert_eq!(refused.len(), 3, "each attempt audited");
    assert_eq!(refused[0]["reason"], "last_active_owner");

    // With a second active owner, the first can go.
    store
        .write(|conn| members::insert_owner(conn, &org, "second@acme.example", fixtures::now()))
        .unwrap();
    store
        .write(|conn| users::patch(conn, &ctx(&org), &owner.id, None, &deactivate()))
        .unwrap();
    assert!(!row(store, &org, &owner.id).active);
}

scimd_store::backend_tests!(
    the_owner_is_not_linked_unless_the_org_allows_it,
    other_unmanaged_members_keep_linking,
    the_last_active_owner_is_never_deprovisioned
);

/// L3 (PostgreSQL; SQLite has one writer): two creates with the owner's userName that both found the owner
/// unlinked (a third transaction holds the owner's row, so both get that far before either writes) link it
/// once: the second waits for the row, reads it again, and answers 409.
#[test]
fn two_concurrent_links_of_one_owner_link_once() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;
    use scimd_store::DbConnection;
    let Some(db) = TestDb::postgres() else { return };
    let store = &db.store;
    let (org, owner) = org_with_owner(store, "owner@acme.example");
    allow_owner_link(store, &org, true);
    let mut holder = diesel::PgConnection::establish(&db.url).unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM members WHERE id = '{}' FOR UPDATE",
            owner.id
        ))
        .unwrap();
    let (pids_tx, pids_rx) = std::sync::mpsc::channel::<i64>();
    let results = std::thread::scope(|scope| {
        let create = || {
            let pids_tx = pids_tx.clone();
            let org = &org;
            scope.spawn(move || {
                store.write(|conn| {
                    let DbConnection::Postgres(pg) = &mut *conn else {
                        unreachable!()
                    };
                    let pid: i64 = diesel::select(diesel::dsl::sql::<BigInt>("pg_backend_pid()::bigint"))
                        .get_result(pg)
                        .map_err(StoreError::from)?;
                    pids_tx.send(pid).unwrap();
                    users::create(conn, &ctx(org), &user("owner@acme.example", true), &[])
                })
            })
        };
        let (a, b) = (create(), create());
        let pids = [pids_rx.recv().unwrap(), pids_rx.recv().unwrap()];
        // Release the holder once both wait for a lock: before the fix they wait at the UPDATE of a link,
        // after it at the lock taken before reading the owner again.
        let mut monitor = diesel::PgConnection::establish(&db.url).unwrap();
        loop {
            let waiting: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
                "(SELECT count(*) FROM pg_stat_activity WHERE pid IN ({}, {}) \
                 AND cardinality(pg_blocking_pids(pid)) > 0)",
                pids[0], pids[1]
            )))
            .get_result(&mut monitor)
            .unwrap();
            if waiting == 2 || a.is_finished() || b.is_finished() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        holder.batch_execute("COMMIT").unwrap();
        [a.join().unwrap(), b.join().unwrap()]
    });
    let linked = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|c| c.linked))
        .count();
    let refused = results.iter().filter(|r| is_uniqueness(r)).count();
    assert_eq!((linked, refused), (1, 1), "{results:?}");
    let events = fixtures::actions(store, &org)
        .iter()
        .filter(|a| *a == "member.linked")
        .count();
    assert_eq!(events, 1);
}
