//! The statements each SCIM request path sends (issue #27), held to the numbers of record: on PostgreSQL every
//! statement is a round trip on every request of every replica, so a change that adds one fails here, not in
//! a benchmark. Each path runs its store calls the way the SCIM handlers do (`scim_api::auth`: a read checks
//! the token inside its one `read_consistent`; a write checks it first as a `read`, then writes as one
//! `write_owned`), once to warm the pool and
//! the statement caches, then once counted. `BEGIN`, `COMMIT` and the pool's check-out test (`SELECT 1`,
//! PostgreSQL only) count: each is a round trip.
//!
//! Store level only: a whole HTTP request adds background work (the activity recorder's flushes, the
//! coalesced `last_used_at` of the token) whose timing is not the request's, so a count through `TestApp`
//! would depend on when those run. A read's line includes its token check; a write is the token check's line
//! plus its path's. `cargo test --workspace -- statement_counts --nocapture` prints the table.

use crate::fixtures;
use scimd_scim::PatchRequest;
use scimd_scim::filter;
use scimd_scim::schema::{GROUP, USER};
use scimd_store::models::members::Role;
use scimd_store::models::scim_tokens;
use scimd_store::provisioning::paging::Paging;
use scimd_store::provisioning::roles::{self, Acting};
use scimd_store::provisioning::{ListSpec, WriteCtx, groups, users};
use scimd_store::testing::TestDb;
use scimd_store::testing::statements::StatementCounter;
use scimd_store::{Backend, OrgId, Store, StoreError, StoreOptions};
use serde_json::{Value, json};

/// The statements of record per path: (path, SQLite, PostgreSQL). Roles from groups (issue #26) added one to
/// each write: a User's event carries its effective roles (its grants, read by their primary key), a
/// membership change looks up the group's mappings (by theirs), a DELETE removes the member's grants. A
/// membership change on a group mapped to a role adds the read of the moved members' grants (on PostgreSQL,
/// in the statement that writes the change) and the grants' write on SQLite; their `user.roles_changed`
/// events go in the group's own events' INSERT.
const OF_RECORD: [(&str, u64, u64); 13] = [
    ("token check", 1, 2),
    ("lookup (userName eq) + token", 5, 4),
    ("get by id + token", 5, 4),
    ("create", 9, 10),
    ("replace (PUT)", 10, 9),
    ("patch", 10, 9),
    ("deactivate (active false)", 13, 12),
    ("delete", 14, 13),
    ("group member add", 12, 11),
    ("group member remove", 10, 9),
    ("mapped group member add", 14, 12),
    ("mapped group member remove", 12, 10),
    ("list page (100) + token", 5, 4),
];

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

fn user_doc(user_name: &str, display_name: &str) -> Value {
    scimd_scim::resources::validate(
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "displayName": display_name,
            "active": true,
        }),
        &USER,
    )
    .unwrap()
    .doc
}

fn patch(op: Value) -> PatchRequest {
    PatchRequest::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [op],
    }))
    .unwrap()
}

fn rename(name: &str) -> PatchRequest {
    patch(json!({"op": "replace", "path": "displayName", "value": name}))
}

fn deactivate() -> PatchRequest {
    patch(json!({"op": "replace", "path": "active", "value": false}))
}

fn member_add(id: &str) -> PatchRequest {
    patch(json!({"op": "add", "path": "members", "value": [{"value": id}]}))
}

