//! Roles from IdP groups (issue #26), over the real SCIM API on SQLite and PostgreSQL: Okta's and Entra's
//! group pushes grant the mapped roles with exactly the `user.roles_changed` events, a removal takes the role
//! in the same write, a rename keeps the mapping, nothing grants `owner`, and an unmap that takes `admin`
//! from too many admins waits for a confirmation.

use crate::harness::{scimd, stderr};
use crate::scim_client::Client;
use crate::test_app::TestApp;
use scimd_store::models::events;
use scimd_store::models::members::Role;
use scimd_store::provisioning::WriteCtx;
use scimd_store::provisioning::roles::{self, Acting, Direction, RoleError, Source};
use scimd_store::testing::{TestDb, TestMember};
use scimd_store::{Clock, OrgId, SystemClock};
use serde_json::{Value, json};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "cli".into(),
        now: SystemClock.now_naive(),
    }
}

fn create(a: &Client, path: &str, body: Value) -> String {
    let r = a.send("POST", path, Some(&body.to_string()), &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn patch(a: &Client, group: &str, ops: Value) {
    let body = json!({ "schemas": [PATCH_OP], "Operations": ops });
    let r = a.send("PATCH", &format!("/Groups/{group}"), Some(&body.to_string()), &[]);
    assert!(r.status == 200 || r.status == 204, "{}", r.body);
}

fn user(a: &Client, name: &str) -> String {
    create(
        a,
        "/Users",
        json!({ "schemas": [USER], "userName": name, "active": true }),
    )
}

fn last_position(env: &TestApp) -> i64 {
    feed(env, 0).last().and_then(|e| e.position).unwrap_or(0)
}

/// Positions every committed event (PostgreSQL). `catch_up` returns at once while another sequencer (the
/// app's webhook worker, reading the feed) holds the lock: wait until that one has positioned them too, so
/// that a step's events are read after that step, not after a later one.
fn settle(env: &TestApp) {
    scimd_store::testing::settle_feed(&env.store).unwrap();
}

/// Org A's events after `after`, every page of them.
fn feed(env: &TestApp, mut after: i64) -> Vec<events::Event> {
    settle(env);
    let mut all = Vec::new();
    loop {
        let page = env
            .store
            .read(|c| events::after(c, after, 1_000, Some(&env.a.id), &[]))
            .unwrap();
        let Some(last) = page.last() else {
            return all;
        };
        after = last.position.unwrap_or(last.seq);
        all.extend(page);
    }
}

/// The `user.roles_changed` events after `after`, as (member, added, removed), sorted by member.
fn roles_changed(env: &TestApp, after: i64) -> Vec<(String, Vec<String>, Vec<String>)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let mut out: Vec<_> = feed(env, after)
        .iter()
        .filter(|e| e.event_type == "user.roles_changed")
        .map(|e| {
            let d = events::data(e).unwrap();
            (
                d["id"].as_str().unwrap().to_owned(),
                strings(&d["added"]),
                strings(&d["removed"]),
            )
        })
        .collect();
    out.sort();
    out
}

fn effective(env: &TestApp, id: &str) -> Vec<String> {
    let ids = [id.to_owned()];
    env.store
        .read(|c| roles::effective_of(c, &env.a.id, &ids))
        .unwrap()
        .remove(id)
        .unwrap()
}

fn map(env: &TestApp, acting: Role, group: &str, role: &str) -> Result<roles::MappingOutcome, RoleError> {
    env.store
        .write(|c| roles::map(c, &ctx(&env.a.id), Acting(acting), group, role, roles::JOB_BATCH))
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn okta_push(db: &TestDb) {
    let env = TestApp::init(db);
    let a = env.client_a();
    env.store
        .write(|c| roles::create_role(c, Some(&env.a.id), "cli", "deployer", SystemClock.now_naive()))
        .unwrap();
    let u = create(
        &a,
        "/Users",
        json!({ "schemas": [USER], "userName": "test.user@okta.local", "externalId": "00ujl29u0le5T6Aj10h7",
            "name": {"givenName": "Test", "familyName": "User"}, "active": true }),
    );
    let g = create(
        &a,
        "/Groups",
        json!({ "schemas": [GROUP], "displayName": "Test SCIMv2", "members": [] }),
    );
    // Mapped by displayName; stored by id.
    let out = map(&env, Role::Admin, "test scimv2", "deployer").unwrap();
    assert_eq!((out.group.id.as_str(), out.job.unwrap().changed), (g.as_str(), 0));

    let start = last_position(&env);
    patch(
        &a,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": u, "display": "test.user@okta.local"}]}]),
    );
    assert_eq!(
        roles_changed(&env, start),
        [(u.clone(), s(&["deployer"]), vec![])],
        "the member add grants the mapped role, one event"
    );
    assert_eq!(effective(&env, &u), s(&["member", "deployer"]));

    // Okta's rename echoes the id; the mapping follows the id.
    patch(
        &a,
        &g,
        json!([{"op": "replace", "value": {"id": g, "displayName": "Test SCIMv2 renamed"}}]),
    );
    let catalog = env.store.read(|c| roles::catalog(c, &env.a.id)).unwrap();
    let deployer = catalog.iter().find(|r| r.name == "deployer").unwrap();
    assert_eq!(deployer.groups.len(), 1);
    assert_eq!(deployer.groups[0].display_name, "Test SCIMv2 renamed");
    let why = env
        .store
        .read(|c| roles::explain(c, &env.a.id, &u))
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&why).unwrap()["roles"],
        json!([
            {"role": "member", "sources": [{"kind": "assigned"}]},
            {"role": "deployer", "sources": [{"kind": "group", "group_id": g, "group": "Test SCIMv2 renamed"}]},
        ]),
        "the explanation names the group"
    );

    // A request that fails part-way changes nothing: neither the membership nor the role.
    let start = last_position(&env);
    let body = json!({ "schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{u}\"]")},
        {"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]});
    let r = a.send("PATCH", &format!("/Groups/{g}"), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(effective(&env, &u), s(&["member", "deployer"]));
    assert!(roles_changed(&env, start).is_empty());

    patch(
        &a,
        &g,
        json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}]),
    );
    assert_eq!(
        roles_changed(&env, start),
        [(u.clone(), vec![], s(&["deployer"]))]
    );
    assert_eq!(
        effective(&env, &u),
        s(&["member"]),
        "the removal took the role in its own write"
    );

    // Okta's `replace members []` after a re-add, then the group's deletion: each takes what it gave.
    patch(
        &a,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
    );
    patch(&a, &g, json!([{"op": "replace", "path": "members", "value": []}]));
    patch(
        &a,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
    );
    let start = last_position(&env);
    assert_eq!(a.send("DELETE", &format!("/Groups/{g}"), None, &[]).status, 204);
    assert_eq!(
        roles_changed(&env, start),
        [(u.clone(), vec![], s(&["deployer"]))]
    );
    let catalog = env.store.read(|c| roles::catalog(c, &env.a.id)).unwrap();
    assert!(
        catalog.iter().all(|r| r.groups.is_empty()),
        "the mapping went with the group"
    );
}

