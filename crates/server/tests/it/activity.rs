//! Provisioning activity is recorded for every request under an existing org's SCIM URL, in batches, and not
//! for URLs of orgs that do not exist.

use crate::harness::{ServerProcess, get, scimd};
use scimd_store::OrgId;
use scimd_store::models::scim_activity;
use scimd_store::testing::TestDb;
use std::time::{Duration, Instant};

fn wait_for_rows(db: &TestDb, org: &OrgId, at_least: usize) -> Vec<scim_activity::Activity> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = db
            .store
            .read(|conn| scim_activity::list(conn, org, None, None, 100))
            .unwrap();
        if rows.len() >= at_least || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn requests_under_an_org_are_recorded(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let out = scimd(
        dir.path(),
        Some(&db.url),
        &["org", "create", "--name", "Acme", "--json"],
    );
    let org: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let org = OrgId::new(org["id"].as_str().unwrap());
    let server = ServerProcess::start(dir.path(), Some(&db.url));

    let lookup = format!("/scim/v2/{org}/Users?filter=userName%20eq%20%22ada%40acme.example%22");
    let statuses: Vec<u16> = (0..3).map(|_| get(server.addr, &lookup).status).collect();
    get(server.addr, "/scim/v2/00000000-0000-0000-0000-000000000000/Users");
    get(server.addr, "/healthz");

    let rows = wait_for_rows(db, &org, 3);
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        assert_eq!(row.method, "GET");
        assert_eq!(row.path, lookup, "path and query are kept");
        assert!(statuses.contains(&(row.status as u16)));
    }
    let unknown = OrgId::new("00000000-0000-0000-0000-000000000000");
    let stray = db
        .store
        .read(|conn| scim_activity::list(conn, &unknown, None, None, 10))
        .unwrap();
    assert!(
        stray.is_empty(),
        "nothing recorded for an org that does not exist"
    );
}

#[test]
fn activity_on_sqlite() {
    requests_under_an_org_are_recorded(&TestDb::sqlite());
}

#[test]
fn activity_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        requests_under_an_org_are_recorded(&db);
    }
}