fn member_remove(id: &str) -> PatchRequest {
    patch(json!({"op": "remove", "path": format!(r#"members[value eq "{id}"]"#)}))
}

/// A page of 100 of the org's Users, filtered by `f` when given.
fn list(store: &Store, org: &OrgId, f: Option<&str>) -> usize {
    let resolved = f.map(|f| filter::resolve(&filter::parse(f).unwrap(), &USER).unwrap());
    let spec = ListSpec {
        filter: resolved.as_ref(),
        sort: None,
        descending: false,
        paging: Paging::Index { start_index: 1 },
        count: 100,
    };
    store
        .read_consistent(|conn| {
            scim_tokens::find_by_hash(conn, &[7; 32])?;
            users::list(conn, store.backend(), org, &spec, true)
        })
        .unwrap()
        .items
        .len()
}

fn create(store: &Store, org: &OrgId, user_name: &str) -> String {
    let (org, doc) = (org.clone(), user_doc(user_name, user_name));
    store
        .write_owned(move |conn| users::create(conn, &ctx(&org), &doc, &[]))
        .unwrap()
        .user
        .row
        .id
}

fn patch_user(store: &Store, org: &OrgId, id: &str, req: PatchRequest) {
    let (org, id) = (org.clone(), id.to_owned());
    store
        .write_owned(move |conn| users::patch(conn, &ctx(&org), &id, None, &req))
        .unwrap();
}

fn patch_group(store: &Store, org: &OrgId, id: &str, req: PatchRequest) {
    let (org, id) = (org.clone(), id.to_owned());
    store
        .write_owned(move |conn| groups::patch(conn, &ctx(&org), &id, None, &req, 1_000))
        .unwrap();
}

/// Each path's calls, run twice: the first warms, the second is counted.
fn counts(store: &Store, counter: &StatementCounter, org: &OrgId) -> Vec<(u64, Vec<String>)> {
    let mut ids: Vec<String> = (0..20)
        .map(|i| create(store, org, &format!("u{i}@counts.example")))
        .collect();
    let group = |name: &str, members: Vec<String>| {
        let (org, doc) = (
            org.clone(),
            scimd_scim::resources::validate(
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name}),
                &GROUP,
            )
            .unwrap()
            .doc,
        );
        store
            .write_owned(move |conn| groups::create(conn, &ctx(&org), &doc, &members, &[]))
            .unwrap()
            .row
            .id
    };
    let team = group("Team", ids[..10].to_vec());
    let deployers = group("Deployers", ids[2..6].to_vec());
    {
        let (org, deployers) = (org.clone(), deployers.clone());
        store
            .write_owned(move |conn| {
                roles::create_role(conn, Some(&org), "admin:test", "deployer", fixtures::now())?;
                roles::map(
                    conn,
                    &ctx(&org),
                    Acting(Role::Owner),
                    &deployers,
                    "deployer",
                    1_000,
                )?;
                Ok::<_, roles::RoleError>(())
            })
            .unwrap();
    }
    let mut measured = Vec::new();
    let mut twice = |f: &mut dyn FnMut(usize)| {
        f(0);
        counter.take();
        f(1);
        measured.push(counter.take());
    };
    twice(&mut |_| {
        store
            .read(|conn| scim_tokens::find_by_hash(conn, &[7; 32]))
            .unwrap();
    });
    twice(&mut |i| {
        assert_eq!(
            list(store, org, Some(&format!(r#"userName eq "u{i}@counts.example""#))),
            1
        );
    });
    twice(&mut |i| {
        let (org, id) = (org.clone(), ids[i].clone());
        store
            .read_consistent(|conn| {
                scim_tokens::find_by_hash(conn, &[7; 32])?;
                users::get(conn, &org, &id, true)
            })
            .unwrap();
    });
    twice(&mut |i| {
        ids.push(create(store, org, &format!("new{i}@counts.example")));
    });
    twice(&mut |i| {
        let (org, id) = (org.clone(), ids[i].clone());
        let doc = user_doc(&format!("u{i}@counts.example"), "Replaced");
        store
            .write_owned(move |conn| users::replace(conn, &ctx(&org), &id, None, &doc, &[]))
            .unwrap();
    });
    twice(&mut |i| patch_user(store, org, &ids[i], rename("Patched")));
    twice(&mut |i| patch_user(store, org, &ids[10 + i], deactivate()));
    twice(&mut |i| {
        let (org, id) = (org.clone(), ids[12 + i].clone());
        store
            .write_owned(move |conn| users::delete(conn, &ctx(&org), &id, None))
            .unwrap();
    });
    twice(&mut |i| patch_group(store, org, &team, member_add(&ids[14 + i])));
    twice(&mut |i| patch_group(store, org, &team, member_remove(&ids[i])));
    twice(&mut |i| patch_group(store, org, &deployers, member_add(&ids[16 + i])));
    twice(&mut |i| patch_group(store, org, &deployers, member_remove(&ids[2 + i])));
    twice(&mut |_| {
        assert!(list(store, org, None) >= 20);
    });
    measured
}

fn statement_counts(db: &TestDb) {
    // A store of its own, opened after the counter, so that every one of its connections is watched.
    let counter = StatementCounter::watching(&db.url);
    let store = Store::connect(&db.url, StoreOptions::default()).unwrap();
    let org = store
        .write(|conn| Ok::<_, StoreError>(fixtures::org(conn, "Counts")))
        .unwrap();
    let measured = counts(&store, &counter, &org);
    let backend = store.backend();
    let mut table = format!("statements per SCIM request path ({backend:?}):\n");
    let mut over = Vec::new();
    for ((path, sqlite, postgres), (count, sql)) in OF_RECORD.iter().zip(&measured) {
        let of_record = match backend {
            Backend::Sqlite => *sqlite,
            Backend::Postgres => *postgres,
        };
        table.push_str(&format!("  {path:<28} {count:>3}  (of record {of_record})\n"));
        if *count > of_record {
            over.push(format!(
                "{path}: {count} statements, {of_record} of record:\n    {}",
                sql.join("\n    ")
            ));
        }
    }
    println!("{table}");
    assert!(over.is_empty(), "{}", over.join("\n"));
    // The reads an IdP sends most (a lookup before every create, a GET by id) run statements that stay
    // prepared: parsing and planning them again on every request was a measured share of a lookup (issue #27).
    for ((path, _, _), (_, sql)) in OF_RECORD.iter().zip(&measured).skip(1).take(2) {
        let again = counter.not_prepared(sql);
        assert!(
            again.is_empty(),
            "{path} on {backend:?}: prepared again on every run:\n    {}",
            again.join("\n    ")
        );
    }
    // A mapped group's membership change reads (and, on PostgreSQL, writes) the moved members' grants in a
    // statement diesel's DSL cannot write, and its events in one INSERT of two rows; both stay prepared.
    for ((path, _, _), (_, sql)) in OF_RECORD.iter().zip(&measured).skip(10).take(2) {
        let roles_sql: Vec<String> = sql
            .iter()
            .filter(|s| s.contains("member_roles") || s.contains("INSERT INTO \"events\""))
            .cloned()
            .collect();
        assert!(!roles_sql.is_empty(), "{path}: {sql:?}");
        let again = counter.not_prepared(&roles_sql);
        assert!(
            again.is_empty(),
            "{path} on {backend:?}: prepared again on every run:\n    {}",
            again.join("\n    ")
        );
    }
    // A filter of several comparisons is prepared for each run, never kept: the shapes a caller can send
    // are unbounded, and each kept one would stay in every connection's cache.
    for _ in 0..2 {
        list(
            &store,
            &org,
            Some(r#"userName eq "u1@counts.example" and active eq true"#),
        );
    }
    let (_, sql) = counter.take();
    let again = counter.not_prepared(&sql);
    assert_eq!(
        again.len(),
        2,
        "the combined filter's page, twice, on {backend:?}: {again:?}"
    );
    assert!(again.iter().all(|s| s.contains("user_name_norm")), "{again:?}");
}

scimd_store::backend_tests!(statement_counts);