fn entra_push(db: &TestDb) {
    let env = TestApp::init(db);
    let a = env.client_a();
    let now = SystemClock.now_naive();
    // A deployment-wide role is in every org's catalog.
    env.store
        .write(|c| roles::create_role(c, None, "cli", "viewer", now))
        .unwrap();
    let (u1, u2, u3) = (
        user(&a, "u1@contoso.com"),
        user(&a, "u2@contoso.com"),
        user(&a, "u3@contoso.com"),
    );
    // A SCIM-managed owner in the group: nothing it gets from the group changes it.
    let owner = TestMember {
        org: &env.a.id,
        email: "boss@contoso.com",
        role: "owner",
        display_name: None,
        scim_managed: true,
        now,
    }
    .insert(&env.store)
    .unwrap();
    let owner = owner.as_str().to_owned();
    let g = create(
        &a,
        "/Groups",
        json!({ "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Platform Admins" }),
    );
    assert!(matches!(
        map(&env, Role::Owner, &g, "owner"),
        Err(RoleError::OwnerNeverGranted)
    ));
    assert!(matches!(
        map(&env, Role::Admin, &g, "admin"),
        Err(RoleError::AdminNeedsOwner)
    ));
    assert!(matches!(
        map(&env, Role::Owner, &g, "nope"),
        Err(RoleError::UnknownRole(_))
    ));
    map(&env, Role::Owner, &g, "admin").unwrap();
    map(&env, Role::Owner, &g, "viewer").unwrap();

    let start = last_position(&env);
    patch(
        &a,
        &g,
        json!([{"name": "addMember", "op": "add", "path": "members",
            "value": [{"displayName": "new_user", "value": u1}, {"value": u2}, {"value": owner}]}]),
    );
    let mut expected = vec![
        (u1.clone(), s(&["admin", "viewer"]), s(&["member"])),
        (u2.clone(), s(&["admin", "viewer"]), s(&["member"])),
        (owner.clone(), s(&["viewer"]), vec![]),
    ];
    expected.sort();
    assert_eq!(roles_changed(&env, start), expected, "first batch");
    assert_eq!(
        effective(&env, &owner),
        s(&["owner", "viewer"]),
        "an owner stays an owner"
    );

    // Entra repeats u2: only u3 is new.
    let start = last_position(&env);
    patch(
        &a,
        &g,
        json!([{"op": "Add", "path": "members", "value": [{"value": u3}, {"value": u2}]}]),
    );
    assert_eq!(
        roles_changed(&env, start),
        [(u3.clone(), s(&["admin", "viewer"]), s(&["member"]))]
    );

    let start = last_position(&env);
    patch(
        &a,
        &g,
        json!([{"name": "removeMember", "op": "Remove", "path": "members",
            "value": [{"value": u1}, {"value": u3}, {"value": owner}]}]),
    );
    let mut expected = vec![
        (u1.clone(), s(&["member"]), s(&["admin", "viewer"])),
        (u3.clone(), s(&["member"]), s(&["admin", "viewer"])),
        (owner.clone(), vec![], s(&["viewer"])),
    ];
    expected.sort();
    assert_eq!(roles_changed(&env, start), expected, "the removal batch");
    assert_eq!(effective(&env, &owner), s(&["owner"]));

    // The other org sees none of it.
    let b_events = {
        events::catch_up(&env.store).unwrap();
        env.store
            .read(|c| events::after(c, 0, 1_000, Some(&env.b.id), &["user.roles_changed".into()]))
            .unwrap()
    };
    assert!(b_events.is_empty());
    let b_explain = env.store.read(|c| roles::explain(c, &env.b.id, &u2)).unwrap();
    assert!(b_explain.is_none(), "org B cannot explain org A's member");
    let b_group = env.store.write(|c| {
        roles::map(
            c,
            &ctx(&env.b.id),
            Acting(Role::Owner),
            &g,
            "viewer",
            roles::JOB_BATCH,
        )
    });
    assert!(
        matches!(b_group, Err(RoleError::UnknownGroup(_))),
        "org B cannot map org A's group"
    );
}

fn admin_share_needs_confirmation(db: &TestDb) {
    let env = TestApp::init(db);
    let a = env.client_a();
    let ids: Vec<String> = (0..3).map(|i| user(&a, &format!("adm{i}@a.example"))).collect();
    let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
    let g = create(
        &a,
        "/Groups",
        json!({ "schemas": [GROUP], "displayName": "Admins", "members": members }),
    );
    let out = map(&env, Role::Owner, "Admins", "admin").unwrap();
    assert_eq!(
        out.job.unwrap().changed,
        3,
        "a mapping grants to the members already there"
    );

    let group = env
        .store
        .read(|c| roles::resolve_group(c, &env.a.id, &g))
        .unwrap();
    let p = env
        .store
        .read(|c| roles::preview(c, &env.a.id, &group, "admin", Direction::Unmap))
        .unwrap();
    assert_eq!((p.members, p.admins, p.admins_losing), (3, 3, 3));
    assert_eq!(p.lose.get("admin"), Some(&3));
    assert_eq!(p.gain.get("member"), Some(&3));
    assert!(p.needs_confirmation);

    let start = last_position(&env);
    let unconfirmed = env.store.write(|c| {
        roles::unmap(
            c,
            &ctx(&env.a.id),
            Acting(Role::Owner),
            &g,
            "admin",
            false,
            roles::JOB_BATCH,
        )
    });
    assert!(matches!(
        unconfirmed,
        Err(RoleError::NeedsConfirmation { losing: 3, admins: 3 })
    ));
    assert_eq!(effective(&env, &ids[0]), s(&["admin"]), "nothing changed");
    assert!(roles_changed(&env, start).is_empty());
    let by_admin = env.store.write(|c| {
        roles::unmap(
            c,
            &ctx(&env.a.id),
            Acting(Role::Admin),
            &g,
            "admin",
            true,
            roles::JOB_BATCH,
        )
    });
    assert!(matches!(by_admin, Err(RoleError::AdminNeedsOwner)));
    env.store
        .write(|c| {
            roles::unmap(
                c,
                &ctx(&env.a.id),
                Acting(Role::Owner),
                &g,
                "admin",
                true,
                roles::JOB_BATCH,
            )
        })
        .unwrap();
    assert_eq!(roles_changed(&env, start).len(), 3);
    assert_eq!(effective(&env, &ids[0]), s(&["member"]));
    let audited = env
        .store
        .read(|c| scimd_store::models::audit_events::list(c, &env.a.id, Some("role.unmapped"), None, 10))
        .unwrap();
    assert_eq!(audited.len(), 1, "the unmap is audited");
    // The explanation of a member with nothing granted: its own role.
    let why = env
        .store
        .read(|c| roles::explain(c, &env.a.id, &ids[0]))
        .unwrap()
        .unwrap();
    assert_eq!(why.roles.len(), 1);
    assert_eq!(why.roles[0].sources, [Source::Assigned]);
}

/// Entra's app role assignments in `roles`: honoured only when the org turns them on, within the catalog,
/// never `owner`; turned off, they are taken back.
fn entra_roles_attribute(db: &TestDb) {
    let env = TestApp::init(db);
    let a = env.client_a();
    let now = SystemClock.now_naive();
    env.store
        .write(|c| roles::create_role(c, Some(&env.a.id), "cli", "deployer", now))
        .unwrap();
    let assigned = json!([
        {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "Deployer", "value": "deployer"},
        {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "value": "owner"},
        {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "value": "not-in-catalog"},
    ]);
    let start = last_position(&env);
    let u = create(
        &a,
        "/Users",
        json!({ "schemas": [USER], "userName": "app@contoso.com", "active": true, "roles": assigned }),
    );
    assert_eq!(effective(&env, &u), s(&["member"]), "off by default");
    assert!(roles_changed(&env, start).is_empty());
    // Entra's PATCH of an app role assignment (AppRoleAssignmentsComplex): the app role as a JSON string.
    // Accepted and kept while off, granting nothing.
    env.store
        .write(|c| roles::create_role(c, Some(&env.a.id), "cli", "releaser", now))
        .unwrap();
    let app_role = json!({ "schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "roles", "value": [
        {"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"Releaser\",\"displayName\":\"Releasers\"}"}]}]});
    let r = a.send("PATCH", &format!("/Users/{u}"), Some(&app_role.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["roles"].as_array().unwrap().len(), 4, "kept as sent");
    assert_eq!(effective(&env, &u), s(&["member"]), "off: ignored");
    assert!(roles_changed(&env, start).is_empty());

    env.store
        .write(|c| roles::set_scim_roles(c, &env.a.id, "cli", true, now))
        .unwrap();
    let start = last_position(&env);
    let body = json!({ "schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "roles", "value": assigned.as_array().unwrap()[..2].to_vec()},
        {"op": "Add", "path": "roles", "value": [{"value": "not-in-catalog"}]}]});
    let r = a.send("PATCH", &format!("/Users/{u}"), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        effective(&env, &u),
        s(&["member", "deployer"]),
        "within the catalog, never owner"
    );
    assert_eq!(
        roles_changed(&env, start),
        [(u.clone(), s(&["deployer"]), vec![])]
    );
    let why = env
        .store
        .read(|c| roles::explain(c, &env.a.id, &u))
        .unwrap()
        .unwrap();
    assert_eq!(why.roles[1].sources, [Source::Attribute]);

    // On, the same PATCH shape grants the app role's inner value (in the catalog without case).
    let start = last_position(&env);
    let r = a.send("PATCH", &format!("/Users/{u}"), Some(&app_role.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(effective(&env, &u), s(&["member", "deployer", "releaser"]));
    assert_eq!(
        roles_changed(&env, start),
        [(u.clone(), s(&["releaser"]), vec![])]
    );

    let start = last_position(&env);
    env.store
        .write(|c| roles::set_scim_roles(c, &env.a.id, "cli", false, now))
        .unwrap();
    assert_eq!(effective(&env, &u), s(&["member"]));
    assert_eq!(
        roles_changed(&env, start),
        [(u.clone(), vec![], s(&["deployer", "releaser"]))]
    );
}

/// `scimd role ...` as operators script it: the names and the `--json` fields are a contract.
fn cli_contract(db: &TestDb) {
    let env = TestApp::init(db);
    let a = env.client_a();
    let dir = tempfile::tempdir().unwrap();
    let org = env.a.id.as_str().to_owned();
    let run = |args: &[&str]| -> Value {
        let out = scimd(dir.path(), Some(&env.db_url), args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let fails = |args: &[&str], says: &str| {
        let out = scimd(dir.path(), Some(&env.db_url), args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    };
    let u = user(&a, "ops@a.example");
    let g = create(
        &a,
        "/Groups",
        json!({ "schemas": [GROUP], "displayName": "Deployers", "members": [{"value": u}] }),
    );

    assert_eq!(
        run(&["role", "create", "--org", &org, "--name", "deployer", "--json"]),
        json!({ "org_id": org, "name": "deployer", "scope": "org" })
    );
    fails(
        &["role", "create", "--org", &org, "--name", "deployer"],
        "already exists",
    );
    fails(
        &["role", "create", "--org", &org, "--name", "owner"],
        "scimd's own roles",
    );
    fails(
        &["role", "create", "--org", "Acme", "--name", "x"],
        "--org Acme: no organization",
    );

    let dry = run(&[
        "role",
        "map",
        "--org",
        &org,
        "--group",
        "Deployers",
        "--role",
        "deployer",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(
        (dry["members"].clone(), dry["gain"].clone()),
        (json!(1), json!({ "deployer": 1 }))
    );
    assert!(
        run(&["role", "list", "--org", &org, "--json"])["roles"][3]["groups"]
            .as_array()
            .unwrap()
            .is_empty(),
        "a dry run saves nothing"
    );

    let mapped = run(&[
        "role",
        "map",
        "--org",
        &org,
        "--group",
        "Deployers",
        "--role",
        "deployer",
        "--json",
    ]);
    assert_eq!(mapped["group"], json!({ "id": g, "display_name": "Deployers" }));
    assert_eq!(
        (mapped["changed"].clone(), mapped["job"]["changed"].clone()),
        (json!(true), json!(1))
    );
    assert!(
        mapped["job"]["finished_at"].is_string(),
        "a small group is done at once"
    );
    fails(
        &["role", "map", "--org", &org, "--group", &g, "--role", "owner"],
        "Nothing grants \"owner\"",
    );
    fails(
        &[
            "role", "map", "--org", &org, "--group", "Nobody", "--role", "deployer",
        ],
        "no group \"Nobody\"",
    );

    let listed = run(&["role", "list", "--org", &org, "--json"]);
    let names: Vec<&str> = listed["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["owner", "admin", "member", "deployer"]);
    assert_eq!(listed["roles"][3]["scope"], "org");
    assert_eq!(
        listed["roles"][3]["groups"],
        json!([{ "id": g, "display_name": "Deployers" }])
    );

    let why = run(&["role", "explain", "--org", &org, "--user", &u, "--json"]);
    assert_eq!(why["member_id"], json!(u));
    assert_eq!(
        why["roles"][1],
        json!({ "role": "deployer", "sources": [{ "kind": "group", "group_id": g, "group": "Deployers" }] })
    );
    fails(
        &["role", "explain", "--org", &org, "--user", "nobody"],
        "--user nobody",
    );
    let b = env.b.id.as_str().to_owned();
    fails(
        &["role", "explain", "--org", &b, "--user", &u],
        "no member of the org",
    );

    let unmapped = run(&[
        "role", "unmap", "--org", &org, "--group", &g, "--role", "deployer", "--json",
    ]);
    assert_eq!(unmapped["job"]["changed"], 1);
    assert_eq!(effective(&env, &u), s(&["member"]));
    assert_eq!(
        run(&["role", "scim-roles", "--org", &org, "--set", "on", "--json"]),
        json!({ "org_id": org, "scim_roles": true })
    );
}

/// A group of `n` members, seeded in one write (members and memberships), with its id.
fn big_group(env: &TestApp, n: usize) -> String {
    use scimd_store::models::{groups, members};
    let now = SystemClock.now_naive();
    let org = env.a.id.clone();
    env.store
        .write(|conn| {
            let gid = scimd_store::GroupId::generate();
            groups::insert(
                conn,
                &groups::NewGroup {
                    id: gid.as_str(),
                    org_id: org.as_str(),
                    display_name: "Everyone",
                    display_name_norm: scimd_store::user_name::normalize("Everyone"),
                    external_id: None,
                    document: &json!({"schemas": [GROUP], "displayName": "Everyone"}).to_string(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let mut ids = Vec::with_capacity(n);
            for i in 0..n {
                let id = scimd_store::MemberId::generate();
                let name = format!("big{i:06}@a.example");
                members::insert(
                    conn,
                    &members::NewMember {
                        id: id.as_str(),
                        org_id: org.as_str(),
                        user_name: &name,
                        user_name_norm: scimd_store::user_name::normalize(&name),
                        external_id: None,
                        role: "member",
                        active: true,
                        scim_managed: true,
                        display_name: None,
                        given_name: None,
                        family_name: None,
                        email: None,
                        document: "{}",
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                ids.push(id.as_str().to_owned());
            }
            groups::add_members(conn, &org, &gid, &ids, now)?;
            Ok::<_, scimd_store::StoreError>(gid.as_str().to_owned())
        })
        .unwrap()
}

/// The `user.roles_changed` events after `after` that add `role`: (events, distinct members).
fn grants_in_feed(env: &TestApp, after: i64, role: &str) -> (usize, usize) {
    let events: Vec<Value> = feed(env, after)
        .iter()
        .filter(|e| e.event_type == "user.roles_changed")
        .map(|e| events::data(e).unwrap())
        .filter(|d| d["added"].as_array().unwrap().iter().any(|r| r == role))
        .collect();
    let members: std::collections::HashSet<&str> = events.iter().map(|d| d["id"].as_str().unwrap()).collect();
    (events.len(), members.len())
}

/// A mapping change on a large group runs in batches, each its own transaction with its events and progress;
/// the CLI killed (SIGKILL) halfway leaves a consistent prefix, and `scimd role resume` finishes it with every
/// member granted once and one event each.
fn a_big_mapping_runs_in_batches_and_survives_a_kill(db: &TestDb) {
    const N: usize = 4_000;
    let env = TestApp::init(db);
    let g = big_group(&env, N);
    let org = env.a.id.as_str().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let out = scimd(
        dir.path(),
        Some(&env.db_url),
        &["role", "create", "--org", &org, "--name", "deployer"],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let start = last_position(&env);
    let mut child = crate::harness::scimd_command(dir.path(), Some(&env.db_url))
        .args([
            "role",
            "map",
            "--org",
            &org,
            "--group",
            &g,
            "--role",
            "deployer",
            "--batch-size",
            "25",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let progress = || env.store.read(|c| roles::jobs_of(c, &env.a.id, 1)).unwrap().pop();
    // Killed once some batches have committed, long before the last.
    let killed_at = loop {
        if let Some(job) = progress().filter(|j| j.done >= 100) {
            child.kill().unwrap();
            child.wait().unwrap();
            break job;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the map ended before it could be killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let after_kill = progress().unwrap();
    assert!(
        !after_kill.is_finished() && after_kill.done < N as i64,
        "{after_kill:?}"
    );
    assert!(after_kill.done >= killed_at.done);
    assert_eq!(after_kill.done % 25, 0, "whole batches only");
    assert_eq!(after_kill.changed, after_kill.done);
    let (events_so_far, _) = grants_in_feed(&env, start, "deployer");
    assert_eq!(
        events_so_far as i64, after_kill.done,
        "each committed batch with its events, and only those"
    );

    let resumed = scimd(
        dir.path(),
        Some(&env.db_url),
        &["role", "resume", "--batch-size", "500", "--json"],
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let job = progress().unwrap();
    assert!(job.is_finished());
    assert_eq!((job.done, job.total, job.changed), (N as i64, N as i64, N as i64));
    assert_eq!(
        grants_in_feed(&env, start, "deployer"),
        (N, N),
        "one event per member, none twice"
    );

    // The worker's path, in-process: an unmap in batches of 1,000 (the default), run to its end.
    let start = last_position(&env);
    let out = env
        .store
        .write(|c| {
            roles::unmap(
                c,
                &ctx(&env.a.id),
                Acting(Role::Owner),
                &g,
                "deployer",
                false,
                roles::JOB_BATCH,
            )
        })
        .unwrap();
    let first = out.job.unwrap();
    assert_eq!(
        (first.done, first.is_finished()),
        (roles::JOB_BATCH as i64, false)
    );
    let done = roles::run_job(&env.store, &first.id, roles::JOB_BATCH, &SystemClock)
        .unwrap()
        .unwrap();
    assert_eq!((done.done, done.changed), (N as i64, N as i64));
    let removed = feed(&env, start)
        .iter()
        .filter(|e| e.event_type == "user.roles_changed")
        .count();
    assert_eq!(removed, N);
}

/// One step of a replay as the roles see it: the step (`Step::what`); the members' effective roles after it,
/// by the replay's saved names (`name: roles`, `|` between members; `gone`: no longer a live member); exactly the
/// `user.roles_changed` events the step wrote (`name +added -removed`); and the group the mapping's role names
/// after it (`None`: no mapping).
type RoleStep = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);

/// Okta's replay, with its pushed group mapped to `deployer` by display name once the push created it.
const OKTA_ROLES: &[RoleStep] = &[
    ("lookup before create", "", &[], None),
    ("create", "user: member", &[], None),
    ("lookup after create, any case", "user: member", &[], None),
    ("create again is a conflict", "user: member", &[], None),
    ("get", "user: member", &[], None),
    ("PUT update", "user: member", &[], None),
    ("path-less PATCH deactivate", "user: member", &[], None),
    ("deactivate again is fine", "user: member", &[], None),
    ("reactivate", "user: member", &[], None),
    ("group push: create", "user: member", &[], Some("Test SCIMv2")),
    ("group lookup", "user: member", &[], Some("Test SCIMv2")),
    (
        "group rename echoing id",
        "user: member",
        &[],
        Some("Test SCIMv2 renamed"),
    ),
    (
        "member add",
        "user: member deployer",
        &["user +deployer"],
        Some("Test SCIMv2 renamed"),
    ),
    (
        "group shows the member",
        "user: member deployer",
        &[],
        Some("Test SCIMv2 renamed"),
    ),
    (
        "user shows the group",
        "user: member deployer",
        &[],
        Some("Test SCIMv2 renamed"),
    ),
    (
        "member remove",
        "user: member",
        &["user -deployer"],
        Some("Test SCIMv2 renamed"),
    ),
    (
        "group has no member",
        "user: member",
        &[],
        Some("Test SCIMv2 renamed"),
    ),
    (
        "replace members with [] (Okta)",
        "user: member",
        &[],
        Some("Test SCIMv2 renamed"),
    ),
    ("group delete", "user: member", &[], None),
    ("group gone", "user: member", &[], None),
];

/// Entra's replay, with its group mapped by id to `admin` and the deployment's `viewer` once created.
const ENTRA_ROLES: &[RoleStep] = &[
    ("Test Connection: base URL", "", &[], None),
    ("Test Connection: random lookup", "", &[], None),
    ("lookup by externalId, unquoted", "", &[], None),
    ("create with the enterprise extension", "user: member", &[], None),
    ("lookup by userName", "user: member", &[], None),
    (
        "lookup by externalId, unquoted, finds it",
        "user: member",
        &[],
        None,
    ),
    ("manager and work email", "user: member", &[], None),
    ("path-less dotted keys", "user: member", &[], None),
    ("disable with \"False\"", "user: member", &[], None),
    ("filter on the work email", "user: member", &[], None),
    ("second user", "user: member | u2: member", &[], None),
    ("third user", "user: member | u2: member | u3: member", &[], None),
    (
        "group create",
        "user: member | u2: member | u3: member",
        &[],
        Some("displayName"),
    ),
    (
        "group lookup without members",
        "user: member | u2: member | u3: member",
        &[],
        Some("displayName"),
    ),
    (
        "members added, first batch",
        "user: admin viewer | u2: admin viewer | u3: member",
        &["user +admin +viewer -member", "u2 +admin +viewer -member"],
        Some("displayName"),
    ),
    (
        "members added, second batch",
        "user: admin viewer | u2: admin viewer | u3: admin viewer",
        &["u3 +admin +viewer -member"],
        Some("displayName"),
    ),
    (
        "read with excludedAttributes=members",
        "user: admin viewer | u2: admin viewer | u3: admin viewer",
        &[],
        Some("displayName"),
    ),
    (
        "read with members",
        "user: admin viewer | u2: admin viewer | u3: admin viewer",
        &[],
        Some("displayName"),
    ),
    (
        "members removed in a batch",
        "user: member | u2: admin viewer | u3: member",
        &["user +member -admin -viewer", "u3 +member -admin -viewer"],
        Some("displayName"),
    ),
    (
        "one member left",
        "user: member | u2: admin viewer | u3: member",
        &[],
        Some("displayName"),
    ),
    (
        "group filter by member",
        "user: member | u2: admin viewer | u3: member",
        &[],
        Some("displayName"),
    ),
    (
        "delete user",
        "user: gone | u2: admin viewer | u3: member",
        &[],
        Some("displayName"),
    ),
    (
        "deleted user is gone",
        "user: gone | u2: admin viewer | u3: member",
        &[],
        Some("displayName"),
    ),
    (
        "and its userName is free",
        "user: gone | u2: admin viewer | u3: member",
        &[],
        Some("displayName"),
    ),
];

/// Checks, after one step of a replay, what `row` says it did (see [`RoleStep`]); `role` is the mapped role
/// whose mapping the row's last column names.
fn check_step(
    env: &TestApp,
    label: &str,
    row: &RoleStep,
    role: &str,
    vars: &std::collections::HashMap<String, String>,
    since: i64,
) {
    let (what, want_roles, want_events, mapped) = *row;
    let id = |name: &str| {
        vars.get(name)
            .unwrap_or_else(|| panic!("{label}: {what}: no {name} saved"))
            .clone()
    };
    let mut want: Vec<(String, Vec<String>, Vec<String>)> = want_events
        .iter()
        .map(|e| {
            let mut words = e.split_whitespace();
            let who = id(words.next().unwrap());
            let (mut added, mut removed) = (Vec::new(), Vec::new());
            for w in words {
                match w.split_at(1) {
                    ("+", r) => added.push(r.to_owned()),
                    ("-", r) => removed.push(r.to_owned()),
                    _ => panic!("{w}"),
                }
            }
            added.sort();
            removed.sort();
            (who, added, removed)
        })
        .collect();
    want.sort();
    let got: Vec<_> = roles_changed(env, since)
        .into_iter()
        .map(|(who, mut added, mut removed)| {
            added.sort();
            removed.sort();
            (who, added, removed)
        })
        .collect();
    assert_eq!(
        got, want,
        "{label}: {what}: the user.roles_changed events it wrote"
    );

    for member in want_roles.split('|').filter(|m| !m.trim().is_empty()) {
        let (name, roles_after) = member.split_once(':').unwrap();
        let who = id(name.trim());
        let ids = [who.clone()];
        let now = env
            .store
            .read(|c| roles::effective_of(c, &env.a.id, &ids))
            .unwrap()
            .remove(&who);
        let want: Option<Vec<String>> = match roles_after.trim() {
            "gone" => None,
            r => Some(r.split_whitespace().map(str::to_owned).collect()),
        };
        assert_eq!(now, want, "{label}: {what}: the roles of {}", name.trim());
        // Whatever a group gave, the explanation names the mapped group (by its name now).
        let Some(why) = env.store.read(|c| roles::explain(c, &env.a.id, &who)).unwrap() else {
            continue;
        };
        for source in why.roles.iter().flat_map(|r| &r.sources) {
            if let Source::Group { group, .. } = source {
                assert_eq!(
                    Some(group.as_str()),
                    mapped,
                    "{label}: {what}: {}'s explanation",
                    name.trim()
                );
            }
        }
    }
    let catalog = env.store.read(|c| roles::catalog(c, &env.a.id)).unwrap();
    let names: Vec<&str> = catalog
        .iter()
        .find(|r| r.name == role)
        .map(|r| r.groups.iter().map(|g| g.display_name.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        mapped.into_iter().collect::<Vec<_>>(),
        "{label}: {what}: the mapping of {role}"
    );
}

/// Okta's and Entra's own replays (`scim_replay`), their groups mapped to roles as soon as the push created
/// them (Okta's by display name, Entra's by id): after every step, each member's effective roles, exactly the
/// `user.roles_changed` events that step wrote, the mapping (kept through the rename) and the explanation.
fn the_idp_replays_grant_and_take_the_mapped_roles(db: &TestDb) {
    use crate::scim_client::replay_each;
    use crate::scim_replay::{ENTRA, OKTA};
    let env = TestApp::init(db);
    let a = env.client_a();
    let label = db.conn_backend_name();
    let now = SystemClock.now_naive();
    env.store
        .write(|c| roles::create_role(c, Some(&env.a.id), "cli", "deployer", now))
        .unwrap();
    env.store
        .write(|c| roles::create_role(c, None, "cli", "viewer", now))
        .unwrap();

    for (idp, steps, table, trigger) in [
        ("okta", OKTA, OKTA_ROLES, "group push: create"),
        ("entra", ENTRA, ENTRA_ROLES, "group create"),
    ] {
        let whats: Vec<&str> = steps.iter().map(|s| s.what).collect();
        let rows: Vec<&str> = table.iter().map(|r| r.0).collect();
        assert_eq!(
            rows, whats,
            "{idp}: the table has every step of the replay, in order"
        );
        let label = format!("{idp} on {label}");
        let mut since = last_position(&env);
        let mut i = 0;
        replay_each(&a, steps, &label, |step, vars| {
            // The mapping is made right after the step that created the group (the events it writes, none for
            // an empty group, are counted as that step's).
            if step.what == trigger {
                if idp == "okta" {
                    // The group's id is unknown before the push: mapped by its name, in another case.
                    let out = map(&env, Role::Admin, "test scimv2", "deployer").unwrap();
                    assert_eq!(out.group.id, vars["group"]);
                } else {
                    map(&env, Role::Owner, &vars["group"], "admin").unwrap();
                    map(&env, Role::Owner, &vars["group"], "viewer").unwrap();
                }
            }
            let role = if idp == "okta" { "deployer" } else { "admin" };
            check_step(&env, &label, &table[i], role, vars, since);
            since = last_position(&env);
            i += 1;
        });
    }
}

/// A membership change on mapped groups, computed from the grants before it: a role another group still
/// gives is kept (no event), a PATCH that moves several members writes one event each, and a PUT or a
/// `replace members` that keeps a member (the latter deletes its grants and writes them again) changes nothing
/// for it. Each step's grants are read back from
/// the database, and its events are exactly the ones listed.
fn overlapping_groups_a_put_and_a_replace(db: &TestDb) {
    let env = TestApp::init(db);
    let a = env.client_a();
    for role in ["deployer", "viewer"] {
        env.store
            .write(|c| roles::create_role(c, Some(&env.a.id), "cli", role, SystemClock.now_naive()))
            .unwrap();
    }
    let [u1, u2, u3] = ["one@ex.test", "two@ex.test", "three@ex.test"].map(|n| user(&a, n));
    let ga = create(&a, "/Groups", json!({ "schemas": [GROUP], "displayName": "A" }));
    let gb = create(&a, "/Groups", json!({ "schemas": [GROUP], "displayName": "B" }));
    map(&env, Role::Admin, &ga, "deployer").unwrap();
    map(&env, Role::Admin, &ga, "viewer").unwrap();
    map(&env, Role::Admin, &gb, "deployer").unwrap();
    let all = s(&["member", "deployer", "viewer"]);
    let sorted = |mut v: Vec<(String, Vec<String>, Vec<String>)>| {
        v.sort();
        v
    };

    let start = last_position(&env);
    let members = json!([{"value": u1}, {"value": u2}, {"value": u3}]);
    patch(
        &a,
        &ga,
        json!([{"op": "add", "path": "members", "value": members}]),
    );
    assert_eq!(
        roles_changed(&env, start),
        sorted(
            [&u1, &u2, &u3]
                .map(|u| (u.clone(), s(&["deployer", "viewer"]), vec![]))
                .to_vec()
        )
    );
    for u in [&u1, &u2, &u3] {
        assert_eq!(effective(&env, u), all);
    }

    let start = last_position(&env);
    patch(
        &a,
        &gb,
        json!([{"op": "add", "path": "members", "value": [{"value": u1}]}]),
    );
    assert!(
        roles_changed(&env, start).is_empty(),
        "deployer came from A already"
    );

    let start = last_position(&env);
    patch(
        &a,
        &ga,
        json!([{"op": "remove", "path": format!("members[value eq \"{u1}\" or value eq \"{u2}\"]")}]),
    );
    assert_eq!(
        roles_changed(&env, start),
        sorted(vec![
            (u1.clone(), vec![], s(&["viewer"])),
            (u2.clone(), vec![], s(&["deployer", "viewer"])),
        ]),
        "B still gives one deployer"
    );
    assert_eq!(effective(&env, &u1), s(&["member", "deployer"]));
    assert_eq!(effective(&env, &u2), s(&["member"]));

    let start = last_position(&env);
    let body = json!({ "schemas": [GROUP], "displayName": "A", "members": [{"value": u3}, {"value": u2}] });
    let r = a.send("PUT", &format!("/Groups/{ga}"), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        roles_changed(&env, start),
        [(u2.clone(), s(&["deployer", "viewer"]), vec![])],
        "the member the PUT kept has no event"
    );
    assert_eq!(effective(&env, &u2), all);

    // Okta's `replace members`: every member is taken out, then the listed ones are put back.
    let start = last_position(&env);
    patch(
        &a,
        &ga,
        json!([{"op": "replace", "path": "members", "value": [{"value": u3}]}]),
    );
    assert_eq!(
        roles_changed(&env, start),
        [(u2.clone(), vec![], s(&["deployer", "viewer"]))],
        "the member the replace kept has no event"
    );
    assert_eq!(
        effective(&env, &u3),
        all,
        "its grants were deleted and written again"
    );
    assert_eq!(effective(&env, &u2), s(&["member"]));
    let why = env
        .store
        .read(|c| roles::explain(c, &env.a.id, &u1))
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&why).unwrap()["roles"][1],
        json!({"role": "deployer", "sources": [{"kind": "group", "group_id": gb, "group": "B"}]})
    );
}

scimd_store::backend_tests!(
    the_idp_replays_grant_and_take_the_mapped_roles,
    overlapping_groups_a_put_and_a_replace,
    okta_push,
    entra_push,
    admin_share_needs_confirmation,
    cli_contract,
    entra_roles_attribute,
    a_big_mapping_runs_in_batches_and_survives_a_kill
);
